"""The shadow report: numbers equal wb.decide / win_share / label_agreement; escaped; no PII."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import markupsafe
import pandas as pd
import pytest
from markdown_it import MarkdownIt

import workbench as wb
from workbench.cli import main
from workbench.shadow import pairwise_table

from ..artifacts import downloaded_artifacts
from .test_migration import EVIL, _Dom

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "datasets" / "shadow" / "support_traffic.jsonl"
PLANTED = json.loads((ROOT / "datasets" / "shadow" / "planted_pii.json").read_text())


def traffic(tmp_path: Path, n: int = 50) -> Path:
    """The first n shipped requests (they include planted PII) and requests carrying EVIL text."""
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()[:n]
    first = json.loads(lines[0])
    for i, evil in enumerate(EVIL):
        rec = dict(first, request_id=f"evil-{i}", response=f"{evil} {first['response']}")
        rec["messages"] = [first["messages"][0],
                           {"role": "user", "content": f"Channel: chat\nMessage: {evil}"}]
        lines.append(json.dumps(rec))
    out = tmp_path / "traffic.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def planted_in(text: str) -> list[str]:
    return [v for values in PLANTED.values() for v in values if v in text]


def file_text(path: Path) -> str:
    """A file's text; Parquet (compressed) is read back into a table first."""
    if path.suffix == ".parquet":
        return str(pd.read_parquet(path).to_csv())
    return path.read_bytes().decode("utf-8", "ignore")


@pytest.fixture
def logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.chdir(tmp_path)  # MLflow's artifacts (./mlruns) land in the test's directory
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    log = traffic(tmp_path)
    assert planted_in(log.read_text())  # the input does carry personal data
    store = f"sqlite:///{tmp_path}/mlflow.db"
    cmp = wb.shadow_test(log, "sim/small", progress=False, experiment="shadow",
                         tracking_uri=store)
    return {"cmp": cmp, "store": store, "log": log}


def test_numbers_equal_decide_win_share_and_agreement(logged: dict[str, Any]) -> None:
    cmp = logged["cmp"]
    gates = wb.Gates.load(ROOT / "examples" / "shadow_gates.yaml")
    report = wb.shadow_report(cmp, gates, log=False)
    pw = pairwise_table(cmp)
    roles = {"candidate": ("sim/small", "production"),
             "incumbent": ("served:sim/large", "production")}
    decision = wb.decide(cmp, gates, pairwise=pw, **roles)
    assert report.outcome == decision.outcome and report.headline == decision.headline()
    assert [g["evidence"] for g in report.gates] == [g.evidence for g in decision.gates]
    win_gate = next(g for g in decision.gates if "win share" in g.gate)
    ws = wb.stats.win_share(list(wb.pairwise_outcomes(pw, cmp, roles["candidate"])))
    assert report.pairwise["share"] == pytest.approx(ws.share) == pytest.approx(
        win_gate.estimate)
    assert report.pairwise["low"] == pytest.approx(ws.low)
    assert win_gate.bound == pytest.approx(ws.bound_low if win_gate.status != "fail"
                                           else ws.bound_high)
    assert report.pairwise["wins"] + report.pairwise["ties"] + report.pairwise["losses"] == ws.n
    # per slice and per day: the rows partition the judged requests
    by_day = [w for w in report.win_by if w["group"] == "day"]
    assert sum(w["n"] for w in by_day) == ws.n
    assert sum(t["requests"] for t in report.over_time) == len(pw)
    agree = wb.label_agreement(cmp)
    overall = agree[agree.slice == "(all)"].to_dict("records")
    assert [a["rate"] for a in report.agreement] == pytest.approx([a["rate"] for a in overall])
    paired = wb.compare_configs(cmp, **roles)
    assert [q["metric"] for q in report.quality] == list(paired.metrics)
    assert report.cost["ratio"]["value"] == pytest.approx(paired.estimates["cost_ratio"].value)
    assert any("redacted" in b for b in report.banner)
    assert any("SIMULATED" in b for b in report.banner)
    # production and the candidate keep one colour each in the forest and latency charts
    assert set(report.colors) == {"sim/small/production", "served:sim/large/production"}
    seen = {(t.get("name") or "").replace(" · ", "/"): t["marker"]["color"]
            for f in report.figures for t in f["data"] if " · " in (t.get("name") or "")}
    assert seen == report.colors
    forest = next(f for f in report.figures if "paired" in f["layout"]["title"]["text"])
    assert forest["data"][0]["marker"]["color"] == report.colors["sim/small/production"]


def test_html_is_self_contained_and_escapes_model_and_log_text(
        logged: dict[str, Any], tmp_path: Path) -> None:
    report = wb.shadow_report(logged["cmp"], examples=60, log=False)
    page = report.to_html(tmp_path / "s.html").read_text()
    dom = _Dom()
    dom.feed(page)
    for tag, attrs in dom.tags:
        assert not attrs.get("src"), (tag, attrs)
        if tag == "link":
            assert not (attrs.get("href") or "").startswith(("http", "//"))
    assert [t for t, _ in dom.tags if t == "img"] == []
    assert not any("window.__x=1" in s or "window.__y" in s for s in dom.script_text)
    traffic_log = wb.shadow.TrafficLog.load(logged["log"])
    for i, evil in enumerate(EVIL[:2]):
        assert evil not in page  # never raw
        if any(e.case_id == traffic_log.id_of(f"evil-{i}") for e in report.examples):
            assert str(markupsafe.escape(evil)) in page
    assert page.count("plotly.js v") == 1
    ids = ["summary", "charts", "decision", "pairwise", "format", "agreement", "cost",
           "reproducibility", "slices", "examples"]
    assert [page.index(f'id="{i}"') for i in ids] == sorted(page.index(f'id="{i}"')
                                                             for i in ids)
    text = report.markdown()
    tokens = MarkdownIt("commonmark").enable(["table"]).parse(text)
    assert "table_open" in {t.type for t in tokens}
    assert not {t.type for t in tokens} & {"html_block", "html_inline"}
    inline = [c for t in tokens if t.children for c in t.children]
    assert not [c for c in inline if c.type in ("image", "html_inline")]
    assert all(str(c.attrGet("href")).startswith("#") for c in inline if c.type == "link_open")


def test_a_losing_candidate_reads_as_losing_and_not_rescued_by_more_traffic(
        logged: dict[str, Any]) -> None:
    """A VP reads the summary of a HOLD where the candidate lost twice as often as it won."""
    cmp = logged["cmp"]
    pw = pairwise_table(cmp).sort_values("case_id").reset_index(drop=True)
    n = len(pw)
    # twice as many losses as wins, the rest ties: the win share sits below 0.45 with an
    # interval still reaching above it (inconclusive), so more requests would only confirm it
    wins = n // 10 + 1
    losses = 2 * wins
    pw["outcome"] = ["loss"] * losses + ["win"] * wins + ["tie"] * (n - losses - wins)
    gates = wb.Gates.load(ROOT / "examples" / "shadow_gates.yaml")
    report = wb.shadow_report(cmp, gates, pairwise=pw, log=False, charts=False)
    decision = wb.decide(cmp, gates, pairwise=pw, candidate=report.candidate,
                         incumbent=report.incumbent)
    assert report.outcome == decision.outcome == "HOLD"
    gate = next(g for g in decision.gates if "win share" in g.gate)
    assert gate.status == "inconclusive" and gate.hopeless and gate.extra_cases is None
    verdict = report.summary.verdict
    assert verdict.startswith("Do not switch: the candidate is losing to production")
    assert f"production on {losses} requests and the candidate on {wins}" in verdict
    assert "more traffic will not change that" in verdict
    quality = " ".join(report.summary.point("Quality").lines)  # type: ignore[union-attr]
    assert f"production was preferred {losses / wins:.1f}× as often" in quality
    change = " ".join(report.summary.point(  # type: ignore[union-attr]
        "What would change the decision").lines)
    assert "more requests will not rescue this one" in change
    everything = " ".join([verdict, *[line for p in report.summary.points for line in p.lines]])
    assert not re.search(r"about [\d,]+ more", everything)  # no bare count of more cases


def test_planted_personal_data_reaches_no_written_file_and_no_mlflow_artifact(
        logged: dict[str, Any], tmp_path: Path, _isolated_cache: Path) -> None:
    cmp, store = logged["cmp"], logged["store"]
    report = wb.shadow_report(cmp)  # also logged to the run
    report.to_html(tmp_path / "out" / "shadow.html")
    report.to_markdown(tmp_path / "out" / "shadow.md")
    cmp.save(tmp_path / "out" / "saved")
    written = [p for root in (tmp_path, _isolated_cache) for p in root.rglob("*")
               if p.is_file() and p != logged["log"]]
    assert any(p.name == "mlflow.db" for p in written) and any("mlruns" in p.parts
                                                               for p in written)
    assert any(p.suffix == ".jsonl" and "runs" in p.parts for p in written)  # checkpoint
    for path in written:
        assert planted_in(file_text(path)) == [], path
    client = wb.tracking.client(store)
    run_id = cmp.record.tracking.run_id
    children = client.search_runs([client.get_run(run_id).info.experiment_id])
    seen = 0
    for run in children:
        for name, local in downloaded_artifacts(client, run.info.run_id, tmp_path / "dl"):
            assert planted_in(file_text(local)) == [], name
            seen += 1
        assert planted_in(json.dumps(run.data.params) + json.dumps(run.data.tags)) == []
    assert seen >= 10
    assert "[EMAIL]" in json.dumps(cmp.golden_set().records())
    # the check can fail: without redaction the logged replay (its frozen golden set) leaks
    wb.shadow_test(wb.shadow.TrafficLog.load(logged["log"], redact=False), "sim/small",
                   judge=None, progress=False, experiment="raw",
                   tracking_uri=f"sqlite:///{tmp_path}/raw.db")
    leaked = [v for p in tmp_path.rglob("*") if p.is_file() and p != logged["log"]
              for v in planted_in(file_text(p))]
    assert leaked


def test_cli_shadow_exit_codes_and_rebuild_from_mlflow(
        logged: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log, store = logged["log"], logged["store"]
    gates = str(ROOT / "examples" / "shadow_gates.yaml")
    out = tmp_path / "cli" / "shadow.html"
    code = main(["shadow", "--log", str(log), "--candidate", "sim/small", "--gates", gates,
                 "--out", str(out), "--no-progress", "--json", str(tmp_path / "d.json")])
    printed = capsys.readouterr().out
    outcome = json.loads((tmp_path / "d.json").read_text())["outcome"]
    assert code == {"PROMOTE": 0, "HOLD": 10, "REJECT": 11}[outcome]
    assert out.is_file() and out.with_suffix(".md").is_file()
    assert f"shadow report: {out}" in printed and "redacted:" in printed
    # a strict gate REJECTs: the candidate must win outright (margin 0 and superiority)
    strict = tmp_path / "strict.yaml"
    strict.write_text("win_share_margin: 0.0\nlatency_p95_max_s: 0.000001\n")
    assert main(["shadow", "--log", str(log), "--candidate", "sim/small", "--gates",
                 str(strict), "--out", str(tmp_path / "x.html"), "--no-progress"]) == 11
    capsys.readouterr()
    # usage errors exit 2 and say what to do
    assert main(["shadow", "--log", str(tmp_path / "missing.jsonl"), "--candidate",
                 "sim/small"]) == 2
    assert main(["shadow", "--log", str(log), "--candidate", "openai/gpt-4o-mini"]) == 2
    assert "--judge" in capsys.readouterr().err
    # `workbench report` on the logged shadow run rebuilds the shadow report from MLflow alone
    run_id = logged["cmp"].record.tracking.run_id
    assert main(["report", run_id, "--tracking-uri", store, "--out",
                 str(tmp_path / "again.html")]) == 0
    assert "shadow report:" in capsys.readouterr().out
    first = wb.shadow_report(logged["cmp"], log=False)
    again = wb.shadow_report(wb.load_comparison(run_id, tracking_uri=store), log=False)
    assert again.gates == first.gates and again.pairwise == first.pairwise
    assert again.agreement == first.agreement and again.cost == first.cost
