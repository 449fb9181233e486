"""The executive summary, the rollout plan, paths, YAML and colours: one set of numbers.

Comparisons are built by hand (no model calls), one per outcome, so each wording is checked
against the decision it must agree with.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from markdown_it import MarkdownIt

import workbench as wb
from workbench import charts
from workbench.records import GoldenSetRef, ModelRecord, PricingRecord, RunRecord
from workbench.reports import markdown_escape

GATES = wb.Gates(metrics={"exact_match": wb.MetricGate(margin=0.02)}, cost_ratio_max=1.0)
ROLES = {"candidate": ("small", "v1"), "incumbent": ("large", "v1")}
R, W = "right", "wrong"

SCENARIOS = {
    # 100 cases: fixes 12 of 30 misses, breaks 3; no error in 100 cases cannot yet bound the
    # error-rate increase under 2 points: HOLD, about 40 more cases (140 in all)
    "HOLD": ([R] * 70 + [W] * 30, [W] * 3 + [R] * 79 + [W] * 18),
    "PROMOTE": ([R] * 280 + [W] * 120, [W] * 12 + [R] * 316 + [W] * 72),
    "REJECT": ([R] * 300 + [W] * 100, [W] * 80 + [R] * 220 + [W] * 100),
    # 4 points worse against a 2-point margin, on too few cases to prove it: more data would
    # confirm a failure, not a pass
    "hopeless": ([R] * 70 + [W] * 30, [W] * 6 + [R] * 64 + [R] * 2 + [W] * 28),
}


def hand_built(incumbent: list[str], candidate: list[str]) -> wb.Comparison:
    n = len(incumbent)
    answers = incumbent + candidate
    results = pd.DataFrame({
        "case_id": [f"c{i:04d}" for i in range(n)] * 2, "repeat": 0,
        "model": ["large"] * n + ["small"] * n, "variant": "v1", "error_type": None,
        "output": answers, "score.exact_match": [float(a == R) for a in answers],
        "cost_usd": [0.002] * n + [0.0005] * n, "latency_s": [0.9] * n + [0.4] * n,
        "prompt_tokens": 400, "completion_tokens": 20, "billed_usd": 0.0,
        "judge_cost_usd": 0.0, "cache_hit": True})
    models = [ModelRecord(label="large", pricing=PricingRecord(input_per_1m=4.0)),
              ModelRecord(label="small", params={"temperature": 0.0})]
    return wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest=""),
                                            models=models))


def report_of(name: str, **kwargs: object) -> tuple[wb.MigrationReport, wb.Decision]:
    cmp = hand_built(*SCENARIOS[name])
    decision = wb.decide(cmp, GATES, **ROLES)
    report = wb.migration_report(cmp, gates=GATES, decision=decision, log=False, charts=False,
                                 **ROLES, **kwargs)  # type: ignore[arg-type]
    return report, decision


def point(report: wb.MigrationReport, label: str) -> str:
    found = report.summary.point(label)
    assert found is not None, label
    return " ".join(found.lines)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_rollout_plan_and_summary_use_the_decisions_own_counts(name: str) -> None:
    report, decision = report_of(name)
    assert decision.outcome == {"hopeless": "HOLD"}.get(name, name)
    rollout = report.rollout
    per_day = 0.05 * 100_000 / 30
    assert rollout["cases_needed"] == decision.cases_needed
    assert rollout["extra_cases"] == decision.extra_cases
    assert [(g["gate"], g["extra_cases"]) for g in rollout["gates"]] == [
        (g.gate, g.extra_cases) for g in decision.gates]
    step, change = point(report, "Next step"), point(report, "What would change the decision")
    page = report.html()
    plan = page[page.index('id="rollout"'):page.index('id="routing"')]
    if name == "HOLD":
        assert (decision.extra_cases, decision.cases_needed) == (40, 140)
        assert rollout["requests"] == 140 and rollout["days"] == math.ceil(140 / per_day)
        # the summary, the gates table and the rollout plan say the same numbers
        assert "about 40 cases" in step and "140 in all" in step
        assert change.startswith("About 40 more cases (140 in all)")
        assert "about 40 more cases (140 in all" in plan and "No canary yet" in plan
        assert "Not decided yet" in report.summary.verdict
    elif name == "PROMOTE":
        assert rollout["requests"] == decision.paired.n_cases == 400
        assert rollout["days"] == math.ceil(400 / per_day)
        assert "about 400 requests" in step and f"{rollout['days']} day(s)" in step
        assert f"<b>{rollout['days']} day(s)</b>" in plan
        assert report.summary.verdict.startswith("Switch: small/v1 can replace large/v1")
    elif name == "REJECT":
        assert rollout["requests"] is None and rollout["days"] is None
        assert "no rollout" in rollout["note"] and "No canary" in plan
        assert report.summary.verdict.startswith("Keep large/v1")
        assert "More data would not" in change
    else:  # more data would confirm a failure: no count anywhere, and the words say so
        assert decision.cases_needed is None and rollout["requests"] is None
        assert "no estimate" in rollout["note"]
        assert "more cases will not change that" in report.summary.verdict
        assert "more cases will not rescue this one" in change
        assert not re.search(r"about [\d,]+ more", step + change + report.summary.verdict)


def test_quality_cost_and_latency_lines_are_the_reports_numbers() -> None:
    report, decision = report_of("HOLD")
    m = decision.paired.metrics["exact_match"]
    quality = point(report, "Quality")
    assert (f"exact_match: {m.candidate.mean * 100:.1f}% with the candidate against "
            f"{m.incumbent.mean * 100:.1f}% with the incumbent, "
            f"{abs(m.delta) * 100:.1f} points higher") in quality
    assert f"95% CI {m.low * 100:+.1f} to {m.high * 100:+.1f} points" in quality
    assert "no more than 2 points lower, as the gate requires" in quality  # it passed
    cost = point(report, "Cost")
    c = report.cost
    assert (f"${c['candidate']['per_month']:,.2f} a month with the candidate against "
            f"${c['incumbent']['per_month']:,.2f} with the incumbent") in cost
    assert "75% cheaper" in cost and "at 100,000 requests a month (assumed" in cost
    latency = point(report, "Latency")
    assert "p95 0.40 s with the candidate against 0.90 s with the incumbent, 0.50 s faster" \
        in latency
    given, _ = report_of("HOLD", monthly_requests=30_000)
    assert "at 30,000 requests a month (as given)" in point(given, "Cost")
    assert given.rollout["days"] == math.ceil(140 / (0.05 * 30_000 / 30))  # the same count
    # the HTML and Markdown show the same sentences (escaped for each)
    page, text = report.html(), report.markdown()
    for line in report.summary.point("Cost").lines:  # type: ignore[union-attr]
        assert line.replace("'", "&#39;") in page and markdown_escape(line) in text


def test_reproducibility_shows_relative_paths_and_yaml(tmp_path: Path) -> None:
    gates_file = tmp_path / "project" / "examples" / "gates.yaml"
    gates_file.parent.mkdir(parents=True)
    gates_file.write_text(yaml.safe_dump(GATES.model_dump(mode="json")))
    cmp = hand_built(*SCENARIOS["HOLD"])
    report = wb.migration_report(
        cmp, gates=GATES, log=False, charts=False, **ROLES,
        rebuild_command=f"workbench report abc123 --gates {gates_file} --out r.html")
    out = tmp_path / "project" / "out" / "reports" / "r.html"
    page = report.to_html(out).read_text()
    text = report.to_markdown(out.with_suffix(".md")).read_text()
    for shown in (page, text):
        assert "workbench report abc123 --gates ../../examples/gates.yaml --out r.html" in shown
        assert str(tmp_path) not in shown  # never an absolute path
        assert "paths are relative to this report" in shown
        assert "{'" not in shown and "': " not in shown  # no Python dict reprs
    # the gates as YAML: the Markdown's block loads back into the same gates
    blocks = [t.content for t in MarkdownIt("commonmark").parse(text)
              if t.type == "fence" and t.info == "yaml"]
    assert wb.Gates.model_validate(yaml.safe_load(blocks[-1])) == GATES
    models = yaml.safe_load(blocks[0])
    assert models["small"]["params"] == {"temperature": 0.0}
    assert models["large"]["pricing"]["input_per_1m"] == 4.0
    pre = re.findall(r"<h3>gates \(YAML\)</h3><pre>(.*?)</pre>", page, re.S)
    assert pre and "margin: 0.02" in pre[0] and "exact_match:" in pre[0]
    # without a folder (the copy logged to MLflow) paths are relative to the project
    assert "paths are relative to the project folder" in report.html()


def test_every_chart_and_swatch_gives_a_configuration_one_colour() -> None:
    from .test_migration import VARIANTS, golden

    cmp = wb.compare(golden(), ["sim/large", "sim/fast"], VARIANTS, [wb.scorers.exact_match],
                     progress=False)
    report = wb.migration_report(cmp, log=False, candidate=("sim/fast", "asked"),
                                 incumbent=("sim/large", "plain"))
    colours = charts.config_colors(cmp)
    assert report.colors == {"/".join(k): v for k, v in colours.items()}
    seen: dict[str, set[str]] = {}
    for fig in report.figures:
        for trace in fig["data"]:
            name = trace.get("name") or ""
            if " · " in name:
                seen.setdefault(name.replace(" · ", "/"), set()).add(trace["marker"]["color"])
    assert seen == {k: {v} for k, v in report.colors.items()}  # cost vs quality and latency
    forest = report.figures[0]
    assert forest["data"][0]["marker"]["color"] == report.colors["sim/fast/asked"]
    page = report.html()
    summary = page[page.index('id="summary"'):page.index('id="charts"')]
    assert f'style="background:{report.colors["sim/fast/asked"]}"' in summary
    assert f'style="background:{report.colors["sim/large/plain"]}"' in summary


def test_without_a_browser_markdown_says_so_in_one_line_and_pdf_explains(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-such-chromium"))
    monkeypatch.setenv("WORKBENCH_REPORT_IMAGES", "1")
    cmp = hand_built(*SCENARIOS["HOLD"])
    report = wb.migration_report(cmp, gates=GATES, log=False, **ROLES)  # with its charts
    assert len(report.figures) >= 3
    md = report.to_markdown(tmp_path / "out" / "r.md")
    text = md.read_text()
    notes = [line for line in text.splitlines() if line.startswith("_Charts:")]
    assert notes == ["_Charts: in the HTML report; BROWSER_PATH does not name a browser on "
                     "this machine, so no chart images were drawn._"]
    assert "![" not in text and not (tmp_path / "out" / "r_charts").exists()
    assert "## 1. Decision gates" in text  # the rest is written all the same
    with pytest.raises(wb.ConfigError, match="PDF export needs Chromium") as err:
        report.to_pdf(tmp_path / "out" / "r.pdf")
    assert "BROWSER_PATH" in str(err.value) and "apt-get install chromium" in str(err.value)
    monkeypatch.delenv("BROWSER_PATH")
    monkeypatch.setattr("workbench.reports._export.shutil.which", lambda name: None)
    with pytest.raises(wb.ConfigError, match="none was found on the PATH"):
        report.to_pdf(tmp_path / "out" / "r.pdf")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["r.md"]
    # WORKBENCH_REPORT_IMAGES=0 (e.g. for fast test runs) skips drawing them, and says so
    monkeypatch.setenv("WORKBENCH_REPORT_IMAGES", "0")
    monkeypatch.setattr("workbench.reports._report.write_chart_images", None)  # never called
    text = report.to_markdown(tmp_path / "out" / "r.md").read_text()
    assert "_Charts: in the HTML report; chart images were not drawn for this copy._" in text
