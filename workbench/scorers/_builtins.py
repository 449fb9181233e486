"""Built-in heuristic scorers: ``exact_match`` and ``label_match``."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ._scorer import Score, scorer

__all__ = ["exact_match", "label_match", "parse_json_object"]

_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_SEPARATORS = re.compile(r"[\s\-_/]+")


def parse_json_object(text: str) -> dict[str, Any] | None:
    r"""The JSON object in a model's output (code fences allowed), or None.

    Example:
        >>> parse_json_object('```json\n{"intent": "billing"}\n```')
        {'intent': 'billing'}
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    if not stripped.startswith("{"):
        start, end = stripped.find("{"), stripped.rfind("}")
        if start < 0 or end <= start:
            return None
        stripped = stripped[start : end + 1]
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _normalise(text: str) -> str:
    """Lower case, separators (space, -, _, /) as one underscore, no edge punctuation."""
    return _SEPARATORS.sub("_", text.strip().lower()).strip("_.,;:!?\"'`")


def _expected(case: Mapping[str, Any], field: str | None) -> Any:
    expected = case.get("expected")
    if field is None:
        return expected
    if isinstance(expected, Mapping):
        return expected.get(field)
    return None


@scorer
def exact_match(case: Mapping[str, Any], output: str, *, strip: bool = True) -> Score:
    r"""1.0 when the output equals ``expected`` exactly (after stripping whitespace by default).

    Example:
        >>> exact_match({"expected": "42"}, " 42\n").value
        1.0
    """
    expected = case.get("expected")
    if expected is None:
        return Score(float("nan"), explanation="no expected answer")
    want = expected if isinstance(expected, str) else json.dumps(expected, sort_keys=True)
    got = output.strip() if strip else output
    want = want.strip() if strip else want
    ok = got == want
    return Score(float(ok), explanation=None if ok else f"expected {want!r}")


@scorer
def label_match(case: Mapping[str, Any], output: str, *, field: str | None = None) -> Score:
    """1.0 when the predicted label equals ``expected`` (or ``expected.<field>``).

    The prediction is the output's JSON field ``field`` when the output is a JSON object
    holding it, else the whole output. Both sides are compared case-insensitively with spaces,
    hyphens and underscores treated alike ("Refund request" matches ``refund_request``); the
    predicted label is kept in ``Score.label`` for confusion tables.

    Example:
        >>> case = {"expected": {"intent": "refund_request"}}
        >>> label_match(field="intent")(case, '{"intent": "refund_request"}').value
        1.0
        >>> label_match(field="intent")(case, "Refund request.").value
        1.0
        >>> label_match(field="intent")(case, "I think it is a refund").value
        0.0
    """
    want = _expected(case, field)
    if want is None:
        where = "expected" if field is None else f"expected.{field}"
        return Score(float("nan"), explanation=f"case has no {where}")
    parsed = parse_json_object(output)
    if parsed is not None and field is not None and field in parsed:
        predicted = str(parsed[field])
    elif parsed is not None and field is None and len(parsed) == 1:
        predicted = str(next(iter(parsed.values())))
    else:
        predicted = output
    got = _normalise(predicted)
    ok = got == _normalise(str(want))
    return Score(
        float(ok),
        label=got[:80],
        explanation=None if ok else f"predicted {got[:80]!r}, expected {str(want)!r}",
    )
