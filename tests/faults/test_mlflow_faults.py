"""MLflow unreachable at log time (#19): results saved first, a clear error naming
`workbench log DIR`, and logging later succeeds whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from . import scenarios


@pytest.mark.parametrize("name", scenarios.names("mlflow"))
def test_mlflow_outage(name: str, tmp_path: Path, faults_store: str) -> None:
    outcome = scenarios.run(name, tmp_path, faults_store)
    assert outcome.ok, outcome.message
