"""The one YAML loader: read a mapping with line numbers, and turn pydantic errors into problems.

Experiment files, gates files and golden-set manifests are all read here, by a safe loader that
also refuses what a hostile or mistaken file can do to a plain ``yaml.safe_load``:

- **alias bombs** ("billion laughs"): aliases (``*name``) may repeat at most
  ``MAX_ALIAS_NODES`` nodes in all, and an alias may not refer to the node that contains it;
- **duplicate keys**: ``models:`` twice in one mapping is an error naming both lines (plain
  YAML silently keeps the last one);
- nesting deeper than ``MAX_DEPTH`` levels, files over ``MAX_BYTES``, bytes that are not
  UTF-8, numbers over Python's 4,300-digit limit and impossible dates.

Every refusal names the file and line and says how to fix it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from workbench.errors import ConfigError, Problem, WorkbenchError, location

M = TypeVar("M", bound=BaseModel)

__all__ = [
    "MAX_ALIAS_NODES",
    "MAX_BYTES",
    "MAX_DEPTH",
    "line_of",
    "load_model",
    "parse_yaml",
    "problems_of",
    "read_mapping",
]

MAX_ALIAS_NODES = 10_000
"""Nodes that aliases may repeat in one file, in all (an alias repeats its anchor's subtree)."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences."""
MAX_BYTES = 10_000_000
"""Largest YAML file read (experiment, gates and manifest files are small text files)."""

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(yaml.YAMLError):
    """A well-formed file that the loader refuses to expand (bomb, duplicate key, depth)."""

    def __init__(self, what: str, line: int | None, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.line = line
        self.fix = fix


def _line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


class _Loader(yaml.SafeLoader):
    """``yaml.SafeLoader`` with bounded alias expansion and depth, and no duplicate keys."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._repeated = 0
        self._open_anchors: set[str] = set()
        self._sizes: dict[int, int] = {}

    def _size(self, node: yaml.Node) -> int:
        """Nodes in the subtree, counting a shared (aliased) node every time it appears."""
        key = id(node)
        if key not in self._sizes:
            if isinstance(node, yaml.MappingNode):
                children = [n for pair in node.value for n in pair]
            elif isinstance(node, yaml.SequenceNode):
                children = list(node.value)
            else:
                children = []
            self._sizes[key] = 1 + sum(self._size(c) for c in children)
        return self._sizes[key]

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose one node, refusing recursive aliases, alias bombs and deep nesting."""
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent):
            line = _line(event.start_mark)
            if event.anchor in self._open_anchors:
                raise _Refused(
                    f"the alias *{event.anchor} refers to the node that contains it (a recursive "
                    "structure)",
                    line,
                    "Remove the alias or point it at a node defined before this one.",
                )
            node = super().compose_node(parent, index)
            self._repeated += self._size(node) if node is not None else 0
            if self._repeated > MAX_ALIAS_NODES:
                raise _Refused(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} nodes (an alias bomb, "
                    '"billion laughs"?)',
                    line,
                    "Write the values out instead of repeating anchors (&name / *name).",
                )
            return node
        anchor = getattr(event, "anchor", None)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(
                f"nested deeper than {MAX_DEPTH} levels",
                _line(event.start_mark),
                "Flatten the structure; configuration files need only a few levels.",
            )
        if anchor is not None:
            self._open_anchors.add(anchor)
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            if anchor is not None:
                self._open_anchors.discard(anchor)

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        """Compose a mapping, refusing a key that appears twice (naming both lines)."""
        node: yaml.MappingNode = super().compose_mapping_node(anchor)
        seen: dict[tuple[str, str], int] = {}
        for key, _ in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.tag == _MERGE_TAG:
                continue
            ident, line = (key.tag, key.value), key.start_mark.line + 1
            if ident in seen:
                lines = (f"lines {seen[ident]} and {line}" if seen[ident] != line
                         else f"line {line}, twice")
                raise _Refused(
                    f"duplicate key {key.value!r} on {lines}",
                    line,
                    "Keep one of them: YAML would silently use the last one.",
                )
            seen[ident] = line
        return node

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """Construct a value; a value Python refuses (a 5,000-digit number) names its line."""
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            raise _Refused(
                f"cannot read the value {str(node.value)[:40]!r}: {exc}".split(
                    "; use sys.set_int_max_str_digits()")[0],
                _line(node.start_mark),
                "Write a plain number, date or string (quote it to keep it as text).",
            ) from None


def _decode(data: bytes, path: Path | str, error: type[WorkbenchError]) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {column})",
            where=location(path, line=line),
            fix="Save the file as UTF-8.",
        ) from None


def parse_yaml(
    text: str, where: Path | str, error: type[WorkbenchError] = ConfigError
) -> tuple[Any, yaml.Node | None]:
    """Parse YAML text with the workbench's safe loader; return the data and its node tree.

    Raises:
        error: malformed YAML, an alias bomb, a duplicate key, too deep a nesting or an
            unreadable value, naming the line.
    """
    loader = None
    try:
        loader = _Loader(text)
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _Refused as exc:
        raise error(exc.what, where=location(where, line=exc.line), fix=exc.fix) from None
    except yaml.reader.ReaderError as exc:
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise error(
            f"unacceptable character #x{char:04x} in YAML (control characters are not allowed)",
            where=location(where, line=text.count("\n", 0, exc.position) + 1),
            fix="Remove the character, or write it as an escape inside a double-quoted string.",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
        raise error(
            f"malformed YAML: {', '.join(p for p in parts if p) or exc}",
            where=location(where, line=_line(mark)),
            fix="Fix the YAML syntax (indentation, a missing colon or an unclosed quote).",
        ) from None
    except RecursionError:
        raise error(
            "the YAML is nested too deeply to read",
            where=str(where),
            fix="Flatten the structure.",
        ) from None
    finally:
        if loader is not None:
            loader.dispose()
    return data, root


def read_mapping(
    path: Path, error: type[WorkbenchError], *, what: str, example: str
) -> tuple[dict[str, Any], yaml.Node]:
    """Parse a YAML file that must hold a mapping; return the data and its node tree.

    Raises:
        error: for malformed or hostile YAML (with its line), a file that is too large or not
            UTF-8, or a top level that is not a mapping.
    """
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise error(
                f"{what} is {size / 1e6:.1f} MB; YAML files of up to {MAX_BYTES / 1e6:.0f} MB "
                "are read",
                where=str(path),
                fix="Check that this is the right file; configuration files are small.",
            )
        data_bytes = path.read_bytes()
    except OSError as exc:
        raise error(
            f"cannot read {what}: {exc.strerror or exc}", where=str(path), fix="Check the path."
        ) from None
    data, root = parse_yaml(_decode(data_bytes, path, error), path, error)
    if not isinstance(data, dict) or root is None:
        raise error(f"{what} must be a mapping", where=str(path), fix=f"See {example}.")
    return data, root


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
        ConfigError: a missing file, malformed or hostile YAML, or one problem per invalid key.
    """
    if not path.is_file():
        raise ConfigError(f"{what} not found", where=str(path),
                          fix=f"Check the path (see {example}).")
    article = "an" if what[:1].lower() in "aeiou" else "a"
    data, root = read_mapping(path, ConfigError, what=f"{article} {what}", example=example)
    try:
        return model.model_validate(data), root
    except ValidationError as exc:
        raise ConfigError.from_problems(
            problems_of(exc, path, root, list(model.model_fields))) from None
    except RecursionError:
        raise ConfigError(f"the {what} is nested too deeply to validate", where=str(path),
                          fix="Flatten the structure.") from None
