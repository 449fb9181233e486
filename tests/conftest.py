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
