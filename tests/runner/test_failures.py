"""Failures that must be visible (#19 items 8-10) and one run per plan at a time (item 5)."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

import workbench as wb
from workbench.models import RetryPolicy
from workbench.runner import RunError, error_breakdown
from workbench.testing import FaultRates, serve

from .conftest import small_set

FAST = RetryPolicy(max_attempts=2, base_s=0.01, max_backoff_s=0.02)
PLAIN = wb.PromptVariant("plain", user="{{ message }}")


def spec(server: Any, name: str = "m", **kw: Any) -> wb.ModelSpec:
    return wb.ModelSpec(f"openai/{name}", api_base=server.base_url, api_key_env="FAKE_PROVIDER_KEY",
                        input_price_per_1m=1.0, output_price_per_1m=2.0, **kw)


def test_fail_fast_stops_a_configuration_whose_first_calls_all_fail_alike(
    server: Any, fake_key: str
) -> None:
    """Item 9: every call of a bad configuration would fail; stop it after the first K."""
    with serve(rates=FaultRates(rate_401=1.0)) as bad:
        cmp = wb.compare(small_set(n=40), [spec(server, "good"), spec(bad, "bad")], [PLAIN],
                         [wb.scorers.exact_match], progress=False, cache=False, concurrency=2,
                         retry=FAST)
        sent_to_bad = bad.fake.requests
    assert sent_to_bad <= 5 + 2  # K calls, plus those already in flight, not 40
    rows = cmp.results.set_index("model")
    bad_rows, good_rows = rows.loc["openai/bad"], rows.loc["openai/good"]
    assert len(bad_rows) == 40 and len(good_rows) == 40  # every cell has its row
    assert good_rows["error_type"].isna().all()
    kinds = bad_rows["error_type"].value_counts()
    assert set(kinds.index) == {"AuthenticationError", "Skipped"}
    assert kinds["AuthenticationError"] == sent_to_bad
    assert cmp.status == "interrupted"
    assert "openai/bad · plain stopped: its first 5 calls all failed with AuthenticationError" \
        in cmp.stop_reason and "Incorrect API key provided" in cmp.stop_reason
    assert "resume=True" in cmp.stop_reason
    assert [(c.model, c.variant) for c in cmp.record.run.stopped_configs] == [
        ("openai/bad", "plain")]
    table = error_breakdown(cmp).set_index("model")
    assert table.loc["openai/bad", "error_rate"] == 1.0
    assert table.loc["openai/bad", "top_error"] == "AuthenticationError"
    assert table.loc["openai/bad", "skipped"] == 40 - sent_to_bad
    assert table.loc["openai/good", "errors"] == 0


def test_transient_failures_never_stop_a_configuration(server: Any, fake_key: str) -> None:
    with serve(rates=FaultRates(rate_500=1.0)) as flaky:
        cmp = wb.compare(small_set(n=12), [spec(flaky, "flaky")], [PLAIN], progress=False,
                         cache=False, concurrency=2, retry=FAST)
        assert flaky.fake.requests == 12 * 2  # every cell tried, with its retry
    assert cmp.status == "complete" and (cmp.results["error_type"] == "InternalServerError").all()


def test_retry_errors_calls_recorded_failures_again(server: Any, fake_key: str) -> None:
    """Item 8: --resume --retry-errors retries recorded failures (empty answers included)."""
    gs = small_set(n=12, markers={1: "500x2", 4: "emptyx2", 7: "blankx2"})
    model = spec(server, "retry")
    first = wb.compare(gs, [model], [PLAIN], progress=False, concurrency=2, retry=FAST)
    failed = first.results[first.results["error_type"].notna()]
    assert sorted(failed["case_id"]) == ["c001", "c004", "c007"]
    assert set(failed["error_type"]) == {"InternalServerError", "EmptyResponse"}
    assert first.results.loc[first.results["case_id"] == "c004", "billed_usd"].iloc[0] > 0
    before = server.fake.requests
    again = wb.compare(gs, [model], [PLAIN], progress=False, concurrency=2, retry=FAST,
                       resume=True)
    assert server.fake.requests == before  # plain resume keeps recorded failures
    assert again.results["error_type"].notna().sum() == 3
    fixed = wb.compare(gs, [model], [PLAIN], progress=False, concurrency=2, retry=FAST,
                       retry_errors=True)
    assert server.fake.requests - before == 3  # only the three failed cells
    assert fixed.complete and fixed.results["error_type"].isna().all()
    assert not fixed.results["output"].str.strip().eq("").any()


def test_the_budget_stop_message_reports_the_final_spend(fake_key: str) -> None:
    """Item 10: spend after the calls in flight settled, not at the moment of stopping."""
    with serve(latency_ms=80) as slow:
        gs = small_set(n=40)
        model = spec(slow, "budget")
        p = wb.plan(gs, [model], [PLAIN])
        cmp = wb.compare(gs, [model], [PLAIN], progress=False, cache=False, concurrency=8,
                         budget_usd=(p.est_cost_usd or 0) / 3)
    assert cmp.status == "budget_stopped"
    spent = cmp.record.run.spent_usd
    assert spent == pytest.approx(float(cmp.results["billed_usd"].sum()))
    match = re.search(r"spent \$([\d.,]+) in all \(\$([\d.,]+) when the budget stopped new calls",
                      cmp.stop_reason)
    assert match is not None, cmp.stop_reason
    assert float(match.group(1)) == pytest.approx(spent, abs=1e-4)
    assert float(match.group(2)) < float(match.group(1))  # calls were in flight at the stop


def test_a_second_run_of_the_same_plan_is_refused_naming_the_first(fake_key: str) -> None:
    """Item 5: one run per plan (checkpoint) at a time; another waits or is refused."""
    gs = small_set(n=24)
    with serve(latency_ms=60) as slow:
        model = spec(slow, "locked")
        handle = wb.runner.start_compare(gs, [model], [PLAIN], progress=False, concurrency=2)
        while slow.fake.requests < 2:
            time.sleep(0.01)
        with pytest.raises(RunError) as info:
            wb.compare(gs, [model], [PLAIN], progress=False, concurrency=2)
        message = str(info.value)
        assert "another run of the same plan is in progress" in message
        assert "this very process" in message and ".jsonl.lock" in message
        assert "lock_timeout_s" in message
        # a run that may wait gets its turn, and the first run's calls come from the cache
        waited: list[wb.Comparison] = []
        thread = threading.Thread(target=lambda: waited.append(wb.compare(
            gs, [model], [PLAIN], progress=False, concurrency=2, lock_timeout_s=60)))
        thread.start()
        first = handle.result(60)
        thread.join(60)
        assert first.complete and waited and waited[0].complete
        assert waited[0].results["cache_hit"].all() and slow.fake.requests == 24
