"""Validation of a golden set's raw rows: ids, one type per column, slices, inputs; safe names.

Every problem found is collected with its file and line (or row) and raised at once as one
``DatasetError``, so a user fixes a file in one pass.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import DatasetError, Problem

from ._canonical import canonical_value
from ._io import RawRows
from ._manifest import NAME_PATTERN

__all__ = ["RESERVED", "check_name", "name_from_file", "validate_rows"]

RESERVED = ("id", "expected")


def name_from_file(stem: str) -> str:
    """A safe golden-set name from a file stem: ``"golden set (v2)"`` → ``"golden_set_v2"``.

    Names appear in MLflow, reports and file names, so they keep to letters, digits, ``_``,
    ``.`` and ``-`` (accents dropped, every other run of characters becomes one ``_``).

    Example:
        >>> name_from_file("Café golden set (v2)")
        'Cafe_golden_set_v2'
    """
    ascii_text = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9_.\-]+", "_", ascii_text).strip("._-")
    return name[:120].rstrip("._-") or "golden_set"


def check_name(name: str, where: str) -> str:
    """``name`` if it is a usable golden-set name, else a ``DatasetError`` suggesting one."""
    if not isinstance(name, str) or not re.fullmatch(NAME_PATTERN, name) or len(name) > 120:
        raise DatasetError(
            f"the name {name!r} is not usable: names appear in MLflow, reports and file names",
            where=where,
            fix=f"Use letters, digits, '_', '.' and '-' (at most 120), e.g. "
            f"{name_from_file(str(name))!r}.",
        )
    return name


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, dict):
        return "JSON object"
    if isinstance(value, list):
        return "JSON array"
    return type(value).__name__


def validate_rows(raw: RawRows, slices: Sequence[str], manifest: Path | None) -> pd.DataFrame:
    """Check ids, types and slices of raw records; return the table or raise every problem."""
    if not raw.records:
        raise DatasetError(
            "the file has no rows", where=str(raw.path), fix="A golden set needs at least one row."
        )
    columns: dict[str, None] = {}
    for record in raw.records:
        columns.update(dict.fromkeys(record))
    problems: list[Problem] = []
    if "id" not in columns:
        raise DatasetError(
            f"no 'id' column (columns are {list(columns)})",
            where=str(raw.path),
            fix="Every row needs a unique, non-empty 'id'; add one or rename your key column.",
        )

    # ids: present, scalar, unique
    first_seen: dict[str, int] = {}
    ids: list[str | None] = []
    for i, record in enumerate(raw.records):
        value = record.get("id")
        case_id = canonical_value(value) if not isinstance(value, (dict, list)) else None
        ids.append(case_id)
        if case_id is None:
            what = (
                "the row has no 'id'" if value in (None, "") else "the id must be text or a number"
            )
            problems.append(
                Problem(
                    raw.where(i), what, "Give every row a unique, non-empty id (e.g. 'case-0001')."
                )
            )
        elif case_id in first_seen:
            j = first_seen[case_id]
            problems.append(
                Problem(
                    raw.where(i),
                    f"duplicate id {case_id!r} (first seen on {raw.unit} {raw.lines[j]})",
                    "Ids must be unique; rename one of them or run GoldenSet.check() on the "
                    "file's rows to list near-duplicates.",
                )
            )
        else:
            first_seen[case_id] = i

    # types: flat records, one type per column (text and numbers may mix in 'expected')
    for column in columns:
        if column == "id":
            continue
        kinds: dict[str, int] = {}
        for i, record in enumerate(raw.records):
            value = record.get(column)
            if value is None:
                continue
            kind = _kind(value)
            if column == "expected" and kind in ("text", "number"):
                kind = "text or number"
            kinds.setdefault(kind, i)
        nested = [k for k in kinds if k.startswith("JSON") and column != "expected"]
        if nested:
            i = kinds[nested[0]]
            problems.append(
                Problem(
                    raw.where(i, ids[i]),
                    f"column {column!r} holds a {nested[0]}",
                    "Rows must be flat records: only 'expected' may hold nested JSON. Split it "
                    "into separate columns or store it as a string.",
                )
            )
        elif len(kinds) > 1:
            (k1, i1), (k2, i2) = sorted(kinds.items(), key=lambda kv: kv[1])[:2]
            problems.append(
                Problem(
                    raw.where(i2, ids[i2]),
                    f"column {column!r} mixes types: {k1} on {raw.unit} {raw.lines[i1]} "
                    f"but {k2} here",
                    "Use one type per column (quote numbers that are identifiers or labels).",
                )
            )

    # slices: declared columns exist and every row has a value
    declared_in = f"the manifest {manifest}" if manifest else "slices=[...]"
    for name in slices:
        if name in RESERVED:
            problems.append(
                Problem(
                    str(raw.path),
                    f"{name!r} cannot be a slice column",
                    f"Remove it from {declared_in}.",
                )
            )
        elif name not in columns:
            problems.append(
                Problem(
                    str(raw.path),
                    f"unknown slice column {name!r}; the columns are {list(columns)}",
                    f"Fix the name in {declared_in} or add the column to the data.",
                )
            )
        else:
            for i, record in enumerate(raw.records):
                value = record.get(name)
                if canonical_value(value) is None or isinstance(value, (dict, list)):
                    problems.append(
                        Problem(
                            raw.where(i, ids[i]),
                            f"slice column {name!r} has no value"
                            if value in (None, "")
                            else f"slice column {name!r} must hold a label, not JSON",
                            "Every row needs a label in each slice column (use e.g. 'unknown').",
                        )
                    )
                    break
    inputs = [c for c in columns if c not in RESERVED and c not in slices]
    if not inputs:
        problems.append(
            Problem(
                str(raw.path),
                "no input columns: every column is the id, 'expected' or a slice",
                "Add the columns your prompt templates use (e.g. 'question').",
            )
        )
    if problems:
        raise DatasetError.from_problems(problems)

    df = pd.DataFrame.from_records(raw.records, columns=list(columns))
    df["id"] = pd.Series(ids, dtype="str")
    for name in slices:
        df[name] = pd.Series([canonical_value(v) for v in df[name]], dtype="str")
    if "expected" in df.columns:
        df["expected"] = pd.Series(
            [r.get("expected") for r in raw.records], dtype=object, index=df.index
        )
    return df

