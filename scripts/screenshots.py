"""Screenshots for the README, taken in a real JupyterLab (``make screenshots``).

Runs notebooks/01_quickstart.ipynb (a copy, offline, simulated models, temp MLflow and cache)
in a throwaway JupyterLab with headless Chromium and saves the results explorer and the
quality-against-cost chart to docs/images/. Needs Chromium (Debian's `chromium`) and the dev
extras (Playwright).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Take both screenshots; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    from workbench.testing._lab import jupyterlab, run_all

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="wb-shots-") as tmp:
        root = Path(tmp)
        shutil.copytree(ROOT / "notebooks", root / "notebooks")
        (root / "datasets").symlink_to(ROOT / "datasets")
        (root / "examples").symlink_to(ROOT / "examples")
        env = {"MLFLOW_TRACKING_URI": f"sqlite:///{root}/mlflow.db",
               "WORKBENCH_CACHE_DIR": str(root / "cache"), "WORKBENCH_SIM_LATENCY_SCALE": "0"}
        with jupyterlab(root, env=env) as lab, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, headless=True)
            try:
                # tall enough for the whole explorer (element shots must fit the viewport)
                page = browser.new_page(viewport={"width": 1300, "height": 2400},
                                        device_scale_factor=1)
                run_all(page, lab, "notebooks/01_quickstart.ipynb")
                explorer = page.locator(".jp-OutputArea-output:has(.widget-slider)").first
                explorer.wait_for(timeout=60_000)
                explorer.scroll_into_view_if_needed()
                explorer.screenshot(path=str(out / "results_explorer.png"))
                chart = page.locator(".jp-OutputArea-output:has(.plotly .main-svg)").first
                chart.scroll_into_view_if_needed()
                chart.screenshot(path=str(out / "cost_quality.png"))
            finally:
                browser.close()
    for name in ("results_explorer.png", "cost_quality.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
