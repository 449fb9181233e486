"""``compare`` / ``acompare``: run the matrix on the engine loop, score, checkpoint, summarise."""

from __future__ import annotations

import asyncio
import inspect
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from workbench._version import __version__
from workbench.errors import ConfigError
from workbench.models import (
    CONFIG_ERRORS,
    BudgetExhausted,
    BudgetLedger,
    CallCache,
    CallExecutor,
    CallRequest,
    CallResult,
    ModelSpec,
    RetryPolicy,
    SharedLimits,
    blank,
    cache_key,
    default_cache_dir,
    litellm_version,
)
from workbench.prompts import PromptVariant
from workbench.records import (
    GoldenSetRef,
    JudgeRecord,
    ModelRecord,
    PricingRecord,
    RunRecord,
    RunSettings,
    RunStats,
    ScorerErrorRecord,
    ScorerRecord,
    StoppedConfig,
    VariantRecord,
    Versions,
)
from workbench.scorers import ModelScorer, Scorer, as_score, calls_models, scorer_ref

from ._checkpoint import Checkpoint, layout_refusal
from ._comparison import Comparison
from ._plan import JUDGE_COMPLETION_TOKENS, Cell, Plan
from ._progress import _Progress
from ._rows import RowStore

__all__ = ["FAIL_FAST_AFTER", "SKIPPED", "RecordedConfig"]

_CALL_FIELDS = list(CallResult().cache_record()) + ["error_type", "error", "billed_usd",
                                                    "cache_hit"]

SKIPPED = "Skipped"
"""``error_type`` of a cell not called because its configuration was stopped (fail fast)."""

FAIL_FAST_AFTER = 5
"""Default K: a configuration whose first K calls of a run all fail with the same
configuration error (``CONFIG_ERRORS``: authentication, unknown model or provider, bad request)
is stopped; its other cells are not called."""


def _failed(call: dict[str, Any]) -> bool:
    """True for a recorded call without an answer: an error, or an old empty "success"."""
    return call.get("error_type") is not None or blank(call.get("output"))


def _cache_of(cache: bool | str | Path | CallCache) -> CallCache | None:
    if cache is False:
        return None
    if cache is True:
        return CallCache()
    if isinstance(cache, CallCache):
        return cache
    return CallCache(cache)


class _Run:
    """State of one run on the engine loop."""

    def __init__(self, p: Plan, *, concurrency: int, cache: CallCache | None,
                 resume: bool, progress: bool, retry: RetryPolicy | None,
                 recorded: Sequence[RecordedConfig] = (), retry_errors: bool = False,
                 fail_fast_after: int | None = FAIL_FAST_AFTER,
                 lock_timeout_s: float = 0.0) -> None:
        if fail_fast_after is not None and (not isinstance(fail_fast_after, int)
                                            or fail_fast_after < 1):
            raise ConfigError(f"fail_fast_after={fail_fast_after!r}",
                              fix="Use an integer ≥ 1, or None to never stop a configuration.")
        if not isinstance(lock_timeout_s, (int, float)) or lock_timeout_s < 0:
            raise ConfigError(f"lock_timeout_s={lock_timeout_s!r}",
                              fix="Use 0 (refuse at once) or a number of seconds to wait.")
        self.plan = p
        self.retry_errors = retry_errors
        """On resume, call again the cells whose recorded call failed."""
        self.fail_fast_after = fail_fast_after
        self.lock_timeout_s = float(lock_timeout_s)
        self.first_calls: dict[tuple[str, str], list[dict[str, Any]]] = {}
        """The first ``fail_fast_after`` calls made in this run, per configuration."""
        self.stopped: dict[tuple[str, str], str] = {}
        """Configurations stopped by fail fast, and why."""
        self.budget_stop_spent: float | None = None
        self.recorded = list(recorded)
        """Configurations answered before the run (a shadow test's served responses): their
        rows are scored like calls but never sent."""
        self.concurrency = concurrency
        self.cache = cache
        self.resume = resume
        self.progress_enabled = progress
        self.retry = retry or RetryPolicy()
        self.stop_reason: str | None = None
        self.status = "complete"
        self.tasks: list[asyncio.Task[None]] = []
        # keyed by the cell's identity (case, model, variant, repeat): two cases whose prompts
        # are identical share one call (same cache key) but keep a row each
        self.rows = RowStore([f"score.{s.name}" for s in p.scorers]
                             + [f"slice.{s}" for s in p.golden_set.slices])
        self.scorer_errors: list[dict[str, str]] = []
        self.specs = {m.label: m for m in p.models}
        self.variants = {v.name: v for v in p.variants}
        records = {str(r["id"]): r for r in p.golden_set.records()}
        self.cases = {i: MappingProxyType(records[i]) for i in p.case_ids}
        for rec in self.recorded:
            stray = [c.case_id for c, _ in rec.rows if c.case_id not in self.cases]
            if stray:
                raise ConfigError(f"recorded rows of {rec.label!r} name cases the plan does not "
                                  f"evaluate: {stray[:5]}", fix="Record rows for planned cases.")
        self.slices = p.golden_set.slices
        self.checkpoint = Checkpoint(
            default_cache_dir() / "runs" / f"{p.fingerprint()}.jsonl", p.fingerprint()
        )
        self.executor: CallExecutor | None = None
        self.shard: tuple[int, int] | None = None
        """(index, count) when this run is one shard of a run on several workers."""
        self.limits: SharedLimits | None = None
        """The budget and rate limits shared by the shards of such a run (None: this run's)."""
        self.progress_factory: Callable[[int, int, bool, str], _Progress] = _Progress
        self.progress: _Progress | None = None
        """Counters of the run in progress (read by ``RunHandle.progress``)."""
        self.judge_billed_usd = 0.0
        self.recorded_judge_calls: dict[str, dict[str, Any]] = {}
        """Judge calls in the checkpoint of an interrupted run (by cache key)."""
        # judges make their calls through this run's executor: shared cache, budget, limits
        self.scorers: list[Scorer] = [
            s.bind(self._judge_call, p.golden_set.input_columns) if isinstance(s, ModelScorer)
            and calls_models(s) else s
            for s in p.scorers
        ]

    async def _judge_call(self, spec: ModelSpec, messages: list[dict[str, str]],
                          response_format: Any) -> CallResult:
        if self.executor is None:
            raise RuntimeError("judge called outside a run")
        request = CallRequest(
            spec=spec, messages=messages,
            key=cache_key(spec.identity(), messages, response_format=response_format),
            response_format=response_format,
            est_prompt_tokens=sum(len(m["content"]) for m in messages) // 4 + 8,
            est_completion_tokens=JUDGE_COMPLETION_TOKENS,
        )
        recorded = self.recorded_judge_calls.get(request.key)
        if recorded is not None:  # judged before an interruption: never paid twice
            return CallResult(**{**recorded, "billed_usd": 0.0, "cache_hit": True})
        result = await self.executor.call(request, use_cache=self.cache is not None)
        if result.ok:
            self.checkpoint.record(request.key, {k: getattr(result, k) for k in _CALL_FIELDS})
        self.judge_billed_usd += result.billed_usd
        return result

    def interrupt(self) -> None:
        """Stop now (Ctrl-C, notebook interrupt): cancel calls in flight, keep what finished."""
        self.status = "interrupted"
        self.stop_reason = "interrupted by the user; resume with resume=True"
        for task in self.tasks:
            task.cancel()

    async def score(self, cell: Cell, call: dict[str, Any]) -> dict[str, Any]:
        row: dict[str, Any] = {
            "case_id": cell.case_id, "model": cell.model, "variant": cell.variant,
            "repeat": cell.repeat, **call, "judge_cost_usd": 0.0,
        }
        case = self.cases[cell.case_id]
        errors: list[str] = []
        details: list[dict[str, Any]] = []
        for s in self.scorers:
            value = float("nan")
            if call.get("error_type") is None:
                try:
                    result = s(case, call.get("output") or "")
                    if inspect.isawaitable(result):
                        result = await result
                    score = as_score(result, scorer_name=s.name)
                    value = score.value
                    row["judge_cost_usd"] += score.cost_usd
                    if (score.label is not None or score.explanation is not None
                            or score.cost_usd or score.prompt_tokens):
                        details.append({
                            "case_id": cell.case_id, "model": cell.model,
                            "variant": cell.variant, "repeat": cell.repeat, "scorer": s.name,
                            "value": value, "label": score.label,
                            "explanation": score.explanation, "cost_usd": score.cost_usd,
                            "prompt_tokens": score.prompt_tokens,
                            "completion_tokens": score.completion_tokens,
                        })
                except Exception as exc:  # a scorer bug must not lose the call's result
                    errors.append(f"{s.name}: {type(exc).__name__}: {exc}"[:500])
                    row["judge_cost_usd"] += float(getattr(exc, "cost_usd", 0.0) or 0.0)
                    if len(self.scorer_errors) < 50:
                        self.scorer_errors.append(
                            {"case_id": cell.case_id, "scorer": s.name,
                             "error": f"{type(exc).__name__}: {exc}"[:500]}
                        )
            row[f"score.{s.name}"] = value
        row["scorer_errors"] = "; ".join(errors) if errors else None
        self.rows.add_details(details)
        for name in self.slices:
            label = case.get(name)
            row[f"slice.{name}"] = None if label is None else str(label)
        return row

    async def execute(self) -> Comparison:
        """Run the plan under its checkpoint's lock (one process per plan at a time)."""
        await self._lock()
        try:
            return await self._execute()
        finally:
            self.checkpoint.close()

    async def _lock(self) -> None:
        """Take the checkpoint's lock, polling up to ``lock_timeout_s`` (the loop stays free)."""
        deadline = time.monotonic() + self.lock_timeout_s
        while not self.checkpoint.try_acquire():
            if time.monotonic() >= deadline:
                raise await asyncio.to_thread(self.checkpoint.refusal)
            await asyncio.sleep(0.1)

    async def _execute(self) -> Comparison:
        p = self.plan
        started = time.time()
        if self.resume and self.shard is None:
            refusal = layout_refusal(self.checkpoint.path, 1)
            if refusal is not None:
                raise refusal
        recovered = self.checkpoint.recover() if self.resume else None
        ledger = BudgetLedger(budget_usd=p.budget_usd if self.limits is None else None)
        if recovered is not None:
            ledger.spent_usd = recovered.spent_usd + recovered.open_reservations_usd
        self.checkpoint.open(fresh=not self.resume)
        ledger.journal = self.checkpoint.reserve
        executor = self.executor = CallExecutor(
            cache=self.cache, budget=ledger, concurrency=self.concurrency, retry=self.retry,
            seed=p.seed, limits=self.limits,
        )
        by_key: dict[str, list[Cell]] = {}
        for c in p.cells:
            by_key.setdefault(c.key, []).append(c)
        if recovered is not None:
            self.recorded_judge_calls = {
                k: v for k, v in recovered.rows.items()
                if k not in by_key and v.get("error_type") is None
            }
            # like the recovered model rows, judge calls paid before the interruption count
            self.judge_billed_usd = sum(float(v.get("billed_usd") or 0.0)
                                        for v in self.recorded_judge_calls.values())
            for key, call in recovered.rows.items():
                if self.retry_errors and _failed(call):
                    continue  # --retry-errors: recorded failures are called again
                for c in by_key.get(key, []):
                    self.rows[c.id] = await self.score(c, call)
        for rec in self.recorded:
            for cell, call in rec.rows:
                self.rows[cell.id] = await self.score(cell, call)
        n_recorded = sum(len(rec.rows) for rec in self.recorded)
        todo = list(dict.fromkeys(c.key for c in p.cells if c.id not in self.rows))
        bar = self.progress = self.progress_factory(len(p.cells), len(self.rows) - n_recorded,
                                                    self.progress_enabled,
                                                    f"{p.golden_set.name}")
        keys = iter(todo)
        observed: dict[tuple[str, str], list[int]] = {}

        async def worker() -> None:
            for key in keys:
                if self.stop_reason is not None:
                    return
                cell = by_key[key][0]
                config = (cell.model, cell.variant)
                if config in self.stopped:  # fail fast: this configuration is not called again
                    call = self._skipped(config)
                    for same in by_key[key]:
                        if same.id not in self.rows:
                            self.rows[same.id] = await self.score(same, call)
                            bar.step(CallResult(error_type=SKIPPED), ledger.spent_usd)
                    continue
                seen = observed.get((cell.model, cell.variant))
                est_completion = cell.est_completion_tokens
                if seen and seen[1]:
                    est_completion = max(est_completion, int(seen[0] / seen[1] * 1.5))
                request = CallRequest(
                    spec=self.specs[cell.model], messages=cell.messages, key=cell.key,
                    seed=cell.seed, response_format=self.variants[cell.variant].response_format,
                    est_prompt_tokens=cell.est_prompt_tokens,
                    est_completion_tokens=est_completion,
                )
                try:
                    result = await executor.call(request, use_cache=self.cache is not None)
                except BudgetExhausted:
                    if self.stop_reason is None:
                        self.status = "budget_stopped"
                        self.budget_stop_spent = ledger.spent_usd
                        # worded with the final spend once the calls in flight have settled
                        self.stop_reason = "stopped by the budget"
                    return
                if result.completion_tokens:
                    tally = observed.setdefault((cell.model, cell.variant), [0, 0])
                    tally[0] += result.completion_tokens
                    tally[1] += 1
                call = {k: getattr(result, k) for k in _CALL_FIELDS}
                self.checkpoint.record(cell.key, call)
                if not result.cache_hit:
                    self._note_call(config, call)
                for same in by_key[key]:  # every case whose prompt is this very request
                    if same.id not in self.rows:
                        self.rows[same.id] = await self.score(same, call)
                        bar.step(result, ledger.spent_usd)

        try:
            self.tasks = [asyncio.ensure_future(worker())
                          for _ in range(min(self.concurrency, max(1, len(todo))))]
            await asyncio.gather(*self.tasks, return_exceptions=False)
        except asyncio.CancelledError:
            if self.status != "interrupted":  # cancelled from outside (acompare's caller)
                self.interrupt()
                raise
        finally:
            for task in self.tasks:
                task.cancel()
            bar.close()
            self.checkpoint.close()
        if self.status == "budget_stopped":
            at_stop = self.budget_stop_spent or 0.0
            in_flight = ledger.spent_usd - at_stop
            self.stop_reason = (
                f"stopped by the budget of ${p.budget_usd:,.4f}: spent ${ledger.spent_usd:,.4f} "
                f"in all (${at_stop:,.4f} when the budget stopped new calls"
                + (f", then ${in_flight:,.4f} by the calls already in flight" if in_flight > 0
                   else "")
                + "); the next call would have passed the budget"
            )
        missing = len(p.cells) + n_recorded - len(self.rows)
        if self.stopped and self.status == "complete":
            skipped = self.rows.with_error(SKIPPED)
            self.status = "interrupted"
            self.stop_reason = "; ".join(self.stopped.values()) + (
                f". {skipped} cells were not called: fix the cause, then rerun with resume=True "
                "(workbench run --resume) to call them; add retry_errors=True (--retry-errors) "
                "to call the failed ones again too")
        elif self.status == "complete" and missing > 0:
            self.status = "interrupted"
            self.stop_reason = f"{missing} calls did not run"
        elif self.stopped and self.stop_reason is not None:  # stopped for another reason too
            self.stop_reason += "; also " + "; ".join(self.stopped.values())
        return self.comparison(started, executor, ledger)

    def _note_call(self, config: tuple[str, str], call: dict[str, Any]) -> None:
        """Fail fast: stop a configuration whose first K calls all failed the same way."""
        k = self.fail_fast_after
        first = self.first_calls.setdefault(config, [])
        if k is None or config in self.stopped or len(first) >= k:
            return
        first.append(call)
        if len(first) < k:
            return
        kinds = {c.get("error_type") for c in first}
        kind = next(iter(kinds))
        if len(kinds) == 1 and kind in CONFIG_ERRORS:
            message = str(first[0].get("error") or "")[:300]
            self.stopped[config] = (
                f"configuration {config[0]} · {config[1]} stopped: its first {k} calls all "
                f"failed with {kind} (not retryable; every call would fail the same way). "
                f"First error: {message}")

    def _skipped(self, config: tuple[str, str]) -> dict[str, Any]:
        """The row of a cell not called because its configuration was stopped."""
        return {**{k: None for k in _CALL_FIELDS}, "error_type": SKIPPED,
                "error": "not called: " + self.stopped[config], "attempts": 0,
                "billed_usd": 0.0, "cache_hit": False}

    def comparison(self, started: float, executor: CallExecutor, ledger: BudgetLedger
                   ) -> Comparison:
        p = self.plan
        results = self.rows.frame()
        gs = p.golden_set
        def pricing(pr: Any) -> PricingRecord:
            return PricingRecord(input_per_1m=pr.input_per_1m, output_per_1m=pr.output_per_1m,
                                 source=pr.source)

        record = RunRecord(
            golden_set=GoldenSetRef(
                name=gs.name, digest=gs.digest, version=gs.version,
                path=str(gs.path) if gs.path else None, rows=len(gs),
                evaluated=len(p.case_ids), excluded_few_shot=list(p.excluded_ids),
                slices=list(gs.slices)),
            models=[ModelRecord(label=m.label, simulated=m.simulated, params=m.params(),
                                pricing=pricing(p.pricing[m.label])) for m in p.models]
            + [ModelRecord(label=r.label, simulated=r.simulated,
                           pricing=PricingRecord(**r.pricing), recorded=r.source)
               for r in self.recorded],
            variants=[VariantRecord(name=v.name, version=v.version, system=v.system,
                                    user=v.user, few_shot_ids=list(v.few_shot_ids),
                                    response_format=v.response_format)
                      for v in _unique_variants([*p.variants,
                                                 *(r.variant for r in self.recorded)])],
            scorers=[ScorerRecord(name=s.name, ref=scorer_ref(s), args=dict(s.args),
                                  version=s.version) for s in p.scorers],
            judges=[JudgeRecord(scorer=s.name, label=s.model.label,
                                simulated=s.model.simulated, params=s.model.params(),
                                pricing=pricing(p.judge_pricing[s.name]))
                    for s in p.scorers if isinstance(s, ModelScorer) and calls_models(s)],
            settings=RunSettings(repeats=p.repeats, seed=p.seed, budget_usd=p.budget_usd,
                                 concurrency=self.concurrency, cache=self.cache is not None),
            run=RunStats(
                status=self.status, stop_reason=self.stop_reason,
                calls_planned=len(p.cells) + sum(len(r.rows) for r in self.recorded),
                calls_recorded=len(self.rows), requests_sent=executor.calls_made,
                spent_usd=ledger.spent_usd, judge_billed_usd=self.judge_billed_usd,
                estimated_usd=p.est_cost_usd,
                started_at=datetime.fromtimestamp(started, UTC).isoformat(),
                duration_s=round(time.time() - started, 3),
                checkpoint=str(self.checkpoint.path),
                scorer_errors=[ScorerErrorRecord(**e) for e in self.scorer_errors],
                stopped_configs=[StoppedConfig(model=m, variant=v, reason=why)
                                 for (m, v), why in self.stopped.items()]),
            versions=Versions(workbench=__version__, litellm=litellm_version(),
                              python=platform.python_version()),
        )
        details = self.rows.details_frame()
        return Comparison(results, record, details, golden_set=p.golden_set)


@dataclass
class RecordedConfig:
    """A configuration whose answers already exist (e.g. production's served responses).

    Its rows join the results and are scored by the same scorers, but no call is made:
    ``rows`` pairs each :class:`Cell` (model = ``label``) with its call record (output,
    tokens, latency, ``cost_usd``; ``billed_usd`` 0).
    """

    label: str
    variant: PromptVariant
    rows: list[tuple[Cell, dict[str, Any]]]
    pricing: dict[str, Any]
    """``input_per_1m``, ``output_per_1m`` and ``source`` of the prices behind ``cost_usd``."""
    simulated: bool
    source: str
    """Where the answers come from (shown in reports), e.g. the traffic log's path."""


def _unique_variants(variants: Sequence[PromptVariant]) -> list[PromptVariant]:
    """The variants by name, the first of each name kept, in order."""
    first: dict[str, PromptVariant] = {}
    for v in variants:
        first.setdefault(v.name, v)
    return list(first.values())
