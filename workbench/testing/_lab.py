"""A throwaway JupyterLab for browser tests and screenshots, and a way to run a notebook in it.

``jupyterlab(root)`` starts JupyterLab on 127.0.0.1 with token auth on a free port (retried on
a clash), with its config, settings, workspaces and runtime dirs in a temp dir (the user's
settings never leak in), reads the URL from the ``jpserver-*.json`` it writes, and stops it by
the process group it started. ``run_all(page, lab, notebook)`` opens a notebook in a unique
workspace, runs every cell through the Run menu's ``runmenu:run-all`` command and waits on DOM
conditions (no fixed sleeps). Playwright is imported by the caller (a dev dependency).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Lab", "jupyterlab", "run_all"]


@dataclass
class Lab:
    """A running JupyterLab: its base URL, token, root dir and process."""

    url: str
    token: str
    root: Path
    process: subprocess.Popen[bytes]
    log: Path

    def api(self, method: str, path: str) -> Any:
        """Call the server's REST API (``GET /api/sessions``…) with the token."""
        request = urllib.request.Request(f"{self.url.rstrip('/')}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> int:
        """Shut down every kernel session (they outlive the page); returns how many."""
        sessions = self.api("GET", "/api/sessions") or []
        for s in sessions:
            self.api("DELETE", f"/api/sessions/{s['id']}")
        return len(sessions)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def jupyterlab(root: Path, *, env: Mapping[str, str] | None = None, timeout_s: float = 90,
               attempts: int = 3) -> Iterator[Lab]:
    """Start JupyterLab serving ``root``; stop it (its whole process group) on exit.

    Example:
        Not run as a doctest: it starts a JupyterLab server (seconds, a free port)::

            with jupyterlab(tmp_path) as lab:
                print(lab.url)
    """
    state = Path(tempfile.mkdtemp(prefix="wb-lab-"))
    dirs = {name: state / name for name in ("config", "settings", "workspaces", "runtime",
                                            "data")}
    for d in dirs.values():
        d.mkdir()
    # no "Would you like to get notified about Jupyter news?" toast over the notebook
    notes = dirs["settings"] / "@jupyterlab" / "apputils-extension"
    notes.mkdir(parents=True)
    (notes / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # a notebook starts its preferred kernel without a "Select Kernel" dialog: on a loaded
    # machine that dialog can come back after each accept, a new kernel each time
    tracker = dirs["settings"] / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text(
        json.dumps({"autoStartDefaultKernel": True}))
    base_env = {**os.environ, **(env or {}),
                "JUPYTER_CONFIG_DIR": str(dirs["config"]),
                "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
                "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
                "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
                "JUPYTER_DATA_DIR": str(dirs["data"]),
                "JUPYTER_PLATFORM_DIRS": "1"}
    last_error = ""
    for attempt in range(attempts):
        token = secrets.token_hex(16)
        port = _free_port()
        log = state / f"lab-{attempt}.log"
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip", "127.0.0.1",
               "--port", str(port), "--port-retries", "0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--ServerApp.open_browser=False", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--allow-root"]
        with open(log, "wb") as out:
            process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=base_env,
                                       start_new_session=True)
        url = _wait_for_server(process, dirs["runtime"], port, timeout_s)
        if url is None:
            _stop(process)
            last_error = log.read_text(errors="replace")[-2000:]
            continue
        lab = Lab(url=url, token=token, root=root, process=process, log=log)
        try:
            yield lab
        finally:
            try:
                lab.delete_sessions()
            except OSError:
                pass
            _stop(process)
        return
    raise RuntimeError(f"JupyterLab did not start after {attempts} attempts:\n{last_error}")


def _wait_for_server(process: subprocess.Popen[bytes], runtime: Path, port: int,
                     timeout_s: float) -> str | None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:  # exited: e.g. the port was taken meanwhile
            return None
        for info in runtime.glob("jpserver-*.json"):
            try:
                data = json.loads(info.read_text())
            except (OSError, ValueError):
                continue
            if int(data.get("port", -1)) == port and data.get("pid") == process.pid:
                return str(data["url"])
        time.sleep(0.2)
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(5)


_STALL_S = 45.0  # no prompt changed for this long and no kernel busy: a stalled run


def _run_all_command(page: Any, started: str) -> None:
    """Focus the notebook and press Run > Run All Cells until a cell shows it started."""
    for attempt in range(3):  # run-all acts on the focused panel: focus the notebook first
        page.locator(".jp-NotebookPanel .jp-Cell").first.click()
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator("[data-command='runmenu:run-all']").first.click()
        try:
            page.wait_for_function(started, timeout=15_000)
            return
        except Exception:
            if attempt == 2:
                raise


def run_all(page: Any, lab: Lab, notebook: str, *, timeout_s: float = 240) -> None:
    """Open ``notebook`` (relative to the lab's root) and run all its cells; wait until done.

    Raises AssertionError naming the cell when an output shows an error.
    """
    ms = int(timeout_s * 1000)
    workspace = f"wb{secrets.token_hex(4)}"
    page.goto(f"{lab.url.rstrip('/')}/lab/workspaces/{workspace}/tree/{notebook}"
              f"?reset&token={lab.token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=ms)
    page.wait_for_function(
        "() => document.querySelector('.jp-Dialog') !== null || document.querySelector("
        "\".jp-Notebook-ExecutionIndicator[data-status='idle']\") !== null", timeout=ms)
    if page.locator(".jp-Dialog").count():  # e.g. "Select kernel": accept the default
        page.locator(".jp-Dialog .jp-mod-accept").first.click()
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                               timeout=ms)
    started = ("() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
               ".some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))")
    _run_all_command(page, started)
    done = """() => {
        const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
        const errors = document.querySelectorAll(
            "[data-mime-type='application/vnd.jupyter.error']");
        return document.querySelector('.jp-Dialog') !== null || errors.length > 0 ||
            (prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)));
    }"""
    # what the prompts show and whether the kernel is idle: a run whose kernel was replaced
    # mid-way (a late "Select Kernel", a restarted kernel) leaves cells queued "[*]" on a
    # kernel that is gone while the new one sits idle; nothing changes any more
    progress = """() => JSON.stringify([
        [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent),
        (document.querySelector(".jp-Notebook-ExecutionIndicator") || {dataset: {}})
            .dataset.status || "none"])"""
    deadline = time.monotonic() + timeout_s
    last, still_since, reruns = "", time.monotonic(), 0
    while True:  # done, an error shown, or a dialog (e.g. a late "Select kernel") to accept
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{notebook} did not finish within {timeout_s:.0f} s; "
                                 f"the prompts and kernel state: {last}")
        try:
            page.wait_for_function(done, timeout=int(min(left, _STALL_S / 3) * 1000))
        except Exception:  # noqa: BLE001 - a slice of the wait ran out: look at progress
            now = str(page.evaluate(progress))
            if now != last:
                last, still_since = now, time.monotonic()
            elif (not now.endswith('"busy"]') and time.monotonic() - still_since > _STALL_S
                  and reruns < 2):
                reruns += 1  # stalled, no kernel busy: run everything again on this one
                _run_all_command(page, started)
                last, still_since = "", time.monotonic()
            continue
        if not page.locator(".jp-Dialog").count():
            break
        page.locator(".jp-Dialog .jp-mod-accept").first.click()
        page.wait_for_selector(".jp-Dialog", state="detached",
                               timeout=int(max(1.0, deadline - time.monotonic()) * 1000))
    errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
    if errors.count():
        raise AssertionError(f"a cell failed in {notebook}: {errors.first.inner_text()[:2000]}")
