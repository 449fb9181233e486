"""Calibration of the decision statistics on the scenario grid (issue #18, Settled 16).

Every cell of ``workbench.stats._scenarios`` puts the true difference exactly on the gate's
threshold and runs the code ``wb.decide`` runs. For each cell this prints the false-PROMOTE
rate with its Monte Carlo standard error (exact enumeration for pass/fail cells, ``--sims``
simulated comparisons otherwise) and the coverage of the two-sided 95% interval; then the
degenerate inputs with the decision they got; and last the summary lines the README copies:

    worst_false_promote=0.05x worst_false_promote_se=0.00x  (must be ≤ 0.05 + 2 SE)
    coverage_min=0.9xx coverage_max=0.9xx                   (non-sparse cells: 0.93–0.97)
    degenerate_ok=7/7

Usage: ``python benchmarks/stats_calibration.py [--sims 2000] [--n 30 100 400 1000]``.
"""

from __future__ import annotations

import argparse
import time

from workbench.stats._scenarios import GRID_N, cells, degenerate_checks, measure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sims", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--n", type=int, nargs="+", default=list(GRID_N))
    args = parser.parse_args()
    start = time.perf_counter()
    print(f"{'scenario':<66} {'n':>5} {'false_promote':>13} {'± SE':>7} {'coverage':>9} "
          f"{'':>6} method")
    worst, worst_se, worst_name = 0.0, 0.0, ""
    excess = []  # cells whose rate exceeds 0.05 + 2 SE
    cov: list[float] = []
    for i, cell in enumerate(cells(tuple(args.n))):
        r = measure(cell, sims=args.sims, seed=args.seed + i)
        fp, se = r["false_promote"], r["se"]
        if fp - 2 * se > worst - 2 * worst_se:
            worst, worst_se, worst_name = fp, se, f"{cell.name} n={cell.n}"
        if fp > 0.05 + 2 * se + 1e-9:
            excess.append(f"{cell.name} n={cell.n}")
        tag = "sparse" if r["sparse"] else ""
        if not r["sparse"] and r["coverage"] == r["coverage"]:
            cov.append(r["coverage"])
        label = "false_reject" if cell.family == "slices" else ""
        print(f"{cell.name:<66} {cell.n:>5} {fp:>13.4f} {se:>7.4f} {r['coverage']:>9.3f} "
              f"{tag:>6} {r['method']}{' (' + label + ')' if label else ''}", flush=True)
    checks = degenerate_checks()
    print()
    for c in checks:
        print(f"degenerate: {c['check']:<66} {c['outcome']:<8} {'ok' if c['ok'] else 'FAIL'}"
              f"  {c['reason'][:140]}")
    ok = sum(c["ok"] for c in checks)
    print(f"\nsims={args.sims} seconds={time.perf_counter() - start:.1f}")
    print(f"worst_cell={worst_name}")
    print(f"worst_false_promote={worst:.4f} worst_false_promote_se={worst_se:.4f} "
          f"cells_over_limit={len(excess)}")
    print(f"coverage_min={min(cov):.3f} coverage_max={max(cov):.3f}")
    print(f"degenerate_ok={ok}/{len(checks)}")


if __name__ == "__main__":
    main()
