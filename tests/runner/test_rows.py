"""The run keeps scored rows as typed chunks: chunking never changes the table (#23)."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench as wb
from workbench.runner import _rows

from .conftest import small_set


@wb.scorer(name="verdict")
def verdict(case: object, output: str) -> wb.Score:
    """A score with a label and an explanation, so every row has score details."""
    if "3" in output:
        raise ValueError("a scorer bug on some outputs")
    return wb.Score(value=float(len(output) % 2), label=str(len(output)), explanation="length")


def _run(chunk_rows: int, monkeypatch: pytest.MonkeyPatch) -> wb.Comparison:
    monkeypatch.setattr(_rows, "CHUNK_ROWS", chunk_rows)
    variants = [wb.PromptVariant("plain", user="{{ message }}"),
                wb.PromptVariant("ask", user="Label this: {{ message }}")]
    return wb.compare(small_set(23), ["sim/large", "sim/fast"], variants,
                      [wb.scorers.exact_match, verdict], cache=False, progress=False,
                      repeats=2)


def test_chunked_rows_give_the_same_results_and_details(monkeypatch: pytest.MonkeyPatch) -> None:
    whole = _run(10_000, monkeypatch)
    chunked = _run(7, monkeypatch)  # 184 rows in 27 chunks, 148 details in 22
    timing = ["latency_s", "ttft_s"]
    assert len(chunked.results) == 23 * 2 * 2 * 2
    assert chunked.results["scorer_errors"].notna().any()  # scorer failures kept per row
    assert len(chunked.score_details) > 100
    pd.testing.assert_frame_equal(chunked.results.drop(columns=timing),
                                  whole.results.drop(columns=timing))
    pd.testing.assert_frame_equal(chunked.score_details, whole.score_details)
    assert chunked.results.dtypes.equals(whole.results.dtypes)
    assert chunked.record.run.calls_recorded == whole.record.run.calls_recorded == 184


def test_a_row_recorded_twice_is_a_bug_not_a_silent_overwrite() -> None:
    store = _rows.RowStore([])
    store[("c1", "m", "v", 0)] = {"case_id": "c1"}
    with pytest.raises(RuntimeError, match="recorded twice"):
        store[("c1", "m", "v", 0)] = {"case_id": "c1"}
