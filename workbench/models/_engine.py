"""The one long-lived event loop that runs every model call (DESIGN.md, Settled 3).

litellm caches its async HTTP clients per event loop, so a fresh loop per comparison breaks the
second one ("Event loop is closed"). The engine therefore keeps one loop on a daemon thread for
the life of the process. Synchronous code (scripts, and Jupyter cells, whose own loop is already
running) blocks on :func:`run_sync`; async code awaits :func:`run_async`.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["engine_loop", "run_async", "run_sync"]

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None


def engine_loop() -> asyncio.AbstractEventLoop:
    """The engine's event loop, started on first use."""
    global _loop, _thread
    with _lock:
        if _loop is None or _thread is None or not _thread.is_alive():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            thread = threading.Thread(target=run, name="workbench-engine", daemon=True)
            thread.start()
            ready.wait()
            _loop, _thread = loop, thread
            atexit.register(_shutdown, loop, thread)
        return _loop


def _shutdown(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    """At exit: cancel what still runs on the engine loop (e.g. litellm's logging worker)."""
    if not loop.is_running():
        return

    async def cancel_all() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    try:
        asyncio.run_coroutine_threadsafe(cancel_all(), loop).result(2)
    except Exception:  # noqa: S110 - best effort at interpreter exit
        pass
    loop.call_soon_threadsafe(loop.stop)
    thread.join(2)


def submit(coro: Coroutine[Any, Any, T]) -> Future[T]:
    """Schedule a coroutine on the engine loop and return its future at once."""
    loop = engine_loop()
    if threading.current_thread() is _thread:
        coro.close()
        raise RuntimeError("run_sync/run_async called from the engine thread itself")
    return asyncio.run_coroutine_threadsafe(coro, loop)


def run_sync(coro: Coroutine[Any, Any, T], *, interrupt: Callable[[], None] | None = None) -> T:
    """Run a coroutine on the engine loop and wait for its result.

    On Ctrl-C (or a Jupyter interrupt) ``interrupt`` is called on the engine loop, so the work
    can stop cleanly and return what it has; a second Ctrl-C abandons it.
    """
    future = submit(coro)
    try:
        return future.result()
    except KeyboardInterrupt:
        if interrupt is None:
            future.cancel()
            raise
        engine_loop().call_soon_threadsafe(interrupt)
        return future.result()


async def run_async(
    coro: Coroutine[Any, Any, T], *, interrupt: Callable[[], None] | None = None
) -> T:
    """Await a coroutine that runs on the engine loop (from any other event loop).

    When the awaiting task is cancelled, ``interrupt`` is called on the engine loop and the
    cancellation propagates.
    """
    future = submit(coro)
    try:
        return await asyncio.wrap_future(future)
    except asyncio.CancelledError:
        if interrupt is not None:
            engine_loop().call_soon_threadsafe(interrupt)
        else:
            future.cancel()
        raise
