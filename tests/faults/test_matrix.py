"""The fault matrix against the fake server (#19): 429 + Retry-After, 500, connection reset, a
hang past the timeout, malformed JSON, empty content, ``finish_reason=length`` and the provider
dying mid-run. For each: rows kept exactly once, no call paid twice, MLflow totals equal the
sum of per-case costs (see ``scenarios.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import scenarios


@pytest.mark.parametrize("name", scenarios.names("fault"))
def test_fault(name: str, tmp_path: Path, faults_store: str) -> None:
    outcome = scenarios.run(name, tmp_path, faults_store)
    assert outcome.ok, outcome.message
