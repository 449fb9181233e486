"""A throwaway PostgreSQL cluster and a real `mlflow server` process for integration tests.

Both listen on 127.0.0.1 only, live in temp dirs, and are stopped by the code that started them
(the `postgres` postmaster through `pg_ctl stop` on its own data dir, the mlflow server by its own
process group), never by name. DESIGN.md Settled 18 and REFERENCE.md "PostgreSQL" hold the recipe.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_postgres_bin() -> Path | None:
    """The directory holding `initdb` and `pg_ctl`: Debian's versioned dirs first, then PATH."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "initdb").exists() and Path(d, "pg_ctl").exists():
            return Path(d)
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).parent
    return None


def _as_postgres_prefix() -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user then."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        raise RuntimeError("running as root without `runuser`: cannot start PostgreSQL as postgres")
    return [runuser, "-u", "postgres", "--"]


def _run(cmd: list[str], timeout: float = 60) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode:
        raise RuntimeError(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")


@dataclass
class Postgres:
    port: int
    dir: Path

    def uri(self, db: str) -> str:
        # SQLAlchemy 2.1 maps a bare postgresql:// to psycopg 3; we ship psycopg2 (REFERENCE.md).
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{db}"


@contextlib.contextmanager
def postgres(bin_dir: Path, db: str = "mlflow") -> Iterator[Postgres]:
    """A PostgreSQL cluster in a fresh temp dir on a free 127.0.0.1 port, trust auth, with `db`."""
    root = Path(tempfile.mkdtemp(prefix="wb-pg-"))
    data = root / "data"
    prefix = _as_postgres_prefix()
    if prefix:  # pytest's tmp dirs are 0700 root: give postgres a dir of its own
        shutil.chown(root, "postgres")
    root.chmod(0o700)
    port = free_port()
    started = False
    try:
        _run([*prefix, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
              "--auth=trust", "--no-sync"])
        _run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"),
              "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {root}", "-w", "start"])
        started = True
        createdb = bin_dir / "createdb"
        _run([*prefix, str(createdb if createdb.exists() else "createdb"),
              "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", db])
        yield Postgres(port, root)
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast",
                            "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class MlflowServer:
    url: str
    artifacts: Path
    log: Path


@contextlib.contextmanager
def mlflow_server(backend_uri: str, workdir: Path, start_timeout_s: float = 120
                  ) -> Iterator[MlflowServer]:
    """`mlflow server` on a free 127.0.0.1 port with a proxied artifact store under `workdir`."""
    port = free_port()
    artifacts = workdir / "artifacts"
    log = workdir / "mlflow-server.log"
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    env.pop("MLFLOW_TRACKING_URI", None)
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend_uri,
           "--artifacts-destination", str(artifacts), "--host", "127.0.0.1",
           "--port", str(port), "--workers", "1"]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                cwd=workdir, start_new_session=True)
    try:
        deadline = time.monotonic() + start_timeout_s
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"mlflow server exited {proc.returncode}:\n"
                                   f"{log.read_text(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"mlflow server not healthy after {start_timeout_s:.0f} s:\n"
                                   f"{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)
        yield MlflowServer(url, artifacts, log)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)  # the group we started: gunicorn/uvicorn workers
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        with contextlib.suppress(ProcessLookupError):  # whatever of that group is left
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
