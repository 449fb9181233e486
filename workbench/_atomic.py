"""Atomic file writes (DESIGN.md, Settled R3): a file a user keeps is whole, or as it was.

Every write goes to a temporary file in the target's own folder (so the rename never crosses a
file system), is flushed and fsynced, then renamed over the target with :func:`os.replace`,
which is atomic on POSIX and Windows. A process killed at any point leaves either the previous
file or the new one, never a truncated mix; the temporary file it may leave behind starts with
``.`` and ends with ``.tmp``.

This module sits at the bottom of the package (standard library only), so every layer may
import it: saved comparisons, reports, label files and frozen golden sets all write through it.

Example:
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_text(folder / "note.txt", "hello").read_text()
    'hello'
    >>> with atomic_write(folder / "data.bin", "wb") as fh:
    ...     _ = fh.write(b"ab")
    >>> (folder / "data.bin").read_bytes()
    b'ab'
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_write", "write_bytes", "write_text"]


def _umask() -> int:
    """The process umask, read without changing it where the OS allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, then restore at once
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""Permissions of a new file, as ``open()`` would give it (mkstemp's files are 0600)."""


def _fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: str | Path, mode: str = "w", *, encoding: str = "utf-8",
                 fsync: bool = True) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path``; on success it replaces ``path`` in one step.

    ``mode`` is ``"w"`` (text) or ``"wb"`` (bytes). When the block raises, the temporary file
    is removed and ``path`` is left untouched. An existing target keeps its permissions; a
    new file gets the usual ones (``0o666`` less the umask). ``fsync=False`` skips the flush
    to disk (for scratch files only: a power cut could then leave an empty file).

    Example:
        >>> import tempfile, pathlib
        >>> target = pathlib.Path(tempfile.mkdtemp()) / "results.json"
        >>> with atomic_write(target) as fh:
        ...     _ = fh.write("{}")
        >>> target.read_text()
        '{}'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        file_mode = target.stat().st_mode & 0o7777
    except OSError:
        file_mode = _FILE_MODE
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        fh: IO[Any] = (os.fdopen(fd, "wb") if mode == "wb"
                       else os.fdopen(fd, "w", encoding=encoding))
        with fh:
            yield fh
            fh.flush()
            if fsync:
                os.fsync(fh.fileno())
        os.chmod(tmp, file_mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        _fsync_dir(target.parent)


def write_text(path: str | Path, text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; returns the path.

    Example:
        >>> import tempfile, pathlib
        >>> write_text(pathlib.Path(tempfile.mkdtemp()) / "a.md", "# A").name
        'a.md'
    """
    with atomic_write(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; returns the path.

    Example:
        >>> import tempfile, pathlib
        >>> write_bytes(pathlib.Path(tempfile.mkdtemp()) / "a.bin", b"x").stat().st_size
        1
    """
    with atomic_write(path, "wb") as fh:
        fh.write(data)
    return Path(path)
