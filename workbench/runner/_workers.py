"""``compare(..., workers=N)``: a run cut into case shards, run by several processes, merged.

``executor="local"`` runs the shards in worker processes on this machine (``_pool``);
``executor="ray"`` runs them as Ray tasks on a cluster (``_ray``, the optional extra
``workbench[ray]``). Either way: one budget and one rate limit per model for the whole run (one
coordinator every shard reserves from), one checkpoint per shard (a killed worker's shard
resumes without paying its recorded calls again), one progress bar, and one merged
:class:`Comparison` equal to a one-process run of the same plan.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from workbench.errors import ConfigError
from workbench.models import CallCache, RetryPolicy, default_cache_dir

from ._checkpoint import Checkpoint, layout_refusal, shard_path
from ._comparison import Comparison
from ._coordinator import Coordinator
from ._plan import Plan
from ._progress import _Progress
from ._run import FAIL_FAST_AFTER, RecordedConfig
from ._shards import ShardTask, merge, shard_plan, split

__all__ = ["EXECUTORS", "Executor", "check_workers", "prestart", "run_sharded", "sharded"]

Executor = Literal["local", "ray"]
EXECUTORS = ("local", "ray")


def check_workers(workers: int | None, executor: str, address: str | None) -> None:
    """Refuse a bad ``workers`` / ``executor`` / ``address`` before anything starts."""
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or workers < 1):
        raise ConfigError(f"workers={workers!r}",
                          fix="Use an integer ≥ 1 (the number of worker processes), or None.",
                          cli_fix="Give --workers an integer ≥ 1.")
    if executor not in EXECUTORS:
        raise ConfigError(f"executor={executor!r}", fix='Use "local" or "ray".',
                          cli_fix="Use --executor local or --executor ray.")
    if address is not None and executor != "ray":
        raise ConfigError(f"address={address!r} without executor='ray'",
                          fix='Pass executor="ray" with an address ("auto" or ray://HOST:10001).',
                          cli_fix="Add --executor ray, or drop --address.")


def sharded(workers: int | None, executor: str, address: str | None = None) -> bool:
    """True when a run goes to workers (more than one local process, or Ray)."""
    check_workers(workers, executor, address)
    return executor == "ray" or (workers is not None and workers > 1)


def prestart(workers: int | None, executor: str) -> None:
    """Start local workers early, so they import litellm while the parent plans."""
    if executor == "local" and workers is not None and workers > 1:
        from ._pool import start_workers

        start_workers(workers)


def run_sharded(p: Plan, *, workers: int | None, executor: str = "local",
                address: str | None = None, concurrency: int = 16,
                cache: bool | str | Path | CallCache = True, resume: bool = False,
                progress: bool = True, retry: RetryPolicy | None = None,
                recorded: Sequence[RecordedConfig] = (), retry_errors: bool = False,
                fail_fast_after: int | None = FAIL_FAST_AFTER, lock_timeout_s: float = 0.0,
                cancel: threading.Event | None = None) -> Comparison:
    """Run a plan on ``workers`` shards and merge them (see the module's docstring).

    ``concurrency`` and each model's ``max_concurrency`` are the run's: they are cut between
    the shards. ``cancel`` stops the run like Ctrl-C (what finished is kept).

    Raises:
        RunError: another run of the same plan holds its checkpoint, a resume with another
            worker count than the unfinished run's, or a shard failed.
        ConfigError: bad options, or Ray is not installed / not reachable.
    """
    check_workers(workers, executor, address)
    if not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigError(f"concurrency={concurrency!r}", fix="Use an integer ≥ 1.")
    if executor == "ray":
        from . import _ray

        _ray.connect(address)
        workers = workers or _ray.cluster_cpus()
    n_wanted = workers or 1
    cuts = split(p, n_wanted)
    n = len(cuts)
    fingerprint = p.fingerprint()
    plan_path = default_cache_dir() / "runs" / f"{fingerprint}.jsonl"
    resume = resume or retry_errors
    if resume:
        refusal = layout_refusal(plan_path, n)
        if refusal is not None:
            raise refusal
    lock = Checkpoint(plan_path, fingerprint)  # one run of a plan at a time, however sharded
    if not lock.try_acquire(lock_timeout_s):
        raise lock.refusal()
    started = time.time()
    bar = _Progress(p.calls, 0, progress, f"{p.golden_set.name} ({n} workers)")
    try:
        cache_arg: bool | str | CallCache = (
            cache if isinstance(cache, bool | CallCache) else str(cache))
        if executor == "local" and cache is True:
            cache_arg = str(default_cache_dir())  # the parent's, whatever a worker's env says
        tasks = []
        for k, cut in enumerate(cuts):
            ids = set(cut)
            tasks.append(ShardTask(
                index=k, count=n, plan=shard_plan(p, cut, k, n),
                concurrency=max(1, concurrency // n + (1 if k < concurrency % n else 0)),
                cache=cache_arg,
                checkpoint=None if executor == "ray" else str(shard_path(plan_path, k, n)),
                parent_fingerprint=fingerprint, resume=resume, retry=retry,
                retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                lock_timeout_s=lock_timeout_s, budget=p.budget_usd is not None,
                recorded=[_subset(rec, ids) for rec in recorded]))
        if executor == "ray":
            outcomes, interrupted, summary = _ray.run_ray(
                tasks, p.budget_usd, tick=lambda totals: _show(bar, totals), cancel=cancel)
        else:
            from ._pool import run_local

            coordinator = Coordinator(p.budget_usd, n)

            def tick() -> None:
                _show(bar, coordinator.totals())

            outcomes, interrupted = run_local(tasks, coordinator, tick=tick, cancel=cancel)
            summary = coordinator.summary()
    finally:
        bar.close()
        lock.release()
    return merge(p, outcomes, started=started, concurrency=concurrency,
                 exhausted=bool(summary["exhausted"]), spent_at_stop=summary["spent_at_stop"],
                 interrupted=interrupted, recorded_rows=sum(len(r.rows) for r in recorded),
                 checkpoints=str(plan_path.with_name(f"{fingerprint}.w*of{n}.jsonl")))


def _subset(rec: RecordedConfig, ids: set[str]) -> RecordedConfig:
    """A recorded configuration's rows for one shard's cases."""
    from dataclasses import replace

    return replace(rec, rows=[(c, call) for c, call in rec.rows if c.case_id in ids])


def _show(bar: _Progress, totals: dict[str, float]) -> None:
    """Bring the one progress bar to the shards' totals."""
    done = int(totals["done"])
    bar.spent, bar.errors, bar.cached = totals["spent_usd"], int(totals["errors"]), \
        int(totals["cached"])
    if bar.bar is not None and done != bar.done:
        bar.bar.set_postfix_str(f"errors={bar.errors} cached={bar.cached} "
                                f"spent=${bar.spent:.4f}", refresh=False)
        bar.bar.update(done - bar.done)
    bar.done = done
