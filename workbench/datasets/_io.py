r"""Reading golden-set files (JSONL, CSV, Parquet) into plain records with their line numbers.

Readers never let a bare json/pandas/pyarrow traceback through: every problem becomes a
:class:`~workbench.errors.Problem` naming the file and line and saying how to fix it. Hostile
values are refused here, before anything downstream recurses into them or encodes them: values
nested deeper than ``MAX_NESTING`` levels, lone UTF-16 surrogates (``"\ud800"``, which cannot
be written as UTF-8), numbers too large for a float and integers over Python's 4,300 digits.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.errors import DatasetError, Problem, location

from ._canonical import to_python

__all__ = ["MAX_NESTING", "RawRows", "check_values", "read_rows"]

MAX_NESTING = 64
"""Deepest nesting of JSON objects and arrays inside a record (the record itself is level 1)."""

FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

_NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")
_BOOLS = {"true": True, "false": False}
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class RawRows:
    """Records read from one file, with the line (or row) each one starts on."""

    path: Path
    fmt: str
    records: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    unit: str = "line"

    def where(self, index: int, case_id: str | None = None) -> str:
        """Location of record ``index`` (its file and line), for error messages."""
        return location(self.path, line=self.lines[index], unit=self.unit, case_id=case_id)


def read_rows(path: str | Path) -> RawRows:
    """Read a JSONL, CSV or Parquet file into records, or raise a DatasetError saying why not."""
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise DatasetError(
            f"unsupported file type {path.suffix or '(no extension)'!r}",
            where=str(path),
            fix="Save the golden set as .jsonl, .csv or .parquet.",
        )
    if not path.is_file():
        raise DatasetError(
            "file not found" if not path.exists() else "not a file",
            where=str(path),
            fix=f"Check the path (it is resolved from the current working directory {Path.cwd()}).",
        )
    if fmt == "parquet":
        raw = _read_parquet(path)
    else:
        text = _decode(path)
        raw = _read_jsonl(path, text) if fmt == "jsonl" else _read_csv(path, text)
    problems = check_values(raw)
    if problems:
        raise DatasetError.from_problems(problems)
    return raw


def _value_problem(value: Any) -> str | None:
    """What is wrong with one value (nesting, a lone surrogate, a non-finite number), if any."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                char = _SURROGATE.search(item).group()  # type: ignore[union-attr]
                return (f"holds a lone surrogate \\u{ord(char):04x} (half of a UTF-16 pair), "
                        "which is not valid Unicode")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"holds the number {item}, which is too large for a float"
        elif isinstance(item, (dict, list)):
            if depth > MAX_NESTING:
                return f"is nested more than {MAX_NESTING} levels deep"
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return None


_VALUE_FIX = {
    "surrogate": "Re-export the file from its source: a lone surrogate usually comes from text "
    "cut in the middle of an emoji. Remove it or replace it with the whole character.",
    "nested": "Flatten the value (store deep structures as a string).",
    "float": "Write a smaller number, or quote it as a string.",
}


def check_values(raw: RawRows) -> list[Problem]:
    """Problems of values no later step could handle: deep nesting, lone surrogates, infinities.

    One problem per record at most, naming the file, line and column.
    """
    problems: list[Problem] = []
    for index, record in enumerate(raw.records):
        for key, value in record.items():
            what = _value_problem(key) or _value_problem(value)
            if what is not None:
                kind = ("surrogate" if "surrogate" in what else "nested" if "nested" in what
                        else "float")
                problems.append(Problem(raw.where(index), f"column {key!r} {what}",
                                        _VALUE_FIX[kind]))
                break
    return problems


def _decode(path: Path) -> str:
    data = path.read_bytes()
    if not data.strip():
        raise DatasetError(
            "the file is empty",
            where=str(path),
            fix="It needs at least one record; check that the export finished.",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DatasetError(
            "the file is UTF-16 encoded",
            where=str(path),
            fix="Save it as UTF-8 (e.g. `iconv -f UTF-16 -t UTF-8 in > out`).",
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DatasetError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at column {column})",
            where=location(path, line=line),
            fix="Save the file as UTF-8; if it came from Excel or an old system it is probably "
            "Latin-1 or cp1252 (e.g. `iconv -f cp1252 -t UTF-8 in > out`).",
        ) from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    dupes = sorted({k for k in keys if keys.count(k) > 1})
    if dupes:
        raise ValueError(f"duplicate key {dupes[0]!r} in one object")
    return dict(pairs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _read_jsonl(path: Path, text: str) -> RawRows:
    raw = RawRows(path=path, fmt="jsonl")
    problems: list[Problem] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = location(path, line=number)
        try:
            record = json.loads(
                line, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant
            )
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(
                    where,
                    f"malformed JSON: {exc.msg} (column {exc.colno})",
                    "Each line must hold one complete JSON object; look for a missing quote, "
                    "comma or brace, or a record split over several lines.",
                )
            )
            continue
        except RecursionError:
            problems.append(
                Problem(
                    where,
                    f"the JSON is nested too deeply to read (more than {MAX_NESTING} levels "
                    "are refused)",
                    _VALUE_FIX["nested"],
                )
            )
            continue
        except ValueError as exc:
            if "digits" in str(exc):
                problems.append(Problem(
                    where, "malformed JSON: a number has more than 4,300 digits",
                    "Quote very long numbers (identifiers, hashes) as strings."))
            else:
                problems.append(Problem(where, f"malformed JSON: {exc}", "Fix the record."))
            continue
        if not isinstance(record, dict):
            problems.append(
                Problem(
                    where,
                    f"expected a JSON object, found {type(record).__name__}",
                    'Each line must be one record such as {"id": "case-1", "question": "..."}.',
                )
            )
            continue
        raw.records.append(record)
        raw.lines.append(number)
    if problems:
        raise DatasetError.from_problems(problems)
    return raw


def _read_csv(path: Path, text: str) -> RawRows:
    raw = RawRows(path=path, fmt="csv")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except csv.Error as exc:
        raise DatasetError(f"malformed CSV header: {exc}", where=location(path, line=1)) from None
    header = [h.strip() for h in header]
    problems: list[Problem] = []
    seen: set[str] = set()
    for name in header:
        if not name:
            problems.append(
                Problem(
                    location(path, line=1),
                    "the header has an empty column name",
                    "Name every column (or delete the empty column).",
                )
            )
        elif name in seen:
            problems.append(
                Problem(
                    location(path, line=1),
                    f"column {name!r} appears twice in the header",
                    "Column names must be unique; rename one of them.",
                )
            )
        seen.add(name)
    if problems:
        raise DatasetError.from_problems(problems)
    start = reader.line_num + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            too_long = "field larger than field limit" in str(exc)
            problems.append(
                Problem(
                    location(path, line=start),
                    f"a field is longer than {csv.field_size_limit():,} characters"
                    if too_long else f"malformed CSV: {exc}",
                    "Save long texts as JSONL (no field limit)" if too_long
                    else "Quote fields that contain commas, quotes or newlines.",
                )
            )
            break
        if not row or all(not cell.strip() for cell in row):
            start = reader.line_num + 1
            continue
        if len(row) != len(header):
            problems.append(
                Problem(
                    location(path, line=start),
                    f"the row has {len(row)} fields but the header has {len(header)}",
                    "Quote fields that contain commas (or add the missing fields).",
                )
            )
        else:
            cells = zip(header, row, strict=True)
            raw.records.append({k: (v if v != "" else None) for k, v in cells})
            raw.lines.append(start)
        start = reader.line_num + 1
    if problems:
        raise DatasetError.from_problems(problems)
    _type_csv_columns(raw, header)
    return raw


def _type_csv_columns(raw: RawRows, header: list[str]) -> None:
    """Give CSV cells the types JSONL would have: booleans, numbers, JSON in ``expected``.

    A column becomes boolean when every value is true/false, numeric when every value is a
    plain number without a leading zero (so "007" stays text); ``id`` always stays text.
    """
    for column in header:
        values = [r[column] for r in raw.records if r[column] is not None]
        if column == "id" or not values:
            continue
        if column == "expected":
            for record in raw.records:
                cell = record[column]
                if cell is not None and cell.lstrip()[:1] in ("{", "["):
                    record[column] = _parse_structured(cell)
            continue
        if all(v.strip().lower() in _BOOLS for v in values):
            for record in raw.records:
                if record[column] is not None:
                    record[column] = _BOOLS[record[column].strip().lower()]
        elif all(_NUMBER.fullmatch(v) for v in values):
            for record in raw.records:
                cell = record[column]
                if cell is not None:
                    record[column] = float(cell) if any(c in cell for c in ".eE") else int(cell)


def _parse_structured(cell: str) -> Any:
    """Parse a JSON object/array cell; pandas' to_csv writes dicts as Python literals instead."""
    try:
        return json.loads(cell)
    except (ValueError, RecursionError):  # not JSON, or too deep: check_values reports depth
        pass
    try:
        value = ast.literal_eval(cell)  # literals only: never evaluates code
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return cell
    return value if isinstance(value, (dict, list)) else cell


def _read_parquet(path: Path) -> RawRows:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types; all mean "unreadable"
        raise DatasetError(
            f"not a readable Parquet file ({type(exc).__name__}: {exc})",
            where=str(path),
            fix="Re-export it with pandas.DataFrame.to_parquet or save it as JSONL/CSV.",
        ) from None
    if frame.empty:
        raise DatasetError(
            "the file has no rows", where=str(path), fix="A golden set needs at least one row."
        )
    raw = RawRows(path=path, fmt="parquet", unit="row")
    columns = [str(c) for c in frame.columns]
    for index, values in enumerate(frame.itertuples(index=False, name=None), start=1):
        try:
            record = {c: to_python(v) for c, v in zip(columns, values, strict=True)}
        except RecursionError:
            raise DatasetError(
                f"a value is nested more than {MAX_NESTING} levels deep",
                where=location(path, line=index, unit="row"),
                fix=_VALUE_FIX["nested"],
            ) from None
        raw.records.append(record)
        raw.lines.append(index)
    return raw
