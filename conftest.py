"""Names every doctest of the package may use: ``wb``, a small golden set and comparison.

The examples in docstrings run as tests (``pytest --doctest-modules``); they share one tiny
offline comparison of two SIMULATED models instead of each building their own.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def _doctest_objects() -> dict[str, Any]:
    import workbench as wb

    os.environ.setdefault("WORKBENCH_CACHE_DIR", tempfile.mkdtemp(prefix="wb-doctest-cache-"))
    gs = wb.GoldenSet.load(ROOT / "datasets" / "support_triage" / "golden.jsonl").sample(
        12, seed=7)
    variants = [wb.PromptVariant("terse", user="Classify: {{ message }}"),
                wb.PromptVariant("json", user='Answer as JSON {"intent": ...}: {{ message }}')]
    cmp = wb.compare(gs, ["sim/large", "sim/fast"], variants,
                     [wb.scorers.exact_match, wb.scorers.label_match(field="intent",
                                                                     name="intent")],
                     progress=False, cache=False)
    return {"wb": wb, "gs": gs, "variants": variants, "cmp": cmp}


@pytest.fixture(autouse=True)
def _doctest_names(request: pytest.FixtureRequest, doctest_namespace: dict[str, Any]) -> None:
    if request.node.__class__.__name__ == "DoctestItem":
        doctest_namespace.update(request.getfixturevalue("_doctest_objects"))
