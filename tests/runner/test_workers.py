"""Runs on several worker processes (``workers=N``, #23): the same results as one process, one
budget and one rate limit for the run, a killed worker's shard resumed without paying twice,
one progress bar, and the errors a user can meet."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import ConfigError, RunError
from workbench.runner import shutdown_workers
from workbench.runner._checkpoint import Checkpoint, shard_path
from workbench.runner._coordinator import Coordinator, Window
from workbench.runner._shards import split
from workbench.runner._workers import run_sharded
from workbench.testing import serve

from .conftest import small_set

TIMING = ["latency_s", "ttft_s"]
"""Columns that differ between any two runs (wall-clock time)."""


@pytest.fixture(scope="module", autouse=True)
def _pool() -> Iterator[None]:
    """The module's worker processes are ended with it (they outlive a single run)."""
    yield
    shutdown_workers()


@pytest.fixture
def slow() -> Iterator[Any]:
    with serve(latency_ms=40, replies={"about billing": "billing"}) as running:
        yield running


def spec(base_url: str, **kw: Any) -> wb.ModelSpec:
    return wb.ModelSpec("openai/m", api_base=base_url, api_key_env="FAKE_PROVIDER_KEY",
                        input_price_per_1m=kw.pop("input_price", 1.0),
                        output_price_per_1m=kw.pop("output_price", 2.0), **kw)


VARIANTS = [wb.PromptVariant("plain", user="{{ message }}"),
            wb.PromptVariant("asked", user="Label this: {{ message }}")]


def in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def body() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, box


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.005)


def kill_one_shard_mid_run(fake: Any, run: Callable[[], Any], *, timeout: float = 60
                           ) -> tuple[Any, int, int]:
    """Start ``run`` on two shards, SIGKILL one worker after 30 requests, wait for the end.

    Returns the comparison, the killed worker's pid and the request count at the kill.
    """
    thread, box = in_thread(run)
    wait_until(lambda: fake.requests >= 30 and len(shard_pids()) == 2, "30 requests",
               timeout=timeout)
    victim = shard_pids()[0]
    os.kill(victim, signal.SIGKILL)
    killed_at = fake.requests
    thread.join(120)
    assert "error" not in box, box.get("error")
    return box["value"], victim, killed_at


def shard_pids() -> list[int]:
    runs = Path(os.environ["WORKBENCH_CACHE_DIR"]) / "runs"
    pids = []
    for owner in runs.glob("*.w*of*.jsonl.owner.json"):
        try:
            pids.append(int(json.loads(owner.read_text())["pid"]))
        except (OSError, ValueError, KeyError):
            pass
    return pids


# ---------------------------------------------------------------- same results as one process
def test_two_workers_give_the_results_of_one_process(
    server: Any, models: list[wb.ModelSpec], capsys: pytest.CaptureFixture[str]
) -> None:
    gs = small_set(n=24)

    @wb.scorer(name="mentions_case")  # defined here: it travels to the workers by value
    def mentions_case(case: Any, output: str) -> float:
        return float(str(case["id"])[-1] in output)

    scorers = [wb.scorers.exact_match, mentions_case, wb.judge("correctness", "sim/judge")]
    kw: dict[str, Any] = {"cache": False, "concurrency": 8}
    one = wb.compare(gs, [*models, "sim/large"], VARIANTS, scorers, progress=False, **kw)
    capsys.readouterr()
    two = wb.compare(gs, [*models, "sim/large"], VARIANTS, scorers, workers=2, **kw)
    bar = capsys.readouterr().err
    assert one.complete and two.complete
    cols = [c for c in one.results.columns if c not in TIMING]
    pd.testing.assert_frame_equal(two.results[cols], one.results[cols])
    pd.testing.assert_frame_equal(two.score_details, one.score_details)
    a, b = one.record.run, two.record.run
    assert (b.calls_planned, b.calls_recorded, b.requests_sent) == \
        (a.calls_planned, a.calls_recorded, a.requests_sent) == (144, 144, 288)  # + judge
    assert b.spent_usd == pytest.approx(a.spent_usd)
    assert b.judge_billed_usd == pytest.approx(a.judge_billed_usd) and a.judge_billed_usd > 0
    assert two.record.settings.concurrency == 8
    assert two.record.models == one.record.models
    assert two.record.golden_set == one.record.golden_set
    # one bar for the whole run, driven by the workers' counts
    assert "(2 workers)" in bar and "144/144" in bar and "/72" not in bar


def test_shards_keep_cases_of_one_request_together() -> None:
    rows = [{"id": f"d{i}", "message": "the same message" if i < 4 else f"message {i}",
             "expected": "x"} for i in range(10)]
    gs = wb.GoldenSet.from_df(pd.DataFrame(rows), name="dups")
    p = wb.plan(gs, ["sim/large"], VARIANTS)
    cuts = split(p, 3)
    assert sorted(sum(cuts, [])) == sorted(p.case_ids)
    assert any({"d0", "d1", "d2", "d3"} <= set(c) for c in cuts)  # one call, one shard
    assert max(len(c) for c in cuts) - min(len(c) for c in cuts) <= 4
    assert len(split(p, 50)) == 7  # no more shards than groups of cases


# ---------------------------------------------------------------- one budget, one rate limit
def test_the_budget_is_the_runs_not_each_workers(slow: Any, fake_key: str) -> None:
    gs = small_set(n=40)
    pricey = spec(slow.base_url, input_price=2000.0, output_price=2000.0)
    cost = wb.plan(gs, [pricey], VARIANTS).est_cost_usd or 0
    budget = cost / 4  # a quarter of the plan; per-worker budgets would spend half
    cmp = wb.compare(gs, [pricey], VARIANTS, workers=2, concurrency=4, budget_usd=budget,
                     cache=False, progress=False)
    assert cmp.status == "budget_stopped"
    spent = cmp.record.run.spent_usd
    per_call = cost / 80
    assert budget - 4 * per_call <= spent <= budget + 4 * per_call  # calls in flight at most
    assert spent == pytest.approx(cmp.results["billed_usd"].sum())
    assert cmp.stop_reason is not None and f"${budget:,.4f}" in cmp.stop_reason
    assert slow.fake.requests == len(cmp.results.dropna(subset=["output"]))


def test_a_models_rate_limit_is_the_runs(slow: Any, fake_key: str) -> None:
    gs = small_set(n=6)
    limited = spec(slow.base_url, rpm=8)
    p = wb.plan(gs, [limited], VARIANTS)  # 12 calls: 6 per worker, 8 a minute for both
    cancel = threading.Event()
    thread, box = in_thread(lambda: run_sharded(p, workers=2, concurrency=4, cache=False,
                                                progress=False, cancel=cancel))
    wait_until(lambda: slow.fake.requests >= 8, "the first 8 requests")
    time.sleep(1.0)
    assert slow.fake.requests == 8  # the 9th waits for the minute, in either worker
    cancel.set()
    thread.join(30)
    cmp = box["value"]
    assert cmp.status == "interrupted" and len(cmp.results) == 8
    assert "interrupted by the user" in (cmp.stop_reason or "")


def test_the_shared_window_grants_slots_like_the_executors_pacer() -> None:
    w = Window(rpm=3, tpm=100, window_s=10)
    assert [w.slot(0.0, 10) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert w.slot(1.0, 10) == 10.0  # the 4th request: when the first leaves the window
    w = Window(rpm=None, tpm=100, window_s=10)
    assert w.slot(0.0, 60) == 0.0 and w.slot(0.0, 60) == 10.0  # 120 tokens > 100
    assert w.slot(0.0, 500) == 20.0  # too big for any window: alone in an empty one
    c = Coordinator(budget_usd=1.0, shards=2)
    first = c.begin(0)
    c.start(0, first, 0.5)
    again = c.begin(0)  # the worker died: its retry's checkpoint says what was spent
    assert not c.reserve(0, first, 0.1)  # the dead attempt is never granted anything
    c.start(0, again, 0.75)
    assert c.reserve(0, again, 0.25) and not c.reserve(0, again, 0.01)
    assert c.summary()["exhausted"] and c.summary()["spent_at_stop"] == 0.75


# ---------------------------------------------------------------- a killed worker
def test_a_killed_workers_shard_resumes_without_paying_twice(slow: Any, fake_key: str) -> None:
    gs = small_set(n=40)
    model = spec(slow.base_url)
    p = wb.plan(gs, [model], VARIANTS, [wb.scorers.exact_match], budget_usd=10.0)
    cmp, victim, killed_at = kill_one_shard_mid_run(
        slow.fake, lambda: run_sharded(p, workers=2, concurrency=4, cache=False, progress=False))
    assert killed_at < 80 and cmp.complete and len(cmp.results) == 80
    assert victim not in shard_pids()
    counts = slow.fake.prompts
    assert len(counts) == 80  # every cell was called
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    assert duplicates <= 4  # only the killed worker's calls in flight went out again
    assert sum(n - 1 for n in slow.fake.answered.values() if n > 1) <= 4
    assert cmp.record.run.spent_usd <= 10.0
    assert cmp.results["score.exact_match"].notna().all()


def test_resume_takes_the_same_workers_and_pays_nothing_twice(slow: Any, fake_key: str
                                                              ) -> None:
    gs = small_set(n=30)
    model = spec(slow.base_url)
    p = wb.plan(gs, [model], VARIANTS)
    cancel = threading.Event()
    thread, box = in_thread(lambda: run_sharded(p, workers=2, concurrency=4, cache=False,
                                                progress=False, cancel=cancel))
    wait_until(lambda: slow.fake.requests >= 20, "20 requests")
    cancel.set()
    thread.join(30)
    first = box["value"]
    assert first.status == "interrupted" and 0 < len(first.results) < 60
    with pytest.raises(RunError, match=r"workers=2") as refused:
        wb.compare(gs, [model], VARIANTS, resume=True, cache=False, progress=False)
    assert "--workers 2" in refused.value.for_cli()
    before = slow.fake.requests
    done = wb.compare(gs, [model], VARIANTS, workers=2, concurrency=4, resume=True,
                      cache=False, progress=False)
    assert done.complete and len(done.results) == 60
    assert slow.fake.requests - before <= 60 - len(first.results) + 4
    assert sum(n - 1 for n in slow.fake.answered.values() if n > 1) <= 4


# ---------------------------------------------------------------- errors a user can meet
def test_a_shard_refused_its_checkpoint_says_so(server: Any, models: list[wb.ModelSpec]
                                                ) -> None:
    gs = small_set(n=8)
    p = wb.plan(gs, models, VARIANTS)
    plan_path = Path(os.environ["WORKBENCH_CACHE_DIR"]) / "runs" / f"{p.fingerprint()}.jsonl"
    held = Checkpoint(shard_path(plan_path, 1, 2), "someone else")
    held.acquire()
    try:
        with pytest.raises(RunError, match="another run of the same plan is in progress"):
            wb.compare(gs, models, VARIANTS, workers=2, cache=False, progress=False)
    finally:
        held.release()


def test_bad_worker_options_are_refused_before_anything_runs() -> None:
    gs = small_set(n=4)
    for kw, text in (({"workers": 0}, "workers=0"), ({"executor": "dask"}, "executor='dask'"),
                     ({"address": "auto"}, "without executor='ray'")):
        with pytest.raises(ConfigError, match=text):
            wb.compare(gs, ["sim/large"], VARIANTS, progress=False, **kw)


def test_workbench_run_workers(server: Any, models: list[wb.ModelSpec], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    data = small_set(n=10).freeze(tmp_path / "data")
    experiment = tmp_path / "exp.yaml"
    experiment.write_text(
        f"golden_set: {data.relative_to(tmp_path)}\n"
        "models:\n"
        f"  - {{id: openai/big, api_base: '{server.base_url}', api_key_env: FAKE_PROVIDER_KEY,"
        " input_price_per_1m: 1, output_price_per_1m: 1}\n"
        "variants:\n  - {name: plain, user: '{{ message }}'}\n"
        "scorers: [exact_match]\nworkers: 2\ncache: false\n")
    assert main(["run", str(experiment), "--no-progress", "--out", str(tmp_path / "o")]) == 0
    saved = wb.Comparison.load(tmp_path / "o")
    assert saved.complete and len(saved.results) == 10
    assert ".w*of2.jsonl" in (saved.record.run.checkpoint or "")
    assert main(["run", str(experiment), "--workers", "0"]) == 2
    assert main(["run", str(experiment), "--address", "auto"]) == 2
    assert "--executor ray" in capsys.readouterr().err


# ---------------------------------------------------------------- the parent stopped or killed
SCRIPT = """
import json, sys
import workbench as wb
gs = wb.GoldenSet.load(sys.argv[1])
model = wb.ModelSpec("openai/m", api_base=sys.argv[2], api_key_env="FAKE_PROVIDER_KEY",
                     input_price_per_1m=1.0, output_price_per_1m=2.0)
variants = [wb.PromptVariant("plain", user="{{ message }}"),
            wb.PromptVariant("asked", user="Label this: {{ message }}")]
cmp = wb.compare(gs, [model], variants, workers=2, concurrency=4, cache=False, progress=False)
print(json.dumps({"status": cmp.status, "rows": len(cmp.results)}), flush=True)
"""


def parent(tmp_path: Path, base_url: str) -> tuple[Any, Path]:
    import subprocess
    import sys

    data = small_set(n=40).freeze(tmp_path / "data")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)  # no __main__ guard: workers never import the script again
    proc = subprocess.Popen([sys.executable, str(script), str(data), base_url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc, data


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


@pytest.mark.slow
def test_ctrl_c_in_the_parent_keeps_what_the_workers_finished(
    slow: Any, tmp_path: Path, fake_key: str
) -> None:
    proc, data = parent(tmp_path, slow.base_url)
    wait_until(lambda: slow.fake.requests >= 20 or proc.poll() is not None, "20 requests")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["status"] == "interrupted" and 0 < report["rows"] < 80


@pytest.mark.slow
def test_a_killed_parent_leaves_no_workers_and_its_run_resumes(
    slow: Any, tmp_path: Path, fake_key: str
) -> None:
    proc, data = parent(tmp_path, slow.base_url)
    wait_until(lambda: (slow.fake.requests >= 30 and len(shard_pids()) == 2)
               or proc.poll() is not None, "30 requests")
    workers = shard_pids()
    proc.kill()
    proc.communicate(timeout=30)
    wait_until(lambda: not any(alive(pid) for pid in workers), "the orphaned workers to exit",
               timeout=30)
    killed_at = slow.fake.requests
    assert killed_at < 80
    cmp = wb.compare(wb.GoldenSet.load(data), [spec(slow.base_url)], VARIANTS, workers=2,
                     concurrency=4, resume=True, cache=False, progress=False)
    assert cmp.complete and len(cmp.results) == 80 and len(slow.fake.prompts) == 80
    assert sum(n - 1 for n in slow.fake.answered.values() if n > 1) <= 4
