"""Named simulation scenarios with known truth, for the calibration tests and benchmark.

Each scenario draws paired scores (incumbent, candidate) for n cases from a joint distribution
whose true mean difference is known exactly, so the coverage of the 95% interval and the rate
of wrong PROMOTE decisions can be measured (DESIGN.md, Settled 16).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ._paired import paired_delta

__all__ = ["SCENARIOS", "Scenario", "exact_binary", "measure"]


@dataclass(frozen=True)
class Scenario:
    """Paired scores from a joint distribution over (incumbent, candidate) score pairs."""

    name: str
    n: int
    pairs: tuple[tuple[float, float], ...]
    """The possible (incumbent score, candidate score) pairs."""
    probs: tuple[float, ...]
    margin: float | None
    """The non-inferiority margin of the gate; None for a superiority gate (bound above 0)."""

    @property
    def truth(self) -> float:
        """The true mean difference, candidate − incumbent."""
        return float(sum(p * (b - a) for (a, b), p in zip(self.pairs, self.probs, strict=True)))

    @property
    def target(self) -> float:
        return 0.0 if self.margin is None else -self.margin

    @property
    def should_not_promote(self) -> bool:
        """True when the truth is at or below the gate's threshold (a PROMOTE would be wrong)."""
        return self.truth <= self.target + 1e-12

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """One simulated comparison: incumbent and candidate scores for n cases."""
        idx = rng.choice(len(self.pairs), size=self.n, p=self.probs)
        table = np.asarray(self.pairs, dtype=float)
        return table[idx, 0], table[idx, 1]


def _binary(name: str, n: int, p11: float, p10: float, p01: float,
            margin: float | None) -> Scenario:
    """p10: the incumbent passes and the candidate fails; p01 the reverse."""
    return Scenario(name, n, ((1, 1), (1, 0), (0, 1), (0, 0)),
                    (p11, p10, p01, 1 - p11 - p10 - p01), margin)


def _rubric(name: str, n: int, shift: int, margin: float | None) -> Scenario:
    """Scores on a 0–4 rubric scaled to [0, 1]; the candidate moves by −1/0/+1 steps."""
    base = (0.1, 0.2, 0.4, 0.2, 0.1)  # symmetric: with no shift the truth is exactly 0
    moves = {-1: 0.15 + 0.1 * max(-shift, 0), 0: 0.7 - 0.1 * abs(shift),
             1: 0.15 + 0.1 * max(shift, 0)}
    pairs, probs = [], []
    for level, p in enumerate(base):
        for move, q in moves.items():
            pairs.append((level / 4, min(max(level + move, 0), 4) / 4))
            probs.append(p * q)
    return Scenario(name, n, tuple(pairs), tuple(probs), margin)


SCENARIOS: tuple[Scenario, ...] = (
    # no true difference, superiority gate: PROMOTE would be wrong
    _binary("pass/fail equal n=50", 50, 0.55, 0.15, 0.15, None),
    _binary("pass/fail equal n=100", 100, 0.55, 0.15, 0.15, None),
    _binary("pass/fail equal n=200", 200, 0.55, 0.15, 0.15, None),
    # the candidate is 8 points worse, the margin 5: non-inferiority PROMOTE would be wrong
    _binary("pass/fail worse than margin n=100", 100, 0.65, 0.15, 0.07, 0.05),
    _binary("pass/fail worse than margin n=200", 200, 0.65, 0.15, 0.07, 0.05),
    # high accuracy, few discordant pairs, at the margin exactly
    _binary("pass/fail at margin, low discordance n=200", 200, 0.82, 0.08, 0.05, 0.03),
    # continuous (rubric) scores
    _rubric("rubric equal n=50", 50, 0, None),
    _rubric("rubric equal n=100", 100, 0, None),
    _rubric("rubric worse than margin n=100", 100, -1, 0.02),
    _rubric("rubric worse than margin n=200", 200, -1, 0.02),
)
# the hardest case for a non-inferiority gate: the truth sits exactly on the margin
SCENARIOS += tuple(
    replace(s, name=s.name.replace("worse than margin", "at margin"), margin=-s.truth)
    for s in SCENARIOS if "worse than margin n=100" in s.name)


def exact_binary(scenario: Scenario, alpha: float = 0.05) -> dict[str, Any]:
    """Exact coverage and wrong-PROMOTE probability of a pass/fail scenario, no Monte Carlo.

    Sums the multinomial probability of every possible table (b discordant pairs one way, c
    the other) in which the interval covers the truth, or the one-sided bound clears the
    gate's threshold.

    Example:
        >>> r = exact_binary(SCENARIOS[1])
        >>> round(r["coverage"], 3), round(r["false_promote"], 3)
        (0.949, 0.05)
    """
    from scipy.stats import multinomial

    from ._paired import agresti_min

    probs = dict(zip(scenario.pairs, scenario.probs, strict=True))
    if set(probs) != {(1, 1), (1, 0), (0, 1), (0, 0)}:
        raise ValueError(f"{scenario.name} is not a pass/fail scenario")
    n, p10, p01 = scenario.n, probs[(1, 0)], probs[(0, 1)]
    truth = scenario.truth
    covered = promoted = 0.0
    for b in range(n + 1):
        cs = np.arange(n - b + 1)
        weights = multinomial.pmf(np.stack([np.full_like(cs, b), cs, n - b - cs], axis=1), n,
                                  [p10, p01, 1 - p10 - p01])
        for c, w in zip(cs, weights, strict=True):
            low, high = agresti_min(b, int(c), n, 0.95)
            covered += w * (low <= truth <= high)
            promoted += w * (agresti_min(b, int(c), n, 1 - 2 * alpha)[0] > scenario.target)
    return {"scenario": scenario.name, "n": n, "truth": truth, "sims": "exact",
            "coverage": float(covered),
            "false_promote": float(promoted) if scenario.should_not_promote else float("nan"),
            "method": "Agresti–Min"}


def measure(scenario: Scenario, sims: int = 1000, seed: int = 0, alpha: float = 0.05
            ) -> dict[str, Any]:
    """Coverage of the 95% interval and the wrong-PROMOTE rate over ``sims`` comparisons.

    Example:
        >>> r = measure(SCENARIOS[1], sims=200)
        >>> 0.85 < r["coverage"] <= 1 and r["false_promote"] < 0.15
        True
    """
    rng = np.random.default_rng(seed)
    covered = promoted = 0
    truth = scenario.truth
    for _ in range(sims):
        a, b = scenario.draw(rng)
        d = paired_delta(a, b, alpha=alpha, bootstrap=False)
        covered += d.low <= truth <= d.high
        promoted += d.bound_low > scenario.target
    return {"scenario": scenario.name, "n": scenario.n, "truth": truth, "sims": sims,
            "coverage": covered / sims,
            "false_promote": promoted / sims if scenario.should_not_promote else float("nan"),
            "method": d.method}
