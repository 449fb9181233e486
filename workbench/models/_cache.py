"""The content-addressed call cache: one small JSON file per successful call.

Keys hash what determines an answer (model identity, rendered messages, response format, seed
and repeat). Files are written atomically (temp file + rename, ``workbench._atomic``), so a
cache shared by parallel processes (readers and writers alike) or a process killed mid-write
never holds a torn entry; a temporary file a kill leaves behind is never read as an entry.
Only answers are cached: failed calls and empty answers never are.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from platformdirs import user_cache_dir

from workbench._atomic import atomic_write

__all__ = ["CallCache", "cache_key", "default_cache_dir"]

CACHE_SCHEMA = 1


def default_cache_dir() -> Path:
    """``$WORKBENCH_CACHE_DIR`` if set, else the user's cache directory (``~/.cache/workbench``).

    Example:
        >>> import os; os.environ["WORKBENCH_CACHE_DIR"] = "/tmp/wb-cache"
        >>> str(default_cache_dir())
        '/tmp/wb-cache'
        >>> del os.environ["WORKBENCH_CACHE_DIR"]
    """
    given = os.environ.get("WORKBENCH_CACHE_DIR")
    return Path(given).expanduser() if given else Path(user_cache_dir("workbench", appauthor=False))


def cache_key(
    model: dict[str, Any],
    messages: list[dict[str, str]],
    *,
    response_format: Any = None,
    seed: int | None = None,
    repeat: int = 0,
) -> str:
    """sha256 of everything that determines one call's answer.

    Example:
        >>> k = cache_key({"id": "sim/large"}, [{"role": "user", "content": "hi"}])
        >>> len(k), k == cache_key({"id": "sim/large"}, [{"role": "user", "content": "hi"}])
        (64, True)
    """
    blob = json.dumps(
        {
            "v": CACHE_SCHEMA,
            "model": model,
            "messages": messages,
            "response_format": response_format,
            "seed": seed,
            "repeat": repeat,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class CallCache:
    """A directory of cached call results, ``<dir>/calls/ab/<key>.json``."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self.directory = Path(directory) if directory is not None else default_cache_dir()
        self._calls = self.directory / "calls"

    def _path(self, key: str) -> Path:
        return self._calls / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached record for a key, or None (a missing or unreadable entry is a miss)."""
        try:
            with open(self._path(key), encoding="utf-8") as fh:
                record = json.load(fh)
        except (OSError, ValueError):
            return None
        return record if isinstance(record, dict) and record.get("v") == CACHE_SCHEMA else None

    def put(self, key: str, record: dict[str, Any]) -> None:
        """Store a record atomically (last writer wins; both wrote the same answer's record).

        No fsync: an entry lost to a power cut is a cache miss, never a torn entry.
        """
        with atomic_write(self._path(key), fsync=False) as fh:
            json.dump({"v": CACHE_SCHEMA, **record}, fh, ensure_ascii=False)

    def __len__(self) -> int:
        """Number of cached calls (temporary files of unfinished writes excluded)."""
        if not self._calls.is_dir():
            return 0
        return sum(1 for p in self._calls.glob("*/*.json") if not p.name.startswith("."))
