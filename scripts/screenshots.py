"""Screenshots for the README, taken in a real JupyterLab (``make screenshots``).

Runs notebooks/01_quickstart.ipynb (a copy, offline, simulated models, a throwaway project
home for MLflow, outputs and the call cache) in a throwaway JupyterLab with headless Chromium,
presses the comparison builder's Plan, Run, Cancel and resume, and saves the results explorer,
the quality-against-cost chart and the builder to docs/images/. Needs Chromium (Debian's
`chromium`) and the dev extras (Playwright).

The browser test (tests/notebooks/test_lab_browser.py) drives the same notebooks with the same
helpers (``workspace``, ``lab_env``, ``run_quickstart``, ``open_builder``, ``drive_builder``),
so the pictures show what the test checked.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "notebooks/01_quickstart.ipynb"
BUILDER_NOTEBOOK = "notebooks/builder_in_lab.ipynb"
"""The quickstart's builder section alone (written by :func:`workspace`, never shipped)."""

_LATENCY = """import os

# made for the browser test and the screenshots, from 01_quickstart's builder section: the
# simulated calls take their realistic time (Cancel lands mid-run) and nothing is cached yet
os.environ["WORKBENCH_SIM_LATENCY_SCALE"] = "1"
os.environ["WORKBENCH_CACHE_DIR"] = str(wb.project_home() / "builder-cache")"""


def workspace(root: Path) -> Path:
    """notebooks/ copied under ``root`` beside links to the shipped datasets and examples.

    A copy per run: JupyterLab's autosave never touches the repository's notebooks. Also
    writes :data:`BUILDER_NOTEBOOK`, the quickstart's set-up and builder cells.
    """
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    (root / "datasets").symlink_to(ROOT / "datasets")
    (root / "examples").symlink_to(ROOT / "examples")
    builder_notebook(root / "notebooks" / "01_quickstart.ipynb", root / BUILDER_NOTEBOOK)
    return root / "notebooks"


def builder_notebook(quickstart: Path, out: Path) -> Path:
    """The quickstart's cells up to its plan, then its builder section, at realistic latency."""
    import nbformat

    nb = nbformat.read(quickstart, as_version=4)
    cells = nb.cells
    first_plan = next(i for i, c in enumerate(cells) if "wb.plan(" in c.source)
    builder = next(i for i, c in enumerate(cells) if "ComparisonBuilder(" in c.source)
    setup = [c for c in cells[:first_plan] if not c.source.startswith("## The plan")]
    latency = nbformat.v4.new_code_cell(_LATENCY)
    nb.cells = [*setup[:2], latency, *setup[2:], cells[builder - 1], cells[builder]]
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell{i}"
    nbformat.write(nb, out)
    return out


def lab_env(root: Path, cache: Path) -> dict[str, str]:
    """The kernels' environment: a throwaway project home (store, outputs) and call cache."""
    home = root / "home"
    home.mkdir(exist_ok=True)
    return {"WORKBENCH_HOME": str(home), "MLFLOW_TRACKING_URI": f"sqlite:///{home}/mlflow.db",
            "WORKBENCH_CACHE_DIR": str(cache), "WORKBENCH_SIM_LATENCY_SCALE": "0"}


def _accept(dialog: Any) -> None:
    button = dialog.locator(".jp-mod-accept").first
    if button.count():
        button.click(timeout=5_000)
    try:
        dialog.wait_for(state="hidden", timeout=5_000)
    except Exception:  # noqa: BLE001 - the handler runs again before the next retry
        pass


def _run(page: Any, lab: Any, notebook: str, timeout_s: float) -> None:
    from workbench.testing._lab import run_all

    # a late "Select kernel" dialog (it may come after the kernel went idle) would block the
    # next click: accept its default whenever one is in the way (again on the next retry if a
    # click landed before the dialog was ready)
    page.add_locator_handler(page.locator(".jp-Dialog"), _accept, no_wait_after=True)
    try:
        run_all(page, lab, notebook, timeout_s=timeout_s)
    finally:
        page.remove_locator_handler(page.locator(".jp-Dialog"))


def run_quickstart(page: Any, lab: Any, *, timeout_s: float = 240) -> None:
    """Run every cell of the quickstart in the lab; wait for the explorer and the chart."""
    _run(page, lab, NOTEBOOK, timeout_s)
    page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=60_000)
    page.wait_for_selector(".jp-OutputArea .plotly .main-svg", timeout=60_000)


def open_builder(page: Any, lab: Any, *, timeout_s: float = 240) -> None:
    """Run :data:`BUILDER_NOTEBOOK` (the quickstart's builder) and wait for the widget."""
    _run(page, lab, BUILDER_NOTEBOOK, timeout_s)
    page.locator("button.widget-button", has_text="Plan").first.wait_for(timeout=60_000)


@dataclass
class BuilderRun:
    """What the builder showed at each step of Plan → Run → Cancel → resume."""

    plan: str = ""
    live: list[str] = field(default_factory=list)
    """The progress text ("12/48 calls · $0.0012 spent …") while running."""
    partial: str = ""
    partial_result: str = ""
    final: str = ""
    final_result: str = ""
    run_disabled_while_logging: bool = False
    bar_width: str = ""


def text_of(locator: Any) -> str:
    """An element's text with whitespace collapsed.

    Read from ``textContent``: JupyterLab's windowed notebook can leave ``innerText`` empty
    for outputs it has not painted.
    """
    return " ".join((locator.text_content() or "").split())


def _calls(text: str) -> tuple[int, int]:
    found = re.search(r"(\d+)/(\d+) calls", text)
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


_WATCH_LOGGING = """box => {
    box.__wbLogging = [];
    new MutationObserver(() => {
        if (!box.textContent.includes('logging to MLflow')) return;
        const run = [...box.querySelectorAll('button.widget-button')]
            .find(b => b.textContent.trim() === 'Run');
        box.__wbLogging.push(run ? run.disabled : false);
    }).observe(box, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def drive_builder(page: Any, *, timeout_s: float = 120) -> BuilderRun:
    """Press the quickstart builder's buttons as a person would, and read what it shows.

    Adds a model with Enter and removes it by its chip, presses Plan, Run, Cancel once a few
    calls are done, ticks "resume" and presses Run again, then waits until the run is logged
    and Run is enabled again.
    """
    ms = int(timeout_s * 1000)
    out = BuilderRun()
    box = page.locator(".jp-OutputArea-output").filter(
        has=page.locator("button", has_text="Plan")).first
    box.scroll_into_view_if_needed()
    button = {name: box.locator("button.widget-button", has_text=re.compile(f"^\\s*{name}\\s*$"))
              for name in ("Plan", "Run", "Cancel")}
    spent = box.locator(".widget-html-content", has_text=re.compile(r"\d+/\d+ calls"))
    result = box.locator(".widget-html-content").last

    entry = box.locator("input[placeholder^='add a model']")
    entry.fill("sim/small")
    entry.press("Enter")  # JupyterLab keeps Enter from TagsInput; this box adds on Enter
    chip = box.locator("button", has_text="sim/small ✕")
    chip.wait_for(timeout=ms)
    chip.click()
    chip.wait_for(state="detached", timeout=ms)

    button["Plan"].click()
    plan = box.locator(".wb-plan")
    plan.wait_for(timeout=ms)
    out.plan = text_of(plan)

    button["Run"].click()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if spent.count():
            text = text_of(spent.first)
            if not out.live or out.live[-1] != text:
                out.live.append(text)
            if _calls(text)[0] >= 4:
                break
        time.sleep(0.05)
    button["Cancel"].click()
    box.locator("p > b", has_text=re.compile("^interrupted$")).wait_for(timeout=ms)
    page.wait_for_function("b => !b.disabled", arg=button["Run"].element_handle(), timeout=ms)
    out.partial = text_of(spent.first)
    out.partial_result = text_of(result)

    box.locator("label", has_text="resume an interrupted run").locator("input").check()
    # "logging to MLflow" can show for less than a poll of the page: watch every change of
    # the builder and note whether Run was disabled whenever the logging line was on screen
    box.evaluate(_WATCH_LOGGING)
    button["Run"].click()
    box.locator("p > b", has_text=re.compile("^complete$")).wait_for(timeout=ms)
    seen = box.evaluate("b => b.__wbLogging")
    out.run_disabled_while_logging = bool(seen) and all(seen)
    page.wait_for_function("b => !b.disabled", arg=button["Run"].element_handle(), timeout=ms)
    out.final = text_of(spent.first)
    out.final_result = text_of(result)
    out.bar_width = box.locator(".widget-hprogress .progress-bar").first.evaluate(
        "e => e.style.width")
    return out


def main() -> int:
    """Take the screenshots; returns the exit code."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from workbench.testing._lab import jupyterlab

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wb-shots-") as tmp:
        root = Path(tmp)
        workspace(root)
        env = lab_env(root, root / "cache")
        with jupyterlab(root, env=env) as lab, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True)
            try:
                # tall enough for the whole explorer (element shots must fit the viewport)
                page = browser.new_page(viewport={"width": 1300, "height": 2400},
                                        device_scale_factor=1)
                run_quickstart(page, lab)
                explorer = page.locator(".jp-OutputArea-output:has(.widget-slider)").first
                explorer.scroll_into_view_if_needed()
                explorer.screenshot(path=str(out / "results_explorer.png"))
                chart = page.locator(".jp-OutputArea-output:has(.plotly .main-svg)").first
                chart.scroll_into_view_if_needed()
                chart.screenshot(path=str(out / "cost_quality.png"))
                open_builder(page, lab)
                drive_builder(page)
                builder = page.locator(".jp-OutputArea-output").filter(
                    has=page.locator("button", has_text="Plan")).first
                builder.scroll_into_view_if_needed()
                builder.screenshot(path=str(out / "builder.png"))
            finally:
                browser.close()
    for name in ("results_explorer.png", "cost_quality.png", "builder.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
