"""Hostile or odd golden-set files (issue #19, items 13 and 15): DatasetErrors with file and line.

Before: JSON nested ≥ 500 deep raised RecursionError, a lone surrogate ``\\ud800`` raised
UnicodeEncodeError (both exit 1 with a traceback), and ``dataset freeze`` of
``golden set (v2).jsonl`` failed with a raw pydantic ValidationError.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from workbench.cli._main import main
from workbench.datasets import GoldenSet
from workbench.errors import DatasetError
from workbench.shadow import TrafficLog


def _line(body: str, number: int = 2) -> str:
    first = '{"id": "c1", "question": "fine", "expected": "ok"}\n'
    return first * (number - 1) + body + "\n"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"id": "c2", "question": "q", "expected": ' + "[" * 600 + "]" * 600 + "}",
         "column 'expected' is nested more than 64 levels deep"),
        ('{"id": "c2", "question": "q", "expected": ' + "[" * 5000 + "]" * 5000 + "}",
         "the JSON is nested too deeply to read"),
        ('{"id": "c2", "question": "bad \\ud800 half", "expected": "x"}',
         "column 'question' holds a lone surrogate \\ud800"),
        ('{"id": "c2", "\\udfff": "q", "question": "q"}', "holds a lone surrogate \\udfff"),
        ('{"id": "c2", "question": 1e999}', "holds the number inf, which is too large"),
        ('{"id": "c2", "question": ' + "9" * 5000 + "}", "a number has more than 4,300 digits"),
    ],
)
def test_hostile_json_lines_are_dataset_errors_with_file_and_line(
    tmp_path: Path, body: str, message: str
) -> None:
    path = tmp_path / "golden.jsonl"
    path.write_text(_line(body))
    with pytest.raises(DatasetError) as info:
        GoldenSet.load(path)
    text = str(info.value)
    assert text.startswith(f"{path}, line 2: ") and message in text, text


def test_the_cli_exits_2_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.jsonl"
    path.write_text(_line('{"id": "c2", "q": ' + "[" * 800 + "]" * 800 + "}"))
    surrogate = tmp_path / "surrogate.jsonl"
    surrogate.write_text(_line('{"id": "c2", "question": "\\ud800"}'))
    for file in (path, surrogate):
        proc = subprocess.run([sys.executable, "-m", "workbench.cli._main", "dataset", "show",
                               str(file)], capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr + proc.stdout
        assert f"DatasetError: {file}, line 2:" in proc.stderr


def test_deep_structures_in_a_csv_cell_or_a_dataframe(tmp_path: Path) -> None:
    csv = tmp_path / "deep.csv"
    csv.write_text('id,question,expected\nc1,q,"' + "[" * 200 + "]" * 200 + '"\n')
    with pytest.raises(DatasetError, match=r"deep.csv, line 2: column 'expected' is nested"):
        GoldenSet.load(csv)
    too_deep_for_json = tmp_path / "deeper.csv"  # stays text: neither JSON nor a literal
    too_deep_for_json.write_text('id,question,expected\nc1,q,"' + "[" * 3000 + '"\n')
    assert GoldenSet.load(too_deep_for_json).records()[0]["expected"] == "[" * 3000
    frame = pd.DataFrame({"id": ["a", "b"], "question": ["fine", "half \ud83d"]}, dtype=object)
    with pytest.raises(DatasetError, match=r"row 2: column 'question' holds a lone surrogate"):
        GoldenSet.from_df(frame, name="frame")


def test_csv_field_over_the_csv_module_limit_says_so(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text('id,question\nc1,"' + "x" * 200_000 + '"\n')
    with pytest.raises(DatasetError, match=r"long.csv, line 2: a field is longer than 131,072"):
        GoldenSet.load(path)


def test_formula_cells_load_as_plain_text(tmp_path: Path) -> None:
    path = tmp_path / "formulas.csv"
    path.write_text('id,question,expected\nc1,"=HYPERLINK(""http://x"",""y"")",=1+1\n'
                    "c2,@SUM(A1:A2),+cmd\n")
    records = GoldenSet.load(path).records()
    assert records[0]["question"] == '=HYPERLINK("http://x","y")'
    assert records[1]["expected"] == "+cmd"


def test_traffic_logs_share_the_checks(tmp_path: Path) -> None:
    path = tmp_path / "traffic.jsonl"
    path.write_text('{"request_id": "r1", "messages": ' + "[" * 700 + "]" * 700 + "}\n")
    with pytest.raises(DatasetError, match=r"traffic.jsonl, line 1: column 'messages' is nested"):
        TrafficLog.load(path)


# ------------------------------------------------------------------ names from file names (15)
def test_a_file_name_with_spaces_gives_a_safe_name_and_freezes(tmp_path: Path) -> None:
    path = tmp_path / "golden set (v2).jsonl"
    path.write_text('{"id": "a", "question": "q", "expected": "x"}\n')
    gs = GoldenSet.load(path)
    assert gs.name == "golden_set_v2"
    out = gs.freeze(tmp_path / "frozen")
    assert out.name == "golden_set_v2.jsonl" and GoldenSet.load(out).digest == gs.digest
    assert main(["dataset", "freeze", str(path), "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "golden_set_v2.yaml").is_file()


@pytest.mark.parametrize("stem", ["Ünïcödé — set", "...", "日本語"])
def test_unusable_stems_fall_back_to_a_valid_name(tmp_path: Path, stem: str) -> None:
    path = tmp_path / f"{stem}.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n')
    name = GoldenSet.load(path).name
    assert name in {"Unicode_set", "golden_set"}
    GoldenSet.load(path).freeze(tmp_path / "out")


def test_a_bad_explicit_name_or_stem_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text('{"id": "a", "question": "q"}\n')
    with pytest.raises(DatasetError, match=r"the name 'my set' is not usable.*'my_set'"):
        GoldenSet.load(path, name="my set")
    gs = GoldenSet.load(path)
    with pytest.raises(DatasetError, match="is not a plain file name"):
        gs.freeze(tmp_path / "out", stem="../escape")
    assert not (tmp_path / "escape.jsonl").exists()
    assert main(["dataset", "freeze", str(path), "--out", str(tmp_path), "--stem", "a/b"]) == 2
    assert "not a plain file name" in capsys.readouterr().err


def test_freeze_writes_nothing_when_it_cannot_write_a_valid_manifest(tmp_path: Path) -> None:
    path = tmp_path / "ok.jsonl"
    path.write_text(json.dumps({"id": "a", "question": "q"}) + "\n")
    gs = GoldenSet(GoldenSet.load(path).df, name="bad name")  # bypasses load's checks
    with pytest.raises(DatasetError, match="the name 'bad name' is not usable"):
        gs.freeze(tmp_path / "out")
    assert not (tmp_path / "out").exists()
