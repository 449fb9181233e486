"""The results explorer on a 100k-row comparison (25,000 cases × 4 configurations).

Times, over ``--rounds`` rounds (medians): building ``ResultsExplorer`` (the case-level tables,
once), one filter change (slice, scorer or sort by spread: each recomputes the selection and
renders the first page) and one page turn, against the reference a plain notebook display would
pay for the same selection: rendering every selected row with ``DataFrame.to_html``. Prints:

    build_s=...        ResultsExplorer(cmp)
    filter_ms=...      a filter change, selection + first page
    page_ms=...        the next page
    reference_ms=...   DataFrame.to_html of the selected rows (the reference)
    ratio_filter_vs_reference=...

Usage: ``python benchmarks/explorer.py [--cases 25000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from mlflow_logging import big_comparison


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=25_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["WORKBENCH_CACHE_DIR"] = tempfile.mkdtemp(prefix="wb-explorer-bench-")
    from workbench.ui import ResultsExplorer

    cmp = big_comparison(args.cases)
    builds, filters, pages, refs = [], [], [], []
    for _ in range(args.rounds):
        start = time.perf_counter()
        ex = ResultsExplorer(cmp)
        builds.append(time.perf_counter() - start)
        start = time.perf_counter()
        ex.slice_name.value = "lang"
        ex.slice_value.value = ex.slice_value.options[1]
        ex.scorer.value = "token_f1"
        ex.sort.value = "score spread"
        filters.append((time.perf_counter() - start) / 4)  # four changes, each refreshes
        start = time.perf_counter()
        ex.next.click()
        pages.append(time.perf_counter() - start)
        start = time.perf_counter()
        ex.selection_frame().to_html()
        refs.append(time.perf_counter() - start)
    build, flt, page, ref = (statistics.median(x) for x in (builds, filters, pages, refs))
    print(f"cases={args.cases} configs=4 rows={len(cmp.results)} selected={len(ex.filtered)} "
          f"rounds={args.rounds}")
    print(f"build_s={build:.2f} filter_ms={flt * 1000:.0f} page_ms={page * 1000:.0f} "
          f"reference_ms={ref * 1000:.0f}")
    print(f"ratio_filter_vs_reference={flt / ref:.3f}")


if __name__ == "__main__":
    main()
