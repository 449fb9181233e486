"""One dependency list (DESIGN.md, Settled 19) and the pins DEVELOPERS.md requires."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version


def pyproject(root: Path) -> dict[str, object]:
    return tomllib.loads((root / "pyproject.toml").read_text())


def extras(project: dict[str, object]) -> list[str]:
    """The optional dependencies `make test` installs (dev and ray), which environment.yml lists."""
    optional = project["optional-dependencies"]
    assert isinstance(optional, dict)
    return [*optional["dev"], *optional["ray"]]


def normalized(reqs: list[str]) -> set[str]:
    return {
        f"{Requirement(r).name.lower()}{SpecifierSet(str(Requirement(r).specifier))}" for r in reqs
    }


def test_environment_yml_pip_section_matches_pyproject(repo_root: Path) -> None:
    env = yaml.safe_load((repo_root / "environment.yml").read_text())
    assert env["name"] == "workbench"
    assert "python=3.11" in env["dependencies"]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    listed = [r for r in pip_section if not r.startswith("-e")]
    project = pyproject(repo_root)["project"]
    assert isinstance(project, dict)
    declared = project["dependencies"] + extras(project)
    assert normalized(listed) == normalized(declared)
    assert "-e ." in pip_section


def test_pins(repo_root: Path) -> None:
    project = pyproject(repo_root)["project"]
    assert isinstance(project, dict)
    reqs = {Requirement(r).name.lower(): Requirement(r).specifier for r in project["dependencies"]}
    litellm, mlflow = reqs["litellm"], reqs["mlflow"]
    for bad in ("1.82.7", "1.82.8"):  # compromised releases
        assert Version(bad) not in litellm
        assert f"!={bad}" in str(litellm)
    assert Version("1.83.0") in litellm and Version("1.106.2") in litellm
    assert Version("1.107.0") not in litellm
    assert Version("3.17.2") in mlflow and Version("3.18.0") not in mlflow


def test_constraints_satisfy_the_declared_ranges(repo_root: Path) -> None:
    pinned = {}
    for line in (repo_root / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            req = Requirement(line)
            pinned[req.name.lower().replace("_", "-")] = Version(str(req.specifier).lstrip("="))
    project = pyproject(repo_root)["project"]
    assert isinstance(project, dict)
    for raw in project["dependencies"] + extras(project):
        req = Requirement(raw)
        name = req.name.lower().replace("_", "-")
        assert name in pinned, f"{name} missing from constraints.txt (run `make constraints`)"
        assert pinned[name] in req.specifier, f"constraints.txt pins {name}=={pinned[name]}"


def test_ci_runs_the_readme_test_command(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    first_block = readme.split("```")[1].splitlines()
    commands = [line.strip() for line in first_block[1:] if line.strip()]
    assert commands == ["make demo", "make test"]
    ci = (repo_root / ".ci" / "run").read_text().splitlines()
    code = [line.strip() for line in ci if line.strip() and not line.lstrip().startswith("#")]
    assert code[-1] == "make test"
    assert "set -euo pipefail" in code
