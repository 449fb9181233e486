"""Decisions you can trust (issue #18): every numbered input that gave a PROMOTE, a crash or
misleading advice, with the verdict and message it gives now."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import workbench as wb
from workbench.records import GoldenSetRef, RunRecord, ScorerRecord
from workbench.runner import Comparison
from workbench.stats import cases_to_clear, plan_sample_size, win_share

from .test_paired import Fake

ROLES = {"candidate": ("cand", "v"), "incumbent": ("inc", "v")}


def frame(inc: list[float], cand: list[float], *, repeats: int = 1, **columns: Any
          ) -> pd.DataFrame:
    """Results for two configurations; per-row columns may be overridden (length 2·n·r)."""
    n = len(inc)
    rows = pd.DataFrame({
        "case_id": [f"c{i:03d}" for i in range(n) for _ in range(repeats)] * 2,
        "model": ["inc"] * n * repeats + ["cand"] * n * repeats, "variant": "v",
        "repeat": list(range(repeats)) * n * 2, "error_type": None, "scorer_errors": None,
        "cost_usd": 0.001, "latency_s": 0.5,
        "score.m": [v for v in inc for _ in range(repeats)]
        + [v for v in cand for _ in range(repeats)]})
    for key, value in columns.items():
        rows[key] = value
    return rows


def decide(rows: pd.DataFrame, gates: wb.Gates | None = None, **kw: Any) -> wb.Decision:
    return wb.decide(Fake(rows, scorers=["m"]), gates or wb.Gates(
        metrics={"m": wb.MetricGate(margin=0.02)}), **ROLES, **kw)


BASE = [float(x) for x in np.random.default_rng(1).integers(0, 2, 200)]
NAN = float("nan")


# 1. scorer failures -----------------------------------------------------------------------
def test_a_scorer_that_fails_on_every_output_no_longer_promotes() -> None:
    rows = frame([NAN] * 200, [NAN] * 200, scorer_errors="m: ValueError: bad output")
    d = decide(rows)
    assert d.outcome == "REJECT"
    errors = next(g for g in d.gates if g.gate.startswith("error rate (calls + scorer"))
    assert errors.status == "fail" and "200 of 200 cases hold an error" in errors.evidence
    m = d.paired.metrics["m"]
    assert (m.scorer_failures_incumbent, m.scorer_failures_candidate) == (200, 200)
    assert "not enough evidence: 0 informative cases, need 10" in d.gates[0].evidence
    assert any("the scorer failed on 200 candidate output(s)" in n for n in d.notes)


def test_partly_failing_scorers_are_counted_shown_and_gated() -> None:
    cand = [NAN if i % 10 == 0 else v for i, v in enumerate(BASE)]
    rows = frame(BASE, cand, scorer_errors=[None] * 200 + [
        "m: KeyError: 'label'" if i % 10 == 0 else None for i in range(200)])
    d = decide(rows)
    m = d.paired.metrics["m"]
    assert m.scorer_failures_candidate == 20 and m.errors_candidate == 0
    assert "errors 0+0 / 0+20 (calls+scorer" in d.gates[0].evidence
    err = d.paired.estimates["error_rate"]
    assert err.value == pytest.approx(0.10) and d.outcome == "REJECT"
    assert "scorer failed on 20 candidate output(s), counted as score 0" in str(d.paired)


def test_summary_and_compare_configs_use_one_rule_for_missing_scores() -> None:
    cand = [NAN if i % 10 == 0 else v for i, v in enumerate(BASE)]
    rows = frame(BASE, cand, scorer_errors=[None] * 200 + [
        "m: KeyError: 'label'" if i % 10 == 0 else None for i in range(200)])
    rows["output"] = "x"
    for col in ("attempts", "prompt_tokens", "completion_tokens"):
        rows[col] = 1
    rows[["billed_usd", "judge_cost_usd"]] = 0.0
    rows["cache_hit"] = False
    meta = RunRecord(golden_set=GoldenSetRef(name="t", digest=""),
                     scorers=[ScorerRecord(name="m")])
    cmp = Comparison(rows, meta)
    summary = cmp.summary().loc[("cand", "v")]
    paired = wb.compare_configs(cmp, ("cand", "v"), ("inc", "v"), ["m"])
    assert summary["m"] == pytest.approx(paired.metrics["m"].candidate.mean)
    assert summary["m_failed"] == 20 and summary["scorer_errors"] == 20
    assert summary["error_rate"] == pytest.approx(0.10)
    assert "failed calls and scorer failures counted as 0" in cmp.summary_text()
    # a case no configuration could score is not applicable: left out on every side
    na = rows.copy()
    na.loc[na["case_id"] == "c001", "score.m"] = NAN
    cmp_na = Comparison(na, meta)
    assert Comparison(na, meta).summary().loc[("cand", "v"), "m_failed"] == 20
    assert wb.compare_configs(cmp_na, ("cand", "v"), ("inc", "v"), ["m"]).metrics[
        "m"].not_applicable == 1


# 2. zero spread -------------------------------------------------------------------------
def test_one_continuous_case_is_never_a_bound() -> None:
    d = decide(frame([0.70], [0.69]))
    gate = d.gates[0]
    assert d.outcome == "HOLD" and gate.status == "inconclusive"
    assert gate.evidence.startswith("not enough evidence: 1 informative case, need 10")
    assert "exact sign bound" in gate.evidence and gate.bound < -0.5  # not -0.010
    assert "at least 9 more cases (10 in all)" in gate.advice


def test_two_cases_with_equal_deltas_do_not_promote() -> None:
    d = decide(frame([0.70, 0.40], [0.69, 0.39]))
    m = d.paired.metrics["m"]
    assert d.outcome == "HOLD" and m.low < m.bound_low < -0.3 and m.high > 0
    assert "not enough evidence: 2 informative cases, need 10" in d.gates[0].evidence


def test_win_share_of_equal_verdicts_has_an_honest_bound() -> None:
    assert win_share(["win", "win"]).bound_low < 0.45
    rows = frame([1.0] * 3, [1.0] * 3)
    pairwise = pd.DataFrame({"case_id": ["c000", "c001", "c002"], "outcome": ["tie"] * 3})
    d = decide(rows, wb.Gates(win_share_margin=0.05, error_rate_max=1.0,
                              error_rate_increase_max=1.0), pairwise=pairwise)
    gate = d.gates[0]
    assert d.outcome == "HOLD" and gate.status == "inconclusive"
    assert "not enough evidence: 0 informative cases, need 10" in gate.advice
    assert "0 decided verdicts" not in d.advice or "unlikely" not in d.advice


def test_routing_p_values_come_from_the_gate_methods_not_a_zero_spread_artifact() -> None:
    d = wb.stats.paired_delta([1.0] * 12, [1.0] * 12, bootstrap=False)
    assert d.bound_low < -0.1  # 12 agreeing cases cannot show non-inferiority within 0.02
    assert wb.stats.noninferiority_pvalue([1.0] * 12, [1.0] * 12, 0.02) > 0.05


# 3. rare one-way regressions ------------------------------------------------------------
@pytest.mark.parametrize("n", [100, 400, 1000])
def test_a_candidate_two_points_worse_and_never_better_is_rarely_promoted(n: int) -> None:
    b = np.arange(0, n + 1)
    w = sps.binom.pmf(b, n, 0.02)
    promote = 0.0
    gates = wb.Gates(metrics={"m": wb.MetricGate(margin=0.02)})
    for k, weight in zip(b, w, strict=True):
        if weight < 1e-12:
            continue
        a = np.ones(n)
        x = np.r_[np.zeros(k), np.ones(n - k)]
        gate = wb.stats.metric_gate(wb.stats.paired_delta(a, x, bootstrap=False),
                                    gates.metrics["m"], gates)
        promote += weight * (gate.status == "pass")
    assert promote <= 0.05  # was 13.3% (n=100), 9.7% (n=400), 6.4% (n=1000)


# 4. crashes -----------------------------------------------------------------------------
def test_every_pair_dropped_is_an_explicit_hold_not_a_crash() -> None:
    rows = frame(BASE[:50], BASE[:50], error_type=[None] * 50 + ["Timeout"] * 50)
    d = decide(rows, wb.Gates(metrics={"m": wb.MetricGate()}, errors="drop"))
    assert d.outcome == "REJECT"  # every candidate call failed
    gate = d.gates[0]
    assert gate.status == "inconclusive" and "no paired case" in gate.advice


def test_tiny_spread_plans_without_crashing() -> None:
    assert plan_sample_size(margin=0.02, sd=0.001).n == 2
    assert cases_to_clear(0.0, -0.1, discordance=0.0) is None
    with pytest.raises(wb.ConfigError, match="sd=0"):
        plan_sample_size(margin=0.02, sd=0.0)


def test_identical_configurations_report_without_crashing(tmp_path: Any) -> None:
    rows = frame(BASE, BASE)
    rows["output"] = "x"
    for col in ("attempts", "prompt_tokens", "completion_tokens"):
        rows[col] = 1
    rows[["billed_usd", "judge_cost_usd"]] = 0.0
    rows["cache_hit"] = False
    cmp = Comparison(rows, RunRecord(golden_set=GoldenSetRef(name="t", digest=""),
                                     scorers=[ScorerRecord(name="m")]))
    report = wb.migration_report(cmp, ("cand", "v"), ("inc", "v"), wb.Gates(
        metrics={"m": wb.MetricGate(margin=0.1)}), charts=False)
    assert report.outcome == "HOLD"
    assert "0 informative cases" in report.headline
    assert report.rollout["cases_needed"] is None and "no estimate" in report.rollout["note"]


# 5. clustered errors --------------------------------------------------------------------
def test_errors_that_repeat_within_a_case_are_clustered() -> None:
    # 400 cases x 5 repeats, 4% of calls fail, all in the same 16 cases: a Wilson interval
    # over 2,000 calls would pass a 5% ceiling; clustered by case it cannot
    n, r = 400, 5
    err = [("Timeout" if i < 16 else None) for i in range(n) for _ in range(r)]
    rows = frame([1.0] * n, [1.0] * n, repeats=r, error_type=[None] * n * r + err)
    est = wb.compare_configs(Fake(rows, scorers=["m"]), ("cand", "v"), ("inc", "v"),
                             ["m"]).estimates["error_rate"]
    naive = wb.stats.clustered_rate([1] * 80 + [0] * 1920, [1] * 2000).bound_high
    assert est.value == pytest.approx(0.04) and naive < 0.05 < est.bound_high
    assert "incl. df adjustment, 16 cases hold one" in est.method


# 6. advice that means what it says ------------------------------------------------------
def test_all_ties_do_not_advise_zero_more_cases() -> None:
    pairwise = pd.DataFrame({"case_id": [f"c{i:03d}" for i in range(30)],
                             "outcome": ["tie"] * 30})
    d = decide(frame([1.0] * 30, [1.0] * 30), wb.Gates(win_share_margin=0.05),
               pairwise=pairwise)
    assert d.outcome == "HOLD" and "about 0 more" not in d.headline()
    assert "0 informative cases, need 10" in d.headline()


def test_a_candidate_that_loses_more_than_it_wins_is_unlikely_to_pass() -> None:
    outcomes = ["win"] * 31 + ["loss"] * 62 + ["tie"] * 227
    pairwise = pd.DataFrame({"case_id": [f"c{i:03d}" for i in range(320)],
                             "outcome": outcomes})
    d = decide(frame([1.0] * 320, [1.0] * 320), wb.Gates(win_share_margin=0.05),
               pairwise=pairwise)
    assert d.outcome == "HOLD" and d.cases_needed is None and d.extra_cases is None
    assert "unlikely to pass with more data" in d.headline()
    assert "the observed win share 0.452 sits too close to the threshold 0.450: more than " \
        "100,000 cases would be needed (the candidate lost 62 and won 31)" in d.advice
    assert "178291" not in d.headline()
    # on the wrong side of the margin: more cases would confirm a failure
    worse = pd.DataFrame({"case_id": [f"c{i:03d}" for i in range(320)],
                          "outcome": ["win"] * 31 + ["loss"] * 90 + ["tie"] * 199})
    w = decide(frame([1.0] * 320, [1.0] * 320), wb.Gates(win_share_margin=0.05),
               pairwise=worse)
    assert w.outcome in ("HOLD", "REJECT")
    if w.outcome == "HOLD":
        assert "observed win share 0.408 is below the threshold 0.450, so more cases would " \
            "confirm a failure, not a pass" in w.advice


def test_counts_are_rounded_and_capped() -> None:
    assert wb.stats.round_cases(1432) == 1500 and wb.stats.round_cases(87) == 87
    # 12 wins and 12 losses in 424 cases against a margin of 0.0001: too close to settle
    g = wb.stats.metric_gate(wb.stats.paired_delta(
        np.r_[np.ones(12), np.zeros(12), np.ones(400)],
        np.r_[np.zeros(12), np.ones(12), np.ones(400)], bootstrap=False),
        wb.MetricGate(margin=0.0001), wb.Gates())
    assert g.status == "inconclusive" and g.extra_cases is None
    assert "more than 100,000 cases would be needed" in g.advice


# 7. free incumbent ----------------------------------------------------------------------
def test_a_free_incumbent_gets_a_dollar_difference_not_a_hold_forever() -> None:
    rows = frame(BASE, BASE, cost_usd=[0.0] * 200 + [0.002] * 200)
    d = decide(rows, wb.Gates(metrics={"m": wb.MetricGate(margin=0.5, min_informative=0)},
                              cost_ratio_max=1.0))
    cost = next(g for g in d.gates if g.gate.startswith("cost per case"))
    assert cost.status == "fail" and d.outcome == "REJECT"
    assert "incumbent recorded $0 per request" in cost.evidence
    assert "adds $2.0000 per 1k requests" in cost.evidence
    diff = d.paired.estimates["cost_per_1k_diff"]
    assert diff.value == pytest.approx(2.0) and diff.incumbent == 0
    both_free = decide(frame(BASE, BASE, cost_usd=0.0), wb.Gates(
        metrics={"m": wb.MetricGate(margin=0.5, min_informative=0)}, cost_ratio_max=1.0))
    assert next(g for g in both_free.gates if g.gate.startswith("cost")).status == "pass"
    budget = decide(rows, wb.Gates(metrics={}, cost_increase_max_per_1k_usd=2.5))
    gate = next(g for g in budget.gates if g.gate.startswith("cost increase per 1k"))
    assert gate.status == "pass"


# 8. a candidate whose every call failed, with no error ceiling in the gates file --------
def test_a_candidate_that_failed_every_call_is_rejected_without_an_error_gate_in_the_file(
        tmp_path: Any) -> None:
    path = tmp_path / "gates.yaml"
    path.write_text("metrics:\n  m: {margin: 0.5}\ncost_ratio_max: 2.0\n")
    gates = wb.Gates.load(path)
    assert gates.error_rate_max == 0.05 and gates.error_rate_increase_max == 0.02
    rows = frame(BASE, [NAN] * 200, error_type=[None] * 200 + ["AuthenticationError"] * 200)
    d = decide(rows, gates)
    assert d.outcome == "REJECT"
    failed = [g.gate for g in d.gates if g.status == "fail"]
    assert any(g.startswith("error rate (calls + scorer failures) ≤ 0.05") for g in failed)
    off = tmp_path / "off.yaml"
    off.write_text("error_rate_max: null\n")
    with pytest.raises(wb.ConfigError, match="always on; set 1.0 to allow any rate"):
        wb.Gates.load(off)
