"""What a report needs a browser for: static chart images (kaleido) and PDF (headless print).

Both drive a local Chromium, never one downloaded at run time: ``$BROWSER_PATH`` when set,
else ``chromium`` / ``chromium-browser`` / ``google-chrome`` on the ``PATH``.
"""

from __future__ import annotations

import concurrent.futures
import html
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from workbench._atomic import write_bytes
from workbench.errors import ConfigError

__all__ = ["ChartImage", "find_chromium", "html_to_pdf", "write_chart_images", "write_pdf"]

_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
_WIDTH = 900
"""Chart images are drawn this many CSS pixels wide (the HTML report's text column)."""

T = TypeVar("T")


def find_chromium() -> str | None:
    """The Chromium (or Chrome) to drive: ``$BROWSER_PATH``, else the first one on the PATH.

    Returns None when there is none (``$BROWSER_PATH`` naming a missing file counts as none).
    """
    given = os.environ.get("BROWSER_PATH")
    if given:
        return given if Path(given).is_file() else None
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _in_thread(fn: Callable[[], T]) -> T:
    """Run ``fn`` on a worker thread.

    Playwright's and kaleido's sync APIs refuse to run inside a running event loop (a
    notebook's), so they never run on the caller's thread.
    """
    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="workbench-browser") as ex:
        return ex.submit(fn).result()


class ChartImage:
    """A chart drawn as a PNG next to the Markdown: its alt text and relative path."""

    def __init__(self, alt: str, path: str) -> None:
        self.alt = alt
        self.path = path

    def __repr__(self) -> str:
        return f"ChartImage({self.alt!r}, {self.path!r})"


def _title_of(fig: dict[str, Any], i: int) -> str:
    title = (fig.get("layout") or {}).get("title") or {}
    text = title.get("text") if isinstance(title, dict) else None
    return html.unescape(str(text)) if text else f"chart {i}"


def write_chart_images(figures: Sequence[dict[str, Any]], folder: Path, relative_to: Path
                       ) -> tuple[list[ChartImage], str]:
    """Draw ``figures`` (plotly JSON) as ``folder/chart-N.png``; (images, why there are none).

    Images are rendered into a temporary folder beside the target and renamed into place, so
    an interrupted export never leaves half an image. Returns no images and a one-line reason
    when no browser could draw them; never raises for a missing or broken browser.
    """
    if not figures:
        return [], ""
    browser = find_chromium()
    if browser is None and os.environ.get("BROWSER_PATH"):
        return [], ("BROWSER_PATH does not name a browser on this machine, so no chart "
                    "images were drawn")
    try:
        import kaleido  # type: ignore[import-untyped]
    except ImportError:
        return [], "kaleido is not installed, so no chart images were drawn"
    folder.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".charts-", dir=folder))
    try:
        specs: list[dict[str, Any]] = []
        for i, fig in enumerate(figures, 1):
            layout = fig.get("layout") or {}
            specs.append({"fig": fig, "path": scratch / f"chart-{i}.png",
                          "opts": {"format": "png", "width": int(layout.get("width") or _WIDTH),
                                   "height": int(layout.get("height") or 450), "scale": 1.5}})
        kopts: dict[str, Any] = {"mathjax": False}
        if browser is not None:
            kopts["path"] = browser
        try:
            _in_thread(lambda: kaleido.write_fig_from_object_sync(specs, kopts=kopts))
        except Exception as exc:  # no browser, or it failed: the Markdown still gets written
            reason = re.sub(r"\s+", " ", str(exc)).strip()[:200] or type(exc).__name__
            return [], (f"no Chromium could draw the chart images ({reason}); install chromium "
                        "or set BROWSER_PATH")
        images = []
        for i, spec in enumerate(specs, 1):
            target = folder / f"chart-{i}.png"
            os.replace(spec["path"], target)
            rel = Path(os.path.relpath(target, relative_to)).as_posix()
            images.append(ChartImage(_title_of(figures[i - 1], i), rel))
        for stale in folder.glob("chart-*.png"):  # from an earlier export with more charts
            if stale.name not in {f"chart-{i}.png" for i in range(1, len(specs) + 1)}:
                stale.unlink()
        return images, ""
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def html_to_pdf(page_html: str, path: Path, *, charts: int = 0, timeout_s: float = 60) -> Path:
    """Print an HTML page to PDF with headless Chromium (Playwright), offline; atomic write.

    Waits for ``charts`` plotly charts to be drawn before printing. Nothing is loaded from
    the network (the page is self-contained; any other request is refused).

    Raises:
        ConfigError: no Chromium, or Playwright is not installed, or the page did not render.
    """
    browser_path = find_chromium()
    if browser_path is None:
        raise ConfigError("PDF export needs Chromium (or Chrome), and none was found"
                          + (f" at BROWSER_PATH={os.environ['BROWSER_PATH']}"
                             if os.environ.get("BROWSER_PATH") else " on the PATH"),
                          where=str(path),
                          fix="Install it (e.g. `apt-get install chromium`) or set BROWSER_PATH "
                          "to its executable; the HTML report needs no browser to write.")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise ConfigError("PDF export needs the playwright package", where=str(path),
                          fix="pip install 'playwright>=1.50' (it drives the installed Chromium; "
                          "no `playwright install` is needed).") from exc

    def render() -> bytes:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=browser_path, headless=True)
            try:
                context = browser.new_context(offline=True, viewport={"width": 1000,
                                                                      "height": 1400})
                context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(
                    ("about:", "data:")) else r.abort())
                page = context.new_page()
                page.set_content(page_html, wait_until="load", timeout=timeout_s * 1000)
                if charts:
                    page.wait_for_function(
                        f"document.querySelectorAll('.chart .main-svg').length >= {charts}",
                        timeout=timeout_s * 1000)
                page.emulate_media(media="print")
                pdf: bytes = page.pdf(format="A4", print_background=True, outline=True,
                                      tagged=True, scale=0.72,
                                      margin={"top": "12mm", "bottom": "12mm", "left": "10mm",
                                              "right": "10mm"})
                return pdf
            finally:
                browser.close()

    try:
        data = _in_thread(render)
    except PlaywrightError as exc:
        raise ConfigError(f"Chromium could not print the report: {str(exc).splitlines()[0]}",
                          where=f"{path} (browser {browser_path})",
                          fix="Check that the browser starts (`chromium --headless "
                          "--version`), or set BROWSER_PATH to a working Chromium.") from exc
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, data)
    return path


def write_pdf(html_path: str | Path, pdf_path: str | Path | None = None) -> Path:
    """Print a report written as HTML (``to_html``) to PDF beside it (or to ``pdf_path``).

    What ``workbench report|shadow|demo --pdf`` do with the HTML they wrote; in Python,
    ``report.to_pdf(path)`` does the same from the report itself.

    Raises:
        ConfigError: the HTML file is missing, or no Chromium (see :func:`html_to_pdf`).

    Example::

        write_pdf("workbench-demo/reports/migration_report.html")   # → migration_report.pdf
    """
    source = Path(html_path)
    if not source.is_file():
        raise ConfigError("no HTML report to print", where=str(source),
                          fix="Write the report first (report.to_html(path)), then print it.")
    page = source.read_text(encoding="utf-8")
    target = Path(pdf_path) if pdf_path is not None else source.with_suffix(".pdf")
    return html_to_pdf(page, target, charts=page.count('<div class="chart">'))
