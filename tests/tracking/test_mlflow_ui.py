"""A reviewer in the real MLflow UI (issue #21): headless Chromium on `mlflow server` over a
sqlite store holding a logged comparison and its report.

The link workbench prints opens the experiment's runs view (not MLflow 3.17's GenAI overview);
the parent run's description states the decision and links the report, which opens in the
artifact viewer. Skips with the reason when Chromium or playwright is missing, unless
WORKBENCH_REQUIRE_BROWSER=1 (`.ci/run` sets it). The server binds 127.0.0.1 on a free port and
is stopped by the fixture that started it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import workbench as wb

from ..reports.test_browser import chromium_or_skip
from ._servers import mlflow_server

pytestmark = pytest.mark.slow

TRIAGE = Path(__file__).resolve().parents[2] / "datasets" / "support_triage" / "golden.jsonl"
CANDIDATE, INCUMBENT = ("sim/fast", "plain"), ("sim/large", "plain")


def logged_store(root: Path) -> tuple[str, str, wb.MigrationReport]:
    """A sqlite store with one logged comparison (candidate vs incumbent) and its report."""
    store = f"sqlite:///{root}/mlflow.db"
    gs = wb.GoldenSet.load(TRIAGE)
    cases = [str(r["id"]) for r in gs.records()][:24]
    cmp = wb.compare(gs, [INCUMBENT[0], CANDIDATE[0]], [wb.PromptVariant("plain", user=(
        "{{ message }}"))], [wb.scorers.label_match(field="intent")], progress=False,
        cases=cases, experiment="review", tracking_uri=store, candidate=CANDIDATE,
        incumbent=INCUMBENT)
    report = wb.migration_report(cmp, CANDIDATE, INCUMBENT, wb.Gates(
        metrics={"label_match": wb.MetricGate(margin=0.1)}))
    return store, str(cmp.record.tracking.run_id), report


def test_a_reviewer_opens_the_runs_view_reads_the_run_and_opens_its_report(
    tmp_path: Path,
) -> None:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    store, run_id, report = logged_store(tmp_path)
    c = wb.tracking.client(store)
    parent = c.get_run(run_id)
    shots, workdir = tmp_path / "shots", tmp_path / "server"
    shots.mkdir()
    workdir.mkdir()
    seen: dict[str, Any] = {}
    server_url: list[str] = []
    with mlflow_server(store, workdir) as server, sync_playwright() as p:
        server_url.append(server.url)
        browser = p.chromium.launch(executable_path=executable, headless=True)
        try:  # a fresh profile: MLflow's sidebar switch at its default (GenAI)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            # 1. the experiment link workbench gives opens the runs table
            page.goto(wb.tracking.ui_url(parent.info.experiment_id, tracking_uri=server.url))
            name = page.get_by_role("link", name=parent.info.run_name)
            name.wait_for(timeout=60_000)
            seen["heading"] = page.locator("h2, h1").first.inner_text(timeout=10_000)
            seen["overview"] = page.get_by_text("No data available for the selected time "
                                                "range").count()
            page.screenshot(path=str(shots / "1-runs-view.png"))
            # 2. the parent run: its description
            name.click()
            page.get_by_text("Description", exact=True).wait_for(timeout=60_000)
            more = page.get_by_text("Show more", exact=True)
            if more.count():
                more.first.click()
            page.get_by_text("#### Decision").or_(page.get_by_role(
                "heading", name="Decision")).first.wait_for(timeout=30_000)
            seen["run_page"] = page.inner_text("body")
            link = page.get_by_role("link", name="reports/migration_report.html")
            seen["report_href"] = link.first.get_attribute("href")
            page.screenshot(path=str(shots / "2-parent-run.png"), full_page=True)
            # 3. the report the description links (a new tab), in MLflow's artifact viewer
            with page.context.expect_page(timeout=30_000) as opened:
                link.first.click()
            tab = opened.value
            tab.get_by_text("reports/migration_report.html", exact=True).first.wait_for(
                timeout=60_000)
            frame = tab.frame_locator("iframe").first
            frame.locator("h1").first.wait_for(timeout=60_000)
            seen["report"] = frame.locator("body").inner_text()
            seen["report_url"] = tab.url
            tab.screenshot(path=str(shots / "3-report-artifact.png"))
        finally:
            browser.close()
    assert seen["heading"] == "Runs" and seen["overview"] == 0, seen
    body = seen["run_page"]
    for text in ("golden set support_triage", f"{report.outcome} for candidate sim/fast · plain "
                 "against incumbent sim/large · plain", "This run billed $"):
        assert text in body, (text, body[:3000])
    assert seen["report_href"] == (f"#/experiments/{parent.info.experiment_id}/runs/{run_id}/"
                                   "artifacts/reports/migration_report.html"
                                   "?workflowType=machine_learning")
    assert seen["report_url"] == f"{server_url[0]}/{seen['report_href']}"
    assert "Migration report" in seen["report"] and report.outcome in seen["report"]
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-runs-view.png", "2-parent-run.png", "3-report-artifact.png"]
