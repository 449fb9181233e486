"""The fault suite shares one MLflow store (creating a store costs a second or two)."""

from __future__ import annotations

import pytest

from . import scenarios


@pytest.fixture(scope="session")
def faults_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An embedded MLflow store in a temporary folder (experiments keep artifacts beside it)."""
    return scenarios.mlflow_store(tmp_path_factory.mktemp("faults-mlflow"))
