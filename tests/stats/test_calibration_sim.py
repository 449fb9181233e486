"""Known truth: false-PROMOTE and coverage on the calibration grid (issue #18, Settled 16).

Pass/fail cells are exact (every 2×2 table weighted by its probability, no Monte Carlo
noise) at every n of the grid; the other families run a fast subset (1,000 simulations at
fixed seeds). Every cell puts the truth exactly on the gate's threshold, so a PROMOTE is wrong:
its rate must stay ≤ 5% allowing two Monte Carlo SE (Settled 16). Coverage of the 95% interval
stays within 93–97% in cells that are not sparse. ``benchmarks/stats_calibration.py`` runs the
whole grid with 2,000 simulations per cell.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

import workbench as wb
from workbench.stats._bounds import tango_z
from workbench.stats._scenarios import cells, degenerate_checks, measure

from .test_paired import Fake

pytestmark = pytest.mark.slow
SIMS = 1000

EXACT = [c for c in cells() if c.family == "pass/fail"]
FAST = [c for c in cells((400,)) if any(k in c.name for k in (
    "Beta(5,1)", "rare drops (4%", "win share 0.10", "5 repeat(s)", "+2 points", "slices"))]


def _check(result: dict[str, Any], sparse: bool) -> None:
    print(result)
    assert result["false_promote"] <= 0.05 + 2 * result["se"] + 1e-12
    if result["family"] != "slices":
        assert result["coverage"] >= 0.93
        if not sparse:
            assert result["coverage"] <= 0.97


@pytest.mark.parametrize("cell", EXACT, ids=[f"{c.name} n={c.n}" for c in EXACT])
def test_pass_fail_cells_hold_their_level_exactly(cell: Any) -> None:
    _check(measure(cell), cell.sparse)


@pytest.mark.parametrize("cell", FAST, ids=[f"{c.name} n={c.n}" for c in FAST])
def test_simulated_cells_hold_their_level(cell: Any) -> None:
    _check(measure(cell, sims=300 if cell.family == "slices" else SIMS, seed=17), cell.sparse)


def test_the_old_interval_failed_the_one_way_cell_that_tango_passes() -> None:
    """Regression: Agresti–Min promoted a 2%-worse, never-better candidate 13.3% of the time."""
    cell = next(c for c in cells((100,)) if c.name.startswith("one-way regression 2%"))
    b = np.arange(0, 101)
    weights = sps.binom.pmf(b, 100, 0.02)
    old = sum(w for k, w in zip(b, weights, strict=True)
              if wb.stats.agresti_min(int(k), 0, 100, 0.90)[0] > -0.02)
    assert old == pytest.approx(0.1326, abs=5e-4)
    assert measure(cell)["false_promote"] == 0.0


def test_the_enumeration_decides_like_metric_gate() -> None:
    """The exact enumeration's shortcut (Tango's statistic at the threshold) = metric_gate."""
    gates = wb.Gates(metrics={"m": wb.MetricGate(margin=0.02)})
    rng = np.random.default_rng(3)
    for _ in range(200):
        n = int(rng.integers(30, 400))
        b, c = int(rng.integers(0, n // 5)), int(rng.integers(0, n // 5))
        a = np.array([1.0] * b + [0.0] * c + [1.0] * (n - b - c))
        x = np.array([0.0] * b + [1.0] * c + [1.0] * (n - b - c))
        gate = wb.stats.metric_gate(wb.stats.paired_delta(a, x, bootstrap=False),
                                    gates.metrics["m"], gates)
        shortcut = bool(tango_z(b, c, n, -0.02) > 1.6448536269514722) and b + c >= 10
        assert (gate.status == "pass") == shortcut, (n, b, c)


def test_degenerate_inputs_never_promote_and_never_crash() -> None:
    checks = degenerate_checks()
    assert {c["check"] for c in checks} >= {
        "zero spread: one case 0.70 → 0.69", "all-NaN scorer on the candidate",
        "a scorer that fails on every output", "a free incumbent (price 0)"}
    for c in checks:
        assert c["ok"], c


def test_decide_itself_promotes_a_candidate_on_the_margin_at_most_alpha() -> None:
    """The whole decide() path on Comparison-shaped data, 500 simulated comparisons."""
    cell = next(c for c in cells((200,)) if c.name.startswith("pass/fail 0.75 vs 0.70"))
    p = [0.65, cell.params["p10"], cell.params["p01"]]
    p.append(1 - sum(p))
    pairs = np.array([(1, 1), (1, 0), (0, 1), (0, 0)], dtype=float)
    rng = np.random.default_rng(5)
    cases = [f"c{i:03d}" for i in range(cell.n)]
    gates = wb.Gates(metrics={"acc": wb.MetricGate(margin=cell.margin)})
    promoted, sims = 0, 500
    for _ in range(sims):
        draw = pairs[rng.choice(4, size=cell.n, p=p)]
        results = pd.DataFrame({
            "case_id": cases * 2, "model": ["inc"] * cell.n + ["cand"] * cell.n,
            "variant": "v", "error_type": None, "cost_usd": float("nan"),
            "latency_s": float("nan"), "score.acc": np.concatenate([draw[:, 0], draw[:, 1]])})
        decision = wb.decide(Fake(results, scorers=["acc"]), gates, candidate=("cand", "v"),
                             incumbent=("inc", "v"))
        promoted += decision.outcome == "PROMOTE"
    se = (0.05 * 0.95 / sims) ** 0.5
    assert promoted / sims <= 0.05 + 2 * se
