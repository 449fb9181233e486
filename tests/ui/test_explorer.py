"""ResultsExplorer driven from Python: filters, sort, pages, side by side, CSV export."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.ui import ResultsExplorer

EVIL = "<img src=x onerror=alert(1)>"


def golden(n: int = 24) -> wb.GoldenSet:
    labels = ("billing", "refund", "other")
    rows = [{"id": f"c{i:02d}", "message": f"case {i}: about {labels[i % 3]}"
             + (f" {EVIL}" if i == 0 else ""), "expected": labels[i % 3],
             "level": "easy" if i % 2 else "hard"} for i in range(n)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name="explore", slices=["level"])


@pytest.fixture
def cmp() -> wb.Comparison:
    base = wb.compare(golden(), ["sim/large", "sim/fast"],
                      [wb.PromptVariant("plain", user="{{ message }}"),
                       wb.PromptVariant(EVIL, user="Label: {{ message }}")],
                      [wb.scorers.exact_match, wb.scorers.token_f1], progress=False)
    res = base.results.copy()
    first = res.index[(res.model == "sim/fast") & (res.case_id == "c03")][0]
    res.loc[first, ["error_type", "error", "output"]] = ["timeout", "took too long", None]
    res.loc[first, ["score.exact_match", "score.token_f1"]] = np.nan
    formula = res.index[(res.model == "sim/large") & (res.case_id == "c05")
                        & (res.variant == "plain")][0]
    res.loc[formula, "output"] = '=HYPERLINK("http://evil.example","x")'
    return wb.Comparison(res, base.record, base.score_details, golden_set=golden())


def test_filters_select_exactly_the_matching_cases(cmp: wb.Comparison) -> None:
    ex = ResultsExplorer(cmp, page_size=5)
    assert len(ex.filtered) == 24 and ex.pages == 5
    ex.slice_name.value = "level"
    assert ex.slice_value.options == ("(all)", "easy", "hard")
    ex.slice_value.value = "easy"
    assert ex.filtered == [f"c{i:02d}" for i in range(1, 24, 2)]
    ex.slice_name.value = "(all)"
    ex.errors.value = "with errors"
    assert ex.filtered == ["c03"]
    ex.errors.value = "without errors"
    assert "c03" not in ex.filtered and len(ex.filtered) == 23
    ex.errors.value = "all"
    # exact_match 1 for at least one shown configuration
    ex.scorer.value = "exact_match"
    ex.score_range.value = (1.0, 1.0)
    res = cmp.results
    hits = set(res[res["score.exact_match"] == 1.0].case_id)
    assert set(ex.filtered) == hits
    ex.score_range.value = (0.0, 1.0)
    # only the cases where the configurations disagree on exact_match
    ex.disagree.value = True
    pivot = res.pivot_table(index="case_id", columns=["model", "variant"],
                            values="score.exact_match", dropna=False).fillna(-1)
    disagree = {c for c, row in pivot.iterrows() if row.nunique() > 1}
    assert set(ex.filtered) == disagree
    # configurations: one config alone never disagrees with itself
    ex.config_select.value = (ex.configs[0],)
    assert ex.filtered == []
    assert "no case matches" in ex.detail.value


def test_sort_by_spread_and_paging(cmp: wb.Comparison) -> None:
    ex = ResultsExplorer(cmp, page_size=5)
    ex.scorer.value = "token_f1"
    ex.sort.value = "score spread"
    block = cmp.results.pivot_table(index="case_id", columns=["model", "variant"],
                                    values="score.token_f1")
    spread = (block.max(axis=1) - block.min(axis=1)).fillna(0)
    got = [spread[c] for c in ex.filtered]
    assert got == sorted(got, reverse=True)
    assert ex.status.value.startswith("page 1 of 5")
    ex.next.click()
    assert ex.page == 1 and list(ex.case.options) == ex.filtered[5:10]
    for _ in range(10):
        ex.next.click()
    assert ex.page == 4 and len(ex.case.options) == 4  # clamped at the last page
    ex.prev.click()
    assert ex.page == 3


def test_every_shown_string_is_escaped_and_a_case_opens_side_by_side(
        cmp: wb.Comparison) -> None:
    ex = ResultsExplorer(cmp)
    ex.case.value = "c00"
    page = ex.table.value + ex.detail.value
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in ex.detail.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in ex.table.value  # the variant's name
    detail = ex.case_html("c03")
    assert "error timeout" in detail and "took too long" in detail
    for cfg in ex.configs:
        assert cfg.replace("<", "&lt;").replace(">", "&gt;") in detail
    assert "<del>" in ex.case_html("c01") or "<ins>" in ex.case_html("c01") or \
        len({o for o in cmp.results[cmp.results.case_id == "c01"].output}) == 1


def test_csv_export_holds_the_selection_and_defuses_formulas(
        cmp: wb.Comparison, tmp_path: Path) -> None:
    ex = ResultsExplorer(cmp)
    ex.slice_name.value = "level"
    ex.slice_value.value = "easy"
    ex.export_path.value = str(tmp_path / "sel.csv")
    ex.export_button.click()
    assert "wrote" in ex.export_status.value
    with open(tmp_path / "sel.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["case_id"] for r in rows} == set(ex.filtered)
    assert len(rows) == 4 * len(ex.filtered)  # every selected configuration
    formula = next(r for r in rows if r["case_id"] == "c05" and r["model"] == "sim/large"
                   and r["variant"] == "plain")
    assert formula["output"].startswith("'=HYPERLINK")
    assert not any(v.startswith(("=", "+", "@")) for r in rows for v in r.values())


def test_a_click_on_a_row_opens_its_case(cmp: wb.Comparison) -> None:
    ex = ResultsExplorer(cmp, page_size=5)
    ex.next.click()  # page 2: c05..c09
    rows = re.findall(r"<td class='wbrow-(\d+)'>(c\d\d)</td>", ex.table.value)
    assert rows == [(str(i), f"c{5 + i:02d}") for i in range(5)]
    ex.on_click({"event": "click", "target": {"tagName": "TD", "className": "wbrow-3"}})
    assert ex.case.value == "c08" and "<h4>case c08</h4>" in ex.detail.value
    assert re.search(r"<tr class='wb-row wb-open'[^>]*><td class='wbrow-3'>c08", ex.table.value)
    ex.on_click({"event": "click", "target": {"tagName": "TH", "className": ""}})  # header
    ex.on_click({"event": "click", "target": {"className": "wbrow-99"}})  # off the page
    assert ex.case.value == "c08"
    assert ex.row_clicks is not None and ex.row_clicks.watched_events == ["click"]
    assert ex.row_clicks.source is ex.table


def test_six_configurations_wrap_instead_of_running_off_the_case_view() -> None:
    base = wb.compare(golden(6), ["sim/large", "sim/fast", "sim/small"],
                      [wb.PromptVariant("plain", user="{{ message }}"),
                       wb.PromptVariant("label", user="Label: {{ message }}")],
                      [wb.scorers.exact_match], progress=False)
    ex = ResultsExplorer(base)
    assert len(ex.configs) == 6
    view = ex.case_html("c01")
    assert "<table" not in view  # one card per configuration in a wrapping grid
    assert "grid-template-columns:repeat(auto-fill,minmax(260px,1fr))" in view
    assert view.count("<b>sim/") == 6
    assert "overflow-x:auto" in ex.table.value  # a wide page of cases scrolls, never clips
