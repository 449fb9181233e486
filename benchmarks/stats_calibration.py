"""Calibration of the decision statistics on named scenarios with known truth (Settled 16).

For every scenario in ``workbench.stats._scenarios`` (pass/fail and rubric scores, n = 50–200,
no true difference, worse than the margin, exactly at the margin) this prints the coverage of
the 95% interval of the paired difference and the rate of wrong PROMOTE decisions (one-sided
5% bound clearing the gate's threshold when the truth does not), from ``--sims`` simulated
comparisons, plus the exact values for pass/fail scenarios. For reference it also measures the
BCa paired bootstrap interval (``scipy.stats.bootstrap``) on the same draws (``--bca-sims``).
Ends with the worst scenario:

    coverage=0.94x false_promote=0.05x   (worst scenario, simulated)

Usage: ``python benchmarks/stats_calibration.py [--sims 5000] [--bca-sims 500]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats as sps

from workbench.stats._scenarios import SCENARIOS, Scenario, exact_binary, measure


def bca_coverage(scenario: Scenario, sims: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    covered = 0
    for _ in range(sims):
        a, b = scenario.draw(rng)
        d = b - a
        if np.ptp(d) == 0:
            covered += d[0] == scenario.truth
            continue
        res = sps.bootstrap((d,), np.mean, method="BCa", n_resamples=2000, rng=rng)
        low, high = res.confidence_interval
        covered += low <= scenario.truth <= high
    return covered / sims


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=5000)
    parser.add_argument("--bca-sims", type=int, default=500)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    start = time.perf_counter()
    worst_cov, worst_fp = 0.95, 0.0
    print(f"{'scenario':<44} {'truth':>7} {'coverage':>9} {'exact':>7} {'BCa ref':>8} "
          f"{'false_promote':>14} {'exact':>7}")
    for i, s in enumerate(SCENARIOS):
        sim = measure(s, sims=args.sims, seed=args.seed + i)
        exact = exact_binary(s) if s.name.startswith("pass/fail") else None
        bca = bca_coverage(s, args.bca_sims, args.seed + i) if args.bca_sims else float("nan")
        worst_cov = max(worst_cov, sim["coverage"], key=lambda c: abs(c - 0.95))
        if np.isfinite(sim["false_promote"]):
            worst_fp = max(worst_fp, sim["false_promote"])
        ex_cov = f"{exact['coverage']:.3f}" if exact else "-"
        ex_fp = f"{exact['false_promote']:.3f}" if exact else "-"
        print(f"{s.name:<44} {s.truth:+7.3f} {sim['coverage']:9.3f} {ex_cov:>7} {bca:8.3f} "
              f"{sim['false_promote']:14.3f} {ex_fp:>7}")
    print(f"sims={args.sims} bca_sims={args.bca_sims} seconds={time.perf_counter() - start:.1f}")
    print(f"coverage={worst_cov:.3f} false_promote={worst_fp:.3f}   (worst scenario, simulated)")


if __name__ == "__main__":
    main()
