"""Run ``workbench`` in a child process that SIGKILLs itself at a chosen point.

    python tests/faults/_child.py POINT N workbench-args...

or, from the fault scenarios, :func:`run_cli` in a process forked by a ``multiprocessing``
fork server that imported this module (and so litellm) once: children start in milliseconds
instead of seconds.

POINT is where the process dies (N counts the times the point is reached):

- ``none``: never (the parent kills it on a request count at the fake server);
- ``checkpoint``: while appending the N-th finished call to the checkpoint (half a line written);
- ``cache``: after the N-th cache entry's temporary file is written, before its rename;
- ``save``: during the final save, ``results.parquet`` fully written to its temporary file,
  not yet renamed (N is ignored);
- ``save-between``: during the final save, both tables renamed into place and
  ``comparison.json`` not yet (N is ignored);
- ``mlflow``: while logging to MLflow, at the N-th child run's per-case table.

The kill is a real SIGKILL of this process: no ``finally``, no ``atexit``, no flush.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import workbench.cli  # noqa: E402, F401 - preloaded by the fork server
import workbench.experiments  # noqa: E402, F401
from workbench.models._litellm import litellm  # noqa: E402

litellm()  # the 3-4 s import, paid once by the fork server


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def arm(point: str, n: int) -> None:
    """Patch the workbench so that this process dies at ``point``."""
    seen = [0]

    def reached() -> bool:
        seen[0] += 1
        return seen[0] >= n

    if point == "none":
        return
    if point == "checkpoint":
        import json

        from workbench.runner._checkpoint import Checkpoint

        real_record = Checkpoint.record

        def record(self: Checkpoint, key: str, row: dict[str, Any]) -> None:
            if reached() and self._fh is not None:
                line = json.dumps({"t": "row", "key": key, "row": row}, default=str)
                self._fh.write(line[: len(line) // 2])
                self._fh.flush()
                _die()
            real_record(self, key, row)

        Checkpoint.record = record  # type: ignore[method-assign]
    elif point in ("cache", "save", "save-between"):
        import workbench._atomic as atomic

        real_replace, real_fsync = atomic.os.replace, atomic.os.fsync

        def replace(src: Any, dst: Any) -> None:
            name = os.fspath(dst)
            if point == "cache" and f"{os.sep}calls{os.sep}" in name and reached():
                _die()
            if point == "save-between" and name.endswith("comparison.json"):
                _die()
            real_replace(src, dst)

        def fsync(fd: int) -> None:
            if point == "save" and ".results.parquet." in os.readlink(f"/proc/self/fd/{fd}"):
                _die()
            real_fsync(fd)

        # the os module itself: every rename and fsync of this (doomed) process passes here
        atomic.os.replace = replace  # type: ignore[assignment]
        atomic.os.fsync = fsync  # type: ignore[assignment]
    elif point == "mlflow":
        from workbench.tracking import _log

        real_table = _log._case_table

        def case_table(*args: Any, **kw: Any) -> Any:
            if reached():
                _die()
            return real_table(*args, **kw)

        _log._case_table = case_table
    else:
        raise SystemExit(f"unknown kill point {point!r}")


def run_cli(point: str, n: int, argv: list[str], cwd: str, env: dict[str, str],
            out_path: str, err_path: str) -> None:
    """The body of a forked child: its own folder, environment and output files, then
    ``workbench ARGV`` armed to die at ``point``; exits with the command's exit code."""
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, out_path), (2, err_path)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.stderr.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    arm(point, n)
    from workbench.cli import main

    code = main(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(code)


if __name__ == "__main__":
    arm(sys.argv[1], int(sys.argv[2]))
    from workbench.cli import main

    sys.exit(main(sys.argv[3:]))
