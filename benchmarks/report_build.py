"""Building the migration report of a 10k-case comparison (target ≤ 5 s).

Uses the same synthetic 10,000 cases × 4 configurations as ``mlflow_logging.py`` (a small real
simulated run tiled over a 10k golden set) and times, over ``--rounds`` rounds (medians):
``wb.migration_report`` (statistics, decision, examples, rollout, routing, charts) and the HTML
and Markdown rendering, against the reference ``wb.compare_configs`` alone. Prints:

    report_build_s=...   build + HTML + Markdown          (target ≤ 5 s)
    stats_s=...          compare_configs alone (the reference)
    ratio_vs_stats=...   report_build_s ÷ stats_s
    html_mb=...          size of the self-contained HTML

Usage: ``python benchmarks/report_build.py [--cases 10000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from mlflow_logging import big_comparison

import workbench as wb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="wb-report-bench-")
    cmp = big_comparison(args.cases)
    roles = {"candidate": ("sim/fast", "asked"), "incumbent": ("sim/large", "plain")}
    gates = wb.Gates.default(cmp.scorers, cost_ratio_max=1.0)
    builds, stats, size = [], [], 0
    for _ in range(args.rounds):
        start = time.perf_counter()
        wb.compare_configs(cmp, **roles)
        stats.append(time.perf_counter() - start)
        start = time.perf_counter()
        report = wb.migration_report(cmp, gates=gates, log=False, **roles)
        page, text = report.html(), report.markdown()
        builds.append(time.perf_counter() - start)
        size = len(page.encode())
    build, ref = statistics.median(builds), statistics.median(stats)
    print(f"cases={args.cases} configs=4 rows={len(cmp.results)} rounds={args.rounds} "
          f"outcome={report.outcome} markdown_kb={len(text) / 1024:.0f}")
    print(f"report_build_s={build:.2f} stats_s={ref:.2f}")
    print(f"ratio_vs_stats={build / ref:.2f}")
    print(f"html_mb={size / 1e6:.1f}")


if __name__ == "__main__":
    main()
