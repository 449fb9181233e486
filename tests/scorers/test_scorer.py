"""The scorer extension point and the built-in heuristics."""

from __future__ import annotations

import asyncio
import math
from types import MappingProxyType
from typing import Any

import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.scorers import Score, Scorer, exact_match, label_match, scorer


def test_decorator_bare_and_named_records_name_args_and_version() -> None:
    @scorer
    def short(case: Any, output: str, *, max_words: int = 5) -> bool:
        return len(output.split()) <= max_words

    @scorer(name="mentions_refund")
    def mentions(case: Any, output: str) -> float:
        return 1.0 if "refund" in output else 0.0

    assert isinstance(short, Scorer) and short.name == "short" and short.args == {"max_words": 5}
    assert mentions.name == "mentions_refund" and mentions.args == {}
    strict = short(max_words=1)
    assert strict.args == {"max_words": 1} and strict.version != short.version
    assert short({}, "one two three").value == 1.0
    assert strict({}, "one two three").value == 0.0
    assert mentions({}, "a refund").value == 1.0


def test_case_is_read_only() -> None:
    @scorer
    def meddle(case: Any, output: str) -> bool:
        case["expected"] = output  # must fail: scorers cannot edit the golden set
        return True

    with pytest.raises(TypeError):
        meddle({"expected": "x"}, "y")


def test_bad_scorers_are_refused_with_a_fix() -> None:
    with pytest.raises(ConfigError, match="two positional parameters"):
        scorer(lambda output: 1.0)

    @scorer
    def ok(case: Any, output: str, *, k: int = 1) -> float:
        return 1.0

    with pytest.raises(ConfigError, match="no argument"):
        ok(q=2)

    @scorer
    def wrong(case: Any, output: str) -> Any:
        return "yes"

    with pytest.raises(ConfigError, match="not a Score, float or bool"):
        wrong({}, "x")


def test_async_scorers_return_awaitables_of_scores() -> None:
    @scorer
    async def slow(case: Any, output: str) -> Score:
        await asyncio.sleep(0)
        return Score(0.5, cost_usd=0.001)

    result = asyncio.run(slow({}, "x"))
    assert result == Score(0.5, cost_usd=0.001)


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        ('{"intent": "refund_request", "priority": "low"}', 1.0),
        ('```json\n{"intent": "Refund request"}\n```', 1.0),
        ("refund-request", 1.0),
        ("Refund request.", 1.0),
        ('{"intent": "billing"}', 0.0),
        ("This is about a refund request", 0.0),
        ("", 0.0),
    ],
)
def test_label_match_on_a_field(output: str, expected: float) -> None:
    case = MappingProxyType({"expected": {"intent": "refund_request", "priority": "low"}})
    assert label_match(field="intent")(case, output).value == expected


def test_label_match_keeps_the_predicted_label_and_handles_missing_expected() -> None:
    s = label_match(field="intent")({"expected": {"intent": "billing"}}, '{"intent": "Shipping"}')
    assert s.value == 0.0 and s.label == "shipping"
    assert "expected 'billing'" in (s.explanation or "")
    assert math.isnan(label_match({"expected": None}, "x").value)
    assert label_match({"expected": "yes"}, "Yes").value == 1.0


def test_exact_match() -> None:
    assert exact_match({"expected": "about 2 hours"}, " about 2 hours\n").value == 1.0
    assert exact_match({"expected": "about 2 hours"}, "About 2 hours").value == 0.0
    assert exact_match(strip=False)({"expected": "a"}, "a ").value == 0.0
    assert math.isnan(exact_match({"expected": None}, "x").value)


def test_facade_exports() -> None:
    assert wb.scorers.label_match is label_match and wb.Score is Score and wb.scorer is scorer
