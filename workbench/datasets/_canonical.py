"""The canonical form of a golden set and its digest (DESIGN.md, Settled 9).

The digest is the sha256 of canonical JSONL: rows sorted by id, keys sorted, every scalar as a
string (integral numbers without ".0", other numbers in shortest round-trip form, booleans
"true"/"false"), JSON objects and arrays dumped with sorted keys and compact separators, empty
and missing values as null. The same data saved as JSONL, CSV or Parquet has one digest.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["canonical_jsonl", "canonical_value", "digest_of", "to_python"]


def to_python(value: Any) -> Any:
    """Convert numpy/pandas values (as read from Parquet or a DataFrame) to plain Python.

    Missing values (None, NaN, pd.NA, NaT) become None; numpy scalars their Python twin; arrays
    lists; timestamps ISO strings. Dicts and lists are converted recursively.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, dict):
        return {str(k): to_python(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_python(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _number(value: int | float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


def _nested(value: Any) -> Any:
    """Normalize inside JSON objects: null-valued keys dropped, integral floats as ints."""
    if isinstance(value, dict):
        return {str(k): _nested(v) for k, v in value.items() if to_python(v) is not None}
    if isinstance(value, list):
        return [_nested(v) for v in value]
    value = to_python(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    return value


def canonical_value(value: Any) -> str | None:
    """Return the canonical string of one cell (None for empty or missing).

    Example:
        >>> [canonical_value(v) for v in (12, 12.0, 0.1, True, "", None, {"b": 1, "a": 2.0})]
        ['12', '12', '0.1', 'true', None, None, '{"a":2,"b":1}']
    """
    value = to_python(value)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        number = _number(value)
        return str(number) if isinstance(number, int) else repr(number)
    if isinstance(value, (dict, list)):
        return json.dumps(_nested(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def canonical_jsonl(rows: Iterable[Mapping[str, Any]], columns: Iterable[str]) -> str:
    """Canonical JSONL of rows: sorted by id, every column present, keys sorted, compact."""
    cols = sorted(columns)
    lines = [
        json.dumps(
            {c: canonical_value(row.get(c)) for c in cols},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
        )
        for row in rows
    ]
    ids = [canonical_value(row.get("id")) or "" for row in rows]
    ordered = [line for _, line in sorted(zip(ids, lines, strict=True), key=lambda p: p[0])]
    return "".join(line + "\n" for line in ordered)


def digest_of(df: pd.DataFrame) -> str:
    """Return ``"sha256:<hex>"`` of the canonical JSONL of a golden set's table."""
    records = [{str(k): v for k, v in row.items()} for row in df.to_dict("records")]
    text = canonical_jsonl(records, [str(c) for c in df.columns])
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
