"""The digest: one value for the same data in JSONL, CSV and Parquet; a new one for any change."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from workbench.datasets import GoldenSet, canonical_value

ROWS = [
    {
        "id": "r2",
        "text": 'Ünïcode, "quotes" and\nnewlines',
        "n": 3,
        "ratio": 0.1,
        "flag": True,
        "code": "007",
        "expected": {"total": 12.5, "currency": "EUR"},
        "tier": "b",
    },
    {
        "id": "r1",
        "text": "plain",
        "n": None,
        "ratio": 2.0,
        "flag": False,
        "code": "010",
        "expected": {"total": 89, "currency": "USD"},
        "tier": "a",
    },
    {
        "id": "r3",
        "text": "",
        "n": 7,
        "ratio": 1e-7,
        "flag": None,
        "code": "123",
        "expected": {"total": 0.99, "currency": "JPY"},
        "tier": "a",
    },
]


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture
def jsonl(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "set.jsonl", ROWS)


def test_scalar_rules() -> None:
    assert canonical_value(12) == canonical_value(12.0) == "12"
    assert canonical_value(0.1) == "0.1" and canonical_value(1e-7) == "1e-07"
    assert canonical_value(True) == "true" and canonical_value(False) == "false"
    assert canonical_value("") is None and canonical_value(None) is None
    assert canonical_value(float("nan")) is None
    assert canonical_value({"b": 1.0, "a": [2, None]}) == '{"a":[2,null],"b":1}'
    assert canonical_value({"a": 1, "b": None}) == canonical_value({"a": 1})


def test_jsonl_csv_parquet_written_by_pandas_share_one_digest(jsonl: Path, tmp_path: Path) -> None:
    gs = GoldenSet.load(jsonl, slices=["tier"])
    df = gs.df
    csv_path = tmp_path / "set.csv"
    parquet_path = tmp_path / "set.parquet"
    df.to_csv(csv_path, index=False)
    df.to_parquet(parquet_path, index=False)
    from_csv = GoldenSet.load(csv_path, slices=["tier"])
    from_parquet = GoldenSet.load(parquet_path, slices=["tier"])
    assert gs.digest.startswith("sha256:") and len(gs.digest) == 7 + 64
    assert from_csv.digest == gs.digest
    assert from_parquet.digest == gs.digest
    # and the CSV round trip keeps the meaning, not just the hash
    assert from_csv.df.loc[0, "code"] == "007"
    assert from_csv.df.loc[0, "expected"] == {"total": 12.5, "currency": "EUR"}
    assert bool(from_csv.df.loc[0, "flag"]) is True


def test_row_and_key_order_do_not_matter(jsonl: Path, tmp_path: Path) -> None:
    reordered = [dict(reversed(list(r.items()))) for r in reversed(ROWS)]
    other = write_jsonl(tmp_path / "other.jsonl", reordered)
    assert GoldenSet.load(other).digest == GoldenSet.load(jsonl).digest


@pytest.mark.parametrize(
    ("row", "column", "value"),
    [
        (0, "text", "plain!"),
        (1, "n", 1),
        (2, "ratio", 1e-6),
        (0, "flag", False),
        (1, "expected", {"total": 89.01, "currency": "USD"}),
        (2, "tier", "b"),
        (0, "id", "r9"),
    ],
)
def test_any_change_changes_the_digest(
    jsonl: Path, tmp_path: Path, row: int, column: str, value: object
) -> None:
    changed = [dict(r) for r in ROWS]
    changed[row][column] = value
    other = write_jsonl(tmp_path / "changed.jsonl", changed)
    assert GoldenSet.load(other).digest != GoldenSet.load(jsonl).digest


def test_from_df_matches_file(jsonl: Path) -> None:
    gs = GoldenSet.load(jsonl, slices=["tier"])
    again = GoldenSet.from_df(pd.DataFrame(ROWS), name="set", slices=["tier"])
    assert again.digest == gs.digest
    assert gs.version == gs.digest[7:19]
