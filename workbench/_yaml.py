"""YAML files with line numbers: read a mapping, and turn pydantic errors into located problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workbench.errors import ConfigError, Problem, WorkbenchError, location

M = TypeVar("M", bound=BaseModel)

__all__ = ["line_of", "load_model", "problems_of", "read_mapping"]


def line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """Line (1-based) of the YAML node at a pydantic error location, or its nearest parent."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == key), None)
            if match is None:
                return line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def read_mapping(
    path: Path, error: type[WorkbenchError], *, what: str, example: str
) -> tuple[dict[str, Any], yaml.Node]:
    """Parse a YAML file that must hold a mapping; return the data and its node tree.

    Raises:
        error: for malformed YAML (with its line) or a top level that is not a mapping.
    """
    text = path.read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise error(
            f"malformed YAML: {getattr(exc, 'problem', None) or exc}",
            where=location(path, line=mark.line + 1 if mark else None),
            fix="Fix the YAML syntax (indentation, a missing colon or an unclosed quote).",
        ) from None
    if not isinstance(data, dict) or root is None:
        raise error(f"{what} must be a mapping", where=str(path), fix=f"See {example}.")
    return data, root


def problems_of(
    exc: ValidationError, where: Path | str, root: yaml.Node | None, allowed: list[str]
) -> list[Problem]:
    """One located problem per pydantic error: ``file, line N: key.path: message. fix``."""
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and "[" in p))
        key = ".".join(str(p) for p in loc) or "(top level)"
        line = line_of(root, loc) if root is not None else None
        fix = (
            "Remove or rename the key; allowed keys are " + ", ".join(allowed)
            if err["type"] == "extra_forbidden" and len(loc) == 1
            else "Remove or rename the key."
            if err["type"] == "extra_forbidden"
            else "Fix the value."
        )
        problems.append(Problem(location(where, line=line), f"{key}: {err['msg']}", fix))
    return problems


def load_model(path: Path, model: type[M], *, what: str, example: str) -> tuple[M, yaml.Node]:
    """Read a YAML file into a pydantic model; every problem located by file, key and line.

    Raises:
        ConfigError: a missing file, malformed YAML, or one problem per invalid key.
    """
    if not path.is_file():
        raise ConfigError(f"{what} not found", where=str(path),
                          fix=f"Check the path (see {example}).")
    data, root = read_mapping(path, ConfigError, what=f"a {what}", example=example)
    try:
        return model.model_validate(data), root
    except ValidationError as exc:
        raise ConfigError.from_problems(
            problems_of(exc, path, root, list(model.model_fields))) from None
