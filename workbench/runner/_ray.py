"""Shards as Ray tasks (``executor="ray"``), the run's coordinator as a Ray actor.

The optional extra ``workbench[ray]``; imported only when a run asks for Ray (never by
``import workbench``). Each shard is a task (one CPU) that runs the one-process runner on its
worker's engine loop; the :class:`Coordinator` actor holds the run's one budget and rate limits,
its progress counts, and every shard's checkpoint lines: a task whose worker dies is retried by
Ray (``max_retries``), on any node, and resumes from those lines, so its recorded calls are not
made again. The driver merges the shards into one comparison (one MLflow parent run).

Workers need workbench installed (the same version as the driver). API keys named by the
models' ``api_key_env`` / ``headers_env``, and ``WORKBENCH_*`` / ``LITELLM_*`` settings, travel
with each task and are set in the worker only while it runs the shard.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from workbench.errors import ConfigError, WorkbenchError
from workbench.models import ModelSpec, run_sync
from workbench.scorers import ModelScorer, calls_models

from ._checkpoint import Checkpoint
from ._coordinator import Coordinator, Counts
from ._shards import (
    ShardLimits,
    ShardOutcome,
    ShardTask,
    ctrl_c,
    error_info,
    prepare_shard,
    raise_shard_error,
)

__all__ = ["MAX_RETRIES", "cluster_cpus", "connect", "run_ray"]

MAX_RETRIES = 3
"""Ray retries of a shard whose worker died (node lost, process killed)."""
_ENV_PREFIXES = ("WORKBENCH_", "LITELLM_")


def _ray() -> ModuleType:
    """The ray module, or a ConfigError saying how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ConfigError("executor='ray' needs Ray, which is not installed",
                          fix="pip install 'workbench[ray]' (or run without executor='ray')",
                          cli_fix="pip install 'workbench[ray]' (or run without --executor ray)"
                          ) from exc
    return ray


def connect(address: str | None) -> None:
    """Connect to Ray: the running connection, else ``address``, else a local instance.

    ``address="auto"`` finds a cluster started on this machine (``ray start --head``);
    ``ray://HOST:10001`` reaches a remote cluster's head (Ray client).

    Raises:
        ConfigError: Ray is not installed, or no cluster answers at ``address``.
    """
    ray = _ray()
    if ray.is_initialized():
        return
    try:
        if address is None:
            ray.init(include_dashboard=False)
        else:
            ray.init(address=address)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"no Ray cluster answered at address={address!r}: {exc}"[:600],
            fix="Start one (`ray start --head` on the head node, `ray start --address "
                "HEAD:6379` on the others) and pass address='auto' on the head or "
                "'ray://HEAD:10001' elsewhere; without an address a local Ray instance starts.",
            cli_fix="Start one (`ray start --head`, then `ray start --address HEAD:6379` on "
                    "the other nodes) and pass --address auto on the head or --address "
                    "ray://HEAD:10001 elsewhere; without --address a local instance starts.",
        ) from exc


def cluster_cpus() -> int:
    """CPUs of the connected cluster: the default number of shards on Ray."""
    return max(1, int(_ray().cluster_resources().get("CPU", 1)))


def _env(tasks: Sequence[ShardTask]) -> dict[str, str]:
    """What a shard needs from the driver's environment: keys its models name, and settings."""
    names: set[str] = set()
    p = tasks[0].plan
    specs: list[ModelSpec] = [*p.models, *(s.model for s in p.scorers
                                            if isinstance(s, ModelScorer) and calls_models(s))]
    for spec in specs:
        if spec.api_key_env:
            names.add(spec.api_key_env)
        names.update((spec.headers_env or {}).values())
    return {k: v for k, v in os.environ.items() if k in names or k.startswith(_ENV_PREFIXES)}


def run_ray(tasks: Sequence[ShardTask], budget_usd: float | None, *,
            tick: Callable[[dict[str, Any]], None], cancel: threading.Event | None = None,
            ) -> tuple[list[ShardOutcome], bool, dict[str, Any]]:
    """Run the shards as Ray tasks (Ctrl-C or ``cancel`` asks every shard to stop).

    Returns the shards' outcomes, whether the user stopped the run, and the coordinator's
    budget summary.

    Raises:
        RunError: a shard failed, or its worker died more than ``MAX_RETRIES`` times.
    """
    ray = _ray()
    actor = ray.remote(Coordinator).options(num_cpus=0, max_restarts=0)
    coordinator = actor.remote(budget_usd, len(tasks))
    remote = ray.remote(_shard_task).options(num_cpus=1, max_retries=MAX_RETRIES,
                                             retry_exceptions=False)
    env = _env(tasks)
    shard_of = {remote.remote(t, coordinator, env): t.index for t in tasks}
    pending, outcomes = list(shard_of), {}
    failed: list[tuple[int, dict[str, Any]]] = []
    interrupted = False
    cancel = cancel or threading.Event()
    try:
        with ctrl_c(cancel):
            while pending:
                if cancel.is_set() and not interrupted:
                    interrupted = True
                    coordinator.stop.remote()
                ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0.2)
                for ref in ready:
                    k = shard_of[ref]
                    try:
                        value = ray.get(ref)
                    except ray.exceptions.RayError as exc:
                        value = {"error": {"kind": None, "what": (
                            f"{type(exc).__name__} after {MAX_RETRIES} retries: {exc}")[:2000]}}
                    if isinstance(value, dict):
                        failed.append((k, value["error"]))
                        coordinator.stop.remote()
                    else:
                        outcomes[k] = value
                tick(ray.get(coordinator.totals.remote()))
        summary = ray.get(coordinator.summary.remote())
    except BaseException:  # a second Ctrl-C: stop waiting for the shards
        for ref in pending:
            ray.cancel(ref, force=True)
        raise
    finally:
        ray.kill(coordinator)
    if failed:
        k, info = failed[0]
        raise_shard_error(info, k, f"shard {k + 1} of {len(tasks)} (Ray)")
    return [outcomes[k] for k in sorted(outcomes)], interrupted, summary


# ---------------------------------------------------------------- in the Ray worker
def _shard_task(task: ShardTask, coordinator: Any, env: dict[str, str]
                ) -> ShardOutcome | dict[str, Any]:
    """A shard as a Ray task: the driver's settings for its duration, errors returned."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        return run_sync(_shard(task, coordinator))
    except WorkbenchError as exc:
        return {"error": error_info(exc)}
    finally:
        os.environ.clear()
        os.environ.update(saved)


async def _shard(task: ShardTask, coordinator: Any) -> ShardOutcome:
    loop = asyncio.get_running_loop()

    async def call(op: str, *args: Any) -> Any:
        return await asyncio.wrap_future(getattr(coordinator, op).remote(*args).future())

    def cast(op: str, *args: Any) -> None:
        getattr(coordinator, op).remote(*args)

    epoch = await call("begin", task.index)
    path = task.checkpoint_path()
    retried = epoch > 1
    task = replace(task, resume=task.resume or retried)
    tail = _sync_journal(path, await call("lines", task.index), task.resume)
    if tail:
        cast("journal", task.index, epoch, tail)
    await call("start", task.index, epoch, task.recovered_usd(path))
    holder: list[Any] = []

    def stop_if(future: Any) -> None:
        if not future.cancelled() and future.exception() is None and future.result() \
                and holder:
            loop.call_soon_threadsafe(holder[0].interrupt)

    def report(counts: Counts) -> None:
        coordinator.report.remote(task.index, epoch, counts).future().add_done_callback(stop_if)

    sink = _Sink(lambda lines: cast("journal", task.index, epoch, lines))
    checkpoint = _ForwardingCheckpoint(path, task.plan.fingerprint(), sink)
    limits = ShardLimits(task.index, epoch, task.budget, call, cast)
    run = prepare_shard(task, limits, report, checkpoint)
    holder.append(run)
    cmp = await run.execute()
    sink.flush()
    return ShardOutcome.of(task.index, cmp)


def _sync_journal(path: Path, kept: list[str], resume: bool) -> list[str]:
    """Make the local checkpoint at least what the coordinator kept.

    Returns the local lines the coordinator lacks (a retry on the same node, or a resume of a
    run made here).
    """
    if not resume:
        return []
    local = path.read_text(encoding="utf-8").splitlines(keepends=True) if path.is_file() else []
    local = [line for line in local if line.endswith("\n")]  # not a line cut by a kill
    if kept and (local[:1] != kept[:1] or len(local) < len(kept)):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, path)
        return []
    return local[len(kept):]


class _Sink:
    """Checkpoint lines sent to the coordinator once per loop turn (the order is kept)."""

    def __init__(self, send: Callable[[list[str]], None]) -> None:
        self._send = send
        self._lines: list[str] = []
        self._scheduled = False

    def __call__(self, line: str) -> None:
        self._lines.append(line)
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        self._scheduled = False
        if self._lines:
            lines, self._lines = self._lines, []
            self._send(lines)


class _ForwardingCheckpoint(Checkpoint):
    """A shard's checkpoint that also hands every line to the coordinator."""

    def __init__(self, path: Path, fingerprint: str, sink: _Sink) -> None:
        super().__init__(path, fingerprint)
        self._sink = sink

    def _write(self, entry: dict[str, Any]) -> None:
        fh: IO[str] | None = self._fh
        if fh is None:
            raise RuntimeError("checkpoint is not open")
        line = json.dumps(entry, ensure_ascii=False, default=str) + "\n"
        fh.write(line)
        fh.flush()
        self._sink(line)
