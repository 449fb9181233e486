"""The error hierarchy: what, where and how to fix, with every problem listed."""

from __future__ import annotations

import pytest

from workbench.errors import ConfigError, DatasetError, Problem, WorkbenchError, location


def test_location() -> None:
    assert location("a.jsonl", line=3, case_id="c-1") == "a.jsonl, line 3 (id 'c-1')"
    assert location("a.parquet", line=2, unit="row") == "a.parquet, row 2"
    assert location(case_id="c-9") == "case 'c-9'"


def test_message_has_where_what_fix() -> None:
    err = DatasetError("duplicate id 'x'", where="f.jsonl, line 4", fix="Rename one of them.")
    assert str(err) == "f.jsonl, line 4: duplicate id 'x'. Rename one of them."
    assert err.where == "f.jsonl, line 4" and err.fix == "Rename one of them."
    assert isinstance(err, WorkbenchError) and issubclass(ConfigError, WorkbenchError)


def test_many_problems_are_summarised() -> None:
    problems = [Problem(f"f.csv, line {i}", f"bad value {i}", "Fix it.") for i in range(1, 10)]
    err = DatasetError.from_problems(problems)
    text = str(err)
    assert text.startswith("f.csv, line 1: bad value 1. Fix it.\n8 more problem(s):")
    assert "line 6: bad value 6" in text and "line 7" not in text
    assert "... and 3 more" in text
    assert len(err.problems) == 9
    with pytest.raises(ValueError):
        DatasetError.from_problems([])
