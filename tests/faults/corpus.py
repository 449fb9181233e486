"""The hostile-input corpus (issue #19): files that must fail cleanly, or load cleanly.

``corpus/<kind>/`` holds golden sets, experiment files, gates files, templates and traffic logs;
``corpus/expectations.yaml`` maps each file (path relative to ``corpus/``) to what loading it
must do::

    golden/deep_nesting.jsonl:
      command: golden            # how to load it (see COMMANDS)
      error: DatasetError        # the WorkbenchError subclass expected
      match: ["deep_nesting.jsonl, line 2", "nested more than 64 levels"]

or ``ok: true`` for a file that must load without error. Folders named ``_support`` hold the
small valid files the entries need (a golden set for experiments and templates).

Two ways to run an entry, both usable from a benchmark script::

    from tests.faults.corpus import entries, run_entry, run_cli
    for path, expectation in entries():
        ok, seconds, message = run_entry(path, expectation)          # the Python API
        ok, seconds, message = run_cli(path, expectation)            # the `workbench` command

``ok`` is True when the entry behaved as expected (the right error class, every ``match``
substring, a location, no traceback, within ``LIMIT_S``); ``message`` is the error text (or
what went wrong).
"""

from __future__ import annotations

import shutil
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

CORPUS = Path(__file__).resolve().parent / "corpus"
EXPECTATIONS = CORPUS / "expectations.yaml"
LIMIT_S = 5.0
"""Each entry must fail (or load) within this many seconds, through the API and the CLI."""
COMMANDS = ("golden", "experiment", "gates", "template", "traffic")

__all__ = ["COMMANDS", "CORPUS", "LIMIT_S", "Expectation", "cli_argv", "entries", "run_cli",
           "run_entry"]


@dataclass(frozen=True)
class Expectation:
    """What loading one corpus file must do."""

    command: str
    """How to load it: golden, experiment, gates, template or traffic."""
    error: str | None = None
    """The WorkbenchError subclass expected (None when ``ok``)."""
    match: tuple[str, ...] = field(default_factory=tuple)
    """Substrings the error message must contain (the file and line, and what is wrong)."""
    ok: bool = False
    """The file must load cleanly instead."""
    note: str = ""
    """Why the file is in the corpus."""


def entries() -> Iterator[tuple[Path, Expectation]]:
    """Every corpus entry, in file order of ``expectations.yaml``: (absolute path, expectation)."""
    data = yaml.safe_load(EXPECTATIONS.read_text(encoding="utf-8"))
    for rel, spec in data.items():
        match = spec.get("match", ())
        yield CORPUS / rel, Expectation(
            command=spec["command"],
            error=spec.get("error"),
            match=(match,) if isinstance(match, str) else tuple(match),
            ok=bool(spec.get("ok", False)),
            note=spec.get("note", ""),
        )


# ---------------------------------------------------------------------- the Python API
def _golden(path: Path) -> None:
    from workbench.datasets import GoldenSet

    GoldenSet.load(path).check(progress=False)


def _experiment(path: Path) -> None:
    from workbench.experiments import load_experiment

    load_experiment(path).plan()


def _gates(path: Path) -> None:
    from workbench.stats import Gates

    Gates.load(path)


def _template(path: Path) -> None:
    from workbench.datasets import GoldenSet
    from workbench.prompts import PromptVariant

    golden = GoldenSet.load(CORPUS / "template" / "_support" / "golden.jsonl")
    variant = PromptVariant(path.name, user=path.read_text(encoding="utf-8"))
    variant.check(golden)
    for row in golden.records():
        variant.render(row)


def _traffic(path: Path) -> None:
    from workbench.shadow import TrafficLog

    TrafficLog.load(path)


_LOADERS: dict[str, Callable[[Path], None]] = {
    "golden": _golden, "experiment": _experiment, "gates": _gates, "template": _template,
    "traffic": _traffic,
}


def _judge(expectation: Expectation, error: str | None, message: str,
           seconds: float) -> tuple[bool, str]:
    """Whether an outcome meets the expectation, and what was wrong if not."""
    if expectation.ok:
        return error is None, message if error is not None else ""
    if error is None:
        return False, "loaded without error"
    missing = [m for m in expectation.match if m not in message]
    problems = []
    if error != expectation.error:
        problems.append(f"raised {error}, expected {expectation.error}")
    if missing:
        problems.append(f"message lacks {missing}")
    if "Traceback" in message:
        problems.append("a traceback was shown")
    if seconds > LIMIT_S:
        problems.append(f"took {seconds:.1f} s (limit {LIMIT_S:g} s)")
    return not problems, "; ".join(problems)


def run_entry(path: Path, expectation: Expectation) -> tuple[bool, float, str]:
    """Load one entry through the Python API: (as expected?, seconds, message or problem).

    Any exception that is not a WorkbenchError counts as a failure (a crash).
    """
    from workbench.errors import WorkbenchError

    start = time.perf_counter()
    error: str | None = None
    message = ""
    try:
        _LOADERS[expectation.command](path)
    except WorkbenchError as exc:
        error, message = type(exc).__name__, str(exc)
    except BaseException as exc:  # a crash: report it, never let it escape a benchmark loop
        seconds = time.perf_counter() - start
        return False, seconds, f"crashed with {type(exc).__name__}: {str(exc)[:300]}"
    seconds = time.perf_counter() - start
    ok, problem = _judge(expectation, error, message, seconds)
    return ok, seconds, message if ok else f"{problem} -- {message[:500]}"


# ---------------------------------------------------------------------- the command line
def _template_experiment(path: Path, workdir: Path) -> Path:
    """An experiment file in ``workdir`` whose only variant is the template, on a small set."""
    shutil.copy(CORPUS / "template" / "_support" / "golden.jsonl", workdir / "golden.jsonl")
    shutil.copy(path, workdir / path.name)
    experiment = workdir / "experiment.yaml"
    experiment.write_text(textwrap.dedent(f"""\
        golden_set: golden.jsonl
        models: [sim/large]
        variants:
          - name: {path.name}
            user_file: {path.name}
        """), encoding="utf-8")
    return experiment


def cli_argv(path: Path, expectation: Expectation, workdir: Path) -> list[str]:
    """The ``workbench`` arguments that load the entry (files it writes go to ``workdir``)."""
    command = expectation.command
    if command == "golden":
        return ["dataset", "check", str(path), "--no-progress"]
    if command == "experiment":
        return ["run", str(path), "--dry-run", "--no-progress", "--no-mlflow"]
    if command == "gates":
        return ["gate", "--run-id", "corpus-has-no-run", "--gates", str(path)]
    if command == "template":
        return ["run", str(_template_experiment(path, workdir)), "--dry-run", "--no-progress",
                "--no-mlflow"]
    if command == "traffic":
        return ["shadow", "--log", str(path), "--candidate", "sim/small", "--no-judge",
                "--no-progress", "--no-cache", "--out", str(workdir / "shadow_report.html")]
    raise ValueError(f"unknown command {command!r}; use one of {COMMANDS}")


def run_cli(path: Path, expectation: Expectation,
            timeout_s: float = 60.0) -> tuple[bool, float, str]:
    """Load one entry through ``workbench``'s command line in a child process.

    The child is forked by the fault scenarios' fork server, which imported the workbench and
    litellm once, and runs ``workbench.cli.main(ARGS)`` (what the ``workbench`` script calls;
    the demo test runs the script itself), so each entry costs its own work, not 1.5 s of
    imports. Expected: exit code 2 and ``<ErrorClass>: <message>`` on stderr for an error entry
    (exit 0 for an ``ok`` entry), no "Traceback" on stdout or stderr, within ``LIMIT_S``.
    """
    from .scenarios import child, warm_fork_server

    warm_fork_server()  # its one-time imports are not the entry's time
    with tempfile.TemporaryDirectory(prefix="wb-corpus-") as tmp:
        workdir = Path(tmp)
        start = time.perf_counter()
        proc = child(workdir, "none", 0, *cli_argv(path, expectation, workdir),
                     env={"WORKBENCH_CACHE_DIR": str(workdir / "cache"),
                          "MLFLOW_TRACKING_URI": f"sqlite:///{workdir / 'mlflow.db'}"})
        while proc.poll() is None:
            if time.perf_counter() - start > timeout_s:
                proc.send_signal(9)
                return False, time.perf_counter() - start, f"no answer within {timeout_s:g} s"
            time.sleep(0.02)
        seconds = time.perf_counter() - start
        returncode = proc.poll()
        stdout, stderr = proc.output()
    output = stdout + stderr
    if expectation.ok:
        ok = returncode == 0 and "Traceback" not in output
        return ok, seconds, "" if ok else f"exit {returncode}: {output[-500:]}"
    first = next((line for line in stderr.splitlines() if ": " in line), "")
    error, _, _ = first.partition(": ")
    ok, problem = _judge(expectation, error or None, stderr, seconds)
    if returncode != 2:
        ok, problem = False, f"exit code {returncode}, expected 2; {problem}"
    if "Traceback" in output:
        ok, problem = False, f"a traceback was printed; {problem}"
    return ok, seconds, stderr.strip() if ok else f"{problem} -- {output[-800:]}"
