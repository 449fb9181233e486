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


def test_one_writer_per_checkpoint_and_the_refusal_names_it(tmp_path: Path) -> None:
    """#19 item 5: an exclusive lock per checkpoint; the second writer learns who holds it."""
    import os

    from workbench.runner import RunError

    first, second = Checkpoint(tmp_path / "run.jsonl", "fp"), Checkpoint(tmp_path / "run.jsonl",
                                                                        "fp")
    first.open(fresh=True)
    owner = json.loads(first.owner_path.read_text())
    assert owner["pid"] == os.getpid() and owner["fingerprint"] == "fp"
    with pytest.raises(RunError) as info:
        second.open(fresh=True)  # would have truncated the journal under the first writer
    message = str(info.value)
    assert f"pid {os.getpid()}" in message and str(first.lock_path) in message
    first.record("a", {"billed_usd": 0.01})
    first.close()
    assert not first.owner_path.exists() and not first.locked
    second.open(fresh=False)  # free again
    assert set(second.recover().rows) == {"a"}
    second.close()


def test_a_call_retried_later_counts_both_payments(tmp_path: Path) -> None:
    cp = Checkpoint(tmp_path / "run.jsonl", "fp")
    cp.open(fresh=True)
    cp.record("a", {"error_type": "EmptyResponse", "billed_usd": 0.02})  # paid, no answer
    cp.record("a", {"output": "x", "billed_usd": 0.03})  # --retry-errors
    cp.close()
    found = cp.recover()
    assert found.rows["a"]["output"] == "x" and found.spent_usd == pytest.approx(0.05)
