"""01_quickstart.ipynb in a real JupyterLab and headless Chromium: a widget and a plotly chart
render and no cell errors. Skips without Chromium unless WORKBENCH_REQUIRE_BROWSER=1."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from workbench.testing._lab import jupyterlab, run_all

from ..reports.test_browser import chromium_or_skip
from .test_notebooks import workspace


@pytest.mark.slow
def test_quickstart_runs_in_jupyterlab_with_a_widget_and_a_chart(
        tmp_path: Path, _isolated_cache: Path) -> None:
    executable = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    here = workspace(tmp_path)  # a copy per run: Lab's autosave never touches the repository
    env = {"MLFLOW_TRACKING_URI": f"sqlite:///{tmp_path}/mlflow.db",
           "WORKBENCH_CACHE_DIR": str(_isolated_cache), "WORKBENCH_SIM_LATENCY_SCALE": "0"}
    with jupyterlab(tmp_path, env=env) as lab:
        assert lab.url.startswith("http://127.0.0.1:")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=executable, headless=True)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                try:
                    run_all(page, lab, f"{here.name}/01_quickstart.ipynb", timeout_s=120)
                except Exception:
                    page.screenshot(path=str(tmp_path / "failed.png"))
                    prompts = page.evaluate(
                        "[...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                        ".map(p => p.textContent)")
                    print("prompts at failure:", prompts)
                    print(lab.log.read_text(errors="replace")[-3000:])
                    raise
                page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=60_000)
                page.wait_for_selector(".jp-OutputArea .plotly .main-svg", timeout=60_000)
                text = page.locator(".jp-OutputArea").all_inner_texts()
                assert any("page 1 of" in t for t in text)  # the explorer's pager
                assert page.locator("[data-mime-type='application/vnd.jupyter.error']"
                                    ).count() == 0
                page.screenshot(path=str(tmp_path / "lab.png"))
            finally:
                browser.close()
        assert lab.delete_sessions() >= 1
        pid = lab.process.pid
    assert lab.process.poll() is not None  # stopped by the process we started
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # the process group is gone
    assert (tmp_path / "lab.png").stat().st_size > 20_000
