"""Throughput of the workbench's matrix runner against raw ``litellm.acompletion``.

Starts the local fake OpenAI server (50 ms latency) and, in this one process, alternates
(≥ 3 times each) a raw ``litellm.acompletion`` run and a workbench ``compare`` run making the
same number of calls at the same concurrency, with a cheap heuristic scorer on. Prints medians:

    ratio_vs_raw_litellm=...   workbench calls/s ÷ raw litellm calls/s   (target ≥ 0.8)
    cached_rerun_ratio=...     cached rerun time ÷ uncached run time       (target ≤ 0.05)
    overhead_ms_per_case=...   extra CPU ms per case over raw litellm      (target ≤ 1 ms)

Usage: ``python benchmarks/throughput.py [--calls 600] [--concurrency 32] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pandas as pd  # noqa: E402

import workbench as wb  # noqa: E402
from workbench.models._engine import run_sync  # noqa: E402
from workbench.models._litellm import litellm  # noqa: E402
from workbench.testing import serve  # noqa: E402


def golden_set(n: int) -> wb.GoldenSet:
    rows = [{"id": f"b{i:05d}", "message": f"benchmark message number {i}", "expected": "x"}
            for i in range(n)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name="bench")


def raw_run(base_url: str, messages: list[list[dict[str, str]]], concurrency: int
            ) -> tuple[float, float]:
    acompletion = litellm().acompletion

    async def go() -> None:
        sem = asyncio.Semaphore(concurrency)

        async def one(m: list[dict[str, str]]) -> None:
            async with sem:
                r = await acompletion(model="openai/bench", api_base=base_url, api_key="x",
                                      messages=m, num_retries=0, max_retries=0, timeout=60)
                assert r.choices[0].message.content

        await asyncio.gather(*(one(m) for m in messages))

    wall, cpu = time.perf_counter(), time.process_time()
    run_sync(go())
    return time.perf_counter() - wall, time.process_time() - cpu


def workbench_run(gs: wb.GoldenSet, spec: wb.ModelSpec, variant: wb.PromptVariant,
                  concurrency: int, cache: bool | str) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    cmp = wb.compare(gs, [spec], [variant], [wb.scorers.exact_match], concurrency=concurrency,
                     cache=cache, progress=False)
    elapsed = time.perf_counter() - wall, time.process_time() - cpu
    errors = cmp.results["error"].dropna()
    assert cmp.complete and errors.empty, errors.head(3).tolist()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_CACHE_DIR", tempfile.mkdtemp(prefix="wb-bench-"))
    gs = golden_set(args.calls)
    variant = wb.PromptVariant("bench", user="{{ message }}")
    messages = [variant.render(r) for r in gs.records()]
    with serve(latency_ms=args.latency_ms, max_requests=10_000_000) as srv:
        os.environ["BENCH_FAKE_KEY"] = "x"
        spec = wb.ModelSpec("openai/bench", api_base=srv.base_url, api_key_env="BENCH_FAKE_KEY",
                            input_price_per_1m=1.0, output_price_per_1m=1.0)
        raw_run(srv.base_url, messages[:50], args.concurrency)  # warm up clients and imports
        workbench_run(golden_set(50), spec, variant, args.concurrency, cache=False)
        raw, ours, cached, uncached_for_cache = [], [], [], []
        for r in range(args.rounds):
            raw.append(raw_run(srv.base_url, messages, args.concurrency))
            ours.append(workbench_run(gs, spec, variant, args.concurrency, cache=False))
            cache_dir = tempfile.mkdtemp(prefix=f"wb-bench-cache-{r}-")
            uncached_for_cache.append(
                workbench_run(gs, spec, variant, args.concurrency, cache=cache_dir)[0])
            cached.append(workbench_run(gs, spec, variant, args.concurrency, cache=cache_dir)[0])
    raw_wall = statistics.median(w for w, _ in raw)
    our_wall = statistics.median(w for w, _ in ours)
    raw_cpu = statistics.median(c for _, c in raw)
    our_cpu = statistics.median(c for _, c in ours)
    n = args.calls
    print(f"calls={n} concurrency={args.concurrency} latency_ms={args.latency_ms:g} "
          f"rounds={args.rounds}")
    print(f"raw_litellm_calls_per_s={n / raw_wall:.1f} workbench_calls_per_s={n / our_wall:.1f}")
    print(f"ratio_vs_raw_litellm={raw_wall / our_wall:.3f}")
    cached_s, uncached_s = statistics.median(cached), statistics.median(uncached_for_cache)
    print(f"cached_rerun_s={cached_s:.3f} cached_rerun_ratio={cached_s / uncached_s:.3f}")
    print(f"cpu_ms_per_call_raw={raw_cpu / n * 1000:.2f} cpu_ms_per_call_workbench="
          f"{our_cpu / n * 1000:.2f}")
    print(f"overhead_ms_per_case={(our_cpu - raw_cpu) / n * 1000:.3f}")


if __name__ == "__main__":
    main()
