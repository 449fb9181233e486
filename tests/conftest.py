"""Shared fixtures: paths to the repository's shipped data and test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "datasets" / "fixtures"
SHIPPED = ("support_triage", "invoice_extraction", "grounded_qa")


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def repo_root() -> Path:
    return ROOT


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                    ) -> Path:
    """Every test gets its own call cache and checkpoints (never the user's cache dir)."""
    path = tmp_path_factory.mktemp("wbcache")
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(path))
    monkeypatch.setenv("WORKBENCH_SIM_LATENCY_SCALE", "0")
    monkeypatch.setenv("WORKBENCH_REPORT_IMAGES", "0")  # report tests switch chart images on
    # the project home (default MLflow store, outputs) is never the repository
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path_factory.mktemp("wbhome")))
    return path


FAKE_KEY = "sk-test-FAKEKEY0123456789abcdef"


@pytest.fixture
def fake_key(monkeypatch: pytest.MonkeyPatch) -> str:
    """A fake API key in $FAKE_PROVIDER_KEY (for ModelSpec(api_key_env="FAKE_PROVIDER_KEY"))."""
    monkeypatch.setenv("FAKE_PROVIDER_KEY", FAKE_KEY)
    return FAKE_KEY
