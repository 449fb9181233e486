"""Rich notebook views of GoldenSet, Comparison, Decision, the pairwise table and the reports:
useful, and every model or dataset string in them escaped."""

from __future__ import annotations

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
             "decision": decision._repr_html_(), "pairwise": pw._repr_html_(),
             "report": report._repr_html_()}
    for name, page in views.items():
        assert "img" not in tags(page), name
        assert "window.__y" not in page or "&lt;img" in page, name
    assert "&lt;img" in views["golden set"] and "&lt;img" in views["comparison"]
    assert "&lt;img" in views["decision"] and "&lt;img" in views["pairwise"]
    # and they say something useful
    assert "12" in views["golden set"] and decision.outcome in views["decision"]
    assert f"{pw.attrs['wins']} wins" in views["pairwise"]
    assert isinstance(pw.head(3), wb.runner.PairwiseTable)
    assert report.outcome in views["report"]
