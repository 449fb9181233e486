"""Every validation error names the file, the line (or id) and the fix — on real files."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from workbench.datasets import GoldenSet
from workbench.errors import DatasetError, WorkbenchError

SLICES = ["difficulty"]


def load_error(path: Path, **kwargs: object) -> DatasetError:
    with pytest.raises(DatasetError) as info:
        GoldenSet.load(path, **kwargs)  # type: ignore[arg-type]
    return info.value


def test_valid_file_loads(fixtures: Path) -> None:
    gs = GoldenSet.load(fixtures / "valid.jsonl", slices=SLICES)
    assert len(gs) == 2
    assert gs.name == "valid"
    assert gs.input_columns == ["question"]
    assert gs.slice_counts() == {"difficulty": {"easy": 1, "medium": 1}}


def test_malformed_json_line_names_line_and_column(fixtures: Path) -> None:
    err = load_error(fixtures / "malformed_line.jsonl")
    text = str(err)
    assert "malformed_line.jsonl, line 3" in text
    assert "malformed JSON" in text and "column" in text
    assert "one complete JSON object" in text  # the fix
    assert isinstance(err, WorkbenchError)
    assert "Traceback" not in text and "JSONDecodeError" not in text


def test_line_that_is_not_an_object(fixtures: Path) -> None:
    err = load_error(fixtures / "not_an_object.jsonl")
    assert "line 3" in str(err) and "expected a JSON object, found list" in str(err)


def test_duplicate_id_names_both_lines(fixtures: Path) -> None:
    err = load_error(fixtures / "duplicate_id.jsonl")
    assert str(err).startswith(
        f"{fixtures / 'duplicate_id.jsonl'}, line 4: duplicate id 'c2' (first seen on line 2)"
    )
    assert "rename one of them" in str(err)


def test_duplicate_key_in_one_record(fixtures: Path) -> None:
    err = load_error(fixtures / "duplicate_key.jsonl")
    assert "line 3" in str(err) and "duplicate key 'question'" in str(err)


@pytest.mark.parametrize("name", ["missing_id.jsonl", "empty_id.jsonl"])
def test_missing_id(fixtures: Path, name: str) -> None:
    err = load_error(fixtures / name)
    assert f"{name}, line 3: the row has no 'id'" in str(err)
    assert "unique, non-empty id" in str(err)


def test_no_id_column_lists_columns(fixtures: Path) -> None:
    err = load_error(fixtures / "no_id_column.jsonl")
    assert "no 'id' column (columns are ['key', 'question'])" in str(err)
    assert "rename your key column" in str(err)


def test_wrong_encoding_names_line_byte_and_fix(fixtures: Path) -> None:
    err = load_error(fixtures / "latin1.jsonl")
    assert "latin1.jsonl, line 3: not valid UTF-8 (byte 0xf9" in str(err)
    assert "iconv" in str(err)


def test_utf16_is_named(fixtures: Path) -> None:
    assert "UTF-16" in str(load_error(fixtures / "utf16.jsonl"))


def test_empty_file(fixtures: Path) -> None:
    err = load_error(fixtures / "empty.jsonl")
    assert "empty.jsonl: the file is empty" in str(err)


def test_mixed_types_names_both_lines(fixtures: Path) -> None:
    err = load_error(fixtures / "mixed_types.jsonl")
    assert "mixed_types.jsonl, line 3 (id 'c3')" in str(err)
    assert "column 'question' mixes types: text on line 1 but number here" in str(err)


def test_nested_value_in_input_column(fixtures: Path) -> None:
    err = load_error(fixtures / "nested_input.jsonl")
    assert "line 3 (id 'c3'): column 'question' holds a JSON object" in str(err)
    assert "flat records" in str(err)


def test_unknown_slice_column_lists_columns(fixtures: Path) -> None:
    err = load_error(fixtures / "valid.jsonl", slices=["difficulty", "langauge"])
    assert "unknown slice column 'langauge'" in str(err)
    assert "'question'" in str(err) and "slices=[...]" in str(err)


def test_missing_slice_value(fixtures: Path) -> None:
    err = load_error(fixtures / "missing_slice_value.jsonl", slices=SLICES)
    assert "line 3 (id 'c3'): slice column 'difficulty' has no value" in str(err)


def test_ragged_csv_row(fixtures: Path) -> None:
    err = load_error(fixtures / "ragged.csv")
    assert "ragged.csv, line 3: the row has 6 fields but the header has 4" in str(err)
    assert "Quote fields that contain commas" in str(err)


def test_unsupported_extension(fixtures: Path) -> None:
    assert "unsupported file type '.txt'" in str(load_error(fixtures / "unsupported.txt"))


def test_missing_file_says_where_it_looked(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nope.jsonl")
    assert "nope.jsonl: file not found" in str(err) and "current working directory" in str(err)


def test_bad_manifest_names_keys_and_lines(fixtures: Path) -> None:
    err = load_error(fixtures / "bad_manifest.jsonl")
    text = str(err)
    assert "bad_manifest.yaml, line 2: name: String should match pattern" in text
    assert "line 4: " in text and "routable ['language'] are not listed in slices" in text
    assert "line 5: slicez: Extra inputs are not permitted" in text
    assert "allowed keys are" in text
    assert "(bad_manifest.yaml was read as the manifest of bad_manifest.jsonl" in text
    assert len(err.problems) == 3


def test_an_experiment_file_beside_its_golden_set_is_not_read_as_a_manifest(
    repo_root: Path, tmp_path: Path
) -> None:
    # `mini.yaml` (an experiment) beside `mini.jsonl`: the sidecar rule would read it as the
    # set's manifest; the error says so and names the rename, instead of "Extra inputs"
    (tmp_path / "mini.jsonl").write_text('{"id": "a", "q": "x"}\n', encoding="utf-8")
    (tmp_path / "mini.yaml").write_text(
        (repo_root / "examples" / "triage_experiment.yaml").read_text(), encoding="utf-8")
    text = str(load_error(tmp_path / "mini.jsonl"))
    assert "mini.yaml was taken as the manifest of mini.jsonl" in text
    assert "looks like an experiment or gates file" in text and "golden_set" in text
    assert "Rename it, e.g. mini_experiment.yaml" in text
    assert "Extra inputs" not in text


def test_several_problems_are_all_reported(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_text(
        '{"id": "a", "q": "x"}\n{"q": "no id"}\n{"id": "a", "q": "dupe"}\nnot json\n',
        encoding="utf-8",
    )
    err = load_error(path)
    # JSON syntax is checked first, across the whole file
    assert "line 4: malformed JSON" in str(err)
    path.write_text('{"id": "a", "q": "x"}\n{"q": "no id"}\n{"id": "a", "q": "dupe"}\n')
    err = load_error(path)
    assert [p.where.split(", ")[-1] for p in err.problems] == ["line 2", "line 3"]
    assert re.search(r"1 more problem\(s\):\n  - .*line 3: duplicate id 'a'", str(err))


def test_from_df_validates_like_a_file() -> None:
    df = pd.DataFrame({"id": ["a", "a"], "q": ["x", "y"]})
    with pytest.raises(
        DatasetError, match=r"<DataFrame t>, row 2: duplicate id 'a' \(first seen on row 1\)"
    ):
        GoldenSet.from_df(df, name="t")
    with pytest.raises(DatasetError, match="name: String should match pattern"):
        GoldenSet.from_df(pd.DataFrame({"id": ["a"], "q": ["x"]}), name="bad name!")


def test_no_input_columns(tmp_path: Path) -> None:
    path = tmp_path / "only.jsonl"
    path.write_text('{"id": "a", "expected": "x"}\n', encoding="utf-8")
    assert "no input columns" in str(load_error(path))
