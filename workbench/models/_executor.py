"""The one call path (DESIGN.md, Settled 1): one model call, with everything around it.

Cache, retries, limits, timeout, budget ledger and cost accounting live here. The runner runs
its matrix on :class:`CallExecutor`; judges get the same executor, so their calls share the
cache, budget, rate limits and progress. Retries live here alone: litellm's own
(``num_retries``) and the OpenAI SDK's (``max_retries``) are switched off in
``ModelSpec.call_kwargs``.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from workbench.errors import BudgetExhausted, ConfigError

from ._cache import CallCache
from ._litellm import litellm
from ._secrets import redact_secrets, secret_values
from ._spec import ModelSpec, Pricing

__all__ = [
    "CONFIG_ERRORS",
    "BudgetExhausted",
    "BudgetLedger",
    "CallExecutor",
    "CallRequest",
    "CallResult",
    "EmptyResponse",
    "RetryPolicy",
    "SharedLimits",
    "blank",
]

Message = dict[str, str]

_RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 529}
_RETRYABLE_NAMES = {
    "RateLimitError",
    "Timeout",
    "APITimeoutError",
    "APIConnectionError",
    "InternalServerError",
    "ServiceUnavailableError",
    "BadGatewayError",
    "TimeoutError",
    "EmptyResponse",
}

CONFIG_ERRORS = frozenset({
    "AuthenticationError",
    "PermissionDeniedError",
    "NotFoundError",
    "BadRequestError",
    "UnsupportedParamsError",
})
"""Errors that say the configuration itself is wrong (a key, the model or provider name, a
parameter), so every call of it will fail the same way: the runner stops a configuration whose
first calls all fail with one of them. Case-specific subclasses (``ContextWindowExceededError``,
``ContentPolicyViolationError``) are not in it."""


def blank(output: str | None) -> bool:
    """True for an answer with no content: None, empty or whitespace only.

    Example:
        >>> blank("  "), blank(None), blank("ok")
        (True, True, False)
    """
    return output is None or not output.strip()


class EmptyResponse(Exception):  # noqa: N818 - named as the error_type it records
    """A provider answered without content: recorded as a failed call, retried, never cached."""


@dataclass(frozen=True)
class RetryPolicy:
    """How failed calls are retried: exponential backoff with full jitter, honouring Retry-After.

    Attempt ``k`` (1-based) that fails with a retryable error (429, 5xx, timeout, connection
    error) waits ``max(retry_after, uniform(0, min(max_backoff_s, base_s * 2**(k-1))))`` and
    tries again, up to ``max_attempts`` attempts. A Retry-After longer than
    ``max_retry_after_s`` ends the call instead (the provider is asking for a long pause).
    """

    max_attempts: int = 4
    base_s: float = 0.5
    max_backoff_s: float = 20.0
    max_retry_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ConfigError(
                f"max_attempts={self.max_attempts}", fix="Use 1 (no retries) or more."
            )

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt ``attempt`` (jittered)."""
        return rng.uniform(0, min(self.max_backoff_s, self.base_s * 2 ** (attempt - 1)))


@dataclass
class BudgetLedger:
    """Dollars spent and reserved against a budget (DESIGN.md, Settled 12).

    Each call reserves its estimated cost before it starts and settles to the real cost when it
    ends, so spending never passes the budget by more than the calls already in flight.
    ``journal`` (when set) is told of every reservation, so a checkpoint can count reservations
    that never completed (a killed process) as spent.
    """

    budget_usd: float | None = None
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    exhausted: bool = False
    journal: Callable[[str, float], None] | None = None

    def reserve(self, tag: str, amount: float) -> None:
        """Reserve ``amount`` dollars for the call ``tag``, or raise BudgetExhausted."""
        if self.budget_usd is not None:
            if self.exhausted or self.spent_usd + self.reserved_usd + amount > self.budget_usd:
                self.exhausted = True
                raise BudgetExhausted(tag)
        self.reserved_usd += amount
        if self.journal is not None:
            self.journal(tag, amount)

    def settle(self, reserved: float, billed: float) -> None:
        """Replace a reservation by what the call really cost."""
        self.reserved_usd = max(0.0, self.reserved_usd - reserved)
        self.spent_usd += billed

    @property
    def remaining_usd(self) -> float | None:
        """Budget left after spending and reservations (None without a budget)."""
        if self.budget_usd is None:
            return None
        return self.budget_usd - self.spent_usd - self.reserved_usd


class SharedLimits(Protocol):
    """The budget and rate limits of a run shared by several processes (``workers=N``).

    When a :class:`CallExecutor` has one, every call reserves its estimated cost from it before
    the local ledger (which then only journals and counts), settles it afterwards, and calls of
    a model with ``rpm``/``tpm`` wait for a slot it grants: one budget and one rate limit for
    all the shards of a run, never one per process.
    """

    async def reserve(self, tag: str, usd: float) -> None:
        """Reserve ``usd`` for the call ``tag`` or raise :class:`BudgetExhausted`."""

    def settle(self, reserved: float, billed: float) -> None:
        """Replace a reservation by what the call cost (without waiting)."""

    async def pace(self, spec: ModelSpec, tokens: int) -> None:
        """Wait until the model's shared ``rpm``/``tpm`` window has room for one request."""


class _Pacer:
    """Requests- and tokens-per-minute pacing over a sliding 60-second window."""

    def __init__(self, rpm: int | None, tpm: int | None, window_s: float = 60.0) -> None:
        self.rpm, self.tpm, self.window_s = rpm, tpm, window_s
        self._events: deque[tuple[float, int]] = deque()
        self._tokens = 0
        self._lock = asyncio.Lock()

    async def wait(self, tokens: int) -> None:
        if self.rpm is None and self.tpm is None:
            return
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._events and now - self._events[0][0] >= self.window_s:
                    self._tokens -= self._events.popleft()[1]
                rpm_ok = self.rpm is None or len(self._events) < self.rpm
                tpm_ok = self.tpm is None or not self._events or self._tokens + tokens <= self.tpm
                if rpm_ok and tpm_ok:
                    self._events.append((now, tokens))
                    self._tokens += tokens
                    return
                await asyncio.sleep(max(0.01, self.window_s - (now - self._events[0][0])))


@dataclass(frozen=True)
class CallRequest:
    """One call to make: a model, rendered messages and what to reserve against the budget."""

    spec: ModelSpec
    messages: list[Message]
    key: str
    """Cache key (see ``cache_key``); also names the call in the budget journal."""
    seed: int | None = None
    """Seed passed to the model (the spec's own seed wins)."""
    response_format: Any = None
    est_prompt_tokens: int = 0
    est_completion_tokens: int = 0


@dataclass
class CallResult:
    """What one call produced: the results-table fields of DESIGN.md, Settled 7."""

    output: str | None = None
    error_type: str | None = None
    error: str | None = None
    finish_reason: str | None = None
    attempts: int = 0
    latency_s: float | None = None
    ttft_s: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    billed_usd: float = 0.0
    cache_hit: bool = False

    @property
    def ok(self) -> bool:
        """True when the call returned an output."""
        return self.error_type is None

    def cache_record(self) -> dict[str, Any]:
        """What the cache keeps of a successful call."""
        return {
            "output": self.output,
            "finish_reason": self.finish_reason,
            "attempts": self.attempts,
            "latency_s": self.latency_s,
            "ttft_s": self.ttft_s,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": self.cost_usd,
        }

    @classmethod
    def from_cache(cls, record: dict[str, Any]) -> CallResult:
        """A cache hit: the original call's tokens, latency and cost; nothing billed now."""
        return cls(
            output=record.get("output"),
            finish_reason=record.get("finish_reason"),
            attempts=int(record.get("attempts") or 1),
            latency_s=record.get("latency_s"),
            ttft_s=record.get("ttft_s"),
            prompt_tokens=record.get("prompt_tokens"),
            completion_tokens=record.get("completion_tokens"),
            cost_usd=record.get("cost_usd"),
            billed_usd=0.0,
            cache_hit=True,
        )


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "litellm_response_headers", None)
    response = getattr(exc, "response", None)
    if headers is None and response is not None:
        headers = getattr(response, "headers", None)
    if headers is None:
        return None
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _retryable(exc: BaseException) -> bool:
    status = getattr(exc, "status_code", None)
    if isinstance(status, int) and status in _RETRYABLE_STATUS:
        return True
    return any(cls.__name__ in _RETRYABLE_NAMES for cls in type(exc).__mro__)


@dataclass
class CallExecutor:
    """Makes calls: cache lookup, budget reservation, pacing, retries, timeout and accounting.

    Must be used from one event loop (the engine loop in practice). ``concurrency`` bounds the
    calls in flight across all models; each ``ModelSpec.max_concurrency`` bounds its model.
    """

    cache: CallCache | None = None
    budget: BudgetLedger = field(default_factory=BudgetLedger)
    concurrency: int = 16
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    seed: int = 0
    on_attempt: Callable[[ModelSpec, BaseException | None], None] | None = None
    """Called after every attempt (with the error, or None on success): progress hooks."""
    limits: SharedLimits | None = None
    """Budget and rate limits shared with other processes (the shards of one run), if any."""

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ConfigError(f"concurrency={self.concurrency}", fix="Use 1 or more.")
        self._global = asyncio.Semaphore(self.concurrency)
        self._per_model: dict[str, asyncio.Semaphore] = {}
        self._pacers: dict[str, _Pacer] = {}
        self._pricing: dict[ModelSpec, Pricing] = {}
        self._rng = random.Random(self.seed)
        self.calls_made = 0
        """Attempts sent to providers (cache hits excluded)."""

    def pricing(self, spec: ModelSpec) -> Pricing:
        """The spec's pricing (looked up once per executor)."""
        if spec not in self._pricing:
            self._pricing[spec] = spec.pricing()
        return self._pricing[spec]

    def estimate_usd(self, request: CallRequest) -> float:
        """Estimated cost of a request (0 when the price is unknown and accepted)."""
        cost = self.pricing(request.spec).cost(
            request.est_prompt_tokens, request.est_completion_tokens
        )
        return cost or 0.0

    async def call(self, request: CallRequest, *, use_cache: bool = True) -> CallResult:
        """Make one call (or answer it from the cache).

        Raises:
            BudgetExhausted: the call was not made because it could pass the budget.
        """
        cache = self.cache if use_cache else None
        if cache is not None:
            record = cache.get(request.key)
            # an empty answer cached by an older workbench is a miss, never replayed
            if record is not None and not blank(record.get("output")):
                return CallResult.from_cache(record)
        spec = request.spec
        reserved = self.estimate_usd(request)
        if self.limits is not None:  # the run's one budget first, then this process's journal
            await self.limits.reserve(request.key, reserved)
        self.budget.reserve(request.key, reserved)
        billed = 0.0
        try:
            sem = self._per_model.get(spec.label)
            if sem is None and spec.max_concurrency is not None:
                sem = self._per_model[spec.label] = asyncio.Semaphore(spec.max_concurrency)
            async with self._global:
                if sem is None:
                    result = await self._attempts(request)
                else:
                    async with sem:
                        result = await self._attempts(request)
            billed = result.billed_usd
        finally:
            self.budget.settle(reserved, billed)
            if self.limits is not None:
                self.limits.settle(reserved, billed)
        if cache is not None and result.ok:
            cache.put(request.key, result.cache_record())
        return result

    async def _attempts(self, request: CallRequest) -> CallResult:
        spec = request.spec
        kwargs = spec.call_kwargs()
        if request.seed is not None and "seed" not in kwargs:
            kwargs["seed"] = request.seed
        if request.response_format is not None:
            kwargs["response_format"] = request.response_format
        pacer = self._pacers.get(spec.label)
        if pacer is None:
            pacer = self._pacers[spec.label] = _Pacer(spec.rpm, spec.tpm)
        acompletion = litellm().acompletion
        attempt = 0
        paid = 0.0  # what the attempts so far were billed (an empty answer is paid too)
        while True:
            attempt += 1
            tokens = request.est_prompt_tokens + request.est_completion_tokens
            if self.limits is not None and (spec.rpm is not None or spec.tpm is not None):
                await self.limits.pace(spec, tokens)  # one window for every process
            else:
                await pacer.wait(tokens)
            self.calls_made += 1
            started = time.perf_counter()
            ttft: list[float] = []
            answered: CallResult | None = None
            try:
                if spec.stream:
                    response = await asyncio.wait_for(
                        self._streamed(acompletion, request.messages, kwargs, started, ttft),
                        timeout=spec.timeout_s + 5.0,
                    )
                else:
                    response = await asyncio.wait_for(
                        acompletion(messages=request.messages, **kwargs),
                        timeout=spec.timeout_s + 5.0,
                    )
                latency = time.perf_counter() - started
                answered = self._result(request, response, attempt, latency)
                paid += answered.billed_usd
                if blank(answered.output):
                    raise EmptyResponse(
                        f"the model answered without content (finish_reason="
                        f"{answered.finish_reason!r}, {answered.completion_tokens or 0} "
                        f"completion tokens, attempt {attempt}); retried like a transient "
                        "failure and never cached")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # provider errors of every kind are recorded, not raised
                if self.on_attempt is not None:
                    self.on_attempt(spec, exc)
                wait = self._wait_before_retry(exc, attempt)
                if wait is None:
                    failed = CallResult(
                        error_type=_error_type(exc),
                        error=redact_secrets(str(exc) or repr(exc), secret_values(kwargs))[:2000],
                        attempts=attempt,
                        latency_s=time.perf_counter() - started,
                        billed_usd=paid,
                    )
                    if isinstance(exc, EmptyResponse) and answered is not None:
                        failed.output = answered.output
                        failed.finish_reason = answered.finish_reason
                        failed.prompt_tokens = answered.prompt_tokens
                        failed.completion_tokens = answered.completion_tokens
                        failed.latency_s, failed.cost_usd = answered.latency_s, paid
                    return failed
                await asyncio.sleep(wait)
                continue
            if self.on_attempt is not None:
                self.on_attempt(spec, None)
            answered.billed_usd = paid
            answered.ttft_s = ttft[0] if ttft else None
            return answered

    @staticmethod
    async def _streamed(
        acompletion: Any, messages: list[Message], kwargs: dict[str, Any], started: float,
        ttft: list[float],
    ) -> Any:
        """Stream a call, noting the time to the first content token; rebuild the response."""
        stream = await acompletion(
            messages=messages, stream=True, stream_options={"include_usage": True}, **kwargs
        )
        chunks = []
        async for chunk in stream:
            if not ttft and chunk.choices and getattr(chunk.choices[0].delta, "content", None):
                ttft.append(time.perf_counter() - started)
            chunks.append(chunk)
        return litellm().stream_chunk_builder(chunks, messages=messages)

    def _wait_before_retry(self, exc: BaseException, attempt: int) -> float | None:
        if attempt >= self.retry.max_attempts or not _retryable(exc):
            return None
        after = _retry_after(exc)
        if after is not None and after > self.retry.max_retry_after_s:
            return None
        return max(after or 0.0, self.retry.backoff(attempt, self._rng))

    def _result(
        self, request: CallRequest, response: Any, attempts: int, latency: float
    ) -> CallResult:
        choice = response.choices[0]
        output = getattr(choice.message, "content", None) or ""
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = self.pricing(request.spec).cost(prompt_tokens, completion_tokens)
        return CallResult(
            output=output,
            finish_reason=getattr(choice, "finish_reason", None),
            attempts=attempts,
            latency_s=latency,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=cost,
            billed_usd=cost or 0.0,
        )


def _error_type(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "Timeout"
    return type(exc).__name__


def _secret_values(kwargs: dict[str, Any]) -> tuple[str, ...]:
    key = kwargs.get("api_key")
    return (key,) if isinstance(key, str) else ()

