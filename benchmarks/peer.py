"""The peer benchmark (#23): workbench against raw litellm and ``mlflow.genai.evaluate``.

One local fake OpenAI server (``workbench.testing``, 50 ms latency) runs in its own process, so
its CPU is nobody's GIL. In this one process, ``--rounds`` times (≥ 3), the same ``--rows``
rows (one model call each) are run, alternating:

- raw: ``litellm.acompletion`` at concurrency 64 on one event loop (what one process can do);
- workbench: ``wb.compare`` with the exact-match scorer at concurrency 64, with 1 and with 2
  worker processes, each without and with MLflow logging (``experiment=``: parent and child
  runs, metrics with CIs, the per-case table, charts) to an embedded sqlite store;
- ``mlflow.genai.evaluate`` with an exact-match scorer and a ``predict_fn`` that calls
  ``litellm.completion``, logging to the same kind of store: at its best configuration
  (``MLFLOW_GENAI_EVAL_PREDICT_RATE_LIMIT=0``: no predict rate limiter; ``--mlflow-workers``
  sets ``MLFLOW_GENAI_EVAL_MAX_WORKERS``, default MLflow's 10, which measured best here: more
  threads only add contention when tracing is CPU-bound; trace validation stays on, since
  skipping it with a predict_fn that makes no trace of its own logs no trace at all) and at
  stock settings (the adaptive predict rate limiter). On stock settings its trace-logging
  threads outnumber the sqlite store's connection pool and it stalls for seconds at a time,
  so stock runs take ``--stock-rows`` rows (default 60) and the best configuration
  ``--mlflow-rows`` (default: ``--rows``, at most 300); rates are per row.

Prints medians (rows/s equals calls/s here), and the CPU each contender used per row (this
process and its worker processes, the fake server excepted: a figure other load on the machine
disturbs less than the rates):

    raw_litellm_rows_per_s=...  workbench_w1_rows_per_s=...  workbench_w2_rows_per_s=...
    workbench_w1_logged_rows_per_s=...  workbench_w2_logged_rows_per_s=...
    mlflow_best_rows_per_s=...  mlflow_stock_rows_per_s=...
    raw_litellm_cpu_ms_per_row=...  workbench_w2_cpu_ms_per_row=...  (one per contender)
    ratio_vs_raw_litellm=...            workbench, 1 worker ÷ raw litellm   (target ≥ 0.8)
    ratio_workers2_vs_raw_litellm=...   workbench, 2 workers ÷ raw litellm  (target ≥ 1.3)
    ratio_vs_mlflow_genai_evaluate=...  workbench, 2 workers, logged ÷ MLflow best (target ≥ 20)
    ratio_vs_mlflow_stock=...           workbench, 2 workers, logged ÷ MLflow stock

Usage: ``python benchmarks/peer.py [--rows 3000] [--rounds 3] [--concurrency 64]``. The
default of 3,000 rows makes each timed run last seconds (about 6–10 s here): with 600 rows a
run lasts about 1.5 s, start-up and the last slow calls weigh on it, and the medians of two
runs on the same idle machine differed by 15% (ratio_workers2_vs_raw_litellm 1.135 and 1.313).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import pandas as pd  # noqa: E402

import workbench as wb  # noqa: E402
from workbench.models import litellm, run_sync  # noqa: E402
from workbench.runner import shutdown_workers  # noqa: E402

KEY_ENV = "PEER_BENCH_FAKE_KEY"


def fake_server(latency_ms: float) -> tuple[subprocess.Popen[str], str]:
    """The fake OpenAI server in its own process; (process, base URL)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench.testing.fake_openai", "--port", "0",
         "--latency-ms", f"{latency_ms:g}", "--max-requests", "100000000",
         "--max-seconds", "7200"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "http://" not in line:
        proc.kill()
        raise SystemExit(f"the fake server did not start: {line!r}")
    return proc, line.split()[-1]


def cpu_s(server_pid: int) -> float:
    """CPU seconds of this process and its children (the workers), the fake server excepted."""
    import psutil

    me = psutil.Process()
    total = sum(me.cpu_times()[:2])
    for child in me.children(recursive=True):
        if child.pid != server_pid:
            try:
                total += sum(child.cpu_times()[:2])
            except psutil.Error:  # it just exited
                pass
    return total


def rows(n: int, offset: int = 0) -> list[dict[str, str]]:
    return [{"id": f"r{offset + i:06d}", "message": f"peer benchmark message {offset + i}",
             "expected": "x"} for i in range(n)]


def raw_run(url: str, data: list[dict[str, str]], concurrency: int) -> float:
    """Seconds for raw ``litellm.acompletion`` calls of every row."""
    acompletion = litellm().acompletion

    async def go() -> None:
        sem = asyncio.Semaphore(concurrency)

        async def one(row: dict[str, str]) -> None:
            async with sem:
                r = await acompletion(model="openai/bench", api_base=url, api_key="x",
                                      messages=[{"role": "user", "content": row["message"]}],
                                      num_retries=0, max_retries=0, timeout=60)
                assert r.choices[0].message.content

        await asyncio.gather(*(one(r) for r in data))

    start = time.perf_counter()
    run_sync(go())
    return time.perf_counter() - start


def workbench_run(gs: wb.GoldenSet, url: str, concurrency: int, workers: int,
                  tracking_uri: str | None) -> float:
    """Seconds for ``wb.compare`` of every row (and its MLflow logging when given a store)."""
    spec = wb.ModelSpec("openai/bench", api_base=url, api_key_env=KEY_ENV,
                        input_price_per_1m=1.0, output_price_per_1m=1.0)
    variant = wb.PromptVariant("bench", user="{{ message }}")
    start = time.perf_counter()
    cmp = wb.compare(gs, [spec], [variant], [wb.scorers.exact_match], concurrency=concurrency,
                     workers=workers, cache=False, progress=False,
                     experiment="peer-workbench" if tracking_uri else None,
                     tracking_uri=tracking_uri)
    elapsed = time.perf_counter() - start
    errors = cmp.results["error"].dropna()
    assert cmp.complete and errors.empty and len(cmp.results) == len(gs), errors.head(3)
    assert tracking_uri is None or (cmp.record.tracking and cmp.record.tracking.run_id), \
        cmp.record.tracking
    return elapsed


def mlflow_run(data: list[dict[str, str]], url: str, *, best: bool,
               workers: int | None) -> float:
    """Seconds for ``mlflow.genai.evaluate`` of every row (predict, trace, score, log)."""
    import mlflow
    from mlflow.genai.scorers import scorer

    completion = litellm().completion

    def predict(message: str) -> str:
        r = completion(model="openai/bench", api_base=url, api_key="x",
                       messages=[{"role": "user", "content": message}], num_retries=0,
                       max_retries=0, timeout=60)
        return str(r.choices[0].message.content)

    @scorer
    def exact_match(outputs: str, expectations: dict[str, Any]) -> bool:
        return outputs.strip() == str(expectations["expected"])

    knobs = {"MLFLOW_GENAI_EVAL_PREDICT_RATE_LIMIT": "0"} if best else {}
    if best and workers:
        knobs["MLFLOW_GENAI_EVAL_MAX_WORKERS"] = str(workers)
    saved = {k: os.environ.pop(k, None) for k in ("MLFLOW_GENAI_EVAL_PREDICT_RATE_LIMIT",
                                                  "MLFLOW_GENAI_EVAL_MAX_WORKERS")}
    os.environ.update(knobs)
    items = [{"inputs": {"message": r["message"]}, "expectations": {"expected": r["expected"]}}
             for r in data]
    try:
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):  # its banner, not our figures
            result = mlflow.genai.evaluate(data=items, predict_fn=predict,
                                           scorers=[exact_match])
        mlflow.flush_trace_async_logging()  # its traces are part of what it logs
        elapsed = time.perf_counter() - start
    finally:
        for k in knobs:
            os.environ.pop(k, None)
        os.environ.update({k: v for k, v in saved.items() if v is not None})
    assert "exact_match/mean" in result.metrics, result.metrics
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=3000)
    parser.add_argument("--mlflow-rows", type=int, default=None,
                        help="rows of the best-configuration MLflow runs (default: --rows, "
                        "at most 300)")
    parser.add_argument("--stock-rows", type=int, default=60,
                        help="rows of the stock-settings MLflow runs (default 60)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--mlflow-workers", type=int, default=None,
                        help="MLFLOW_GENAI_EVAL_MAX_WORKERS of the best configuration")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="wb-peer-bench-")
    os.environ["WORKBENCH_CACHE_DIR"] = os.path.join(tmp, "cache")
    os.environ["WORKBENCH_HOME"] = tmp
    os.environ[KEY_ENV] = "x"
    cwd = os.getcwd()
    os.chdir(tmp)  # MLflow's artifacts of the embedded stores land in the temp dir
    server, url = fake_server(args.latency_ms)
    try:
        import mlflow

        uri = f"sqlite:///{tmp}/mlflow.db"
        mlflow.set_tracking_uri(uri)
        mlflow.set_experiment("peer-mlflow")
        n = args.rows
        n_mlflow = args.mlflow_rows or min(n, 300)
        n_stock = min(args.stock_rows, n_mlflow)
        data = rows(n)
        gs = wb.GoldenSet.from_df(pd.DataFrame(data), name="peer")
        warm = rows(min(50, n), offset=n)
        warm_gs = wb.GoldenSet.from_df(pd.DataFrame(warm), name="peer-warmup")
        raw_run(url, warm, args.concurrency)  # imports, clients, worker processes, stores
        for workers in (1, 2):
            workbench_run(warm_gs, url, args.concurrency, workers, uri)
        mlflow_run(warm[:10], url, best=True, workers=args.mlflow_workers)
        timed: dict[str, list[float]] = {}
        runs: list[tuple[str, Callable[[], float]]] = [
            ("raw_litellm", lambda: raw_run(url, data, args.concurrency)),
            ("workbench_w1", lambda: workbench_run(gs, url, args.concurrency, 1, None)),
            ("workbench_w2", lambda: workbench_run(gs, url, args.concurrency, 2, None)),
            ("workbench_w1_logged", lambda: workbench_run(gs, url, args.concurrency, 1, uri)),
            ("workbench_w2_logged", lambda: workbench_run(gs, url, args.concurrency, 2, uri)),
            ("mlflow_best", lambda: mlflow_run(data[:n_mlflow], url, best=True,
                                               workers=args.mlflow_workers)),
            ("mlflow_stock", lambda: mlflow_run(data[:n_stock], url, best=False,
                                                workers=None)),
        ]
        cpu: dict[str, list[float]] = {}
        load_before = os.getloadavg()[0]  # other work on the machine skews every rate
        for _ in range(args.rounds):  # alternating, every contender once a round
            for name, run in runs:
                before = cpu_s(server.pid)
                timed.setdefault(name, []).append(run())
                cpu.setdefault(name, []).append(cpu_s(server.pid) - before)
    finally:
        server.terminate()
        server.wait(10)
        shutdown_workers()
        os.chdir(cwd)
        shutil.rmtree(tmp, ignore_errors=True)
    count = {"mlflow_best": n_mlflow, "mlflow_stock": n_stock}
    rate = {name: count.get(name, n) / statistics.median(seconds)
            for name, seconds in timed.items()}
    print(f"rows={n} mlflow_rows={n_mlflow} stock_rows={n_stock} rounds={args.rounds} "
          f"concurrency={args.concurrency} latency_ms={args.latency_ms:g} "
          f"cpus={os.cpu_count()} load_before={load_before:.1f} "
          f"load_after={os.getloadavg()[0]:.1f}")
    print(" ".join(f"{name}_rows_per_s={r:.1f}" for name, r in rate.items()))
    print(" ".join(f"{name}_cpu_ms_per_row={1000 * statistics.median(c) / count.get(name, n):.2f}"
                   for name, c in cpu.items()))
    print(f"ratio_vs_raw_litellm={rate['workbench_w1'] / rate['raw_litellm']:.3f}")
    print(f"ratio_workers2_vs_raw_litellm={rate['workbench_w2'] / rate['raw_litellm']:.3f}")
    print(f"ratio_vs_mlflow_genai_evaluate="
          f"{rate['workbench_w2_logged'] / rate['mlflow_best']:.1f}")
    print(f"ratio_vs_mlflow_stock={rate['workbench_w2_logged'] / rate['mlflow_stock']:.1f}")
    print(f"ratio_workers1_logged_vs_mlflow_genai_evaluate="
          f"{rate['workbench_w1_logged'] / rate['mlflow_best']:.1f}")


if __name__ == "__main__":
    main()
