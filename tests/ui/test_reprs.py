"""Rich notebook views of GoldenSet, Comparison, Decision, the pairwise table and the reports:
useful, and every model or dataset string in them escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd

import workbench as wb

EVIL = '<img src=x onerror="window.__y=1">'


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def tags(page: str) -> list[str]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def test_every_rich_view_escapes_planted_strings() -> None:
    rows = [{"id": f"c{i}{EVIL if i == 0 else ''}", "message": f"about billing {EVIL} {i}",
             "expected": "billing" if i % 2 else EVIL, "tier": EVIL if i % 2 else "free"}
            for i in range(12)]
    gs = wb.GoldenSet.from_df(pd.DataFrame(rows), name="planted", slices=["tier"])
    variants = [wb.PromptVariant(EVIL, user="{{ message }}"),
                wb.PromptVariant("plain", user="Label: {{ message }}")]
    cmp = wb.compare(gs, ["sim/large", "sim/fast"], variants, [wb.scorers.exact_match],
                     progress=False)
    roles = {"candidate": ("sim/fast", EVIL), "incumbent": ("sim/large", "plain")}
    decision = wb.decide(cmp, **roles)
    pw = wb.pairwise(cmp, **roles)
    report = wb.migration_report(cmp, **roles)
    views = {"golden set": gs._repr_html_(), "comparison": cmp._repr_html_(),
             "summary": cmp.summary()._repr_html_(),
             "decision": decision._repr_html_(), "pairwise": pw._repr_html_(),
             "report": report._repr_html_()}
    for name, page in views.items():
        assert "img" not in tags(page), name
        assert "window.__y" not in page or "&lt;img" in page, name
    assert "&lt;img" in views["golden set"] and "&lt;img" in views["comparison"]
    assert "&lt;img" in views["summary"]
    assert "&lt;img" in views["decision"] and "&lt;img" in views["pairwise"]
    # and they say something useful
    assert "12" in views["golden set"] and decision.outcome in views["decision"]
    assert f"{pw.attrs['wins']} wins" in views["pairwise"]
    assert isinstance(pw.head(3), wb.runner.PairwiseTable)
    assert report.outcome in views["report"]


def test_the_summary_shows_the_cli_cells_and_keeps_the_numbers() -> None:
    rows = [{"id": f"c{i}", "message": f"about billing {i}", "expected": "billing"}
            for i in range(12)]
    gs = wb.GoldenSet.from_df(pd.DataFrame(rows), name="s")
    cmp = wb.compare(gs, ["sim/large", "sim/fast"], [wb.PromptVariant("p", user="{{ message }}")],
                     [wb.scorers.normalized_match, wb.scorers.token_f1], progress=False)
    table = cmp.summary()
    page = table._repr_html_()
    for model in ("sim/large", "sim/fast"):  # one "0.618 [0.539, 0.692]" cell per scorer
        for name in ("normalized_match", "token_f1"):
            m, lo, hi = (float(table.loc[(model, "p"), c])
                         for c in (name, f"{name}_low", f"{name}_high"))
            assert f"<td>{m:.3f} [{lo:.3f}, {hi:.3f}]</td>" in page
    headers = re.findall(r"<th>([^<]*)</th>", page)
    assert "token_f1_low" not in headers and "latency_p99_s" not in headers
    assert {"n", "normalized_match", "token_f1", "errors", "cost", "p50 s", "p95 s"} <= set(
        headers)
    assert not re.search(r"\d\.\d{5,}", page)  # no raw six-decimal floats
    assert "Wilson 95%" in page and "SIMULATED models" in page  # the footnotes
    assert repr(table) == cmp.summary_text()  # print() shows what the CLI prints
    # the numbers are all there for code: select, sort, export
    assert table["token_f1_low"].dtype == float and table.raw.shape[1] == table.shape[1]
    assert "token_f1_low" in table.raw._repr_html_()
    assert type(table[["n_cases"]]) is pd.DataFrame  # a selection is a plain frame
    assert table.loc[("sim/large", "p"), "n_cases"] == 12
