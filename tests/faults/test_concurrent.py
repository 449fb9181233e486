"""Two processes at once (#19 item 5): the same plan is refused (naming the other process) or
waits with --wait; two plans sharing a cache never tear an entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import scenarios


@pytest.mark.parametrize("name", scenarios.names("concurrent"))
def test_concurrent(name: str, tmp_path: Path, faults_store: str) -> None:
    outcome = scenarios.run(name, tmp_path, faults_store)
    assert outcome.ok, outcome.message
