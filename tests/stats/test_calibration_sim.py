"""Known truth: coverage and wrong-PROMOTE rates (DESIGN.md, Settled 16).

Pass/fail scenarios are computed exactly (every possible 2×2 table weighted by its probability),
so they carry no Monte-Carlo noise; continuous (rubric) scenarios are simulated with fixed
seeds, 2,000 comparisons each. Both must stay within Settled 16's bands (95% coverage within
93.6–96.4%, a 5% error rate up to 6.4%); a candidate truly worse than the margin must be
promoted at most 5% of the time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.stats._scenarios import SCENARIOS, exact_binary, measure

from .test_paired import Fake

pytestmark = pytest.mark.slow
SIMS = 1000


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_coverage_and_false_promote_stay_at_their_nominal_levels(scenario: Any) -> None:
    binary = scenario.name.startswith("pass/fail")
    result = exact_binary(scenario) if binary else measure(scenario, sims=2 * SIMS, seed=11)
    print(result)
    assert 0.936 <= result["coverage"] <= 0.964
    assert result["false_promote"] <= 0.064
    if "worse than margin" in scenario.name:
        assert result["false_promote"] <= 0.05


def test_decide_itself_promotes_a_truly_worse_candidate_at_most_alpha() -> None:
    """The whole decide() path on Comparison-shaped data, 1,000 simulated comparisons."""
    scenario = next(s for s in SCENARIOS if s.name == "pass/fail worse than margin n=100")
    rng = np.random.default_rng(5)
    cases = [f"c{i:03d}" for i in range(scenario.n)]
    gates = wb.Gates(metrics={"acc": wb.MetricGate(margin=scenario.margin)})
    promoted = 0
    for _ in range(SIMS):
        a, b = scenario.draw(rng)
        results = pd.DataFrame({
            "case_id": cases * 2, "model": ["inc"] * scenario.n + ["cand"] * scenario.n,
            "variant": "v", "error_type": None, "cost_usd": float("nan"),
            "latency_s": float("nan"), "score.acc": np.concatenate([a, b])})
        decision = wb.decide(Fake(results, scorers=["acc"]), gates, candidate=("cand", "v"),
                             incumbent=("inc", "v"))
        promoted += decision.outcome == "PROMOTE"
    assert promoted / SIMS <= 0.05
