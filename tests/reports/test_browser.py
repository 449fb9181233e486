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
