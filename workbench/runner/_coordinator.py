"""The coordinator of a run on several workers: one budget, one rate limit, one progress count.

Shards of a run (``workers=N``: local processes, or Ray tasks) reserve every call's estimated
cost from one :class:`Coordinator` before they make it and settle it after, and calls of a model
with ``rpm``/``tpm`` wait for a slot of one shared sliding window: the budget and the provider's
limits hold for the run as a whole, never per process. Workers also report their counts here, so
the parent shows one progress bar.

The coordinator is plain, synchronous and thread-safe. The local pool serves it from the parent
process over each worker's connection (``_pool``); on Ray it lives in an actor (``_ray``).

A shard that starts (or starts again after its worker died) takes a new epoch
(:meth:`Coordinator.begin`), so late messages of a dead attempt are ignored, then tells
:meth:`Coordinator.start` what its checkpoint says it spent (finished calls, plus reservations
without a finished call, counted as spent as in a one-process resume): that replaces whatever the
earlier attempt had spent and reserved. On Ray, where a retried shard may land on another
machine, the coordinator also keeps each shard's checkpoint lines (:meth:`Coordinator.journal`).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Coordinator", "Counts", "Window"]

WINDOW_S = 60.0
"""The rate-limit window (requests and tokens per minute), as the executor's own pacer."""


class Window:
    """A sliding-window rate limit that grants send times (slots), possibly in the future.

    ``slot(now, tokens)`` returns the earliest time at or after ``now`` (and after every slot
    granted before: first come, first served) at which one more request of ``tokens`` keeps at
    most ``rpm`` requests and ``tpm`` tokens in any window of ``window_s`` seconds. Like the
    executor's pacer, a request larger than ``tpm`` goes alone in an empty window.

    Example:
        >>> w = Window(rpm=2, tpm=None, window_s=60)
        >>> w.slot(0.0, 1), w.slot(1.0, 1), w.slot(2.0, 1)
        (0.0, 1.0, 60.0)
    """

    def __init__(self, rpm: int | None, tpm: int | None, window_s: float = WINDOW_S) -> None:
        self.rpm, self.tpm, self.window_s = rpm, tpm, window_s
        self._events: deque[tuple[float, int]] = deque()
        self._tokens = 0

    def slot(self, now: float, tokens: int) -> float:
        """Grant the next send time for a request of ``tokens`` tokens (and record it)."""
        events, w = self._events, self.window_s
        while events and now - events[0][0] >= w:
            self._tokens -= events.popleft()[1]
        t = max(now, events[-1][0]) if events else now
        if self.rpm is not None and len(events) >= self.rpm:
            t = max(t, events[len(events) - self.rpm][0] + w)
        if self.tpm is not None:
            total, i = self._tokens, 0
            while i < len(events) and events[i][0] <= t - w:
                total -= events[i][1]
                i += 1
            while i < len(events) and total + tokens > self.tpm:
                total -= events[i][1]
                t = max(t, events[i][0] + w)
                i += 1
        events.append((t, tokens))
        self._tokens += tokens
        return t


@dataclass
class Counts:
    """What one shard reported last.

    Cells done (recorded ones included), errors, cache hits, dollars spent (its ledger,
    recovered spending included).
    """

    done: int = 0
    errors: int = 0
    cached: int = 0
    spent_usd: float = 0.0


@dataclass
class _Shard:
    epoch: int = 0
    spent_usd: float = 0.0
    reserved_usd: float = 0.0
    counts: Counts = field(default_factory=Counts)
    lines: list[str] = field(default_factory=list)


class Coordinator:
    """The shared state of one run on several workers (see the module's docstring).

    Example:
        >>> c = Coordinator(budget_usd=1.0, shards=2)
        >>> a, b = c.begin(0), c.begin(1)
        >>> c.start(0, a, 0.0); c.start(1, b, 0.25)       # shard 2 resumed having spent 0.25
        >>> c.reserve(0, a, 0.5), c.reserve(1, b, 0.5)    # 0.25 + 0.5 + 0.5 > 1
        (True, False)
        >>> c.settle(0, a, 0.5, 0.4); round(c.spent_usd, 2), c.exhausted
        (0.65, True)
    """

    def __init__(self, budget_usd: float | None, shards: int) -> None:
        self.budget_usd = budget_usd
        self._lock = threading.Lock()
        self._shards = [_Shard() for _ in range(shards)]
        self._windows: dict[str, Window] = {}
        self.exhausted = False
        """True once a reservation was refused: every later one is refused too."""
        self.spent_at_stop: float | None = None
        """What the run had spent when the budget refused its first call."""
        self.stopping = False
        """Set by :meth:`stop` (Ctrl-C, a failed shard): shards asking are told to stop."""

    # ---------------------------------------------------------------- shards
    def begin(self, shard: int) -> int:
        """A shard (re)starts: its new epoch (messages of earlier attempts are ignored)."""
        with self._lock:
            s = self._shards[shard]
            s.epoch += 1
            s.reserved_usd = 0.0  # a dead attempt's calls in flight: its checkpoint counts them
            s.counts = Counts()
            return s.epoch

    def start(self, shard: int, epoch: int, spent_usd: float) -> None:
        """The shard's checkpoint says it spent ``spent_usd`` before this attempt."""
        with self._lock:
            s = self._current(shard, epoch)
            if s is not None:
                s.spent_usd = float(spent_usd)
                s.counts = Counts(spent_usd=float(spent_usd))

    def journal(self, shard: int, epoch: int, lines: list[str]) -> None:
        """Keep checkpoint lines of a shard (Ray: its retry may run on another machine)."""
        with self._lock:
            s = self._current(shard, epoch)
            if s is not None:
                s.lines.extend(lines)

    def lines(self, shard: int) -> list[str]:
        """The checkpoint lines kept for a shard (see :meth:`journal`)."""
        with self._lock:
            return list(self._shards[shard].lines)

    def _current(self, shard: int, epoch: int) -> _Shard | None:
        s = self._shards[shard]
        return s if s.epoch == epoch else None

    # ---------------------------------------------------------------- budget
    def reserve(self, shard: int, epoch: int, usd: float) -> bool:
        """Reserve ``usd`` for a call of ``shard``; False when the budget would be passed."""
        with self._lock:
            s = self._current(shard, epoch)
            if s is None:  # a message of a dead attempt: never granted
                return False
            if self.budget_usd is not None:
                if self.exhausted or (self.spent_usd + self.reserved_usd + usd
                                      > self.budget_usd):
                    if not self.exhausted:
                        self.exhausted, self.spent_at_stop = True, self.spent_usd
                    return False
            s.reserved_usd += usd
            return True

    def settle(self, shard: int, epoch: int, reserved: float, billed: float) -> None:
        """Replace a reservation of ``shard`` by what the call was billed."""
        with self._lock:
            s = self._current(shard, epoch)
            if s is not None:
                s.reserved_usd = max(0.0, s.reserved_usd - reserved)
                s.spent_usd += billed

    @property
    def spent_usd(self) -> float:
        """Spent by every shard (recovered spending included)."""
        return sum(s.spent_usd for s in self._shards)

    @property
    def reserved_usd(self) -> float:
        """Reserved by calls in flight in every shard."""
        return sum(s.reserved_usd for s in self._shards)

    # ---------------------------------------------------------------- rate limits
    def pace(self, model: str, rpm: int | None, tpm: int | None, tokens: int) -> float:
        """Seconds to wait before sending one request to ``model`` (its slot is now taken)."""
        with self._lock:
            window = self._windows.get(model)
            if window is None or (window.rpm, window.tpm) != (rpm, tpm):
                window = self._windows[model] = Window(rpm, tpm)
            now = time.monotonic()
            return max(0.0, window.slot(now, tokens) - now)

    # ---------------------------------------------------------------- progress
    def report(self, shard: int, epoch: int, counts: Counts) -> bool:
        """A shard's counts so far; returns True when the shard should stop."""
        with self._lock:
            s = self._current(shard, epoch)
            if s is not None:
                s.counts = counts
            return self.stopping

    def stop(self) -> None:
        """Ask every shard to stop (they return what finished, as after Ctrl-C)."""
        self.stopping = True

    def summary(self) -> dict[str, Any]:
        """Whether the budget stopped calls, and what had been spent then and since."""
        with self._lock:
            return {"exhausted": self.exhausted, "spent_at_stop": self.spent_at_stop,
                    "spent_usd": self.spent_usd, "reserved_usd": self.reserved_usd}

    def totals(self) -> dict[str, Any]:
        """Done, errors, cached and spent over all shards (for the one progress bar)."""
        with self._lock:
            counts = [s.counts for s in self._shards]
            return {"done": sum(c.done for c in counts), "errors": sum(c.errors for c in counts),
                    "cached": sum(c.cached for c in counts),
                    "spent_usd": sum(c.spent_usd for c in counts)}
