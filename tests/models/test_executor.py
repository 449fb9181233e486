"""The call executor over litellm's real HTTP path against the fake server: retries,
Retry-After, timeouts, faults recorded per call, budget ledger, cache and pacing."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.models import CallCache, ModelSpec, RetryPolicy
from workbench.models import redact_secrets as redact
from workbench.models._cache import cache_key
from workbench.models._engine import run_sync
from workbench.models._executor import (
    BudgetExhausted,
    BudgetLedger,
    CallExecutor,
    CallRequest,
    _Pacer,
)
from workbench.testing import serve


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with serve(retry_after_s=0.3, hang_s=10) as running:
        yield running


def spec(server: Any, **kw: Any) -> ModelSpec:
    base = {"api_base": server.base_url, "api_key_env": "FAKE_PROVIDER_KEY",
            "input_price_per_1m": 1.0, "output_price_per_1m": 2.0}
    return ModelSpec("openai/fake", **{**base, **kw})


def request(s: ModelSpec, text: str, **kw: Any) -> CallRequest:
    messages = [{"role": "user", "content": text}]
    return CallRequest(spec=s, messages=messages, key=cache_key(s.identity(), messages), **kw)


def call(executor: CallExecutor, req: CallRequest, **kw: Any) -> Any:
    async def go() -> Any:
        return await executor.call(req, **kw)

    return run_sync(go())


FAST = RetryPolicy(max_attempts=3, base_s=0.01, max_backoff_s=0.05)


def test_success_records_tokens_cost_and_latency(server: Any, fake_key: str) -> None:
    r = call(CallExecutor(retry=FAST), request(spec(server), "hello there"))
    assert r.ok and r.output.startswith("fake answer")
    assert r.attempts == 1 and r.finish_reason == "stop" and not r.cache_hit
    assert r.prompt_tokens > 0 and r.completion_tokens > 0
    assert r.cost_usd == pytest.approx((r.prompt_tokens * 1 + r.completion_tokens * 2) / 1e6)
    assert r.billed_usd == r.cost_usd and 0 < r.latency_s < 5


def test_429_is_retried_after_retry_after(server: Any, fake_key: str) -> None:
    before = server.fake.requests
    start = time.perf_counter()
    r = call(CallExecutor(retry=FAST), request(spec(server), "busy [[fault:429x2]] a"))
    elapsed = time.perf_counter() - start
    assert r.ok and r.attempts == 3
    assert server.fake.requests - before == 3  # no hidden SDK retries on top of ours
    assert elapsed >= 2 * 0.3  # waited Retry-After (0.3 s) twice, not the 0.01 s backoff


def test_persistent_500_ends_as_a_recorded_error(server: Any, fake_key: str) -> None:
    before = server.fake.requests
    r = call(CallExecutor(retry=FAST), request(spec(server), "broken [[fault:500]] b"))
    assert not r.ok and r.error_type == "InternalServerError" and r.attempts == 3
    assert server.fake.requests - before == 3
    assert r.output is None and r.billed_usd == 0 and r.cost_usd is None


def test_hang_times_out_per_call(server: Any, fake_key: str) -> None:
    start = time.perf_counter()
    policy = RetryPolicy(max_attempts=2, base_s=0.01, max_backoff_s=0.01)
    r = call(CallExecutor(retry=policy), request(spec(server, timeout_s=0.4), "[[fault:hang]] c"))
    elapsed = time.perf_counter() - start
    assert r.error_type == "Timeout" and r.attempts == 2
    assert 0.8 <= elapsed < 4


@pytest.mark.parametrize("fault", ["reset", "malformed"])
def test_transport_faults_are_recorded(server: Any, fake_key: str, fault: str) -> None:
    r = call(CallExecutor(retry=FAST), request(spec(server), f"[[fault:{fault}]] d"))
    assert not r.ok and r.attempts == 3 and r.error


@pytest.mark.parametrize("fault", ["empty", "blank"])
def test_an_empty_answer_is_an_error_retried_paid_and_never_cached(
    server: Any, fake_key: str, tmp_path: Path, fault: str
) -> None:
    """#19 item 8: an empty or whitespace-only answer is not a success."""
    cache = CallCache(tmp_path)
    before = server.fake.requests
    r = call(CallExecutor(cache=cache, retry=FAST), request(spec(server), f"[[fault:{fault}]] e"))
    assert not r.ok and r.error_type == "EmptyResponse" and "without content" in r.error
    assert r.attempts == 3 and server.fake.requests - before == 3  # retried like a 500
    per_answer = (r.prompt_tokens * 1 + r.completion_tokens * 2) / 1e6
    assert r.prompt_tokens and r.billed_usd == pytest.approx(3 * per_answer)
    assert r.cost_usd == r.billed_usd  # what the three empty answers were billed
    assert len(cache) == 0  # never cached, so never replayed


def test_an_empty_answer_then_a_real_one_bills_both(server: Any, fake_key: str) -> None:
    r = call(CallExecutor(retry=FAST), request(spec(server), "[[fault:emptyx1]] once"))
    assert r.ok and r.output.startswith("fake answer") and r.attempts == 2
    first = r.prompt_tokens * 1 / 1e6  # the empty answer: prompt tokens only
    assert r.billed_usd == pytest.approx(r.cost_usd + first)


def test_an_empty_answer_cached_by_an_older_version_is_not_replayed(
    server: Any, fake_key: str, tmp_path: Path
) -> None:
    cache = CallCache(tmp_path)
    req = request(spec(server), "was cached empty")
    cache.put(req.key, {"output": "", "finish_reason": "stop", "attempts": 1})
    before = server.fake.requests
    r = call(CallExecutor(cache=cache, retry=FAST), req)
    assert not r.cache_hit and r.ok and server.fake.requests == before + 1
    assert cache.get(req.key)["output"] == r.output  # the real answer replaced it


def test_truncated_answers_are_outputs(server: Any, fake_key: str) -> None:
    cut = call(CallExecutor(retry=FAST), request(spec(server), "[[fault:length]] f"))
    assert cut.ok and cut.finish_reason == "length" and cut.attempts == 1


@pytest.mark.parametrize(("fault", "kind"), [("401", "AuthenticationError"),
                                             ("400", "BadRequestError")])
def test_configuration_errors_are_not_retried(server: Any, fake_key: str, fault: str,
                                              kind: str) -> None:
    from workbench.models._executor import CONFIG_ERRORS

    before = server.fake.requests
    r = call(CallExecutor(retry=FAST), request(spec(server), f"[[fault:{fault}]] g"))
    assert r.error_type == kind and kind in CONFIG_ERRORS
    assert r.attempts == 1 and server.fake.requests - before == 1


def test_cache_answers_without_a_call(server: Any, fake_key: str, tmp_path: Path) -> None:
    cache = CallCache(tmp_path)
    req = request(spec(server), "cache me")
    first = call(CallExecutor(cache=cache, retry=FAST), req)
    before = server.fake.requests
    second = call(CallExecutor(cache=cache, retry=FAST), req)
    assert server.fake.requests == before
    assert second.cache_hit and second.billed_usd == 0
    assert (second.output, second.prompt_tokens, second.cost_usd, second.latency_s) == (
        first.output, first.prompt_tokens, first.cost_usd, first.latency_s)
    third = call(CallExecutor(cache=cache, retry=FAST), req, use_cache=False)
    assert not third.cache_hit and server.fake.requests == before + 1


def test_failed_calls_are_not_cached(server: Any, fake_key: str, tmp_path: Path) -> None:
    cache = CallCache(tmp_path)
    call(CallExecutor(cache=cache, retry=FAST), request(spec(server), "[[fault:500]] g"))
    assert len(cache) == 0


def test_torn_cache_entry_is_a_miss(tmp_path: Path) -> None:
    cache = CallCache(tmp_path)
    cache.put("ab" + "0" * 62, {"output": "x"})
    assert cache.get("ab" + "0" * 62) == {"v": 1, "output": "x"}
    path = tmp_path / "calls" / "ab" / ("ab" + "0" * 62 + ".json")
    path.write_text('{"v": 1, "outp')
    assert cache.get("ab" + "0" * 62) is None


def test_budget_refuses_a_call_that_would_pass_it(server: Any, fake_key: str) -> None:
    ledger = BudgetLedger(budget_usd=1e-6)
    req = request(spec(server), "too expensive", est_prompt_tokens=1000, est_completion_tokens=100)
    before = server.fake.requests
    with pytest.raises(BudgetExhausted):
        call(CallExecutor(budget=ledger, retry=FAST), req)
    assert server.fake.requests == before and ledger.spent_usd == 0 and ledger.exhausted


def test_ledger_reserves_settles_and_journals() -> None:
    seen: list[tuple[str, float]] = []
    ledger = BudgetLedger(budget_usd=1.0, journal=lambda k, usd: seen.append((k, usd)))
    ledger.reserve("a", 0.6)
    with pytest.raises(BudgetExhausted):
        ledger.reserve("b", 0.5)  # 0.6 reserved + 0.5 > 1.0
    ledger.settle(0.6, 0.2)
    assert ledger.spent_usd == pytest.approx(0.2) and ledger.reserved_usd == 0
    assert seen == [("a", 0.6)]
    with pytest.raises(BudgetExhausted):
        ledger.reserve("c", 0.1)  # once exhausted, the run stops starting calls


def test_pacer_holds_requests_over_the_rpm() -> None:
    async def go() -> float:
        pacer = _Pacer(rpm=2, tpm=None, window_s=0.5)
        start = time.perf_counter()
        for _ in range(3):
            await pacer.wait(10)
        return time.perf_counter() - start

    assert asyncio.run(go()) >= 0.45


def test_key_values_never_reach_error_text(fake_key: str) -> None:
    assert fake_key not in redact(f"401: Incorrect API key provided: {fake_key}.")
    assert redact("no secrets here") == "no secrets here"


def test_retry_policy_rejects_zero_attempts() -> None:
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_streaming_records_time_to_first_token(server: Any, fake_key: str) -> None:
    plain = call(CallExecutor(retry=FAST), request(spec(server), "stream me please"))
    streamed = call(CallExecutor(retry=FAST), request(spec(server, stream=True),
                                                      "stream me please"))
    assert streamed.ok and streamed.output == plain.output
    assert streamed.ttft_s is not None and 0 < streamed.ttft_s <= streamed.latency_s
    assert plain.ttft_s is None
    assert streamed.prompt_tokens and streamed.completion_tokens
    assert streamed.cost_usd is not None and streamed.cost_usd > 0


def test_per_model_concurrency_limit(fake_key: str) -> None:
    with serve(latency_ms=60) as srv:
        limited = spec(srv, max_concurrency=1)
        executor = CallExecutor(concurrency=8, retry=FAST)

        async def five() -> list[Any]:
            return await asyncio.gather(
                *(executor.call(request(limited, f"q{i}")) for i in range(5))
            )

        start = time.perf_counter()
        results = run_sync(five())
        assert all(r.ok for r in results)
        assert time.perf_counter() - start >= 5 * 0.06  # one at a time
