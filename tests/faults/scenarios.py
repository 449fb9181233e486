"""The fault suite's scenarios, shared by ``tests/faults/test_*.py`` and ``benchmarks/faults.py``.

Each scenario builds what it needs in its own work folder (fake server on 127.0.0.1, cache,
checkpoints, golden set, experiment file), provokes one fault and checks the invariants of
issue #19:

- rows kept exactly once: one row per planned cell, none twice;
- calls paid twice ≤ calls in flight: answers with content the fake server sent more than once
  for the same prompt (Settled 12: only the calls in flight at a kill may go out again);
- totals in MLflow equal the sum of per-case costs: each child run's ``cost_total_usd`` and
  ``billed_usd`` and the parent's ``spent_usd`` against the results table;

and what the fault itself must leave behind (the error recorded, the earlier save whole, the run
marked unfinished, ...). A scenario returns a one-line summary or raises :class:`ScenarioFailed`
naming the check that failed. Kills are real SIGKILLs of a child process (``_child.py``), at a
request count of the fake server or at a named point in the code.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import multiprocessing
import os
import signal
import socket
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

import workbench as wb
from workbench.cli import main as cli_main
from workbench.models import CallCache, RetryPolicy
from workbench.runner import DamagedSaveError
from workbench.testing import serve

CONCURRENCY = 4
KEY = "sk-faults-FAKEKEY0123456789abcdef"
FAST = RetryPolicy(max_attempts=3, base_s=0.01, max_backoff_s=0.05)
LABELS = ["billing", "refund", "shipping"]


class ScenarioFailed(AssertionError):
    """A scenario's check failed (the message says which and what was seen)."""


def check(condition: bool, message: str) -> None:
    """Fail the scenario with ``message`` unless ``condition``."""
    if not condition:
        raise ScenarioFailed(message)


@dataclass(frozen=True)
class Outcome:
    """How one scenario went."""

    name: str
    kind: str
    ok: bool
    seconds: float
    message: str


# ------------------------------------------------------------------ building blocks
@contextlib.contextmanager
def environment(work: Path) -> Iterator[None]:
    """Cache, checkpoints and keys of this scenario only; MLflow never retries for minutes."""
    values = {"WORKBENCH_CACHE_DIR": str(work / "cache"), "WORKBENCH_SIM_LATENCY_SCALE": "0",
              "FAKE_PROVIDER_KEY": KEY, "LITELLM_LOCAL_MODEL_COST_MAP": "True",
              "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}
    saved = {k: os.environ.get(k) for k in [*values, "MLFLOW_TRACKING_URI"]}
    os.environ.update(values)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def golden_set(work: Path, n: int, markers: dict[int, str] | None = None, start: int = 0,
               name: str = "faults") -> Path:
    """``n`` cases (ids c000…) whose messages name their label, frozen in ``work/data``."""
    rows = []
    for i in range(start, start + n):
        message = f"case {i}: a question about {LABELS[i % 3]}"
        if markers and i in markers:
            message += f" [[fault:{markers[i]}]]"
        rows.append({"id": f"c{i:03d}", "message": message, "expected": LABELS[i % 3],
                     "difficulty": "easy" if i % 2 else "hard"})
    gs = wb.GoldenSet.from_df(pd.DataFrame(rows), name=name, slices=["difficulty"])
    return gs.freeze(work / "data")


def spec(base_url: str, **kw: Any) -> wb.ModelSpec:
    """The fake server's model, priced like a real one."""
    return wb.ModelSpec("openai/fake", api_base=base_url, api_key_env="FAKE_PROVIDER_KEY",
                        input_price_per_1m=1.0, output_price_per_1m=2.0, **kw)


def experiment_file(work: Path, data: Path, base_url: str, *, mlflow: str | None = None) -> Path:
    """An experiment file: the fake model × two variants × the set, concurrency 4."""
    body = textwrap.dedent(f"""\
        name: faults
        golden_set: {data.relative_to(work)}
        models:
          - id: openai/fake
            api_base: {base_url}
            api_key_env: FAKE_PROVIDER_KEY
            input_price_per_1m: 1.0
            output_price_per_1m: 2.0
        variants:
          - name: plain
            user: "{{{{ message }}}}"
          - name: asked
            user: "Label this: {{{{ message }}}}"
        scorers: [exact_match]
        concurrency: {CONCURRENCY}
        """)
    if mlflow:
        body += f"mlflow_experiment: {mlflow}\n"
    path = work / "experiment.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def mlflow_store(work: Path) -> str:
    """An embedded MLflow store in ``work`` (artifacts beside it, never in the repository)."""
    return f"sqlite:///{work / 'mlflow.db'}"


def prepare_experiment(store: str, name: str, work: Path) -> None:
    """Create the MLflow experiment with its artifacts under ``work``."""
    client = wb.tracking.client(store)
    if client.get_experiment_by_name(name) is None:
        client.create_experiment(name, artifact_location=(work / "mlartifacts" / name).as_uri())


def cli(*args: str) -> tuple[int, str, str]:
    """``workbench ARGS`` in this process; (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(args))
    return code, out.getvalue(), err.getvalue()


_FORKSERVER: Any = None


def _context() -> Any:
    """A fork server that has imported workbench and litellm: children start at once.

    The fork server imports the preloaded modules from the installed packages (its own
    ``sys.path`` is not the tests'); each child then imports ``tests.faults._child``, which
    costs nothing more.
    """
    global _FORKSERVER
    if _FORKSERVER is None:
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # before litellm loads
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["litellm", "workbench.cli", "workbench.experiments",
                                    "workbench.models._litellm", "workbench.testing"])
        _FORKSERVER = ctx
    return _FORKSERVER


_WARM = threading.Lock()
_WARMED = False


def warm_fork_server() -> None:
    """Start the fork server and its preloaded imports once (a no-op child), thread-safely."""
    global _WARMED
    with _WARM:
        if not _WARMED:
            process = _context().Process(target=int)
            process.start()
            process.join()
            _WARMED = True


class Child:
    """``workbench ARGS`` in a child process (forked by the fork server), output in files."""

    def __init__(self, work: Path, point: str, n: int, args: tuple[str, ...],
                 env: dict[str, str] | None = None) -> None:
        from tests.faults._child import run_cli

        number = len(list(work.glob(".child-*.out")))
        self.out_path = work / f".child-{number}.out"
        self.err_path = work / f".child-{number}.err"
        self.process = _context().Process(target=run_cli, args=(
            point, n, list(args), str(work), {**os.environ, **(env or {})},
            str(self.out_path), str(self.err_path)))
        self.process.start()

    @property
    def pid(self) -> int:
        """The child's process id."""
        return int(self.process.pid)

    def poll(self) -> int | None:
        """The exit code once ended (negative: killed by that signal), else None."""
        return None if self.process.is_alive() else self.process.exitcode

    def send_signal(self, sig: int) -> None:
        """Send ``sig`` to the child."""
        os.kill(self.pid, sig)

    def output(self) -> tuple[str, str]:
        """What the child printed so far (stdout, stderr)."""
        def read(path: Path) -> str:
            return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

        return read(self.out_path), read(self.err_path)


def child(work: Path, point: str, n: int, *args: str,
          env: dict[str, str] | None = None) -> Child:
    """``workbench ARGS`` in a child process armed to SIGKILL itself at ``point``
    (``env``: variables set for the child on top of this process's)."""
    return Child(work, point, n, args, env)


def wait_output(proc: Child, text: str, timeout: float = 60) -> str:
    """Wait until the child's stdout holds ``text``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = proc.output()[0]
        if text in out:
            return out
        if proc.poll() is not None:
            raise ScenarioFailed(f"the child ended before printing {text!r}: {out[-500:]}")
        time.sleep(0.01)
    raise ScenarioFailed(f"the child did not print {text!r} within {timeout:.0f} s")


def finish(proc: Child, timeout: float = 120) -> tuple[int, str, str]:
    """Wait for a child; (exit code, stdout, stderr). A negative code is the killing signal."""
    proc.process.join(timeout)
    if proc.process.is_alive():
        proc.process.kill()
        proc.process.join(10)
        raise ScenarioFailed(f"the child process did not end within {timeout:.0f} s: "
                             f"{proc.output()[1][-500:]}")
    out, err = proc.output()
    return int(proc.process.exitcode), out, err


def wait_requests(fake: Any, proc: Child, n: int, timeout: float = 60) -> None:
    """Block until the fake server has seen ``n`` requests (the child must still run)."""
    deadline = time.monotonic() + timeout
    while fake.requests < n:
        if proc.poll() is not None:
            raise ScenarioFailed(f"the child ended (code {proc.poll()}) before request {n}: "
                                 f"{proc.output()[1][-800:]}")
        check(time.monotonic() < deadline, f"no request {n} within {timeout:.0f} s")
        time.sleep(0.005)


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ the invariants
def rows_once(cmp: wb.Comparison, planned: int) -> None:
    """Rows kept exactly once."""
    keys = cmp.results[["case_id", "model", "variant", "repeat"]]
    check(len(cmp.results) == planned,
          f"rows kept exactly once: {len(cmp.results)} rows for {planned} planned cells")
    check(not keys.duplicated().any(), "rows kept exactly once: a cell has two rows")


def paid_twice(fake: Any) -> int:
    """Answers with content sent more than once for the same prompt."""
    return sum(n - 1 for n in fake.answered.values() if n > 1)


def at_most_in_flight(fake: Any, in_flight: int = CONCURRENCY) -> int:
    """Calls paid twice ≤ calls in flight; returns how many were."""
    twice = paid_twice(fake)
    check(twice <= in_flight, f"calls paid twice: {twice} > {in_flight} in flight")
    return twice


def mlflow_totals(cmp: wb.Comparison, store: str, experiment: str, work: Path,
                  run_id: str | None = None) -> str:
    """Totals in MLflow equal the sum of per-case costs (logging the comparison if needed)."""
    if run_id is None:
        prepare_experiment(store, experiment, work)
        run_id = wb.log_comparison(cmp, experiment, tracking_uri=store, charts=False)
    client = wb.tracking.client(store)
    parent = client.get_run(run_id)
    results = cmp.results
    billed = float(results["billed_usd"].sum()) + float(cmp.record.run.judge_billed_usd)
    check(math.isclose(parent.data.metrics["spent_usd"], billed, rel_tol=1e-9, abs_tol=1e-12),
          f"MLflow spent_usd {parent.data.metrics['spent_usd']} != sum of billed {billed}")
    children = client.search_runs([parent.info.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
    configs = results.groupby(["model", "variant"], observed=True)
    check(len(children) == configs.ngroups, f"{len(children)} child runs for {configs.ngroups} "
          "configurations")
    for child_run in children:
        tags, metrics = child_run.data.tags, child_run.data.metrics
        group = configs.get_group((tags["workbench.model"], tags["workbench.variant"]))
        for metric, column in (("cost_total_usd", "cost_usd"), ("billed_usd", "billed_usd")):
            total = float(group[column].fillna(0).sum())
            logged = metrics.get(metric, 0.0 if group[column].isna().all() else float("nan"))
            check(math.isclose(logged, total, rel_tol=1e-9, abs_tol=1e-12),
                  f"MLflow {metric} of {tags['workbench.variant']} is {logged}, the cases sum "
                  f"to {total}")
    return str(run_id)


# ------------------------------------------------------------------ the fault matrix
@dataclass(frozen=True)
class Fault:
    """Markers of one fault: transient ones heal within the retries, persistent ones do not."""

    transient: dict[int, str]
    persistent: dict[int, str]
    error: str | None = None
    """The ``error_type`` a persistent fault leaves (None: any error)."""


FAULTS: dict[str, Fault] = {
    "429 + Retry-After": Fault({2: "429x2"}, {}),
    "500": Fault({3: "500x1"}, {11: "500"}, "InternalServerError"),
    "connection reset": Fault({4: "resetx1"}, {12: "reset"}),
    "hang past timeout": Fault({5: "hangx1"}, {}),
    "malformed JSON": Fault({6: "malformedx1"}, {13: "malformed"}),
    "empty content": Fault({7: "emptyx1", 8: "blankx1"}, {14: "empty", 15: "blank"},
                           "EmptyResponse"),
    "finish_reason=length": Fault({}, {9: "length"}),
}
N_MATRIX = 20


def fault_scenario(name: str) -> Callable[[Path, str], str]:
    """The scenario of one fault of the matrix."""
    fault = FAULTS[name]

    def scenario(work: Path, store: str) -> str:
        markers = {**fault.transient, **fault.persistent}
        data = golden_set(work, N_MATRIX, markers)
        with serve(latency_ms=5, retry_after_s=0.05, hang_s=3) as srv:
            cmp = wb.compare(wb.GoldenSet.load(data), [spec(srv.base_url, timeout_s=0.5)],
                             [wb.PromptVariant("plain", user="{{ message }}")],
                             [wb.scorers.exact_match], concurrency=CONCURRENCY, retry=FAST,
                             progress=False)
            fake = srv.fake
        rows_once(cmp, N_MATRIX)
        rows = cmp.results.set_index("case_id")
        errors = set(rows.index[rows["error_type"].notna()])
        failing = {f"c{i:03d}" for i, m in fault.persistent.items() if m != "length"}
        check(errors == failing, f"errors on {sorted(errors)}, expected {sorted(failing)}")
        for case in failing:
            kind = rows.loc[case, "error_type"]
            check(fault.error is None or kind == fault.error, f"{case}: {kind} not {fault.error}")
        for i in fault.transient:
            check(int(rows.loc[f"c{i:03d}", "attempts"]) >= 2, f"c{i:03d} was not retried")
        if name == "429 + Retry-After":
            check(int(rows.loc["c002", "attempts"]) == 3, "429 twice: three attempts expected")
        if name == "finish_reason=length":
            check(rows.loc["c009", "finish_reason"] == "length", "the cut answer lost its reason")
        twice = at_most_in_flight(fake)
        check(twice == 0, f"{twice} calls paid twice without any kill")
        mlflow_totals(cmp, store, "faults-matrix", work)
        kinds = ", ".join(sorted(set(rows["error_type"].dropna()))) or "none"
        return (f"{N_MATRIX} rows once, {len(errors)} error rows ({kinds}), {fake.requests} "
                "requests, paid twice 0, MLflow totals equal")

    return scenario


def provider_dies(work: Path, store: str) -> str:
    """The provider dies mid-run: calls fail as errors; once back, --retry-errors finishes."""
    data = golden_set(work, N_MATRIX)
    gs = wb.GoldenSet.load(data)
    variants = [wb.PromptVariant("plain", user="{{ message }}")]
    with serve(latency_ms=5, die_after=8) as srv:
        model = spec(srv.base_url)
        first = wb.compare(gs, [model], variants, concurrency=CONCURRENCY, retry=FAST,
                           progress=False)
        failed = int(first.results["error_type"].notna().sum())
        check(srv.fake.dropped > 0 and failed > 0, "the provider did not die mid-run")
        rows_once(first, N_MATRIX)
        srv.fake.revive()
        before = srv.fake.requests
        cmp = wb.compare(gs, [model], variants, concurrency=CONCURRENCY, retry=FAST,
                         progress=False, retry_errors=True)
        check(srv.fake.requests - before == failed,
              f"the resumed run sent {srv.fake.requests - before} calls for {failed} failures")
        fake = srv.fake
    rows_once(cmp, N_MATRIX)
    check(cmp.complete and cmp.results["error_type"].isna().all(), "errors left after retrying")
    at_most_in_flight(fake)
    mlflow_totals(cmp, store, "faults-matrix", work)
    return (f"died after 8 requests: {failed} error rows; back up, --retry-errors called those "
            f"{failed} again; {N_MATRIX} rows once, paid twice {paid_twice(fake)}")


# ------------------------------------------------------------------ kills (SIGKILL)
N_KILL = 20  # cases; × 2 variants = 40 calls


def _kill_then_resume(work: Path, store: str, point: str, n: int, *,
                      outside_at: int | None = None,
                      after_kill: Callable[[Path, Path], str] | None = None) -> str:
    """Run `workbench run` in a child killed at ``point`` (or at request ``outside_at``), then
    resume in this process and check the invariants."""
    data = golden_set(work, N_KILL)
    with serve(latency_ms=30 if outside_at else 2) as srv:
        exp = experiment_file(work, data, srv.base_url)
        out = work / "out"
        proc = child(work, point, n, "run", str(exp), "--out", str(out), "--no-progress",
                     "--no-mlflow")
        if outside_at is not None:
            wait_requests(srv.fake, proc, outside_at)
            proc.send_signal(signal.SIGKILL)
        code, _, err = finish(proc)
        check(code == -signal.SIGKILL, f"the child was not killed (exit {code}): {err[-500:]}")
        killed_at = srv.fake.requests
        seen = after_kill(work, out) if after_kill else ""
        code, stdout, err = cli("run", str(exp), "--resume", "--out", str(out),
                                "--no-progress", "--no-mlflow")
        check(code == 0, f"the resumed run exited {code}: {err[-500:]}")
        fake = srv.fake
    cmp = wb.Comparison.load(out)
    rows_once(cmp, 2 * N_KILL)
    check(cmp.complete and cmp.results["error_type"].isna().all(), "the resumed run is not whole")
    check(len(fake.prompts) == 2 * N_KILL, "a cell was never called")
    twice = at_most_in_flight(fake)
    mlflow_totals(cmp, store, "faults-kills", work)
    return (f"killed at request {killed_at}{seen}; resumed: {2 * N_KILL} rows once, "
            f"{fake.requests - killed_at} more requests, paid twice {twice} ≤ {CONCURRENCY}")


def kill_mid_run(work: Path, store: str) -> str:
    """SIGKILL while calls are in flight (on the fake server's 15th request)."""
    return _kill_then_resume(work, store, "none", 0, outside_at=15)


def kill_checkpoint_append(work: Path, store: str) -> str:
    """SIGKILL halfway through appending a finished call to the checkpoint."""
    def torn(work: Path, out: Path) -> str:
        journal = next((work / "cache" / "runs").glob("*.jsonl"))
        lines = journal.read_text(encoding="utf-8").splitlines()
        broken = 0
        for line in lines:
            try:
                json.loads(line)
            except ValueError:
                broken += 1
        check(broken == 1 and not journal.read_text().endswith("\n"),
              f"expected one torn last line in the checkpoint, found {broken}")
        return ", the checkpoint's last line torn"

    return _kill_then_resume(work, store, "checkpoint", 12, after_kill=torn)


def kill_cache_write(work: Path, store: str) -> str:
    """SIGKILL between writing a cache entry's temporary file and renaming it."""
    def cache_ok(work: Path, out: Path) -> str:
        entries = [p for p in (work / "cache" / "calls").glob("*/*") if p.is_file()]
        leftovers = [p for p in entries if p.name.startswith(".")]
        for p in entries:
            if not p.name.startswith("."):
                record = json.loads(p.read_text(encoding="utf-8"))  # never torn
                check(bool(str(record.get("output") or "").strip()), f"empty entry {p.name}")
        check(len(leftovers) == 1, f"{len(leftovers)} temporary cache files, expected 1")
        check(len(CallCache(work / "cache")) == len(entries) - 1,
              "a temporary file counted as a cache entry")
        return f", {len(entries) - 1} cache entries whole and 1 temporary file ignored"

    return _kill_then_resume(work, store, "cache", 10, after_kill=cache_ok)


def _kill_during_save(work: Path, store: str, point: str) -> str:
    data = golden_set(work, N_KILL)
    with serve(latency_ms=2) as srv:
        exp = experiment_file(work, data, srv.base_url)
        out = work / "out"
        code, _, err = cli("run", str(exp), "--out", str(out), "--no-progress", "--no-mlflow")
        check(code == 0, f"the first run exited {code}: {err[-300:]}")
        good = wb.Comparison.load(out)
        sent = srv.fake.requests
        # the same experiment again (answered from the cache), killed while saving
        code, _, err = finish(child(work, point, 0, "run", str(exp), "--out", str(out),
                                    "--no-progress", "--no-mlflow"))
        check(code == -signal.SIGKILL, f"the child was not killed (exit {code}): {err[-500:]}")
        sizes = {p.name: p.stat().st_size for p in out.iterdir() if p.is_file()}
        check(sizes.get("results.parquet", 0) > 0, f"results.parquet truncated: {sizes}")
        if point == "save":
            back = wb.Comparison.load(out)  # the previous save, whole
            check(back.results.drop(columns="cache_hit").equals(
                good.results.drop(columns="cache_hit")), "the previous save changed")
            seen = "the previous save loads whole"
        else:
            try:
                wb.Comparison.load(out)
            except DamagedSaveError as exc:
                check("mixes two saves" in str(exc) and "--resume" in str(exc),
                      f"unclear damage message: {exc}")
                seen = "the half-renamed save is refused, naming --resume"
            else:
                raise ScenarioFailed("a save killed between its files loaded without a word")
        code, _, err = cli("run", str(exp), "--resume", "--out", str(out), "--no-progress",
                           "--no-mlflow")
        check(code == 0, f"the resumed run exited {code}: {err[-300:]}")
        check(srv.fake.requests == sent, "the resume called the provider again")
        fake = srv.fake
    cmp = wb.Comparison.load(out)
    rows_once(cmp, 2 * N_KILL)
    at_most_in_flight(fake)
    mlflow_totals(cmp, store, "faults-kills", work)
    return f"{seen}; --resume saved it again from the checkpoint, 0 calls; {2 * N_KILL} rows once"


def kill_final_save(work: Path, store: str) -> str:
    """SIGKILL during the final save, results.parquet written but not renamed."""
    return _kill_during_save(work, store, "save")


def kill_between_saved_files(work: Path, store: str) -> str:
    """SIGKILL during the final save, between renaming the tables and comparison.json."""
    return _kill_during_save(work, store, "save-between")


def kill_mlflow_logging(work: Path, store: str) -> str:
    """SIGKILL while logging to MLflow; `workbench log RUN_DIR` finishes it."""
    data = golden_set(work, N_KILL)
    prepare_experiment(store, "faults-logging", work)
    with serve(latency_ms=2) as srv:
        exp = experiment_file(work, data, srv.base_url, mlflow="faults-logging")
        out = work / "out"
        code, _, err = finish(child(work, "mlflow", 2, "run", str(exp), "--out", str(out),
                                    "--no-progress", "--tracking-uri", store))
        check(code == -signal.SIGKILL, f"the child was not killed (exit {code}): {err[-500:]}")
        fake = srv.fake
    listed = wb.list_comparisons("faults-logging", tracking_uri=store)
    check(len(listed) == 1 and listed.loc[0, "status"] == "logging unfinished",
          f"the killed run is listed as {list(listed['status'])}")
    killed = str(listed.loc[0, "run_id"])
    code, stdout, err = cli("log", str(out))
    check(code == 0, f"workbench log exited {code}: {err[-500:]}")
    listed = wb.list_comparisons("faults-logging", tracking_uri=store).set_index("run_id")
    check(listed.loc[killed, "logging"] == "superseded", "the killed run was not superseded")
    done = [r for r in listed.index if r != killed]
    check(len(done) == 1 and listed.loc[done[0], "status"] == "complete", "no complete run")
    saved = wb.Comparison.load(out)
    back = wb.load_comparison(done[0], tracking_uri=store)
    check(back.results.equals(saved.results), "the logged results differ from the saved ones")
    rows_once(back, 2 * N_KILL)
    at_most_in_flight(fake)
    mlflow_totals(back, store, "faults-logging", work, run_id=done[0])
    return (f"killed at the 2nd child run: listed 'logging unfinished'; `workbench log` logged "
            f"it whole as {done[0][:8]} and marked {killed[:8]} superseded")


# ------------------------------------------------------------------ concurrent runs
N_CONCURRENT = 16  # cases; × 2 variants = 32 calls


def two_runs_refused(work: Path, store: str) -> str:
    """The same plan twice at once: the second is refused, naming the first."""
    data = golden_set(work, N_CONCURRENT)
    with serve(latency_ms=5) as srv:
        exp = experiment_file(work, data, srv.base_url)
        srv.fake.held = True  # the calls of whichever run takes the lock wait meanwhile
        procs = {name: child(work, "none", 0, "run", str(exp), "--out", str(work / name),
                             "--no-progress", "--no-mlflow") for name in ("a", "b")}
        deadline = time.monotonic() + 60
        while all(p.poll() is None for p in procs.values()):  # one of them is refused
            check(time.monotonic() < deadline, "neither run was refused within 60 s")
            time.sleep(0.01)
        srv.fake.held = False
        ended = {name: finish(p) for name, p in procs.items()}
        refused = [n for n, (code, _, _) in ended.items() if code == 2]
        check(len(refused) == 1 and sorted(c for c, _, _ in ended.values()) == [0, 2],
              f"exit codes {[c for c, _, _ in ended.values()]}, expected one 0 and one 2")
        ran = "b" if refused[0] == "a" else "a"
        err = ended[refused[0]][2]
        holder = procs[ran]
        check("another run of the same plan is in progress" in err and
              f"pid {holder.pid}" in err, f"the refusal does not name the other run: {err[-400:]}")
        sent = srv.fake.requests
        code, _, _ = cli("run", str(exp), "--out", str(work / "c"), "--no-progress",
                         "--no-mlflow")
        check(code == 0 and srv.fake.requests == sent, "a third run was not answered "
              "from the cache")
        fake = srv.fake
    journal = next((work / "cache" / "runs").glob("*.jsonl"))
    for number, line in enumerate(journal.read_text(encoding="utf-8").splitlines(), 1):
        try:
            json.loads(line)
        except ValueError:
            raise ScenarioFailed(f"torn checkpoint line {number}") from None
    cmp = wb.Comparison.load(work / ran)
    rows_once(cmp, 2 * N_CONCURRENT)
    check(paid_twice(fake) == 0, f"{paid_twice(fake)} calls paid twice")
    mlflow_totals(cmp, store, "faults-concurrent", work)
    return (f"two runs of one plan at once: one refused (exit 2) naming the other's pid "
            f"{holder.pid}; checkpoint whole; a third run answered from the cache; paid twice 0")


def two_runs_wait(work: Path, store: str) -> str:
    """The same plan twice at once with --wait: the second waits, then reads the cache."""
    data = golden_set(work, N_CONCURRENT)
    with serve(latency_ms=5) as srv:
        exp = experiment_file(work, data, srv.base_url)
        srv.fake.held = True  # whichever run takes the lock holds it until calls go through
        procs = {name: child(work, "none", 0, "run", str(exp), "--out", str(work / name),
                             "--no-progress", "--no-mlflow", "--wait", "120")
                 for name in ("a", "b")}
        for proc in procs.values():
            wait_output(proc, "Plan for")  # printed right before each asks for the lock
        time.sleep(0.5)
        check(all(p.poll() is None for p in procs.values()), "a run did not wait")
        srv.fake.held = False
        codes = [finish(p)[0] for p in procs.values()]
        check(codes == [0, 0], f"exit codes {codes}")
        fake = srv.fake
    loaded = [wb.Comparison.load(work / name) for name in procs]
    waited = [c for c in loaded if c.results["cache_hit"].all()]
    check(len(waited) == 1, "the run that waited paid calls the other had made")
    rows_once(waited[0], 2 * N_CONCURRENT)
    check(fake.requests == 2 * N_CONCURRENT and paid_twice(fake) == 0,
          f"{fake.requests} requests, {paid_twice(fake)} paid twice")
    mlflow_totals(next(c for c in loaded if c is not waited[0]), store, "faults-concurrent",
                  work)
    return ("two runs of one plan at once with --wait: one waited for the lock, then answered "
            "all 32 calls from the cache; paid twice 0")


def shared_cache(work: Path, store: str) -> str:
    """Two different plans at once on one cache: readers and writers never see torn entries."""
    with serve(latency_ms=5) as srv:
        runs = []
        for name, start in (("one", 0), ("two", 8)):  # 16 prompts in common
            folder = work / name
            folder.mkdir()
            data = golden_set(folder, 24, start=start)
            runs.append((folder, experiment_file(folder, data, srv.base_url)))
        srv.fake.held = True  # both start their calls before either gets an answer
        procs = [child(work, "none", 0, "run", str(exp), "--out", str(folder / "out"),
                       "--no-progress", "--no-mlflow") for folder, exp in runs]
        for proc in procs:
            wait_requests(srv.fake, proc, 2 * CONCURRENCY)
        srv.fake.held = False
        codes = [finish(p)[0] for p in procs]
        check(codes == [0, 0], f"exit codes {codes}")
        sent = srv.fake.requests
        code, _, _ = cli("run", str(runs[0][1]), "--out", str(work / "again"), "--no-progress",
                         "--no-mlflow")
        check(code == 0 and srv.fake.requests == sent, "the cache did not answer a rerun")
        fake = srv.fake
    entries = [p for p in (work / "cache" / "calls").glob("*/*.json")]
    for p in entries:
        record = json.loads(p.read_text(encoding="utf-8"))
        check(record.get("v") == 1 and bool(record.get("output")), f"bad cache entry {p.name}")
    check(len(entries) == 2 * (24 + 8), f"{len(entries)} cache entries, expected 64")
    for folder, _ in runs:
        rows_once(wb.Comparison.load(folder / "out"), 48)
    twice = paid_twice(fake)
    check(twice <= 2 * 16, f"{twice} paid twice, more than the 32 calls the plans share")
    mlflow_totals(wb.Comparison.load(runs[0][0] / "out"), store, "faults-concurrent", work)
    return (f"two plans sharing 32 prompts ran at once on one cache: {len(entries)} entries, "
            f"none torn; a rerun read them all; {twice} shared prompts paid by both (no "
            "cross-process dedup)")


# ------------------------------------------------------------------ MLflow outage
def mlflow_unreachable(work: Path, store: str) -> str:
    """MLflow down at log time: results saved first, a clear error; `workbench log` later."""
    data = golden_set(work, N_KILL)
    down = f"http://127.0.0.1:{closed_port()}"
    with serve(latency_ms=2) as srv:
        exp = experiment_file(work, data, srv.base_url, mlflow="faults-outage")
        out = work / "out"
        code, _, err = cli("run", str(exp), "--out", str(out), "--no-progress",
                           "--tracking-uri", down)
        fake = srv.fake
    check(code == 2, f"workbench run exited {code} with MLflow down, not 2")
    check("TrackingError" in err and f"workbench log {out}" in err,
          f"the error does not say how to log later: {err[-600:]}")
    saved = wb.Comparison.load(out)
    rows_once(saved, 2 * N_KILL)
    prepare_experiment(store, "faults-outage", work)
    code, stdout, err = cli("log", str(out), "--tracking-uri", store)
    check(code == 0, f"workbench log exited {code}: {err[-500:]}")
    listed = wb.list_comparisons("faults-outage", tracking_uri=store)
    check(len(listed) == 1 and listed.loc[0, "status"] == "complete", "not logged complete")
    back = wb.load_comparison(str(listed.loc[0, "run_id"]), tracking_uri=store)
    check(back.results.equals(saved.results), "the logged results differ from the saved ones")
    at_most_in_flight(fake)
    mlflow_totals(back, store, "faults-outage", work, run_id=str(listed.loc[0, "run_id"]))
    return "run exited 2 naming `workbench log DIR`, results saved; logged later, whole"


# ------------------------------------------------------------------ the registry
SCENARIOS: dict[str, tuple[str, Callable[[Path, str], str]]] = {
    **{f"fault: {name}": ("fault", fault_scenario(name)) for name in FAULTS},
    "fault: provider dies mid-run": ("fault", provider_dies),
    "kill: mid-run (15th request)": ("kill", kill_mid_run),
    "kill: checkpoint append": ("kill", kill_checkpoint_append),
    "kill: cache write": ("kill", kill_cache_write),
    "kill: final save": ("kill", kill_final_save),
    "kill: final save, between files": ("kill", kill_between_saved_files),
    "kill: MLflow logging": ("kill", kill_mlflow_logging),
    "concurrent: same plan, refused": ("concurrent", two_runs_refused),
    "concurrent: same plan, --wait": ("concurrent", two_runs_wait),
    "concurrent: shared cache": ("concurrent", shared_cache),
    "mlflow: server unreachable": ("mlflow", mlflow_unreachable),
}


def names(kind: str | None = None) -> list[str]:
    """Scenario names, of one kind or all."""
    return [n for n, (k, _) in SCENARIOS.items() if kind is None or k == kind]


def run(name: str, work: Path, store: str | None = None) -> Outcome:
    """Run one scenario in ``work`` (MLflow in ``store``, default one inside ``work``)."""
    kind, scenario = SCENARIOS[name]
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with environment(work):
        try:
            message = scenario(work, store or mlflow_store(work))
            ok = True
        except ScenarioFailed as exc:
            message, ok = str(exc), False
    return Outcome(name, kind, ok, time.perf_counter() - started, message)
