"""``compare`` / ``acompare`` / ``start_compare`` / ``run_plan``: the entry points of a run."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.models import (
    CallCache,
    ModelSpec,
    RetryPolicy,
    engine_loop,
    run_async,
    run_sync,
    submit,
)
from workbench.prompts import PromptVariant
from workbench.scorers import Scorer

from ._comparison import Comparison
from ._plan import Leakage, Plan, plan
from ._run import FAIL_FAST_AFTER, RecordedConfig, _cache_of, _Run
from ._workers import Executor, prestart, run_sharded, sharded

__all__ = ["RunHandle", "acompare", "compare", "run_plan", "start_compare"]


def _prepare(
    golden_set: GoldenSet, models: Sequence[ModelSpec | str], variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer], *, repeats: int, concurrency: int, budget_usd: float | None,
    cache: bool | str | Path | CallCache, seed: int, resume: bool, leakage: Leakage,
    cases: Sequence[str] | None, progress: bool, retry: RetryPolicy | None,
    retry_errors: bool = False, fail_fast_after: int | None = FAIL_FAST_AFTER,
    lock_timeout_s: float = 0.0,
) -> _Run:
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency={concurrency!r}", fix="Use an integer ≥ 1.")
    p = plan(golden_set, models, variants, scorers, repeats=repeats, budget_usd=budget_usd,
             seed=seed, leakage=leakage, cases=cases)
    return _Run(p, concurrency=concurrency, cache=_cache_of(cache),
                resume=resume or retry_errors, progress=progress, retry=retry,
                retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                lock_timeout_s=lock_timeout_s)


def run_plan(p: Plan, *, concurrency: int = 16, cache: bool | str | Path | CallCache = True,
             resume: bool = False, progress: bool = True, retry: RetryPolicy | None = None,
             recorded: Sequence[RecordedConfig] = (), retry_errors: bool = False,
             fail_fast_after: int | None = FAIL_FAST_AFTER,
             lock_timeout_s: float = 0.0, workers: int | None = None,
             executor: Executor = "local", address: str | None = None) -> Comparison:
    """Run a plan made by :func:`plan` (what ``compare`` does after planning).

    ``recorded`` adds configurations whose answers exist already (scored, never called).
    The other options are :func:`compare`'s.
    """
    if sharded(workers, executor, address):
        return run_sharded(p, workers=workers, executor=executor, address=address,
                           concurrency=concurrency, cache=cache, resume=resume,
                           progress=progress, retry=retry, recorded=recorded,
                           retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                           lock_timeout_s=lock_timeout_s)
    run = _Run(p, concurrency=concurrency, cache=_cache_of(cache),
               resume=resume or retry_errors, progress=progress, retry=retry,
               recorded=recorded, retry_errors=retry_errors, fail_fast_after=fail_fast_after,
               lock_timeout_s=lock_timeout_s)
    return run_sync(run.execute(), interrupt=run.interrupt)


def compare(
    golden_set: GoldenSet,
    models: Sequence[ModelSpec | str],
    variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer] = (),
    *,
    repeats: int = 1,
    concurrency: int = 16,
    budget_usd: float | None = None,
    cache: bool | str | Path | CallCache = True,
    seed: int = 0,
    resume: bool = False,
    leakage: Leakage = "exclude",
    cases: Sequence[str] | None = None,
    progress: bool = True,
    retry: RetryPolicy | None = None,
    retry_errors: bool = False,
    fail_fast_after: int | None = FAIL_FAST_AFTER,
    lock_timeout_s: float = 0.0,
    workers: int | None = None,
    executor: Executor = "local",
    address: str | None = None,
) -> Comparison:
    """Run every case × model × variant × repeat, score the outputs, and return the results.

    Validates everything first (see :func:`plan`), then makes the calls on the workbench's
    engine loop (so it works in scripts and inside Jupyter's running loop), ``concurrency`` at
    a time, with retries (exponential backoff with jitter, honouring Retry-After), per-call
    timeouts (``ModelSpec.timeout_s``) and per-model limits (``ModelSpec.max_concurrency``,
    ``rpm``, ``tpm``). A failed call is recorded in ``error_type``/``error`` and the run goes
    on; an empty or whitespace-only answer is a failed call too (``EmptyResponse``, retried,
    never cached).

    Args:
        golden_set: the cases.
        models: ``ModelSpec``s or model strings.
        variants: prompt variants (names unique).
        scorers: scorers (names unique); each adds a ``score.<name>`` column.
        repeats: calls per cell (distinct cache entries), for variance.
        concurrency: calls in flight at most.
        budget_usd: stop before spending more (calls in flight may finish); partial results
            are kept and ``status`` is ``"budget_stopped"``.
        cache: True (``$WORKBENCH_CACHE_DIR`` or the user cache dir), a directory, or False.
            A rerun of an unchanged comparison is answered from the cache for $0.
        seed: seeds simulated models and retry jitter.
        resume: continue the checkpoint of an earlier, unfinished run of the same comparison:
            recorded calls are not made again.
        leakage: ``"exclude"`` few-shot cases from scoring, or ``"error"``.
        cases: evaluate only these case ids.
        progress: show a progress bar.
        retry: the retry policy (default 4 attempts).
        retry_errors: resume, and call again the cells whose recorded call failed (errors
            and empty answers); the successful ones are kept.
        fail_fast_after: stop a configuration whose first K calls in this run all fail with
            the same error that no retry can fix (authentication, unknown model or provider,
            bad request): its other cells are not called (``error_type="Skipped"``), and the
            run ends ``"interrupted"`` saying why with the first error. None never stops.
        lock_timeout_s: one process at a time runs a plan (a lock on its checkpoint): another
            run of the same plan is refused with a ``RunError`` naming it, or waited for up
            to this many seconds.
        workers: run the cases in this many worker processes (case shards with a checkpoint
            each, merged into one comparison equal to a one-process run). ``concurrency``,
            the budget and each model's ``rpm``/``tpm`` and ``max_concurrency`` stay the
            run's: one coordinator that every worker reserves from. A killed worker's shard
            resumes in a new one without paying its recorded calls again; resume an
            interrupted run with the same ``workers``. With ``executor="ray"``: the number of
            Ray tasks (default: the cluster's CPUs).
        executor: ``"local"`` (worker processes on this machine) or ``"ray"`` (Ray tasks on a
            cluster; ``pip install 'workbench[ray]'``).
        address: the Ray cluster: ``"auto"`` (started here with ``ray start --head``),
            ``"ray://HOST:10001"``, or None (the running Ray connection, else a local one).

    Returns:
        A :class:`Comparison`. Ctrl-C (or a notebook interrupt) stops the run and returns what
        finished, with ``status == "interrupted"``.

    Raises:
        RunError: another run of the same plan holds its checkpoint (after ``lock_timeout_s``).

    Example:
        >>> import workbench as wb
        >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl").sample(6, seed=1)
        >>> cmp = wb.compare(gs, ["sim/large", "sim/small"],
        ...                  [wb.PromptVariant("terse", user="Classify: {{ message }}")],
        ...                  [wb.scorers.json_valid], progress=False, cache=False)
        >>> cmp.status, len(cmp.results), list(cmp.summary()["n_cases"])
        ('complete', 12, [6, 6])
    """
    if sharded(workers, executor, address):
        prestart(workers, executor)  # the workers import litellm while this process plans
        p = plan(golden_set, models, variants, scorers, repeats=repeats, budget_usd=budget_usd,
                 seed=seed, leakage=leakage, cases=cases)
        return run_sharded(p, workers=workers, executor=executor, address=address,
                           concurrency=concurrency, cache=cache, resume=resume,
                           progress=progress, retry=retry, retry_errors=retry_errors,
                           fail_fast_after=fail_fast_after, lock_timeout_s=lock_timeout_s)
    run = _prepare(golden_set, models, variants, scorers, repeats=repeats,
                   concurrency=concurrency, budget_usd=budget_usd, cache=cache, seed=seed,
                   resume=resume, leakage=leakage, cases=cases, progress=progress, retry=retry,
                   retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                   lock_timeout_s=lock_timeout_s)
    return run_sync(run.execute(), interrupt=run.interrupt)


async def acompare(
    golden_set: GoldenSet,
    models: Sequence[ModelSpec | str],
    variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer] = (),
    *,
    repeats: int = 1,
    concurrency: int = 16,
    budget_usd: float | None = None,
    cache: bool | str | Path | CallCache = True,
    seed: int = 0,
    resume: bool = False,
    leakage: Leakage = "exclude",
    cases: Sequence[str] | None = None,
    progress: bool = True,
    retry: RetryPolicy | None = None,
    retry_errors: bool = False,
    fail_fast_after: int | None = FAIL_FAST_AFTER,
    lock_timeout_s: float = 0.0,
    workers: int | None = None,
    executor: Executor = "local",
    address: str | None = None,
) -> Comparison:
    """``await``-able :func:`compare` (same arguments); the calls still run on the engine loop.

    Cancelling the awaiting task stops the run; finished calls stay in the checkpoint, so
    ``resume=True`` continues it.
    """
    if sharded(workers, executor, address):
        prestart(workers, executor)
        p = plan(golden_set, models, variants, scorers, repeats=repeats, budget_usd=budget_usd,
                 seed=seed, leakage=leakage, cases=cases)
        cancel = threading.Event()
        try:
            return await asyncio.to_thread(
                run_sharded, p, workers=workers, executor=executor, address=address,
                concurrency=concurrency, cache=cache, resume=resume, progress=progress,
                retry=retry, retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                lock_timeout_s=lock_timeout_s, cancel=cancel)
        except asyncio.CancelledError:
            cancel.set()  # the workers stop; their checkpoints keep what finished
            raise
    run = _prepare(golden_set, models, variants, scorers, repeats=repeats,
                   concurrency=concurrency, budget_usd=budget_usd, cache=cache, seed=seed,
                   resume=resume, leakage=leakage, cases=cases, progress=progress,
                   retry=retry, retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                   lock_timeout_s=lock_timeout_s)
    return await run_async(run.execute(), interrupt=run.interrupt)


class RunHandle:
    """A comparison running on the engine loop (``start_compare``): watch it, stop it, await it.

    ``await handle`` (or ``handle.result()``) gives the Comparison; after ``cancel()`` that is
    the partial comparison, ``status == "interrupted"``, and ``resume=True`` continues it. This
    is what a notebook's Run / Cancel buttons need: the kernel's loop stays free meanwhile.
    """

    def __init__(self, run: _Run) -> None:
        self._run = run
        self._future = submit(run.execute())

    @property
    def progress(self) -> dict[str, Any]:
        """``done``, ``total`` calls, ``spent_usd``, ``errors``, ``cached`` so far."""
        bar = self._run.progress
        if bar is None:
            return {"done": 0, "total": self._run.plan.calls, "spent_usd": 0.0, "errors": 0,
                    "cached": 0}
        return {"done": bar.done, "total": bar.total, "spent_usd": bar.spent,
                "errors": bar.errors, "cached": bar.cached}

    def cancel(self) -> None:
        """Stop the run: calls in flight are cancelled, finished ones are kept."""
        engine_loop().call_soon_threadsafe(self._run.interrupt)

    def done(self) -> bool:
        """True once the comparison (complete or partial) is ready."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> Comparison:
        """Block until the comparison is ready (from a thread that is not the engine's)."""
        return self._future.result(timeout)

    def __await__(self) -> Generator[Any, None, Comparison]:
        return asyncio.wrap_future(self._future).__await__()


def start_compare(
    golden_set: GoldenSet,
    models: Sequence[ModelSpec | str],
    variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer] = (),
    *,
    repeats: int = 1,
    concurrency: int = 16,
    budget_usd: float | None = None,
    cache: bool | str | Path | CallCache = True,
    seed: int = 0,
    resume: bool = False,
    leakage: Leakage = "exclude",
    cases: Sequence[str] | None = None,
    progress: bool = True,
    retry: RetryPolicy | None = None,
    retry_errors: bool = False,
    fail_fast_after: int | None = FAIL_FAST_AFTER,
    lock_timeout_s: float = 0.0,
) -> RunHandle:
    """Start :func:`compare` (same arguments) on the engine loop and return at once.

    Example:
        >>> handle = start_compare(gs.sample(3, seed=2), ["sim/large"], variants,
        ...                        progress=False, cache=False)
        >>> handle.result().status   # in a notebook: ``await handle``; ``handle.cancel()``
        'complete'
    """
    return RunHandle(_prepare(golden_set, models, variants, scorers, repeats=repeats,
                   concurrency=concurrency, budget_usd=budget_usd, cache=cache, seed=seed,
                   resume=resume, leakage=leakage, cases=cases, progress=progress,
                   retry=retry, retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                   lock_timeout_s=lock_timeout_s))
