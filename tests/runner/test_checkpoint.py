"""The checkpoint journal: recovery after a kill, open reservations counted as spent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workbench.errors import ConfigError
from workbench.runner._checkpoint import Checkpoint


def test_recover_rows_and_count_open_reservations_as_spent(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "run.jsonl", "fp")
    cp.open(fresh=True)
    cp.reserve("a", 0.10)
    cp.record("a", {"output": "x", "billed_usd": 0.08})
    cp.reserve("b", 0.20)  # in flight when the process died
    cp.reserve("c", 0.05)
    cp.record("c", {"output": "y", "billed_usd": 0.0})  # a cache hit
    cp.close()
    with open(cp.path, "a") as fh:
        fh.write('{"t": "row", "key": "d", "ro')  # a line torn by the kill
    found = cp.recover()
    assert set(found.rows) == {"a", "c"}
    assert found.spent_usd == pytest.approx(0.08)
    assert found.open_reservations_usd == pytest.approx(0.20)


def test_fresh_open_truncates_and_resume_appends(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "run.jsonl", "fp")
    cp.open(fresh=True)
    cp.record("a", {"billed_usd": 0.01})
    cp.close()
    cp.open(fresh=False)
    cp.record("b", {"billed_usd": 0.01})
    cp.close()
    assert set(cp.recover().rows) == {"a", "b"}
    cp.open(fresh=True)
    cp.close()
    assert cp.recover().rows == {}


def test_newer_checkpoint_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(json.dumps({"t": "header", "schema_version": 99}) + "\n")
    with pytest.raises(ConfigError, match="newer workbench"):
        Checkpoint(path, "fp").recover()
