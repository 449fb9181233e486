"""The hostile-input corpus (issue #19): every file fails with a located WorkbenchError (or loads
cleanly when marked ``ok``), within 5 s, through the Python API and through ``workbench``.

The CLI half runs ``workbench.cli.main`` for each file in a child process forked from a fork
server that imported the workbench once (about 0.2 s an entry instead of 1.5 s of imports), as
many at a time as there are cores (at most four), in one test, and lists every entry that
misbehaved.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from .corpus import COMMANDS, CORPUS, LIMIT_S, Expectation, entries, run_cli, run_entry

ENTRIES = list(entries())


def test_the_corpus_is_complete_and_well_formed() -> None:
    listed = {path for path, _ in ENTRIES}
    on_disk = {p for p in CORPUS.rglob("*") if p.is_file() and "_support" not in p.parts
               and p.name != "expectations.yaml" and not (
                   p.suffix == ".yaml" and p.with_suffix(".jsonl") in listed)}  # sidecars
    assert on_disk == listed, f"unlisted: {on_disk - listed}, missing: {listed - on_disk}"
    kinds = {p.relative_to(CORPUS).parts[0] for p in listed}
    assert kinds == set(COMMANDS)
    for path, expectation in ENTRIES:
        assert expectation.command in COMMANDS, path
        if not expectation.ok:
            assert expectation.error in {"ConfigError", "DatasetError"}, path
            assert expectation.match and path.stem in expectation.match[0], (
                f"{path}: the first match must name the file (its location)")
    assert sum(not e.ok for _, e in ENTRIES) >= 80


@pytest.mark.parametrize(("path", "expectation"), ENTRIES,
                         ids=[str(p.relative_to(CORPUS)) for p, _ in ENTRIES])
def test_python_api(path: Path, expectation: Expectation) -> None:
    ok, seconds, message = run_entry(path, expectation)
    assert ok, message
    assert seconds < LIMIT_S


@pytest.mark.slow
def test_command_line() -> None:
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 2)) as pool:
        results = list(pool.map(lambda entry: (entry[0], *run_cli(*entry)), ENTRIES))
    expectation = dict(ENTRIES)
    failed = []
    for path, ok, seconds, message in results:
        if not ok and message.startswith("took "):  # slow only while sharing the cores: again,
            ok, seconds, message = run_cli(path, expectation[path])  # alone
        if not ok:
            failed.append(f"{path.relative_to(CORPUS)} ({seconds:.1f} s): {message}")
    assert not failed, "\n".join(failed)
