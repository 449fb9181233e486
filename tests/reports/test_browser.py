"""The migration report in a real headless Chromium: offline, charts drawn, planted rows inert.

Uses Debian's ``chromium`` through Playwright (no browser download). Skips with the reason when
Chromium is missing, unless WORKBENCH_REQUIRE_BROWSER=1 (`.ci/run` sets it): then it fails.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

import workbench as wb

from .test_migration import ROLES, VARIANTS, golden


def chromium_or_skip() -> str:
    """The Chromium executable; a skip naming the reason, or a failure where CI requires it."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    reason = ""
    if path is None:
        reason = "Chromium is not installed (`apt-get install chromium` to run the browser test)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "playwright is not installed (it is in the dev extras)"
    if reason:
        if os.environ.get("WORKBENCH_REQUIRE_BROWSER") == "1":
            pytest.fail(f"WORKBENCH_REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)
    assert path is not None
    return path


@pytest.mark.parametrize("required", ["1", ""])
def test_a_missing_browser_skips_with_the_reason_or_fails_where_required(
        required: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setenv("WORKBENCH_REQUIRE_BROWSER", required)
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match="Chromium is not installed"):
        chromium_or_skip()


def render_offline(executable: str, path: Path, charts: int, shot: Path) -> dict[str, Any]:
    """Open a report offline in headless Chromium; wait for its charts; return what it shows."""
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, headless=True)
        try:
            context = browser.new_context(offline=True)

            def route(r: Any) -> None:
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            page.wait_for_selector(".banner")
            page.wait_for_function(
                f"document.querySelectorAll('.chart .main-svg').length >= {charts}",
                timeout=30_000)
            shown = {"outcome": page.inner_text(".banner h2"),
                     "x": page.evaluate("typeof window.__x"),
                     "y": page.evaluate("typeof window.__y"),
                     "body": page.inner_text("body")}
            page.screenshot(path=str(shot), full_page=False)
        finally:
            browser.close()
    assert blocked == [] and dialogs == []
    assert shot.stat().st_size > 10_000
    return shown


@pytest.mark.slow
def test_report_renders_offline_with_every_chart_and_runs_no_planted_script(
        tmp_path: Path) -> None:
    executable = chromium_or_skip()
    cmp = wb.compare(golden(), ["sim/large", "sim/fast"], VARIANTS,
                     [wb.scorers.exact_match, wb.scorers.token_f1], progress=False)
    report = wb.migration_report(cmp, examples=40, **ROLES)
    assert {"c000", "c001"} <= {e.case_id for e in report.examples}  # planted rows shown
    path = report.to_html(tmp_path / "report.html")
    shown = render_offline(executable, path, len(report.figures), tmp_path / "report.png")
    assert shown["outcome"] == report.outcome
    assert shown["x"] == shown["y"] == "undefined"
    assert "<script>window.__x=1</script>" in shown["body"]  # shown as text


@pytest.mark.slow
def test_shadow_report_renders_offline_with_its_charts(tmp_path: Path) -> None:
    executable = chromium_or_skip()
    from .test_shadow_report import traffic

    cmp = wb.shadow_test(traffic(tmp_path, 40), "sim/small", progress=False)
    report = wb.shadow_report(cmp, examples=60)
    path = report.to_html(tmp_path / "shadow.html")
    shown = render_offline(executable, path, len(report.figures), tmp_path / "shadow.png")
    assert shown["outcome"] == report.outcome and len(report.figures) >= 3
    assert shown["x"] == shown["y"] == "undefined"
    assert "Personal data was redacted" in shown["body"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo's migration report: examples/triage_experiment.yaml run offline, decided and
    written as `workbench demo` does (HTML, Markdown with its chart images)."""
    from workbench.workflow import run_experiment

    executable = chromium_or_skip()
    root = Path(__file__).resolve().parents[2]
    folder = tmp_path_factory.mktemp("demo")
    with pytest.MonkeyPatch.context() as mp:  # what tests/conftest.py does for each test
        mp.setenv("WORKBENCH_CACHE_DIR", str(folder / "cache"))
        mp.setenv("WORKBENCH_HOME", str(folder / "home"))
        mp.setenv("WORKBENCH_SIM_LATENCY_SCALE", "0")
        mp.setenv("WORKBENCH_REPORT_IMAGES", "1")  # the Markdown's chart images are checked
        result = run_experiment(root / "examples" / "triage_experiment.yaml",
                                out=folder / "run", report_dir=folder / "reports", mlflow=False,
                                progress=False, allow_outside=[root / "datasets"])
    assert result.comparison is not None and result.decision is not None
    report = wb.migration_report(result.comparison, decision=result.decision, log=False)
    return {"executable": executable, "folder": folder, "report": report,
            "html": folder / "reports" / "migration_report.html",
            "md": folder / "reports" / "migration_report.md"}


@pytest.mark.slow
def test_demo_report_opens_with_the_summary_and_the_first_chart_in_1200px(
        demo: dict[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    report, path = demo["report"], demo["html"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=demo["executable"], headless=True)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.goto(path.as_uri())
            page.wait_for_function(
                f"document.querySelectorAll('.chart .main-svg').length >= {len(report.figures)}",
                timeout=30_000)
            box = page.evaluate("""() => {
                const at = e => { const r = e.getBoundingClientRect();
                                  return [r.top + scrollY, r.bottom + scrollY]; };
                return {summary: at(document.querySelector('#summary')),
                        chart: at(document.querySelector('.chart')),
                        decision: at(document.querySelector('#decision')),
                        height: document.body.scrollHeight}; }""")
            page.screenshot(path=str(demo["folder"] / "first-screen.png"))
            verdict = page.inner_text("#summary .verdict")
        finally:
            browser.close()
    # the executive summary, then the first chart (the paired differences), both whole within
    # the first 1,200 px at 1280×800; the gates table and the details come after them
    assert box["summary"][1] <= 1200 and box["chart"][1] <= 1200, box
    assert box["summary"][1] <= box["chart"][0] < box["decision"][0], box
    assert verdict == report.summary.verdict
    for label in ("Quality", "Cost", "Latency", "Next step", "What would change the decision"):
        assert report.summary.point(label) is not None


@pytest.mark.slow
def test_demo_markdown_embeds_its_charts_as_images_beside_it(demo: dict[str, Any]) -> None:
    from markdown_it import MarkdownIt

    md = demo["md"]
    tokens = MarkdownIt("commonmark").parse(md.read_text())
    images = [c.attrGet("src") for t in tokens if t.children for c in t.children
              if c.type == "image"]
    assert len(images) == len(demo["report"].figures) >= 4
    for src in images:
        assert not Path(str(src)).is_absolute() and str(src).startswith("migration_report_charts/")
        image = md.parent / str(src)
        assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and image.stat().st_size > 5_000
    assert not [p for p in (md.parent / "migration_report_charts").iterdir()
                if p.name.startswith(".")]  # no temporary files left behind


@pytest.mark.slow
def test_pdf_is_written_opens_in_chromium_and_holds_the_decision(
        demo: dict[str, Any], tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    from . import pdf

    report = demo["report"]
    out = report.to_pdf(tmp_path / "forward" / "migration_report.pdf")
    assert out.read_bytes()[:5] == b"%PDF-"
    assert pdf.page_count(out) >= 3
    assert pdf.title(out).startswith(f"{report.outcome} · Migration report")
    shown = pdf.text(out)
    for words in (report.summary.verdict, "What would change the decision", "Charts",
                  "1. Decision gates", "Appendix C. Examples"):
        assert words in shown, words
    assert [f for f in tmp_path.joinpath("forward").iterdir()] == [out]  # atomic: no temp file
    with sync_playwright() as p:  # Chromium's own PDF viewer opens it
        browser = p.chromium.launch(executable_path=demo["executable"], headless=True)
        try:
            page = browser.new_page()
            response = page.goto(out.as_uri())
            assert response is not None and response.ok
            viewer = None
            for _ in range(60):  # the viewer (an extension frame) loads the document: ≤ 15 s
                viewer = next((f for f in page.frames
                               if f.url.startswith("chrome-extension://")), None)
                if viewer is not None:
                    break
                page.wait_for_timeout(250)
            assert viewer is not None
            # the viewer's toolbar (its shadow DOM) shows the document's title and page count
            expect(viewer.locator("#title").first).to_have_text(pdf.title(out), timeout=15_000)
            expect(viewer.locator("#pagelength").first).to_have_text(str(pdf.page_count(out)))
        finally:
            browser.close()


@pytest.mark.slow
def test_cli_report_pdf_flag_and_write_pdf_print_the_html(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    chromium_or_skip()
    from workbench.cli import main
    from workbench.reports import write_pdf

    from . import pdf

    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path}/mlflow.db"
    cmp = wb.compare(golden(), ["sim/large", "sim/fast"], VARIANTS, [wb.scorers.exact_match],
                     progress=False, experiment="pdf", tracking_uri=store, **ROLES)
    out = tmp_path / "out" / "report.html"
    assert main(["report", cmp.record.tracking.run_id, "--tracking-uri", store, "--out",
                 str(out), "--pdf"]) == 0
    printed = capsys.readouterr().out
    assert f"migration report as PDF: {out.with_suffix('.pdf')}" in printed
    outcome = wb.migration_report(cmp, log=False, **ROLES).outcome
    assert pdf.title(out.with_suffix(".pdf")).startswith(outcome)
    again = write_pdf(out, tmp_path / "copy.pdf")  # what `workbench demo --pdf` does
    assert again.read_bytes()[:5] == b"%PDF-" and pdf.page_count(again) >= 2
    assert "Appendix C. Examples" in pdf.text(again)
    with pytest.raises(wb.ConfigError, match="no HTML report to print"):
        write_pdf(tmp_path / "missing.html")
