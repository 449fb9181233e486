"""01_quickstart.ipynb in a real JupyterLab and headless Chromium: every cell runs, the explorer
and a plotly chart render, a click on a table row opens its case, and the comparison builder's
Plan / Run / Cancel / resume buttons work as a person presses them (the same helpers make the
README screenshots, scripts/screenshots.py). Skips without Chromium unless
WORKBENCH_REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scripts.screenshots import (
    drive_builder,
    lab_env,
    open_builder,
    run_quickstart,
    text_of,
    workspace,
)
from workbench.testing._lab import jupyterlab

from ..reports.test_browser import chromium_or_skip


def _billed(text: str) -> str:
    found = re.search(r"billed (\$[\d,]+\.\d{4})", text)
    assert found, text
    return found.group(1)


def _calls(text: str) -> tuple[int, int]:
    found = re.search(r"(\d+)/(\d+) calls", text)
    assert found, text
    return int(found.group(1)), int(found.group(2))


@pytest.mark.slow
def test_quickstart_and_the_builder_in_jupyterlab(tmp_path: Path, _isolated_cache: Path) -> None:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    here = workspace(tmp_path)  # a copy per run: Lab's autosave never touches the repository
    env = lab_env(tmp_path, _isolated_cache)
    with jupyterlab(tmp_path, env=env) as lab:
        assert lab.url.startswith("http://127.0.0.1:")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                try:
                    run_quickstart(page, lab)
                    text = page.locator(".jp-OutputArea").all_inner_texts()
                    assert any("page 1 of" in t for t in text)  # the explorer's pager
                    # the summary cells read like the CLI's
                    table = page.locator(".jp-OutputArea-output .wb-summary").first
                    table.scroll_into_view_if_needed()
                    summary = text_of(table)
                    assert re.search(r"0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]", summary)
                    assert "intent_low" not in summary
                    # a click on the third row of the explorer's table opens that case
                    explorer = page.locator(".jp-OutputArea-output:has(.widget-slider)").first
                    explorer.scroll_into_view_if_needed()
                    row = explorer.locator("table.wb-explorer tr.wb-row").nth(2)
                    case_id = text_of(row.locator("td").first)
                    row.locator("td").nth(1).click()
                    explorer.locator("h4", has_text=f"case {case_id}").wait_for(timeout=20_000)
                    detail = explorer.locator(".wb-case").first
                    assert detail.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # no clip
                    open_builder(page, lab)  # the quickstart's builder, realistic latency
                    run = drive_builder(page)
                except Exception:
                    page.screenshot(path=str(tmp_path / "failed.png"), full_page=True)
                    print(lab.log.read_text(errors="replace")[-3000:])
                    raise
                assert page.locator("[data-mime-type='application/vnd.jupyter.error']"
                                    ).count() == 0
                page.screenshot(path=str(tmp_path / "lab.png"))
            finally:
                browser.close()
        assert lab.delete_sessions() >= 2  # the quickstart's kernel and the builder's
        pid = lab.process.pid
    assert lab.process.poll() is not None  # stopped by the process we started
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the process group is gone
    assert (tmp_path / "lab.png").stat().st_size > 20_000

    # Plan: a formatted table for 24 cases × 2 models
    assert "48 calls" in run.plan and "$0." in run.plan and "e-0" not in run.plan
    # Run: the progress beside Run moved while calls were made
    assert run.live and _calls(run.live[-1])[0] >= 4
    # Cancel: a partial, interrupted result with its summary, and what it billed
    done, total = _calls(run.partial)
    assert total == 48 and 4 <= done < 48, run.partial
    assert "interrupted" in run.partial_result and "resume" in run.partial_result
    assert _billed(run.partial) == _billed(run.partial_result)
    assert "intent" in run.partial_result and "[" in run.partial_result  # its summary
    # resume: complete, logged before Run came back, one billed figure
    assert _calls(run.final) == (48, 48) and run.bar_width == "100%"
    assert run.final_result.startswith("complete")
    assert "MLflow parent run" in run.final_result, run.final_result
    assert run.run_disabled_while_logging
    assert _billed(run.final) == _billed(run.final_result)
    assert f"mlflow ui --backend-store-uri sqlite:///{tmp_path}/home/mlflow.db" in run.final_result
    # one store for the project: nothing was written beside the notebooks
    written = [f for f in here.rglob("*") if f.suffix != ".ipynb"
               and ".ipynb_checkpoints" not in f.parts]
    assert written == [], written
