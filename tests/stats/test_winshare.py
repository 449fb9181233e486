"""Win share of pairwise verdicts and the shadow test's win-share gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import workbench as wb
from workbench.stats import hall_interval, pairwise_outcomes, win_share

from .test_paired import CAND, INC, fake


def table(wins: int, ties: int, losses: int, judge_errors: int = 0) -> pd.DataFrame:
    outcomes = ["win"] * wins + ["tie"] * ties + ["loss"] * losses + [None] * judge_errors
    return pd.DataFrame({"case_id": [f"c{i:03d}" for i in range(len(outcomes))],
                         "outcome": outcomes})


def test_win_share_is_the_mean_of_points_with_halls_interval() -> None:
    outcomes = ["win"] * 23 + ["tie"] * 50 + ["loss"] * 27
    ws = win_share(outcomes, alpha=0.05)
    points = np.array([1.0] * 23 + [0.5] * 50 + [0.0] * 27)
    assert ws.share == pytest.approx(points.mean()) == pytest.approx((23 + 25) / 100)
    assert (ws.low, ws.high) == pytest.approx(hall_interval(points, 0.95))
    assert (ws.bound_low, ws.bound_high) == pytest.approx(hall_interval(points, 0.90))
    # nearly symmetric points: close to scipy's one-sample t interval
    assert (ws.low, ws.high) == pytest.approx(
        tuple(sps.ttest_1samp(points, 0.5).confidence_interval(0.95)), abs=2e-3)
    assert (ws.wins, ws.ties, ws.losses, ws.n) == (23, 50, 27, 100)
    assert np.isnan(win_share([]).share)
    with pytest.raises(wb.ConfigError, match="draw"):
        win_share(["win", "draw"])


def test_equal_verdicts_never_give_a_zero_width_bound() -> None:
    two = win_share(["win", "win"])
    assert two.share == 1.0 and two.bound_low < 0.5 and "sign bound" in two.method
    ties = win_share(["tie"] * 10)
    assert ties.share == 0.5 and ties.bound_low < 0.5 < ties.bound_high


@pytest.mark.parametrize(("counts", "status"), [
    ((120, 60, 20), "pass"),       # clearly better than 0.45 (200 cases: the always-on
                                   # error-rate gates need ~140 to bound a 2-point increase)
    ((10, 20, 70), "fail"),        # clearly worse: upper bound below 0.45
    ((30, 36, 34), "inconclusive"),
])
def test_the_win_share_gate_passes_fails_or_holds_on_the_one_sided_bound(
        counts: tuple[int, int, int], status: str) -> None:
    cmp = fake(INC, CAND, sum(counts))
    gates = wb.Gates(win_share_margin=0.05)
    decision = wb.decide(cmp, gates, candidate=("small", "v"), incumbent=("big", "v"),
                         pairwise=table(*counts))
    gate = decision.gates[0]
    ws = win_share(["win"] * counts[0] + ["tie"] * counts[1] + ["loss"] * counts[2])
    assert gate.status == status and gate.estimate == pytest.approx(ws.share)
    assert gate.bound == pytest.approx(ws.bound_high if status == "fail" else ws.bound_low)
    assert decision.outcome == {"pass": "PROMOTE", "fail": "REJECT",
                                "inconclusive": "HOLD"}[status]
    if status == "inconclusive":
        assert gate.extra_cases is not None and gate.extra_cases > sum(counts)
        assert "would likely settle it" in gate.advice


def test_failed_candidate_calls_count_as_losses_and_judge_failures_are_left_out() -> None:
    cand = {**CAND, "errors": {0: "timeout", 1: "timeout"}}
    cmp = fake(INC, cand, 40)
    pw = table(30, 6, 0, judge_errors=4)
    pw = pw[~pw.case_id.isin(["c000", "c001"])]  # pairwise skips cases where a side failed
    outcomes = pairwise_outcomes(pw, cmp, ("small", "v"))
    assert outcomes["c000"] == outcomes["c001"] == "loss"
    assert len(outcomes) == len(pw) - 4 + 2
    dropped = pairwise_outcomes(pw, cmp, ("small", "v"), errors="drop")
    assert "c000" not in dropped.index
    decision = wb.decide(cmp, wb.Gates(win_share_margin=0.05), candidate=("small", "v"),
                         incumbent=("big", "v"), pairwise=pw)
    assert "2 failed candidate call(s) counted as losses" in decision.gates[0].evidence
    assert "4 case(s) without a verdict left out" in decision.gates[0].evidence
    no_pw = wb.decide(cmp, wb.Gates(win_share_margin=0.05), candidate=("small", "v"),
                      incumbent=("big", "v"))
    assert no_pw.gates[0].status == "inconclusive" and no_pw.outcome == "HOLD"
