"""The run checkpoint: an append-only JSONL journal of reservations and finished calls.

Each finished call is appended and flushed (no fsync per call: the OS keeps flushed data when
the process is killed). On resume, recorded cells are not called again, and budget reservations
without a finished call (the calls in flight at a kill) count as spent (DESIGN.md, Settled 12).

One process at a time writes a checkpoint: :meth:`Checkpoint.acquire` takes an exclusive lock on
``<checkpoint>.lock`` (``filelock``; the operating system releases it when the holder dies, even
by SIGKILL) and records who holds it in ``<checkpoint>.owner.json``, so a second run of the same
plan is refused with a message naming the other process, or waits for it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from filelock import FileLock, Timeout

from workbench._atomic import write_text
from workbench.errors import ConfigError

from ._errors import RunError

__all__ = ["Checkpoint", "Recovered", "layout_refusal", "shard_path"]

CHECKPOINT_SCHEMA_VERSION = 1


def _alive(pid: Any) -> bool:
    """True when a process with this id runs on this machine."""
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True


@dataclass
class Recovered:
    """What an earlier, unfinished run of the same plan left behind."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Recorded call results by cell key."""
    open_reservations_usd: float = 0.0
    """Reservations with no finished call: calls in flight when the run died, counted as spent."""
    spent_usd: float = 0.0
    """What the recorded calls were billed."""


class Checkpoint:
    """Append-only journal at ``path`` for one plan (identified by its fingerprint)."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._fh: IO[str] | None = None
        self.lock_path = path.with_name(path.name + ".lock")
        self.owner_path = path.with_name(path.name + ".owner.json")
        self._lock: FileLock | None = None

    # ---------------------------------------------------------------- one writer at a time
    def acquire(self, timeout_s: float = 0.0) -> None:
        """Take the plan's exclusive lock, waiting up to ``timeout_s`` seconds (0: no wait).

        Raises:
            RunError: another process (or another run in this one) holds the lock; the
                message names it (pid, host, start time and command, as it recorded them).
        """
        if not self.try_acquire(timeout_s):
            raise self.refusal()

    def try_acquire(self, timeout_s: float = 0.0) -> bool:
        """Take the plan's exclusive lock if it is free (within ``timeout_s``); True if taken."""
        if self._lock is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.lock_path, thread_local=False)
        try:
            lock.acquire(timeout=max(0.0, timeout_s), poll_interval=0.05)
        except Timeout:
            return False
        self._lock = lock
        owner = {"pid": os.getpid(), "host": socket.gethostname(),
                 "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
                 "command": " ".join(sys.argv)[:500], "fingerprint": self.fingerprint}
        try:
            write_text(self.owner_path, json.dumps(owner, ensure_ascii=False) + "\n")
        except BaseException:
            self.release()
            raise
        return True

    def refusal(self) -> RunError:
        """The error for a run refused because another one holds the lock (names the holder)."""
        return RunError(
            f"another run of the same plan is in progress: {self._holder()}",
            where=f"checkpoint lock {self.lock_path}",
            fix=("Wait for it to finish and run again: its finished calls are in the cache "
                 "and cost nothing again (or resume it with --resume / resume=True). To "
                 "wait instead of stopping, pass lock_timeout_s=SECONDS (workbench run "
                 "--wait SECONDS); to run both at once, give one of them its own "
                 "WORKBENCH_CACHE_DIR."),
        )

    def _holder(self, patience_s: float = 1.0) -> str:
        """Who holds the lock, as it recorded itself.

        A holder that has just taken the lock may not have written ``owner.json`` yet (or an
        earlier, killed holder's file is still there): wait up to ``patience_s`` for a record
        of a live process.
        """
        host = socket.gethostname()
        deadline = time.monotonic() + patience_s
        owner: dict[str, Any] | None = None
        while True:
            try:
                owner = json.loads(self.owner_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                owner = None
            if owner is not None and (owner.get("host") != host or _alive(owner.get("pid"))):
                break
            if time.monotonic() >= deadline:
                if owner is None:
                    return "the other process has not recorded itself yet (it is starting)"
                break
            time.sleep(0.05)
        this = " (this very process: another run started here)" if (
            owner.get("pid") == os.getpid() and owner.get("host") == host) else ""
        return (f"pid {owner.get('pid')}{this} on {owner.get('host')}, started "
                f"{owner.get('started_at')}, command {owner.get('command')!r}")

    def release(self) -> None:
        """Give the lock back (also done by :meth:`close`)."""
        lock, self._lock = self._lock, None
        if lock is not None:
            self.owner_path.unlink(missing_ok=True)
            lock.release()

    @property
    def locked(self) -> bool:
        """True while this checkpoint holds its plan's lock."""
        return self._lock is not None

    def recover(self) -> Recovered:
        """Read an earlier journal of this plan (a torn last line from a kill is skipped)."""
        found = Recovered()
        if not self.path.is_file():
            return found
        reserved: dict[str, float] = {}
        with open(self.path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue  # a line cut short by a kill
                kind = entry.get("t")
                if kind == "header":
                    if entry.get("schema_version", 0) > CHECKPOINT_SCHEMA_VERSION:
                        raise ConfigError(
                            "the checkpoint was written by a newer workbench",
                            where=f"{self.path}, line {number}",
                            fix="Upgrade workbench, or run with resume=False to start over.",
                            cli_fix="Upgrade workbench, or run without --resume to start "
                            "over.",
                        )
                elif kind == "reserve":
                    reserved[entry["key"]] = reserved.get(entry["key"], 0.0) + entry["usd"]
                elif kind == "row":
                    row = entry["row"]
                    found.rows[entry["key"]] = row  # a call retried later: the last one counts
                    reserved.pop(entry["key"], None)
                    # every recorded call was paid, also one retried later (an empty answer)
                    found.spent_usd += float(row.get("billed_usd") or 0.0)
        found.open_reservations_usd = sum(reserved.values())
        return found

    def open(self, *, fresh: bool) -> None:
        """Start appending (``fresh`` truncates an earlier journal of this plan).

        Takes the plan's lock first when :meth:`acquire` was not called (refused at once when
        another process holds it).
        """
        self.acquire()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = fresh or not self.path.is_file()
        self._fh = open(self.path, "w" if new else "a", encoding="utf-8")
        self._write(
            {"t": "header", "schema_version": CHECKPOINT_SCHEMA_VERSION,
             "fingerprint": self.fingerprint, "time": time.time(), "resumed": not new}
        )

    def reserve(self, key: str, usd: float) -> None:
        """Journal a budget reservation."""
        if usd > 0:
            self._write({"t": "reserve", "key": key, "usd": usd})

    def record(self, key: str, row: dict[str, Any]) -> None:
        """Journal a finished call."""
        self._write({"t": "row", "key": key, "row": row})

    def _write(self, entry: dict[str, Any]) -> None:
        if self._fh is None:
            raise RuntimeError("checkpoint is not open")
        self._fh.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")
        self._fh.flush()

    def close(self) -> None:
        """Stop appending and give the lock back."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.release()


# ---------------------------------------------------------------- sharded runs (workers=N)
def shard_path(path: Path, shard: int, shards: int) -> Path:
    """The checkpoint of shard ``shard`` (0-based) of ``shards`` beside a plan's own ``path``.

    Example:
        >>> shard_path(Path("runs/abc.jsonl"), 0, 2).name
        'abc.w1of2.jsonl'
    """
    return path.with_name(f"{path.stem}.w{shard + 1}of{shards}{path.suffix}")


def _layouts(path: Path) -> set[int]:
    """Worker counts whose checkpoints of this plan lie beside ``path`` (1: one process)."""
    found = {1} if path.is_file() else set()
    for p in path.parent.glob(f"{path.stem}.w*of*{path.suffix}"):
        count = p.name[len(path.stem) + 2:-len(path.suffix)].partition("of")[2]
        if count.isdigit():
            found.add(int(count))
    return found


def layout_refusal(path: Path, shards: int) -> RunError | None:
    """The error for resuming with ``shards`` workers a plan that ran with another count.

    Shards are cut by the worker count, so only the same count finds their checkpoints; any
    other would call (and pay) the recorded cells again. None when this count has a
    checkpoint to resume, or no count has.
    """
    found = _layouts(path)
    if not found or shards in found:
        return None
    counts = sorted(found)
    flag = " or ".join("no --workers" if n == 1 else f"--workers {n}" for n in counts)
    arg = " or ".join(f"workers={n}" for n in counts)
    return RunError(
        f"the unfinished run of this plan ran with {' or '.join(map(str, counts))} worker "
        f"process(es), not {shards}: its checkpoints are cut by that count",
        where=f"checkpoints {path.with_name(path.stem)}*{path.suffix}",
        fix=f"Resume with {arg} (recorded calls are not paid again), or start over without "
            "resume=True.",
        cli_fix=f"Resume with {flag} (recorded calls are not paid again), or start over "
                "without --resume.")
