"""The fault suite as a table: which failure scenarios the workbench survives (issue #19).

Runs every scenario of ``tests/faults/scenarios.py`` in a temporary folder, all offline: the
fault matrix against the local fake server (429 + Retry-After, 500, connection reset, a hang
past the timeout, malformed JSON, empty content, ``finish_reason=length``, the provider dying
mid-run), SIGKILL at six points (mid-run on a request count, checkpoint append, cache write,
final save twice, MLflow logging), concurrent runs (same plan refused or waiting, two plans on
one cache) and MLflow unreachable at log time. Each scenario checks that rows are kept exactly
once, that calls paid twice stay within the calls in flight, and that the totals in MLflow
equal the sum of per-case costs. When ``tests/faults/corpus.py`` exists, the hostile-file corpus
entries join the table.

Prints one line per scenario, then ``name=value`` lines (DESIGN.md, Settled R6):

    faults_survived=N/N     every scenario (and corpus entry) whose checks held (target: all)
    matrix_survived=…  kill_survived=…  concurrent_survived=…  mlflow_survived=…
    corpus_survived=…       (or corpus=skipped when the corpus helper is absent)
    faults_seconds=…        wall time

Usage: ``python benchmarks/faults.py [--only TEXT ...] [--no-corpus]``; exits 1 when a
scenario failed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def _corpus() -> tuple[Iterable[Any], Callable[[Any], Any]] | str:
    """The corpus helper's (entries, run one) pair, or why it is skipped."""
    if not (ROOT / "tests" / "faults" / "corpus.py").is_file():
        return "tests/faults/corpus.py does not exist yet"
    try:
        module = importlib.import_module("tests.faults.corpus")
    except Exception as exc:  # noqa: BLE001 - a broken helper is reported, not fatal
        return f"tests/faults/corpus.py does not import ({type(exc).__name__}: {exc})"
    listing = next((getattr(module, n) for n in ("entries", "iter_entries", "load_entries")
                    if callable(getattr(module, n, None))), None)
    runner = next((getattr(module, n) for n in ("run_entry", "run_one", "run")
                   if callable(getattr(module, n, None))), None)
    if listing is None or runner is None:
        return "tests/faults/corpus.py has no entries()/run_entry() pair"
    return listing(), runner


def _entry_name(entry: Any) -> str:
    """An entry's name: its file relative to the corpus folder (entries are (path, expected))."""
    first = entry[0] if isinstance(entry, tuple) else entry
    if isinstance(first, Path):
        corpus = ROOT / "tests" / "faults" / "corpus"
        return str(first.relative_to(corpus)) if first.is_relative_to(corpus) else first.name
    for key in ("name", "id", "path"):
        value = first.get(key) if isinstance(first, dict) else getattr(first, key, None)
        if value:
            return str(value)
    return str(first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None,
                        help="run only scenarios whose name holds one of these texts")
    parser.add_argument("--no-corpus", action="store_true", help="leave the corpus out")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from tests.faults import scenarios

    names = [n for n in scenarios.names()
             if not args.only or any(text in n for text in args.only)]
    started = time.perf_counter()
    rows: list[tuple[str, str, bool, float, str]] = []
    with tempfile.TemporaryDirectory(prefix="wb-faults-") as tmp:
        root = Path(tmp)
        store = scenarios.mlflow_store(root)
        for i, name in enumerate(names):
            outcome = scenarios.run(name, root / f"s{i:02d}", store)
            rows.append((outcome.kind, name, outcome.ok, outcome.seconds, outcome.message))
            print(f"{'SURVIVED' if outcome.ok else 'FAILED  '} {outcome.seconds:6.1f} s  "
                  f"{name}: {outcome.message}", flush=True)
        corpus = None if args.no_corpus or args.only else _corpus()
        if isinstance(corpus, tuple):
            entries, run_one = corpus
            for entry in entries:
                name = f"corpus: {_entry_name(entry)}"
                t0 = time.perf_counter()
                try:
                    ok, seconds, message = run_one(*(entry if isinstance(entry, tuple)
                                                     else (entry,)))
                except Exception as exc:  # noqa: BLE001 - an entry that crashes fails
                    ok, seconds, message = False, time.perf_counter() - t0, repr(exc)
                message = " ".join(str(message).split())
                rows.append(("corpus", name, bool(ok), float(seconds), message))
                print(f"{'SURVIVED' if ok else 'FAILED  '} {float(seconds):6.1f} s  {name}: "
                      f"{message[:160]}", flush=True)
    total = time.perf_counter() - started
    survived = sum(ok for _, _, ok, _, _ in rows)
    print()
    print(f"faults_survived={survived}/{len(rows)}")
    for kind in ("fault", "kill", "concurrent", "mlflow", "corpus"):
        mine = [ok for k, _, ok, _, _ in rows if k == kind]
        label = "matrix" if kind == "fault" else kind
        if mine:
            print(f"{label}_survived={sum(mine)}/{len(mine)}")
    if isinstance(corpus, str):
        print(f"corpus=skipped ({corpus})")
    print(f"faults_seconds={total:.1f}")
    return 0 if survived == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
