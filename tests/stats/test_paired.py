"""Paired statistics against scipy/statsmodels and worked values (DESIGN.md, Settled 15)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

import workbench as wb
from workbench.errors import ConfigError
from workbench.records import GoldenSetRef, RunRecord
from workbench.stats import (
    agresti_min,
    cases_to_clear,
    hall_interval,
    mcnemar_midp,
    minimum_detectable_effect,
    paired_delta,
    plan_sample_size,
    tango_interval,
    tango_z,
)


def test_mid_p_mcnemar_worked_values_and_its_relation_to_the_exact_test() -> None:
    # Fagerland, Lydersen & Laake 2013: b = 1, c = 7 -> exact 0.0703, mid-p 0.0391
    assert mcnemar([[10, 1], [7, 10]], exact=True).pvalue == pytest.approx(0.0703, abs=1e-4)
    assert mcnemar_midp(1, 7) == pytest.approx(0.0391, abs=1e-4)
    for b, c in [(0, 5), (3, 9), (12, 4), (20, 31)]:
        exact = mcnemar([[50, b], [c, 50]], exact=True).pvalue
        assert mcnemar_midp(b, c) == pytest.approx(exact - sps.binom.pmf(min(b, c), b + c, 0.5))
    assert mcnemar_midp(4, 4) == 1.0 and mcnemar_midp(0, 0) == 1.0


def test_tango_interval_matches_the_published_cavo_table() -> None:
    # Fagerland, Lydersen & Laake (contingencytables, chapter 8): Cavo et al. 2012, n12 = 6,
    # n21 = 16, N = 161 -> Tango 95% CI (-0.1240, -0.0054); Agresti-Min (-0.1182, -0.0045)
    assert tango_interval(16, 6, 161, 0.95) == pytest.approx((-0.1240, -0.0054), abs=1e-4)
    assert agresti_min(16, 6, 161, 0.95) == pytest.approx((-0.1182, -0.0045), abs=1e-4)
    low, high = tango_interval(0, 0, 100, 0.90)  # no discordant pair: never zero width
    assert low < -0.02 < 0.02 < high


def test_pass_fail_delta_uses_tango_and_mid_p() -> None:
    a = np.array([1] * 30 + [1] * 2 + [0] * 9 + [0] * 9)  # 2 pairs (1, 0), 9 pairs (0, 1)
    b = np.array([1] * 30 + [0] * 2 + [1] * 9 + [0] * 9)
    d = paired_delta(a, b, bootstrap=True)
    assert (d.kind, d.n, d.worse, d.better, d.discordant) == ("pass/fail", 50, 2, 9, 11)
    assert d.informative == 11 and d.method == "Tango score"
    assert d.delta == pytest.approx(7 / 50)
    assert (d.low, d.high) == pytest.approx(tango_interval(2, 9, 50, 0.95))
    assert (d.bound_low, d.bound_high) == pytest.approx(tango_interval(2, 9, 50, 0.90))
    # the bound is where Tango's statistic crosses z: the same decision as the score test
    assert float(tango_z(2, 9, 50, d.bound_low)) == pytest.approx(1.644854, abs=1e-5)
    assert d.low < d.bound_low < d.delta < d.bound_high < d.high
    assert d.p_value == pytest.approx(mcnemar_midp(2, 9)) and d.test == "mid-p McNemar"
    assert d.incumbent.mean == pytest.approx(0.64) and d.candidate.method == "Wilson"
    assert d.bca_method.startswith("bootstrap") and d.bca_low < d.delta < d.bca_high


def test_continuous_delta_uses_halls_transformation_and_scipy_wilcoxon() -> None:
    rng = np.random.default_rng(7)
    a = rng.uniform(0, 1, 80).round(2)
    b = np.clip(a + rng.normal(0.05, 0.2, 80), 0, 1).round(2)
    d = paired_delta(a, b)
    assert d.kind == "continuous" and d.test == "Wilcoxon signed-rank"
    assert d.method == "Hall-transformed t"
    assert d.p_value == pytest.approx(sps.wilcoxon(b, a, zero_method="zsplit").pvalue)
    diff = b - a
    assert (d.low, d.high) == pytest.approx(hall_interval(diff, 0.95))
    assert (d.bound_low, d.bound_high) == pytest.approx(hall_interval(diff, 0.90))
    # with no skewness Hall's transformation is the paired t interval
    sym = np.array([-0.2, -0.1, 0.0, 0.1, 0.2] * 8) + 0.03
    t = sps.ttest_1samp(sym, 0.0)
    assert hall_interval(sym, 0.95) == pytest.approx(tuple(t.confidence_interval(0.95)))
    # negative skew (rare large drops) moves the interval down, as it should
    drops = np.array([0.0] * 40 + [-0.5] * 10)
    t_low = sps.ttest_1samp(drops, 0.0).confidence_interval(0.90).low
    assert hall_interval(drops, 0.90)[0] < t_low
    assert paired_delta(a, b, test="t").p_value == pytest.approx(sps.ttest_rel(b, a).pvalue)
    assert d.effect_size == pytest.approx(diff.mean() / diff.std(ddof=1))
    assert d.clt_low == pytest.approx(diff.mean() - 1.959964 * sps.sem(diff), abs=1e-6)
    same = paired_delta(a, b, seed=3)
    assert (same.bca_low, same.bca_high) == (paired_delta(a, b, seed=3).bca_low,
                                             paired_delta(a, b, seed=3).bca_high)  # seeded


def test_sparse_continuous_deltas_get_the_sign_bound_never_a_zero_width_interval() -> None:
    a = np.full(30, 0.8)
    d = paired_delta(a, a.copy(), bootstrap=False)  # identical: no case differs
    assert d.informative == 0 and d.method.startswith("exact sign bound")
    assert d.low < 0 < d.high and d.bound_low < 0
    # the bound is the Clopper-Pearson bound of P(drop), 1 - 0.05^(1/30) with no drop seen,
    # times the largest drop a score in [0, 1] can make (1)
    assert d.bound_low == pytest.approx(-(1 - 0.05 ** (1 / 30)), rel=1e-6)
    one = paired_delta([0.70], [0.69], bootstrap=False)
    assert one.low < one.bound_low < -0.5 and one.high > 0


def test_sample_size_worked_example_and_its_inverse() -> None:
    assert plan_sample_size(effect=0.15, discordance=0.45).n == 155  # Connor 1987
    assert minimum_detectable_effect(155, discordance=0.45) == pytest.approx(0.15, abs=2e-3)
    ni = plan_sample_size(margin=0.05, discordance=0.2)
    assert ni.n > plan_sample_size(margin=0.05, effect=0.02, discordance=0.2).n
    assert "non-inferiority within 0.05" in str(ni)
    # independence-based discordance from the baseline rate
    assert plan_sample_size(0.8, effect=0.05).discordance == pytest.approx(
        0.8 * 0.15 + 0.85 * 0.2)
    assert plan_sample_size(margin=0.05, sd=0.3).method.startswith("paired t")
    assert cases_to_clear(0.0, -0.05, discordance=0.2) == ni.n
    assert cases_to_clear(-0.05, -0.05, discordance=0.2) is None
    with pytest.raises(ConfigError, match="needs effect= .* or margin="):
        plan_sample_size(discordance=0.2)
    with pytest.raises(ConfigError, match="discordance= or baseline_rate="):
        plan_sample_size(effect=0.1)


@dataclass
class Fake:
    """A Comparison-shaped object built from per-case scores."""

    results: pd.DataFrame
    record: RunRecord = field(default_factory=lambda: RunRecord(
        golden_set=GoldenSetRef(name="fake", digest="")))
    scorers: list[str] = field(default_factory=lambda: ["acc", "f1"])
    complete: bool = True


def fake(inc: dict[str, Any], cand: dict[str, Any], n: int, repeats: int = 1,
         slices: list[str] | None = None) -> Fake:
    rows = []
    for model, spec in {"big": inc, "small": cand}.items():
        for i in range(n):
            for r in range(repeats):
                row = {"case_id": f"c{i:03d}", "model": model, "variant": "v", "repeat": r,
                       "error_type": spec.get("errors", {}).get(i), "latency_s":
                       spec["latency"] * (1 + i % 5), "cost_usd": spec["cost"],
                       "score.acc": spec["acc"](i, r), "score.f1": spec["f1"](i, r)}
                if slices:
                    row["slice.group"] = slices[i]
                if row["error_type"]:
                    row["score.acc"] = row["score.f1"] = float("nan")
                rows.append(row)
    return Fake(pd.DataFrame(rows))


INC = {"latency": 1.0, "cost": 0.002, "acc": lambda i, r: float(i % 4 != 0),
       "f1": lambda i, r: 0.5 + 0.1 * (i % 3)}
CAND = {"latency": 0.5, "cost": 0.001, "acc": lambda i, r: float(i % 5 != 0),
        "f1": lambda i, r: 0.5 + 0.1 * (i % 3) - 0.05 * r}


def test_compare_configs_pairs_cases_averages_repeats_and_reports_cost_and_latency() -> None:
    pc = wb.compare_configs(fake(INC, CAND, 60, repeats=2), ("small", "v"), ("big", "v"))
    acc, f1 = pc.metrics["acc"], pc.metrics["f1"]
    assert pc.n_cases == 60 and acc.n == 60 and acc.repeats == 2
    assert acc.delta == pytest.approx(np.mean([(i % 5 != 0) - (i % 4 != 0) for i in range(60)]))
    assert f1.delta == pytest.approx(-0.025)  # repeats averaged within case first
    assert f1.within_var_candidate == pytest.approx(np.var([0, -0.05], ddof=1))
    assert f1.within_var_incumbent == 0
    assert pc.estimates["cost_ratio"].value == pytest.approx(0.5)
    p95 = pc.estimates["latency_p95_s"]
    assert p95.value == pytest.approx(np.percentile(0.5 * (1 + np.arange(60) % 5), 95)
                                      - np.percentile(1 + np.arange(60) % 5, 95))
    assert p95.low <= p95.value <= p95.high and p95.method == "bootstrap percentile"
    table = pc.table()
    assert list(table.index) == ["acc", "f1"] and {"low", "high", "p_value", "n",
                                                    "errors"} <= set(table.columns)
    assert "Tango score 95%" in str(pc) and "Hall-transformed t 95%" in str(pc)
    worst = pc.worst("acc")
    assert len(worst) == 6 and (worst["acc.delta"] < 0).all()


def test_errors_count_as_zero_or_drop_the_pair() -> None:
    cand = {**CAND, "errors": {0: "Timeout", 1: "Timeout", 2: "RateLimitError"}}
    data = fake(INC, cand, 40)
    zero = wb.compare_configs(data, ("small", "v"), ("big", "v"), ["acc"])
    drop = wb.compare_configs(data, ("small", "v"), ("big", "v"), ["acc"], errors="drop")
    assert zero.metrics["acc"].n == 40 and drop.metrics["acc"].n == 37
    assert zero.metrics["acc"].errors_candidate == 3
    assert zero.metrics["acc"].candidate.mean < drop.metrics["acc"].candidate.mean
    assert zero.estimates["error_rate"].value == pytest.approx(3 / 40)
    assert zero.estimates["error_rate_increase"].value == pytest.approx(3 / 40)
    # every pair dropped: an explicit "no paired case", not a crash
    all_failed = fake(INC, {**CAND, "errors": dict.fromkeys(range(40), "Timeout")}, 40)
    none = wb.compare_configs(all_failed, ("small", "v"), ("big", "v"), ["acc"],
                              errors="drop").metrics["acc"]
    assert none.n == 0 and none.informative == 0 and none.method.startswith("none")


def test_slices_are_adjusted_with_holm_or_bh_and_flag_regressions() -> None:
    n = 120
    groups = ["a"] * 40 + ["b"] * 40 + ["c"] * 40
    cand = {**CAND, "acc": lambda i, r: 0.0 if 40 <= i < 80 and i % 4 else float(i % 4 != 0)}
    data = fake(INC, cand, n, slices=groups)
    pc = wb.compare_configs(data, ("small", "v"), ("big", "v"), ["acc"])
    sl = pc.slices.set_index("value")
    assert list(sl.index) == ["a", "b", "c"] and (sl["correction"] == "Holm").all()
    assert list(sl["p_adjusted"]) == pytest.approx(
        list(multipletests(sl["p_value"], method="holm")[1]))
    assert bool(sl.loc["b", "regression"]) and not sl.loc[["a", "c"], "regression"].any()
    bh = wb.compare_configs(data, ("small", "v"), ("big", "v"), ["acc"], correction="fdr_bh")
    assert list(bh.slices["p_adjusted"]) == pytest.approx(
        list(multipletests(sl["p_value"], method="fdr_bh")[1]))
    assert list(pc.regressions()["value"]) == ["b"]


def test_bad_roles_and_metrics_name_the_fix() -> None:
    data = fake(INC, CAND, 10)
    with pytest.raises(ConfigError, match=r"candidate nope/v is not in this comparison.*"
                                          r"\('big', 'v'\)"):
        wb.compare_configs(data, ("nope", "v"), ("big", "v"))
    with pytest.raises(ConfigError, match="the same configuration"):
        wb.compare_configs(data, ("big", "v"), ("big", "v"))
    with pytest.raises(ConfigError, match=r"unknown metric\(s\) \['bleu'\].*acc, f1"):
        wb.compare_configs(data, ("small", "v"), ("big", "v"), ["bleu"])


def test_large_samples_bootstrap_with_percentile_intervals_and_say_so() -> None:
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 1, 2500)
    d = paired_delta(a, np.clip(a + rng.normal(0, 0.1, 2500), 0, 1))
    assert d.bca_method == "bootstrap percentile (n > 2000)"
    assert d.bca_low < d.delta < d.bca_high
    assert d.bca_low == pytest.approx(d.low, abs=0.003)  # all intervals agree at this size
