"""Gates and decisions: PROMOTE / HOLD / REJECT on one-sided bounds, from YAML or Python."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.records import ModelRecord

from .test_paired import CAND, INC, fake

ROLES = {"candidate": ("small", "v"), "incumbent": ("big", "v")}
SAME = {**INC, "cost": 0.001, "latency": 0.5}


def test_equal_quality_cheaper_candidate_promotes_with_a_wide_margin() -> None:
    # the two sides agree on every case: by default that is not enough evidence (no
    # discordant pair), and the advice says how to opt out for an agreement-is-the-pass gate
    held = wb.decide(fake(INC, SAME, 400), wb.Gates(
        metrics={"acc": wb.MetricGate(margin=0.05)}), **ROLES)
    assert held.outcome == "HOLD"
    assert "the two sides agree on all 400 cases" in held.advice
    assert "min_informative: 0" in held.advice
    d = wb.decide(fake(INC, SAME, 400), wb.Gates(
        metrics={"acc": wb.MetricGate(margin=0.05, min_informative=0)}, cost_ratio_max=0.8,
        latency_p95_max_s=3.0, error_rate_max=0.02, max_slice_regressions=0), **ROLES)
    assert d.outcome == "PROMOTE" and d.exit_code == 0
    # acc, cost, latency, error rate, error-rate increase (always on), slices
    assert [g.status for g in d.gates] == ["pass"] * 6
    acc = d.gates[0]
    assert acc.bound == pytest.approx(d.paired.metrics["acc"].bound_low) and acc.bound > -0.05
    assert "one-sided 95% lower bound" in acc.evidence and "Tango score" in acc.evidence
    assert d.extra_cases is None and d.advice == ""


def test_a_proven_failure_rejects_and_names_the_bound() -> None:
    worse = {**INC, "acc": lambda i, r: float(i % 2 == 0)}  # 50% against 75%
    d = wb.decide(fake(INC, worse, 200), wb.Gates(metrics={"acc": wb.MetricGate(margin=0.05)}),
                  **ROLES)
    assert d.outcome == "REJECT" and d.exit_code == 11
    gate = d.gates[0]
    assert gate.status == "fail" and gate.bound == pytest.approx(
        d.paired.metrics["acc"].bound_high) and gate.bound < -0.05
    assert "upper bound" in gate.evidence


def test_an_inconclusive_gate_holds_and_says_how_many_cases_would_settle_it() -> None:
    # candidate 0.8 vs incumbent 0.75: on the right side of a 0.02 margin, but 60 cases
    # cannot show it; the error gates pass at 400 cases, so acc alone decides the count
    gates = wb.Gates(metrics={"acc": wb.MetricGate(margin=0.02)})
    small = wb.decide(fake(INC, CAND, 60), gates, **ROLES)
    assert small.outcome == "HOLD" and small.exit_code == 10
    d = wb.decide(fake(INC, CAND, 160), gates, **ROLES)
    m = d.paired.metrics["acc"]
    assert [g.status for g in d.gates] == ["inconclusive", "pass", "pass"]
    assert m.delta > -0.02
    expected = wb.stats.round_cases(wb.stats.cases_to_clear(
        m.delta, -0.02, discordance=m.discordant / m.n))
    assert d.cases_needed == expected and d.extra_cases == expected - 160 > 0
    assert f"about {expected - 160:,} more cases ({expected:,} in all) would likely settle it" \
        in d.headline()
    assert "<table>" in d._repr_html_()


def test_superiority_needs_the_lower_bound_above_zero() -> None:
    better = {**INC, "acc": lambda i, r: 1.0}
    gates = wb.Gates(metrics={"acc": wb.MetricGate(superiority=True)})
    assert wb.decide(fake(INC, better, 200), gates, **ROLES).outcome == "PROMOTE"
    assert wb.decide(fake(INC, INC, 200), gates, **ROLES).outcome == "HOLD"


def test_an_incomplete_or_simulated_comparison_is_said_and_never_promotes() -> None:
    data = fake(INC, SAME, 400)
    data.complete = False
    data.record.run.status = "budget_stopped"
    data.record.run.stop_reason = "budget $1 reached"
    data.record.models = [ModelRecord(label="small", simulated=True)]
    d = wb.decide(data, wb.Gates(metrics={"acc": wb.MetricGate(margin=0.05)}), **ROLES)
    assert d.outcome == "HOLD"
    assert any("incomplete (budget $1 reached)" in n for n in d.notes)
    assert any("SIMULATED models (small)" in n for n in d.notes)


def test_slice_regressions_fail_the_slice_gate() -> None:
    groups = ["a"] * 40 + ["b"] * 40 + ["c"] * 40
    cand = {**SAME, "acc": lambda i, r: 0.0 if 40 <= i < 80 and i % 4 else float(i % 4 != 0)}
    d = wb.decide(fake(INC, cand, 120, slices=groups),
                  wb.Gates(metrics={"acc": wb.MetricGate(margin=0.5)}, max_slice_regressions=0),
                  **ROLES)
    assert d.outcome == "REJECT"
    slice_gate = d.gates[-1]
    assert slice_gate.gate.startswith("significant slice regressions") and \
        slice_gate.status == "fail"
    assert "acc on group=b" in slice_gate.evidence and "Holm-adjusted" in slice_gate.evidence


def test_default_gates_cover_every_scorer() -> None:
    d = wb.decide(fake(INC, SAME, 100), **ROLES)
    names = [g.gate for g in d.gates]
    assert names[:2] == ["acc: not worse than the incumbent by more than 0.02",
                         "f1: not worse than the incumbent by more than 0.02"]
    assert any(n.startswith("error rate (calls + scorer failures) ≤ 0.05") for n in names)
    assert any(n.startswith("error rate increase over the incumbent ≤ 0.02") for n in names)


def test_gates_yaml_roles_and_errors_with_lines(tmp_path: Path) -> None:
    good = tmp_path / "gates.yaml"
    good.write_text("candidate: small:v\nincumbent: [big, v]\nmetrics:\n  acc: {margin: 0.1}\n"
                    "cost_ratio_max: 1.0\n")
    gates = wb.Gates.load(good)
    assert gates.candidate is not None and gates.candidate.ref == ("small", "v")
    d = wb.decide(fake(INC, SAME, 300), gates)
    assert d.candidate == ("small", "v") and d.incumbent == ("big", "v")
    bad = tmp_path / "bad.yaml"
    bad.write_text("metrics:\n  acc: {margin: -1}\nalpha: 0.7\ncost_ratio: 2\n")
    with pytest.raises(ConfigError) as info:
        wb.Gates.load(bad)
    text = str(info.value)
    assert "bad.yaml, line 2: metrics.acc.margin" in text
    assert "line 3: alpha" in text and "line 4: cost_ratio" in text and "allowed keys" in text
    with pytest.raises(ConfigError, match="needs a candidate and an incumbent"):
        wb.decide(fake(INC, SAME, 10), wb.Gates(metrics={"acc": wb.MetricGate()}))
