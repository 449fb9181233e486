"""SIGKILL at six points (#19): mid-run on a request count, while appending to the checkpoint,
while writing a cache entry, during the final save (twice: a table half-written, and between
the renames) and during MLflow logging. After each: nothing lost or corrupted, the resume or
`workbench log` finishes, rows kept exactly once, calls paid twice ≤ calls in flight, MLflow
totals equal the sum of per-case costs."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import scenarios


@pytest.mark.parametrize("name", scenarios.names("kill"))
def test_kill(name: str, tmp_path: Path, faults_store: str) -> None:
    outcome = scenarios.run(name, tmp_path, faults_store)
    assert outcome.ok, outcome.message
