"""Loading 10k MLflow traces as a traffic log: time and memory, paging against one big query.

Writes ``--traces`` traces to an embedded sqlite MLflow store in a temp dir, shaped like what
``mlflow.litellm.autolog()`` records for a support assistant (one LLM span: chat messages in,
chat completion out, ``mlflow.chat.tokenUsage``, ``mlflow.llm.model``, ``mlflow.llm.cost``; a
``route`` tag; 1 in 50 failed; 1 in 10 with an e-mail address to redact). They are written in
batches through the store's ``log_spans`` (MLflow's own span ingestion, the path an OTLP
exporter takes): autologging one call costs ~50 ms here, too slow to write 10k for a benchmark;
``--autolog N`` also times N real autologged calls to the simulated model for comparison.

Then, each in a fresh process (so that memory is measured from the same baseline, the process
after importing workbench and mlflow):

- workbench: ``TrafficLog.load("mlflow-traces:bench")``: paged ``search_traces`` (``--page-size``
  traces a call), each trace mapped, validated and redacted as it arrives;
- reference: one ``MlflowClient.search_traces(max_results=N)`` call holding every trace at once
  (what loading without paging costs, before any mapping).

Prints:

    traces=...                  traces written
    page_size=...               traces per search_traces call
    write_s=...                 writing them (log_spans batches)
    load_s=...                  TrafficLog.load, all of them   (target: well under a minute)
    records=...                 requests loaded (the failed traces are counted, not replayed)
    rss_above_baseline_mb=...   peak memory of the load above the baseline   (target ≤ 300)
    reference_load_s=... reference_rss_above_baseline_mb=...   one big query

Usage: ``python benchmarks/traces.py [--traces 10000] [--page-size 200] [--autolog 0]``.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("WORKBENCH_SIM_LATENCY_SCALE", "0")

EXPERIMENT = "bench"
MESSAGES = ("I was charged twice for my invoice {i}, please refund",
            "the app crashes every time I log in (build {i})",
            "how do I export my data to CSV? ticket {i}",
            "cancel my subscription at the end of month {i}")
ROUTES = ("billing", "bug", "how_to", "billing")
START_NS = 1_793_577_600_000_000_000  # 2026-11-02T00:00:00Z


def _memory() -> tuple[float, float]:
    """(current RSS, peak RSS) of this process in MB, from /proc (Linux)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text()
                  .splitlines() if ":" in line)
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def _b64(value: int, size: int) -> str:
    return base64.b64encode(value.to_bytes(size, "big")).decode()


def write(uri: str, n: int, seed: int = 0) -> float:
    """``n`` autolog-shaped traces into experiment ``bench`` of ``uri``; returns seconds."""
    from mlflow import MlflowClient
    from mlflow.entities import Span

    client = MlflowClient(uri)
    experiment_id = client.create_experiment(EXPERIMENT)
    store = client._tracing_client.store  # the ingestion path OTLP exporters use
    rng = random.Random(seed)
    began = time.perf_counter()
    batch = []
    for i in range(n):
        trace, span = rng.getrandbits(128), rng.getrandbits(64)
        user = MESSAGES[i % 4].format(i=i) + (f" mail user{i}@example.com" if i % 10 == 0
                                              else "")
        answer = f"Thanks, I have routed your message to {ROUTES[i % 4]} (ticket {i})."
        prompt, completion = 20 + i % 17, 12 + i % 9
        start = START_NS + i * (432_000 * 10**9 // max(n, 1))  # five days of traffic
        failed = i % 50 == 49
        attributes = {
            "mlflow.traceRequestId": json.dumps(f"tr-{trace:032x}"),
            "mlflow.spanType": json.dumps("LLM"),
            "mlflow.spanInputs": json.dumps({"messages": [
                {"role": "system", "content": "You are a support assistant."},
                {"role": "user", "content": user}]}),
            "mlflow.traceTag.route": json.dumps(ROUTES[i % 4]),
            "mlflow.llm.model": json.dumps("sim/large")}
        if not failed:
            attributes.update({
                "mlflow.spanOutputs": json.dumps({
                    "id": f"c{i}", "object": "chat.completion", "model": "sim/large",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": answer}}],
                    "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}),
                "mlflow.chat.tokenUsage": json.dumps({"input_tokens": prompt,
                                                      "output_tokens": completion,
                                                      "total_tokens": prompt + completion}),
                "mlflow.llm.cost": json.dumps({"total_cost": (prompt * 0.25 + completion
                                                              * 2.0) / 1e6})})
        batch.append(Span.from_dict({
            "trace_id": _b64(trace, 16), "span_id": _b64(span, 8), "parent_span_id": None,
            "name": "litellm-completion", "start_time_unix_nano": start,
            "end_time_unix_nano": start + 300_000_000 + (i % 7) * 50_000_000, "events": [],
            "status": {"code": "STATUS_CODE_ERROR" if failed else "STATUS_CODE_OK",
                       "message": ""}, "attributes": attributes, "links": []}))
        if len(batch) == 500:
            store.log_spans(experiment_id, batch)
            batch = []
    if batch:
        store.log_spans(experiment_id, batch)
    return time.perf_counter() - began


def autolog(uri: str, n: int) -> float:
    """Milliseconds per call of ``n`` litellm calls to sim/large under mlflow.litellm.autolog()."""
    import mlflow

    from workbench.models import litellm

    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("autolog")
    mlflow.litellm.autolog(silent=True)
    began = time.perf_counter()
    for i in range(n):
        litellm().completion(model="sim/large",
                             messages=[{"role": "user", "content": MESSAGES[i % 4].format(i=i)}])
    mlflow.flush_trace_async_logging()
    mlflow.litellm.autolog(disable=True, silent=True)
    return (time.perf_counter() - began) / n * 1000


def measure(uri: str, page_size: int, reference: bool) -> None:
    """(child process) Load the traces once and print time and memory above the baseline."""
    import mlflow  # noqa: F401  (part of the baseline: both ways need it)

    from workbench.shadow import load_traces
    from workbench.tracking import client

    baseline, _ = _memory()
    began = time.perf_counter()
    if reference:
        traces = client(uri).search_traces(
            locations=[client(uri).get_experiment_by_name(EXPERIMENT).experiment_id],
            max_results=50_000)  # the store's largest page
        count = len(traces)
    else:
        log = load_traces(f"mlflow-traces:{EXPERIMENT}", tracking_uri=uri, page_size=page_size)
        count = len(log)
    seconds = time.perf_counter() - began
    _, peak = _memory()
    print(json.dumps({"seconds": seconds, "count": count, "baseline": baseline,
                      "above": peak - baseline}))


def child(uri: str, page_size: int, reference: bool) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--measure", uri, "--page-size", str(page_size)]
    proc = subprocess.run(cmd + (["--reference"] if reference else []), capture_output=True,
                          text=True, check=False, timeout=3600)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description="Load MLflow traces as a traffic log.")
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=200)
    parser.add_argument("--autolog", type=int, default=0, metavar="N",
                        help="also time N autologged calls (ms per trace)")
    parser.add_argument("--no-reference", action="store_true",
                        help="skip the one-big-query reference")
    parser.add_argument("--measure", metavar="URI", help=argparse.SUPPRESS)
    parser.add_argument("--reference", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure, args.page_size, args.reference)
        return
    work = Path(tempfile.mkdtemp(prefix="wb-bench-traces-"))
    try:
        os.chdir(work)  # MLflow's artifact folders land in the temp dir too
        uri = f"sqlite:///{work}/traces.db"
        seconds = write(uri, args.traces)
        print(f"traces={args.traces} page_size={args.page_size} write_s={seconds:.2f}")
        if args.autolog:
            per_call = autolog(f"sqlite:///{work}/autolog.db", args.autolog)
            print(f"autolog_ms_per_trace={per_call:.1f}")
        ours = child(uri, args.page_size, reference=False)
        print(f"load_s={ours['seconds']:.2f} records={ours['count']} "
              f"traces_per_s={args.traces / ours['seconds']:.0f} "
              f"rss_baseline_mb={ours['baseline']:.0f} "
              f"rss_above_baseline_mb={ours['above']:.0f} target_rss_mb=300")
        if not args.no_reference:
            ref = child(uri, args.page_size, reference=True)
            print(f"reference_load_s={ref['seconds']:.2f} reference_traces={ref['count']} "
                  f"reference_rss_above_baseline_mb={ref['above']:.0f}")
    finally:
        os.chdir(Path(__file__).resolve().parent)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
