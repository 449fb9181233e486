"""Logging a 10k-case × 4-config comparison to MLflow, against hand-written MlflowClient logging.

Builds a comparison of ``--cases`` cases × 2 simulated models × 2 variants (the results of a small
real simulated run, tiled over a synthetic golden set of that size), then alternates (≥ 3 times
each, one process, embedded sqlite store in a temp dir):

- reference: what a careful user writes by hand with ``MlflowClient``: a parent run, one child
  run per config with one ``log_batch`` (the same number of params and metrics) and one
  ``log_table`` of its cases;
- workbench: ``wb.log_comparison`` with candidate and incumbent (the same plus per-slice
  metrics, frozen golden set, exact results, summary, prompts, dataset inputs, the paired
  statistics of candidate against incumbent and ``charts.html``), and the plain layout alone
  (``wb.tracking.log_comparison`` without roles or charts).

Prints medians:

    reference_s=...           hand-written MlflowClient logging
    workbench_log_s=...       wb.log_comparison, everything        (target: a few seconds)
    plain_log_s=...           the run layout without statistics and charts
    ratio_vs_reference=...    workbench ÷ reference (plain_ratio_vs_reference=... for the plain one)
    load_s=...                wb.load_comparison of the same run
    roundtrip_equal=True      the loaded results equal the logged ones

Usage: ``python benchmarks/mlflow_logging.py [--cases 10000] [--rounds 3]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
os.environ.setdefault("WORKBENCH_SIM_LATENCY_SCALE", "0")

import pandas as pd  # noqa: E402

import workbench as wb  # noqa: E402

MESSAGES = ("I was charged twice for my invoice {i}, please refund",
            "the app crashes every time I log in (build {i})",
            "how do I export my data to CSV? ticket {i}",
            "cancel my subscription at the end of month {i}")
LABELS = ("billing", "bug", "how_to", "cancellation")


def golden_set(n: int, name: str) -> wb.GoldenSet:
    rows = [{"id": f"c{i:05d}", "message": MESSAGES[i % 4].format(i=i), "expected": LABELS[i % 4],
             "lang": ("en", "de", "fr")[i % 3], "difficulty": ("easy", "hard")[i % 2]}
            for i in range(n)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name=name, slices=["lang", "difficulty"])


def big_comparison(n: int) -> wb.Comparison:
    """A real simulated run on 40 cases, its rows tiled over an n-case golden set."""
    small, big = golden_set(40, "bench-small"), golden_set(n, "bench")
    variants = [wb.PromptVariant("plain", user="{{ message }}"),
                wb.PromptVariant("asked", user="Label this support message: {{ message }}")]
    cmp = wb.compare(small, ["sim/large", "sim/fast"], variants,
                     [wb.scorers.exact_match, wb.scorers.token_f1], progress=False, cache=False)
    ids = big.df["id"].tolist()
    parts = []
    for _, group in cmp.results.groupby(["model", "variant"], sort=False):
        tiled = pd.concat([group] * -(-n // len(group)), ignore_index=True).iloc[:n].copy()
        tiled["case_id"] = ids
        parts.append(tiled)
    results = pd.concat(parts, ignore_index=True).astype(cmp.results.dtypes.to_dict())
    record = cmp.record.model_copy(update={"golden_set": cmp.record.golden_set.model_copy(
        update={"name": big.name, "digest": big.digest, "version": big.version, "rows": n,
                "evaluated": n, "slices": ["lang", "difficulty"]})})
    return wb.Comparison(results, record, golden_set=big)


def reference(cmp: wb.Comparison, uri: str, experiment: str) -> float:
    """Hand-written logging with the same number of params and metrics per child."""
    from mlflow.entities import Metric, Param

    client = wb.tracking.client(uri)
    start = time.perf_counter()
    exp_id = client.create_experiment(experiment)
    parent = client.create_run(exp_id, run_name="reference").info.run_id
    summary = cmp.summary()
    gs = cmp.golden_set().df
    now = int(time.time() * 1000)
    for (model, variant), group in cmp.results.groupby(["model", "variant"], sort=False):
        child = client.create_run(exp_id, tags={"mlflow.parentRunId": parent},
                                  run_name=f"{model} · {variant}").info.run_id
        row = summary.loc[(model, variant)]
        metrics = [Metric(str(k), float(v), now, 0) for k, v in row.items()
                   if isinstance(v, int | float) and pd.notna(v)]
        params = [Param(f"p{i}", str(v))
                  for i, v in enumerate(cmp.record.models[0].model_dump().values())]
        client.log_batch(child, metrics=metrics[:900], params=params[:100])
        cases = group.merge(gs, left_on="case_id", right_on="id", how="left")
        client.log_table(child, cases.astype({c: "string" for c in cases.columns
                                              if cases[c].dtype == object}), "cases.json")
        client.set_terminated(child)
    client.set_terminated(parent)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="wb-mlflow-bench-")
    os.environ["WORKBENCH_CACHE_DIR"] = os.path.join(tmp, "cache")
    cwd = os.getcwd()
    os.chdir(tmp)  # ./mlruns artifacts of the embedded store land in the temp dir
    try:
        cmp = big_comparison(args.cases)
        configs = cmp.results.groupby(["model", "variant"]).ngroups
        uri = f"sqlite:///{tmp}/mlflow.db"
        wb.tracking.client(uri).search_experiments()  # create the schema outside the timings
        ref_s, ours_s, plain_s, load_s, equal = [], [], [], [], []
        for r in range(args.rounds):
            ref_s.append(reference(cmp, uri, f"reference-{r}"))
            start = time.perf_counter()
            run_id = wb.log_comparison(cmp, f"workbench-{r}", tracking_uri=uri,
                                       candidate=("sim/fast", "asked"),
                                       incumbent=("sim/large", "plain"))
            ours_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            wb.tracking.log_comparison(cmp, f"plain-{r}", tracking_uri=uri)
            plain_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            back = wb.load_comparison(run_id, tracking_uri=uri)
            load_s.append(time.perf_counter() - start)
            equal.append(back.results.equals(cmp.results))
        ref, ours = statistics.median(ref_s), statistics.median(ours_s)
        plain = statistics.median(plain_s)
        print(f"cases={args.cases} configs={configs} rows={len(cmp.results)} "
              f"rounds={args.rounds} store=sqlite")
        print(f"reference_s={ref:.2f} workbench_log_s={ours:.2f} plain_log_s={plain:.2f}")
        print(f"ratio_vs_reference={ours / ref:.2f} plain_ratio_vs_reference={plain / ref:.2f}")
        print(f"load_s={statistics.median(load_s):.2f}")
        print(f"roundtrip_equal={all(equal)}")
    finally:
        os.chdir(cwd)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
