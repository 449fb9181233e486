"""One rule for missing scores, shared by ``Comparison.summary()`` and ``compare_configs``.

A score can be missing for three reasons, and each is counted apart:

- **call error**: the model call failed (``error_type`` set), so nothing was scored;
- **scorer failure**: the call succeeded but the scorer raised (recorded in
  ``scorer_errors``) or returned NaN on a case that other rows of the same case could score;
- **not applicable**: no row of the case could be scored and no scorer raised (e.g. a case
  without an expected value): the case is left out of that metric on every side.

With ``errors="zero"`` (Settled 8) call errors and scorer failures score 0, so a candidate
never looks better by failing; with ``errors="drop"`` they are left out. Both are errors in
the error-rate gate (Settled R1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = ["ScoreStatus", "failed_rows", "score_status"]

Errors = Literal["zero", "drop"]


@dataclass(frozen=True)
class ScoreStatus:
    """Per row of a results table: the score after the missing-score rule, and why."""

    value: pd.Series
    """The score used by the statistics (NaN when left out)."""
    call_error: pd.Series
    scorer_failed: pd.Series
    not_applicable: pd.Series


def _raised(rows: pd.DataFrame, name: str) -> pd.Series:
    """Rows whose ``scorer_errors`` record an exception of scorer ``name``."""
    out = pd.Series(False, index=rows.index)
    if "scorer_errors" not in rows:
        return out
    recorded = rows["scorer_errors"].notna().to_numpy()
    if recorded.any():  # "name: Error: message; other: …": a segment that starts with name
        text = rows["scorer_errors"][recorded].astype(str)
        out[recorded] = text.str.contains(f"(?:^|; ){re.escape(name)}: ", regex=True).to_numpy()
    return out


def score_status(rows: pd.DataFrame, name: str, errors: Errors = "zero") -> ScoreStatus:
    """Apply the missing-score rule to scorer ``name`` over ``rows`` (any configurations).

    Applicability is decided per case over all the rows given: pass every configuration that
    is compared so that a case is left out on every side or on none.

    Example:
        >>> rows = pd.DataFrame({"case_id": ["a", "a", "b", "b"], "error_type": [None] * 4,
        ...     "scorer_errors": [None, "acc: ValueError: x", None, None],
        ...     "score.acc": [1.0, float("nan"), float("nan"), float("nan")]})
        >>> s = score_status(rows, "acc")
        >>> s.value.tolist()[:2], s.scorer_failed.tolist(), s.not_applicable.tolist()
        ([1.0, 0.0], [False, True, False, False], [False, False, True, True])
    """
    values = rows[f"score.{name}"].astype("float64")
    call_error = rows["error_type"].notna().astype(bool)
    raised = _raised(rows, name) & ~call_error
    missing = values.isna() & ~call_error
    case = rows["case_id"].astype(str)
    scored = (~values.isna() & ~call_error).groupby(case).transform("any").astype(bool)
    any_raised = raised.groupby(case).transform("any").astype(bool)
    not_applicable = (missing & ~raised & ~scored & ~any_raised).astype(bool)
    failed = (missing & ~not_applicable).astype(bool)
    lost = call_error | failed
    if errors == "zero":
        value = values.where(~lost, 0.0).where(~not_applicable)
    else:
        value = values.where(~lost & ~not_applicable)
    return ScoreStatus(value, call_error, failed, not_applicable)


def failed_rows(rows: pd.DataFrame, scorers: list[str]) -> pd.Series:
    """Rows that count as errors: a failed call, or any scorer that failed on its output.

    Example:
        >>> rows = pd.DataFrame({"case_id": ["a", "b"], "error_type": ["Timeout", None],
        ...     "scorer_errors": [None, "acc: KeyError: 'x'"], "score.acc": [float("nan")] * 2})
        >>> failed_rows(rows, ["acc"]).tolist()
        [True, True]
    """
    out = rows["error_type"].notna().astype(bool)
    for name in scorers:
        out = out | score_status(rows, name).scorer_failed
    return out.astype(bool)
