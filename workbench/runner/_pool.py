"""Worker processes on this machine for ``workers=N``: a pool that lives as long as the process.

Each worker is a fresh interpreter (``python -m workbench.runner._worker``: spawned, never
forked, so the parent's engine-loop thread and litellm clients are not copied, and a script's
``__main__`` is never imported again) connected to the parent by a socket pair. It imports
litellm once, then runs shards: the parent sends a task (its environment, working directory and
``sys.path``, then the shard's plan, pickled with cloudpickle so scorers defined in a notebook
travel too); the worker runs it on its own engine loop and answers with the shard's outcome.

While a shard runs, the worker asks the parent's :class:`Coordinator` for budget reservations
and rate-limit slots, and reports its counts; the parent serves every worker from one loop
(:func:`run_local`) and shows one progress bar. A worker that dies (killed, out of memory) is
replaced and its shard resumed from its checkpoint: recorded calls are not made again, only the
calls it had in flight may reach the provider twice. Idle workers stay for the next run (the
litellm import is paid once) and exit when the parent exits or after ten idle minutes;
:func:`shutdown_workers` ends them at once.
"""

from __future__ import annotations

import atexit
import itertools
import os
import pickle
import socket
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection, wait
from typing import Any

from ._coordinator import Coordinator
from ._shards import ShardOutcome, ShardTask, ctrl_c, raise_shard_error

__all__ = ["run_local", "shutdown_workers", "start_workers"]

IDLE_EXIT_S = 600.0
"""An idle worker exits after this long without a task."""
MAX_ATTEMPTS = 3
"""Attempts per shard: a shard whose worker died this many times stops the run."""
_OPS = frozenset({"begin", "start", "reserve", "settle", "pace", "report"})
"""What a worker may ask of the coordinator."""


@dataclass(eq=False)
class _Worker:
    proc: subprocess.Popen[bytes]
    conn: Connection
    shard: int | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None and not self.conn.closed

    def send(self, message: Any) -> bool:
        try:
            self.conn.send(message)
            return True
        except OSError:  # it died; the dispatcher sees the end of its connection
            return False

    def end(self, timeout: float = 2.0) -> None:
        """Stop the worker (politely, then by force) and reap it."""
        self.send(("stop",))
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.conn.close()


_lock = threading.Lock()
_idle: list[_Worker] = []


def _spawn() -> _Worker:
    """Start one worker process connected by a socket pair."""
    mine, theirs = socket.socketpair()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "workbench.runner._worker", str(theirs.fileno())],
            pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True)
    finally:
        theirs.close()
    return _Worker(proc, Connection(mine.detach()))


def start_workers(n: int) -> None:
    """Have ``n`` idle workers ready (starting the missing ones without waiting for them).

    Called before planning, so the workers import litellm while the parent plans.
    """
    with _lock:
        _idle[:] = [w for w in _idle if w.alive()]
        _idle.extend(_spawn() for _ in range(max(0, n - len(_idle))))


def _checkout() -> _Worker:
    with _lock:
        while _idle:
            worker = _idle.pop(0)
            if worker.alive():
                return worker
    return _spawn()


def _checkin(worker: _Worker) -> None:
    worker.shard = None
    if worker.alive():
        with _lock:
            _idle.append(worker)


def shutdown_workers() -> None:
    """End the idle worker processes of ``workers=N`` runs (they restart when next needed).

    Example:
        >>> from workbench.runner import shutdown_workers
        >>> shutdown_workers()
    """
    with _lock:
        workers, _idle[:] = list(_idle), []
    for worker in workers:
        worker.end()


atexit.register(shutdown_workers)


def _context() -> dict[str, Any]:
    """What a worker takes over from the parent before each task (as a fresh spawn would)."""
    return {"env": dict(os.environ), "cwd": os.getcwd(), "sys_path": list(sys.path)}


@dataclass
class _State:
    """The dispatcher's view of one run."""

    tasks: Sequence[ShardTask]
    payloads: dict[int, bytes] = field(default_factory=dict)
    attempts: list[int] = field(default_factory=list)
    outcomes: dict[int, ShardOutcome] = field(default_factory=dict)
    failed: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    running: dict[Connection, _Worker] = field(default_factory=dict)
    waiting: deque[int] = field(default_factory=deque)
    stopping: bool = False


def _payload(task: ShardTask) -> bytes:
    import cloudpickle  # type: ignore[import-untyped]

    return pickle.dumps((_context(), cloudpickle.dumps(task)), protocol=pickle.HIGHEST_PROTOCOL)


def run_local(tasks: Sequence[ShardTask], coordinator: Coordinator, *,
              tick: Callable[[], None], cancel: threading.Event | None = None,
              ) -> tuple[list[ShardOutcome], bool]:
    """Run the shards on local workers; returns their outcomes and whether the user stopped it.

    Serves the workers' coordinator requests from this thread; ``tick`` is called about five
    times a second (the progress bar). Ctrl-C (or ``cancel``) asks every worker to stop and
    keeps what finished; a second Ctrl-C ends the workers at once.

    Raises:
        RunError: a shard's worker died ``MAX_ATTEMPTS`` times, or a shard failed (the first
            shard's error is raised again once the others have stopped).
    """
    state = _State(tasks, attempts=[0] * len(tasks), waiting=deque(range(len(tasks))))
    interrupted = False
    cancel = cancel or threading.Event()
    try:
        with ctrl_c(cancel):
            while state.waiting or state.running:
                if cancel.is_set() and not interrupted:
                    interrupted = True
                    _stop_all(state, coordinator)
                _dispatch(state)
                for conn in wait(list(state.running), timeout=0.2):
                    _serve(state, state.running[conn], coordinator)  # type: ignore[index]
                tick()
    except BaseException:  # a second Ctrl-C, or a bug here: end the workers now
        for worker in list(state.running.values()):
            worker.proc.kill()
            worker.end()
        raise
    tick()
    if state.failed:
        shard, info = state.failed[0]
        raise_shard_error(info, shard, f"shard {shard + 1} of {len(tasks)}")
    return [state.outcomes[k] for k in sorted(state.outcomes)], interrupted


def _dispatch(state: _State) -> None:
    """Give waiting shards to workers (never after a stop)."""
    while state.waiting and not state.stopping:
        k = state.waiting.popleft()
        if k not in state.payloads:
            state.payloads[k] = _payload(state.tasks[k])
        worker = _checkout()
        worker.shard = k
        state.attempts[k] += 1
        state.running[worker.conn] = worker
        worker.send(("task", state.payloads[k]))


def _stop_all(state: _State, coordinator: Coordinator) -> None:
    state.stopping = True
    state.waiting.clear()
    coordinator.stop()
    for worker in state.running.values():
        worker.send(("interrupt",))


def _serve(state: _State, worker: _Worker, coordinator: Coordinator) -> None:
    """Handle everything a worker has sent; replace it when it died."""
    try:
        while worker.conn.poll():
            message = worker.conn.recv()
            kind = message[0]
            if kind == "call":
                _, ident, op, args = message
                worker.send(("reply", ident, getattr(coordinator, op)(*args)
                             if op in _OPS else None))
            elif kind == "cast" and message[1] in _OPS:
                getattr(coordinator, message[1])(*message[2])
            elif kind == "done":
                assert worker.shard is not None
                state.outcomes[worker.shard] = pickle.loads(message[2])
                del state.running[worker.conn]
                _checkin(worker)
                return
            elif kind == "failed":
                assert worker.shard is not None
                state.failed.append((worker.shard, message[2]))
                del state.running[worker.conn]
                _checkin(worker)
                _stop_all(state, coordinator)
                return
    except (EOFError, OSError):
        _died(state, worker, coordinator)


def _died(state: _State, worker: _Worker, coordinator: Coordinator) -> None:
    """A worker died mid-shard: resume its shard in a new worker (its checkpoint has the rest)."""
    del state.running[worker.conn]
    worker.conn.close()
    try:
        code = worker.proc.wait(10)
    except subprocess.TimeoutExpired:
        worker.proc.kill()
        code = worker.proc.wait(5)
    k = worker.shard
    assert k is not None
    if state.stopping:
        return
    if state.attempts[k] >= MAX_ATTEMPTS:
        _stop_all(state, coordinator)
        state.failed.append((k, {"kind": "RunError", "what": (
            f"the worker process of shard {k + 1} died {state.attempts[k]} times (last exit "
            f"code {code}): the run stopped"), "fix": (
            "Look for what kills it (memory, an OOM killer, a scorer that crashes the "
            "interpreter). The finished calls are in the shard's checkpoint: rerunning with "
            "resume=True and the same workers pays none of them again."),
            "cli_fix": "Look for what kills it (memory, a scorer crashing the interpreter); "
            "then rerun with --resume and the same --workers: finished calls are not paid "
            "again."}))
        return
    state.payloads[k] = _payload(replace(state.tasks[k], resume=True))  # from its checkpoint
    state.waiting.appendleft(k)


# ---------------------------------------------------------------- the worker's side
def worker_main(fd: int) -> None:
    """The body of a worker process: run the shards the parent sends (see the module doc)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    conn = Connection(fd)
    from workbench.models import litellm

    litellm()  # the slow imports, before the first task arrives
    _warm_openai()
    _WorkerSide(conn).serve()


def _warm_openai() -> None:
    """Make the imports of litellm's first OpenAI-style call now (about a second of CPU).

    Building a client and touching ``chat.completions`` imports the OpenAI SDK's resources and
    types without any network; a worker does it while the parent plans, not in its first call.
    """
    try:
        import openai

        client = openai.AsyncOpenAI(api_key="unused", base_url="http://127.0.0.1:9/v1")
        _ = client.chat.completions
    except Exception:  # noqa: BLE001, S110 - only a head start: the first call imports it anyway
        pass


class _WorkerSide:
    """The worker's reader loop (main thread) and its shard on the engine loop."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._send_lock = threading.Lock()
        self._ids = itertools.count()
        self._pending: dict[int, Any] = {}
        self.run: Any = None
        self.interrupted = False

    def send(self, message: Any) -> None:
        with self._send_lock:
            self.conn.send(message)

    def serve(self) -> None:
        from workbench.models import engine_loop

        while True:
            try:
                if not self.conn.poll(IDLE_EXIT_S) and self.run is None:
                    return
                message = self.conn.recv()
            except (EOFError, OSError):
                os._exit(0)  # the parent is gone: what finished is in the checkpoint
            kind = message[0]
            if kind == "task":
                self._start(message[1])
            elif kind == "reply":
                future = self._pending.pop(message[1], None)
                if future is not None:
                    engine_loop().call_soon_threadsafe(_resolve, future, message[2])
            elif kind == "interrupt":
                self.interrupted = True
                if self.run is not None:
                    engine_loop().call_soon_threadsafe(self.run.interrupt)
            elif kind == "stop":
                return

    def _start(self, payload: bytes) -> None:
        from workbench.models import submit

        context, task_bytes = pickle.loads(payload)
        os.environ.clear()
        os.environ.update(context["env"])
        sys.path[:] = context["sys_path"]
        try:
            os.chdir(context["cwd"])
        except OSError:
            pass
        self.interrupted = False
        try:
            import cloudpickle

            task: ShardTask = cloudpickle.loads(task_bytes)
        except BaseException as exc:  # e.g. a scorer's module is not importable here
            from ._shards import error_info

            self.send(("failed", -1, error_info(exc)))
            return
        future = submit(self._shard(task))
        future.add_done_callback(lambda f: self._finished(task, f))

    async def _shard(self, task: ShardTask) -> ShardOutcome:
        from ._coordinator import Counts
        from ._shards import ShardLimits, prepare_shard

        base = task.recovered_usd()
        epoch = await self.call("begin", task.index)
        await self.call("start", task.index, epoch, base)

        def report(counts: Counts) -> None:
            self.cast("report", task.index, epoch, counts)

        limits = ShardLimits(task.index, epoch, task.budget, self.call, self.cast)
        self.run = run = prepare_shard(task, limits, report)
        if self.interrupted:
            run.interrupt()
        cmp = await run.execute()
        path = run.checkpoint.path
        files = (path.with_name(path.stem + ".results.parquet"),
                 path.with_name(path.stem + ".details.parquet"))
        return ShardOutcome.of(task.index, cmp, files)

    def _finished(self, task: ShardTask, future: Any) -> None:
        self.run = None
        try:
            outcome = future.result()
        except BaseException as exc:
            from ._shards import error_info

            self.send(("failed", task.index, error_info(exc)))
            return
        self.send(("done", task.index, pickle.dumps(outcome)))

    async def call(self, op: str, *args: Any) -> Any:
        import asyncio

        future = asyncio.get_running_loop().create_future()
        ident = next(self._ids)
        self._pending[ident] = future
        self.send(("call", ident, op, args))
        return await future

    def cast(self, op: str, *args: Any) -> None:
        self.send(("cast", op, args))


def _resolve(future: Any, value: Any) -> None:
    if not future.done():
        future.set_result(value)

