"""The run checkpoint: an append-only JSONL journal of reservations and finished calls.

Each finished call is appended and flushed (no fsync per call: the OS keeps flushed data when
the process is killed). On resume, recorded cells are not called again, and budget reservations
without a finished call (the calls in flight at a kill) count as spent (DESIGN.md, Settled 12).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from workbench.errors import ConfigError

__all__ = ["Checkpoint", "Recovered"]

SCHEMA_VERSION = 1


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
                    if entry.get("schema_version", 0) > SCHEMA_VERSION:
                        raise ConfigError(
                            "the checkpoint was written by a newer workbench",
                            where=f"{self.path}, line {number}",
                            fix="Upgrade workbench, or run with resume=False to start over.",
                        )
                elif kind == "reserve":
                    reserved[entry["key"]] = reserved.get(entry["key"], 0.0) + entry["usd"]
                elif kind == "row":
                    row = entry["row"]
                    found.rows[entry["key"]] = row
                    reserved.pop(entry["key"], None)
        found.spent_usd = sum(float(r.get("billed_usd") or 0.0) for r in found.rows.values())
        found.open_reservations_usd = sum(reserved.values())
        return found

    def open(self, *, fresh: bool) -> None:
        """Start appending (``fresh`` truncates an earlier journal of this plan)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = fresh or not self.path.is_file()
        self._fh = open(self.path, "w" if new else "a", encoding="utf-8")
        self._write(
            {"t": "header", "schema_version": SCHEMA_VERSION, "fingerprint": self.fingerprint,
             "time": time.time(), "resumed": not new}
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
        """Stop appending."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
