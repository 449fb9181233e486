"""Saving is atomic and a damaged save says what is damaged and how to recover (#19 item 4)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.runner import DamagedSaveError

from .conftest import small_set

VARIANT = wb.PromptVariant("plain", user="{{ message }}")


def run(n: int = 9, model: str = "sim/large") -> wb.Comparison:
    return wb.compare(small_set(n=n), [model], [VARIANT], [wb.scorers.exact_match],
                      progress=False)


def test_a_kill_while_saving_leaves_the_previous_save_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = run()
    good.save(tmp_path / "run")
    newer = run(n=12)
    real = pd.DataFrame.to_parquet

    def killed_halfway(self: pd.DataFrame, path: Any = None, *args: Any, **kw: Any) -> Any:
        buffer = io.BytesIO()
        real(self, buffer, *args, **kw)
        half = buffer.getvalue()[: len(buffer.getvalue()) // 2]
        if isinstance(path, (str, Path)):
            Path(path).write_bytes(half)  # what a process killed while writing the file leaves
        else:
            path.write(half)
        raise KeyboardInterrupt  # stands for the SIGKILL (tests/faults kills a real process)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", killed_halfway)
    with pytest.raises(KeyboardInterrupt):
        newer.save(tmp_path / "run")
    monkeypatch.setattr(pd.DataFrame, "to_parquet", real)
    back = wb.Comparison.load(tmp_path / "run")
    assert back.results.equals(good.results)  # the previous save, whole
    assert not list((tmp_path / "run").glob(".*.tmp"))  # and no temporary file left behind


def test_a_truncated_results_file_is_named_with_the_way_back(tmp_path: Path) -> None:
    cmp = run()
    out = cmp.save(tmp_path / "run")
    (out / "results.parquet").write_bytes(b"")  # what a kill during a plain write left
    with pytest.raises(DamagedSaveError) as info:
        wb.Comparison.load(out)
    message = str(info.value)
    assert "results.parquet is damaged, empty (0 bytes)" in message
    assert "--resume" in message and "checkpoint" in message
    assert cmp.record.run.checkpoint in message  # the checkpoint to resume from is named


def test_files_from_two_saves_are_not_mixed_silently(tmp_path: Path) -> None:
    run().save(tmp_path / "a")
    run(n=12).save(tmp_path / "b")
    shutil.copy(tmp_path / "b" / "results.parquet", tmp_path / "a" / "results.parquet")
    with pytest.raises(DamagedSaveError, match="mixes two saves"):
        wb.Comparison.load(tmp_path / "a")


def test_a_missing_or_unreadable_file_is_damage_not_a_crash(tmp_path: Path) -> None:
    out = run().save(tmp_path / "run")
    (out / "score_details.parquet").unlink()
    with pytest.raises(DamagedSaveError, match="score_details.parquet is missing"):
        wb.Comparison.load(out)
    (out / "comparison.json").write_text('{"schema_version": 1, "sta')
    with pytest.raises(DamagedSaveError, match="comparison.json cannot be read"):
        wb.Comparison.load(out)
    with pytest.raises(ConfigError, match="not a saved comparison"):
        wb.Comparison.load(tmp_path / "nothing-here")


def test_a_save_from_before_the_digests_still_loads(tmp_path: Path) -> None:
    cmp = run()
    out = cmp.save(tmp_path / "run")
    meta = pd.read_json(out / "comparison.json", typ="series")
    assert "files" in meta.index
    data = json.loads((out / "comparison.json").read_text())
    del data["files"]
    (out / "comparison.json").write_text(json.dumps(data))
    assert wb.Comparison.load(out).results.equals(cmp.results)
    assert "files" not in wb.Comparison.load(out).record.model_dump()
