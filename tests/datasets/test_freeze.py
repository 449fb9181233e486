"""Freezing pins a set: canonical JSONL + manifest, verified on load, tampering refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from workbench.datasets import GoldenSet
from workbench.errors import DatasetError


@pytest.fixture
def gs(fixtures: Path) -> GoldenSet:
    return GoldenSet.load(fixtures / "valid.jsonl", slices=["difficulty"])


def test_freeze_writes_canonical_jsonl_and_manifest(gs: GoldenSet, tmp_path: Path) -> None:
    path = gs.freeze(tmp_path / "frozen")
    assert path == tmp_path / "frozen" / "valid.jsonl"
    manifest = yaml.safe_load(path.with_suffix(".yaml").read_text())
    assert manifest["name"] == "valid"
    assert manifest["schema_version"] == 1
    assert manifest["slices"] == ["difficulty"]
    frozen = manifest["frozen"]
    assert frozen["digest"] == gs.digest
    assert frozen["rows"] == 2
    assert frozen["slice_counts"] == {"difficulty": {"easy": 1, "medium": 1}}
    assert {"created_at", "workbench_version"} <= set(frozen)
    ids = [json.loads(line)["id"] for line in path.read_text().splitlines()]
    assert ids == sorted(ids)
    reloaded = GoldenSet.load(path)
    assert reloaded.digest == gs.digest and reloaded.slices == ["difficulty"]


def test_tampered_file_is_refused(gs: GoldenSet, tmp_path: Path) -> None:
    path = gs.freeze(tmp_path, stem="golden")
    text = path.read_text().replace("Paris", "Lyon")
    path.write_text(text)
    with pytest.raises(DatasetError) as info:
        GoldenSet.load(path)
    message = str(info.value)
    assert "does not match its frozen manifest" in message
    assert gs.digest in message and "golden.yaml" in message
    assert "re-freeze" in message
    # an explicit opt-out still loads it, e.g. to inspect the change
    assert GoldenSet.load(path, verify=False).digest != gs.digest


def test_newer_manifest_schema_is_refused(gs: GoldenSet, tmp_path: Path) -> None:
    path = gs.freeze(tmp_path)
    manifest = path.with_suffix(".yaml")
    manifest.write_text(manifest.read_text().replace("schema_version: 1", "schema_version: 9"))
    with pytest.raises(DatasetError, match="written by a newer workbench.*upgrade workbench"):
        GoldenSet.load(path)


def test_declared_version_and_description_survive_freeze(tmp_path: Path) -> None:
    data = tmp_path / "qa.jsonl"
    data.write_text('{"id": "1", "q": "x", "lvl": "a"}\n')
    (tmp_path / "qa.yaml").write_text(
        "name: qa\ndescription: tiny set\nversion: '2026.11'\nslices: [lvl]\nroutable: [lvl]\n"
    )
    gs = GoldenSet.load(data)
    assert (gs.name, gs.version, gs.description, gs.routable) == (
        "qa",
        "2026.11",
        "tiny set",
        ["lvl"],
    )
    again = GoldenSet.load(gs.freeze(tmp_path / "out"))
    assert (again.version, again.description, again.routable) == ("2026.11", "tiny set", ["lvl"])


def test_repr_html_escapes_values(tmp_path: Path) -> None:
    data = tmp_path / "xss.jsonl"
    data.write_text(
        json.dumps({"id": "x1", "message": '<img src=x onerror="alert(1)">', "lvl": "<b>"}) + "\n"
    )
    html = GoldenSet.load(data, slices=["lvl"])._repr_html_()
    assert "<img" not in html and "&lt;img src=x onerror=" in html
    assert "&lt;b&gt; (1)" in html
    assert "sha256:" in html and "1 cases" in html
