"""A large run end to end: N cases × 4 configurations, run + MLflow log + migration report.

Runs ``wb.compare`` on a synthetic golden set of ``--cases`` support messages (every message
distinct, so the simulated models answer each one) with 2 SIMULATED models × 2 prompt variants
and two heuristic scorers (``label_match`` on the intent, ``token_f1``), no simulated latency and
no cache; then ``wb.log_comparison`` to an embedded sqlite store in a temp dir and
``wb.migration_report`` (HTML + Markdown). A thread samples the resident set size (RSS) of the
process every 50 ms. Prints:

    rows=...               result rows (cases × 4)
    run_s=...              wb.compare (``--workers`` processes)
    log_s=...              wb.log_comparison with candidate and incumbent
    report_s=...           wb.migration_report + HTML + Markdown    (target ≤ 10 s at 100k × 4)
    peak_rss_mb=...        the process's peak RSS over all three    (target ≤ 1536 at 100k × 4)
    run_peak_rss_mb=... log_peak_rss_mb=... report_peak_rss_mb=...  the peak of each phase
    baseline_rss_mb=...    after ``import workbench`` and building the golden set

Usage: ``python benchmarks/scale.py [--cases 100000] [--workers 1]`` (the test suite runs it at
2,000 cases).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ["WORKBENCH_SIM_LATENCY_SCALE"] = "0"

import pandas as pd  # noqa: E402

import workbench as wb  # noqa: E402

OPENINGS = ("I was charged twice for invoice", "The app crashes when I open report",
            "How do I export project", "Please cancel subscription",
            "Where can I download the receipt for order")
INTENTS = ("billing", "bug", "how_to", "cancellation", "billing")


class RssSampler:
    """The peak RSS (MB) of this process, sampled from /proc every ``every_s`` seconds."""

    def __init__(self, every_s: float = 0.05) -> None:
        self.every_s = every_s
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def now() -> float:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

    def _loop(self) -> None:
        while not self._stop.wait(self.every_s):
            self.peak = max(self.peak, self.now())

    def __enter__(self) -> RssSampler:
        self.peak = self.now()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.now())


@contextmanager
def phase(times: dict[str, float], peaks: dict[str, float], name: str) -> Iterator[None]:
    """Time a phase and record its peak RSS."""
    start = time.perf_counter()
    with RssSampler() as rss:
        yield
    times[name] = time.perf_counter() - start
    peaks[name] = rss.peak


def golden_set(n: int) -> wb.GoldenSet:
    """``n`` distinct support messages with an intent label and two slices."""
    rows = [{"id": f"c{i:06d}", "message": f"{OPENINGS[i % 5]} {i}, thanks",
             "expected": {"intent": INTENTS[i % 5]}, "channel": ("email", "chat")[i % 2],
             "language": ("en", "de", "fr")[i % 3]} for i in range(n)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name=f"scale-{n}",
                                slices=["channel", "language"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="wb-scale-")
    os.environ["WORKBENCH_CACHE_DIR"] = os.path.join(work, "cache")
    gs = golden_set(args.cases)
    baseline = RssSampler.now()
    variants = [wb.PromptVariant("plain", user="{{ message }}"),
                wb.PromptVariant("json", user='Answer as JSON {"intent": ...}: {{ message }}')]
    scorers = [wb.scorers.label_match(field="intent", name="intent"), wb.scorers.token_f1]
    roles = {"candidate": ("sim/fast", "json"), "incumbent": ("sim/large", "json")}
    times: dict[str, float] = {}
    peaks: dict[str, float] = {}
    extra = {"workers": args.workers} if args.workers > 1 else {}
    print(f"cases={args.cases} configs=4 workers={args.workers}", flush=True)
    print(f"baseline_rss_mb={baseline:.0f}", flush=True)
    with phase(times, peaks, "run"):
        cmp = wb.compare(gs, ["sim/large", "sim/fast"], variants, scorers, cache=False,
                         progress=False, **extra)
    print(f"rows={len(cmp.results)}")
    print(f"run_s={times['run']:.1f} run_peak_rss_mb={peaks['run']:.0f}", flush=True)
    with phase(times, peaks, "log"):
        wb.log_comparison(cmp, "scale", tracking_uri=f"sqlite:///{work}/mlflow.db", **roles)
    print(f"log_s={times['log']:.1f} log_peak_rss_mb={peaks['log']:.0f}", flush=True)
    with phase(times, peaks, "report"):
        report = wb.migration_report(cmp, gates=wb.Gates.default(cmp.scorers), log=False,
                                     **roles)
        page, text = report.html(), report.markdown()
    print(f"report_s={times['report']:.1f} report_peak_rss_mb={peaks['report']:.0f}")
    print(f"outcome={report.outcome} html_mb={len(page.encode()) / 1e6:.1f} "
          f"markdown_kb={len(text) / 1024:.0f}")
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux
    print(f"peak_rss_mb={max(maxrss, *peaks.values()):.0f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
