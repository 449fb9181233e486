"""Interrupts and resume (DESIGN.md, Settled 12) and the one engine loop (Settled 3).

The kill test kills a real subprocess with SIGKILL when the fake server has seen a given number
of requests (not after a sleep), resumes, and counts calls at the server.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.testing import serve

from .conftest import small_set

CONCURRENCY = 4
SCRIPT = textwrap.dedent(
    """
    import json, sys
    import workbench as wb
    gs = wb.GoldenSet.load(sys.argv[1])
    model = wb.ModelSpec("openai/slow", api_base=sys.argv[2], api_key_env="FAKE_PROVIDER_KEY",
                         input_price_per_1m=1.0, output_price_per_1m=2.0)
    variants = [wb.PromptVariant("plain", user="{{ message }}"),
                wb.PromptVariant("asked", user="Label this: {{ message }}")]
    cmp = wb.compare(gs, [model], variants, [wb.scorers.exact_match], concurrency=%d,
                     cache=sys.argv[3] == "cache", progress=False)
    print(json.dumps({"status": cmp.status, "rows": len(cmp.results)}), flush=True)
    """
    % CONCURRENCY
)


@pytest.fixture
def slow_server() -> Iterator[Any]:
    with serve(latency_ms=40) as running:
        yield running


def start(tmp_path: Path, base_url: str, cache: str) -> tuple[subprocess.Popen[str], Path]:
    gs_file = small_set(n=40).freeze(tmp_path / "data")
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(gs_file), base_url, cache],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    return proc, gs_file


def wait_for_requests(server: Any, proc: subprocess.Popen[str], n: int) -> None:
    deadline = time.monotonic() + 60
    while server.fake.requests < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the subprocess made no progress"
        time.sleep(0.005)


def resume(gs_file: Path, base_url: str, cache: bool) -> wb.Comparison:
    gs = wb.GoldenSet.load(gs_file)
    model = wb.ModelSpec("openai/slow", api_base=base_url, api_key_env="FAKE_PROVIDER_KEY",
                         input_price_per_1m=1.0, output_price_per_1m=2.0)
    variants = [wb.PromptVariant("plain", user="{{ message }}"),
                wb.PromptVariant("asked", user="Label this: {{ message }}")]
    return wb.compare(gs, [model], variants, [wb.scorers.exact_match],
                      concurrency=CONCURRENCY, cache=cache, resume=True, progress=False)


@pytest.mark.parametrize("cache", ["nocache", "cache"])
def test_sigkill_then_resume_pays_no_recorded_call_twice(
    slow_server: Any, tmp_path: Path, fake_key: str, cache: str
) -> None:
    proc, gs_file = start(tmp_path, slow_server.base_url, cache)
    try:
        wait_for_requests(slow_server, proc, 30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    killed_at = slow_server.fake.requests
    assert killed_at < 80, "the run finished before the kill"
    cmp = resume(gs_file, slow_server.base_url, cache == "cache")
    assert cmp.complete and len(cmp.results) == 80
    counts = slow_server.fake.prompts
    assert sum(counts.values()) == slow_server.fake.requests
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    assert len(counts) == 80  # every cell was called
    assert duplicates <= CONCURRENCY  # only calls in flight at the kill went out again
    # the resumed run was billed only for the calls it made itself
    resumed = cmp.results[~cmp.results["cache_hit"]]
    assert resumed["billed_usd"].gt(0).sum() >= 80 - killed_at


def test_ctrl_c_keeps_partial_results_marked_incomplete(
    slow_server: Any, tmp_path: Path, fake_key: str
) -> None:
    proc, gs_file = start(tmp_path, slow_server.base_url, "nocache")
    wait_for_requests(slow_server, proc, 20)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert report["status"] == "interrupted" and 0 < report["rows"] < 80
    before = slow_server.fake.requests
    cmp = resume(gs_file, slow_server.base_url, cache=False)
    assert cmp.complete
    assert slow_server.fake.requests - before <= 80 - report["rows"] + CONCURRENCY


def test_two_compares_in_a_row_in_a_script_and_under_a_running_loop(
    tmp_path: Path, fake_key: str
) -> None:
    gs = small_set(n=6)
    variants = [wb.PromptVariant("plain", user="{{ message }}")]
    with serve() as srv:
        model = wb.ModelSpec("openai/m", api_base=srv.base_url, api_key_env="FAKE_PROVIDER_KEY",
                             input_price_per_1m=1.0, output_price_per_1m=1.0)

        def sync() -> wb.Comparison:
            return wb.compare(gs, [model], variants, cache=False, progress=False)

        assert sync().complete and sync().complete  # a script: twice in a row

        async def notebook_cell() -> list[wb.Comparison]:
            # Jupyter runs cells inside a running loop: compare must still work, twice
            done = [sync(), sync()]
            done.append(await wb.acompare(gs, [model], variants, cache=False, progress=False))
            done.append(await wb.acompare(gs, [model], variants, cache=False, progress=False))
            return done

        runs = asyncio.run(notebook_cell())
        assert all(r.complete and len(r.results) == 6 for r in runs)
        assert srv.fake.requests == 6 * 6


def test_cancelling_acompare_keeps_the_checkpoint_for_resume(
    slow_server: Any, fake_key: str
) -> None:
    gs = small_set(n=30)
    variants = [wb.PromptVariant("plain", user="{{ message }}")]
    model = wb.ModelSpec("openai/m", api_base=slow_server.base_url,
                         api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                         output_price_per_1m=1.0)

    async def cancel_midway() -> None:
        task = asyncio.ensure_future(
            wb.acompare(gs, [model], variants, cache=False, progress=False, concurrency=2)
        )
        while slow_server.fake.requests < 10:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(cancel_midway())
    time.sleep(0.2)  # let the engine loop finish cancelling
    seen = slow_server.fake.requests
    cmp = wb.compare(gs, [model], variants, cache=False, progress=False, resume=True,
                     concurrency=2)
    assert cmp.complete and len(cmp.results) == 30
    assert slow_server.fake.requests - seen <= 30 - 10 + 2 + 2


def test_checkpoint_lives_under_the_cache_dir(slow_server: Any, fake_key: str,
                                              _isolated_cache: Path) -> None:
    gs = small_set(n=3)
    model = wb.ModelSpec("openai/m", api_base=slow_server.base_url,
                         api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                         output_price_per_1m=1.0)
    cmp = wb.compare(gs, [model], [wb.PromptVariant("p", user="{{ message }}")],
                     progress=False)
    path = Path(cmp.record.run.checkpoint)
    assert path.is_file() and path.is_relative_to(_isolated_cache)
    assert os.environ["WORKBENCH_CACHE_DIR"] == str(_isolated_cache)


def test_resume_pays_no_recorded_judge_call_twice() -> None:
    """A budget stop mid-run, then resume without the cache: every judge call is made once."""
    gs = small_set(n=12)
    judge = wb.judge("correctness", "sim/judge")
    models, variants = ["sim/large", "sim/fast"], [wb.PromptVariant("plain", user="{{ message }}")]
    p = wb.plan(gs, models, variants, [judge])
    first = wb.compare(gs, models, variants, [judge], cache=False, progress=False,
                       budget_usd=(p.est_cost_usd or 0) / 3, concurrency=2)
    assert first.status == "budget_stopped" and 0 < len(first.results) < p.calls
    second = wb.compare(gs, models, variants, [judge], cache=False, progress=False,
                        resume=True, concurrency=2)
    assert second.complete and len(second.results) == p.calls
    assert second.results["score.judge_correctness"].notna().all()
    # each of the 24 model calls and 24 judge calls reached the (simulated) provider once
    assert first.record.run.requests_sent + second.record.run.requests_sent == 2 * p.calls
    assert second.spent_usd == pytest.approx(
        float(second.results["cost_usd"].sum() + second.results["judge_cost_usd"].sum()))


def test_cases_with_identical_prompts_keep_a_row_each_and_share_one_call(fake_key: str) -> None:
    """Two ids, one prompt: one request (the same call), two rows, and the run is complete."""
    import pandas as pd

    from workbench.testing import serve

    rows = [{"id": "a", "message": "same words", "expected": "x"},
            {"id": "b", "message": "same words", "expected": "x"},
            {"id": "c", "message": "other words", "expected": "x"}]
    gs = wb.GoldenSet.from_df(pd.DataFrame(rows), name="dupes")
    with serve() as srv:
        spec = wb.ModelSpec("openai/m", api_base=srv.base_url, api_key_env="FAKE_PROVIDER_KEY",
                            input_price_per_1m=1.0, output_price_per_1m=1.0)
        cmp = wb.compare(gs, [spec], [wb.PromptVariant("v", user="{{ message }}")],
                         [wb.scorers.exact_match], progress=False, cache=False)
        assert srv.fake.requests == 2
    assert cmp.status == "complete" and sorted(cmp.results["case_id"]) == ["a", "b", "c"]
    outputs = cmp.results.set_index("case_id")["output"]
    assert outputs["a"] == outputs["b"] and cmp.record.run.calls_recorded == 3
