"""A small triage-like golden set and fake-server model specs for runner tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from workbench.datasets import GoldenSet
from workbench.models import ModelSpec
from workbench.testing import serve

LABELS = ["billing", "refund", "shipping"]


def small_set(n: int = 12, markers: dict[int, str] | None = None) -> GoldenSet:
    """n cases whose messages name their label; ``markers`` adds fault markers by row index."""
    rows = []
    for i in range(n):
        label = LABELS[i % 3]
        message = f"case {i}: a question about {label}"
        if markers and i in markers:
            message += f" [[fault:{markers[i]}]]"
        rows.append({"id": f"c{i:03d}", "message": message, "expected": label,
                     "difficulty": "easy" if i % 2 else "hard"})
    return GoldenSet.from_df(pd.DataFrame(rows), name="small", slices=["difficulty"])


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    # the fake answers "billing" to prompts mentioning billing, so scores vary by case
    with serve(latency_ms=5, replies={"about billing": "billing"}, retry_after_s=0.05) as running:
        yield running


@pytest.fixture
def models(server: Any, fake_key: str) -> list[ModelSpec]:
    common = {"api_base": server.base_url, "api_key_env": "FAKE_PROVIDER_KEY"}
    return [
        ModelSpec("openai/big", input_price_per_1m=10.0, output_price_per_1m=30.0, **common),
        ModelSpec("openai/tiny", input_price_per_1m=0.1, output_price_per_1m=0.4, **common),
    ]
