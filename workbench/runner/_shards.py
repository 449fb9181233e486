"""Case shards of a run on several workers: cutting the plan, running a shard, merging them.

A plan is cut by case into shards of about equal calls (cases whose prompts are the same request
stay together, so each call is made once, as in one process). A worker runs its shard with the
same runner as a one-process run (``_Run``: cache, retries, scoring, fail fast), its own
checkpoint ``<plan>.w<k>of<n>.jsonl`` beside the plan's, and the run's shared budget and rate
limits (``ShardLimits`` over a ``Coordinator``). The parent merges the shards' tables into one
:class:`Comparison` equal to a one-process run of the same plan.

Local workers hand their tables back as Parquet files beside their checkpoints (the parent reads
and removes them), Ray tasks as DataFrames; :func:`merge` takes both, so a merge that streams
row groups from disk can replace the in-memory concatenation without touching the workers.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import BudgetExhausted, RunError, WorkbenchError
from workbench.models import CallCache, CallResult, ModelSpec, RetryPolicy
from workbench.prompts import PromptVariant
from workbench.records import RunRecord, RunSettings, RunStats, ScorerErrorRecord, StoppedConfig

from ._checkpoint import Checkpoint
from ._comparison import Comparison
from ._coordinator import Counts
from ._plan import Plan
from ._progress import _Progress
from ._run import SKIPPED, RecordedConfig, _cache_of, _Run

__all__ = ["ShardLimits", "ShardOutcome", "ShardTask", "ctrl_c", "merge", "prepare_shard",
           "split"]

REPORT_EVERY_S = 0.1
"""How often a worker reports its counts to the parent (and hears whether to stop)."""


# ---------------------------------------------------------------- cutting the plan
def split(p: Plan, shards: int) -> list[list[str]]:
    """The plan's case ids cut into at most ``shards`` groups of about equal calls.

    Cases whose cells share a call (the same rendered request) stay in one shard; groups go to
    the shard with the fewest calls so far, in plan order, and each shard keeps the plan's case
    order. Fewer shards come back when there are fewer such groups.

    Example:
        >>> [len(s) for s in split(wb.plan(gs, ["sim/large"], variants), 5)]
        [3, 3, 2, 2, 2]
    """
    parent = {c: c for c in p.case_ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    owner: dict[str, str] = {}
    calls: Counter[str] = Counter()
    for cell in p.cells:
        calls[cell.case_id] += 1
        first = owner.setdefault(cell.key, cell.case_id)
        a, b = find(first), find(cell.case_id)
        if a != b:
            parent[b] = a
    groups: dict[str, list[str]] = {}
    for case_id in p.case_ids:
        groups.setdefault(find(case_id), []).append(case_id)
    bins: list[list[str]] = [[] for _ in range(max(1, min(shards, len(groups))))]
    load = [0] * len(bins)
    for members in groups.values():
        k = load.index(min(load))
        bins[k].extend(members)
        load[k] += sum(calls[c] for c in members)
    order = {c: i for i, c in enumerate(p.case_ids)}
    return [sorted(b, key=order.__getitem__) for b in bins if b]


def _share(total: int, k: int, n: int) -> int:
    """Shard ``k``'s part of a limit of ``total`` cut ``n`` ways (at least 1)."""
    return max(1, total // n + (1 if k < total % n else 0))


def shard_plan(p: Plan, case_ids: Sequence[str], k: int, n: int) -> Plan:
    """The plan of one shard: its cases' cells, and ``max_concurrency`` cut ``n`` ways."""
    ids = set(case_ids)
    models = [m if m.max_concurrency is None else
              replace(m, max_concurrency=_share(m.max_concurrency, k, n)) for m in p.models]
    return replace(p, models=models, cells=[c for c in p.cells if c.case_id in ids],
                   case_ids=[c for c in p.case_ids if c in ids])


@dataclass
class ShardTask:
    """What a worker needs to run one shard (sent to it pickled)."""

    index: int
    count: int
    plan: Plan
    concurrency: int
    cache: bool | str | CallCache
    checkpoint: str | None
    """The shard's checkpoint path; None: under the worker's own cache dir (Ray nodes)."""
    parent_fingerprint: str
    resume: bool = False
    retry: RetryPolicy | None = None
    retry_errors: bool = False
    fail_fast_after: int | None = None
    lock_timeout_s: float = 0.0
    budget: bool = False
    """True when the run has a budget: every call reserves from the coordinator first."""
    recorded: list[RecordedConfig] = field(default_factory=list)

    # prompt variants hold compiled templates, which do not pickle: they travel as their
    # arguments and are built again (and checked again) in the worker
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["plan"] = replace(self.plan, variants=[])
        state["variants"] = [_variant_args(v) for v in self.plan.variants]
        state["recorded"] = [({**r.__dict__, "variant": None}, _variant_args(r.variant))
                             for r in self.recorded]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        variants = [PromptVariant(**a) for a in state.pop("variants")]
        state["plan"] = replace(state["plan"], variants=variants)
        state["recorded"] = [RecordedConfig(**{**r, "variant": PromptVariant(**a)})
                             for r, a in state["recorded"]]
        self.__dict__.update(state)

    def checkpoint_path(self) -> Path:
        """Where this shard's checkpoint is (the worker's cache dir when none was given)."""
        if self.checkpoint is not None:
            return Path(self.checkpoint)
        from workbench.models import default_cache_dir

        from ._checkpoint import shard_path

        plan_path = default_cache_dir() / "runs" / f"{self.parent_fingerprint}.jsonl"
        return shard_path(plan_path, self.index, self.count)

    def recovered_usd(self, path: Path | None = None) -> float:
        """What this shard's checkpoint says it spent (0 unless resuming).

        Counted as a resume counts it: billed calls plus reservations that never finished.
        """
        if not (self.resume or self.retry_errors):
            return 0.0
        found = Checkpoint(path or self.checkpoint_path(), "").recover()
        return found.spent_usd + found.open_reservations_usd


def _variant_args(v: PromptVariant) -> dict[str, Any]:
    return {"name": v.name, "user": v.user, "system": v.system, "few_shot": v.few_shot or None,
            "response_format": v.response_format, "limits": v.limits}


# ---------------------------------------------------------------- in the worker
Call = Callable[..., Awaitable[Any]]
Cast = Callable[..., None]


class ShardLimits:
    """The executor's :class:`~workbench.models.SharedLimits` for one shard of a run.

    ``call(op, *args)`` asks the run's coordinator and awaits its answer; ``cast(op, *args)``
    tells it without waiting (a connection to the parent, or a Ray actor). Without a budget
    nothing is reserved; only models with ``rpm``/``tpm`` ask for a slot.
    """

    def __init__(self, shard: int, epoch: int, budget: bool, call: Call, cast: Cast) -> None:
        self.shard, self.epoch, self.budget = shard, epoch, budget
        self._call, self._cast = call, cast

    async def reserve(self, tag: str, usd: float) -> None:
        """Reserve from the run's one budget, or raise BudgetExhausted."""
        if self.budget and not await self._call("reserve", self.shard, self.epoch, usd):
            raise BudgetExhausted(tag)

    def settle(self, reserved: float, billed: float) -> None:
        """Tell the coordinator what the call cost."""
        if self.budget:
            self._cast("settle", self.shard, self.epoch, reserved, billed)

    async def pace(self, spec: ModelSpec, tokens: int) -> None:
        """Wait for the slot the coordinator grants in the model's shared window."""
        delay = await self._call("pace", spec.label, spec.rpm, spec.tpm, tokens)
        if delay > 0:
            await asyncio.sleep(delay)


class _Reporting(_Progress):
    """A shard's progress: no bar of its own; its counts go to the parent's one bar."""

    def __init__(self, report: Callable[[Counts], None], total: int, done: int, enabled: bool,
                 label: str) -> None:
        super().__init__(total, done, False, label)
        self._report = report
        self._last = 0.0
        self._send()

    def step(self, result: CallResult, spent: float) -> None:
        super().step(result, spent)
        if time.monotonic() - self._last >= REPORT_EVERY_S:
            self._send()

    def close(self) -> None:
        super().close()
        self._send()

    def _send(self) -> None:
        self._last = time.monotonic()
        self._report(Counts(self.done, self.errors, self.cached, self.spent))


def prepare_shard(task: ShardTask, limits: ShardLimits, report: Callable[[Counts], None],
                  checkpoint: Checkpoint | None = None) -> _Run:
    """The runner of one shard.

    The one-process runner with the shard's checkpoint, the shared limits and progress reports.
    """
    run = _Run(task.plan, concurrency=task.concurrency, cache=_cache_of(task.cache),
               resume=task.resume or task.retry_errors, progress=False, retry=task.retry,
               recorded=task.recorded, retry_errors=task.retry_errors,
               fail_fast_after=task.fail_fast_after, lock_timeout_s=task.lock_timeout_s)
    run.shard = (task.index, task.count)
    run.checkpoint = checkpoint or Checkpoint(task.checkpoint_path(), task.plan.fingerprint())
    run.limits = limits
    run.progress_factory = partial(_Reporting, report)
    return run


@dataclass
class ShardOutcome:
    """What one shard gives back: its run record and its two tables (or Parquet files)."""

    index: int
    record: RunRecord
    results: pd.DataFrame | None = None
    details: pd.DataFrame | None = None
    files: tuple[str, str] | None = None
    """``results`` and ``score_details`` as Parquet files (local workers), read by the parent."""

    @classmethod
    def of(cls, index: int, cmp: Comparison, files: tuple[Path, Path] | None = None
           ) -> ShardOutcome:
        """The outcome of a shard's comparison: tables inline, or written to ``files``."""
        if files is None:
            return cls(index, cmp.record, cmp.results, cmp.score_details)
        for df, path in zip((cmp.results, cmp.score_details), files, strict=True):
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            df.to_parquet(tmp, index=False)
            os.replace(tmp, path)
        return cls(index, cmp.record, files=(str(files[0]), str(files[1])))

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The shard's results and score details (Parquet files are read, then removed)."""
        if self.files is None:
            assert self.results is not None and self.details is not None
            return self.results, self.details
        frames = tuple(pd.read_parquet(f) for f in self.files)
        for f in self.files:
            Path(f).unlink(missing_ok=True)
        return frames[0], frames[1]


# ---------------------------------------------------------------- in the parent
@contextmanager
def ctrl_c(cancel: threading.Event) -> Iterator[None]:
    """Ctrl-C while shards run sets ``cancel``: the run stops cleanly, keeping what finished.

    A second Ctrl-C raises ``KeyboardInterrupt`` (the workers are ended).

    Signals reach only the main thread; elsewhere (``acompare``) ``cancel`` alone stops a run.
    The handler never interrupts the parent halfway through serving a worker, so no reply or
    outcome is lost.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if cancel.is_set():
            raise KeyboardInterrupt
        cancel.set()

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# ---------------------------------------------------------------- errors across processes
def error_info(exc: BaseException) -> dict[str, Any]:
    """A picklable description of a shard's error (to raise it again in the parent)."""
    if isinstance(exc, WorkbenchError):
        return {"kind": type(exc).__name__, "what": exc.problem.what, "where": exc.where,
                "fix": exc.fix, "cli_fix": exc.cli_fix}
    return {"kind": None, "what": f"{type(exc).__name__}: {exc}"[:2000]}


def raise_shard_error(info: dict[str, Any], shard: int, where: str) -> None:
    """Raise in the parent the error a shard's worker reported."""
    import workbench.errors as errors

    cls = getattr(errors, str(info.get("kind")), None)
    if isinstance(cls, type) and issubclass(cls, WorkbenchError) and cls is not BudgetExhausted:
        raise cls(info["what"], where=info.get("where") or where, fix=info.get("fix") or "",
                  cli_fix=info.get("cli_fix"))
    raise RunError(f"shard {shard + 1} failed in its worker: {info['what']}", where=where,
                   fix="This is a bug of the workbench or of a scorer: the finished calls are "
                       "in the checkpoints, so rerunning with resume=True pays none of them "
                       "again; please report the error.")


# ---------------------------------------------------------------- merging
def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenated tables with the first one's dtypes (categories united)."""
    frames = [f for f in frames if len(f.columns)]
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    for col, dtype in frames[0].dtypes.items():
        if out[col].dtype != dtype:
            out[col] = out[col].astype("category" if isinstance(dtype, pd.CategoricalDtype)
                                       else dtype)
    return out


def merge(p: Plan, outcomes: Sequence[ShardOutcome], *, started: float, concurrency: int,
          exhausted: bool, spent_at_stop: float | None, interrupted: bool,
          checkpoints: str, recorded_rows: int = 0) -> Comparison:
    """One comparison from the shards' outcomes, as a one-process run of ``p`` would give.

    Rows are ordered as ``results_frame`` orders them; run figures are summed; the status is
    ``budget_stopped`` when the shared budget stopped calls, ``interrupted`` when the user
    stopped the run, a configuration was stopped or calls are missing.
    """
    if not outcomes:
        raise RunError("no shard of the run finished", where=checkpoints,
                       fix="Rerun with resume=True: recorded calls are not paid again.")
    outcomes = sorted(outcomes, key=lambda o: o.index)
    tables = [o.frames() for o in outcomes]
    results = _concat([t[0] for t in tables])
    results = results.sort_values(["model", "variant", "repeat", "case_id"], kind="stable"
                                  ).reset_index(drop=True)
    details = _concat([t[1] for t in tables])
    if len(details):
        details = details.sort_values(["model", "variant", "repeat", "case_id", "scorer"],
                                      kind="stable").reset_index(drop=True)
    runs = [o.record.run for o in outcomes]
    stopped: dict[tuple[str, str], str] = {}
    for r in runs:
        for s in r.stopped_configs:
            stopped.setdefault((s.model, s.variant), s.reason)
    planned = len(p.cells) + recorded_rows
    spent = sum(r.spent_usd for r in runs)
    status, reason = _status(p, runs, results, stopped, planned=planned, spent=spent,
                             exhausted=exhausted, spent_at_stop=spent_at_stop,
                             interrupted=interrupted)
    first = outcomes[0].record
    by_label = {m.label: m for m in p.models}
    models = [m.model_copy(update={"params": by_label[m.label].params()})
              if m.label in by_label else m for m in first.models]
    record = first.model_copy(update={
        "golden_set": first.golden_set.model_copy(update={"evaluated": len(p.case_ids)}),
        "models": models,
        "settings": RunSettings(**{**first.settings.model_dump(), "concurrency": concurrency}),
        "run": RunStats(
            status=status, stop_reason=reason, calls_planned=planned,
            calls_recorded=len(results), requests_sent=sum(r.requests_sent for r in runs),
            spent_usd=spent, judge_billed_usd=sum(r.judge_billed_usd for r in runs),
            estimated_usd=p.est_cost_usd,
            started_at=datetime.fromtimestamp(started, UTC).isoformat(),
            duration_s=round(time.time() - started, 3), checkpoint=checkpoints,
            scorer_errors=[ScorerErrorRecord(**e.model_dump()) for r in runs
                           for e in r.scorer_errors][:50],
            stopped_configs=[StoppedConfig(model=m, variant=v, reason=why)
                             for (m, v), why in stopped.items()]),
    })
    return Comparison(results, record, details, golden_set=p.golden_set)


def _status(p: Plan, runs: list[RunStats], results: pd.DataFrame,
            stopped: dict[tuple[str, str], str], *, planned: int, spent: float,
            exhausted: bool, spent_at_stop: float | None, interrupted: bool
            ) -> tuple[str, str | None]:
    """The merged run's status and reason, worded as a one-process run words them."""
    also = "; also " + "; ".join(stopped.values()) if stopped else ""
    if exhausted or any(r.status == "budget_stopped" for r in runs):
        at_stop = spent if spent_at_stop is None else spent_at_stop
        in_flight = spent - at_stop
        return "budget_stopped", (
            f"stopped by the budget of ${p.budget_usd or 0:,.4f}: spent ${spent:,.4f} in all "
            f"(${at_stop:,.4f} when the budget stopped new calls"
            + (f", then ${in_flight:,.4f} by the calls already in flight" if in_flight > 0
               else "")
            + "); the next call would have passed the budget" + also)
    if interrupted:
        return "interrupted", "interrupted by the user; resume with resume=True" + also
    if stopped:
        skipped = int((results["error_type"] == SKIPPED).sum()) if len(results) else 0
        return "interrupted", "; ".join(stopped.values()) + (
            f". {skipped} cells were not called: fix the cause, then rerun with resume=True "
            "(workbench run --resume) to call them; add retry_errors=True (--retry-errors) "
            "to call the failed ones again too")
    missing = planned - len(results)
    if missing > 0 or any(r.status != "complete" for r in runs):
        reasons = list(dict.fromkeys(r.stop_reason for r in runs if r.stop_reason))
        return "interrupted", (f"{missing} calls did not run" if missing > 0
                               else "; ".join(reasons) or None)
    return "complete", None
