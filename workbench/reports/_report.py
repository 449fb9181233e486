"""What both reports share: the ``Report`` base, its Jinja2 environment and its exports.

A report is a typed pydantic model rendered by the templates in ``templates/`` to one
self-contained HTML page, to GitHub Markdown (charts as PNG images beside it) and to PDF
(Chromium's print of the HTML); every piece of model or dataset text goes through
``markdown_escape`` (Markdown) or Jinja2's autoescape (HTML).
"""

from __future__ import annotations

import html
import json
import os
import re
from pathlib import Path
from typing import Any, ClassVar

from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from workbench._atomic import write_text
from workbench._home import project_home

from ._export import ChartImage, html_to_pdf, write_chart_images
from ._summary import ExecutiveSummary
from ._text import (
    as_text,
    display_path,
    format_number,
    json_safe,
    markdown_escape,
    relative_command,
    to_yaml,
    word_diff,
)

__all__ = ["Report", "as_text", "format_number", "jinja_env", "json_safe", "markdown_escape",
           "word_diff"]


class Report(BaseModel):
    """What the HTML, Markdown and PDF reports share: a decision with its gates, and figures.

    Subclasses name their templates (``<stem>.html.j2`` and ``<stem>.md.j2``).
    """

    model_config = ConfigDict(frozen=True)
    template: ClassVar[str] = "migration"

    title: str
    created_at: str
    candidate: tuple[str, str]
    incumbent: tuple[str, str]
    outcome: str
    headline: str
    banner: list[str]
    gates: list[dict[str, Any]]
    gates_config: dict[str, Any]
    default_gates: bool
    cases_needed: int | None
    extra_cases: int | None
    advice: str = ""
    """For HOLD: what more data would do (``Decision.advice``)."""
    n_cases: int
    errors_rule: str
    summary: ExecutiveSummary
    """The executive summary the report opens with (decision, quality, cost, latency, …)."""
    colors: dict[str, str] = Field(default_factory=dict)
    """``model/variant`` → its colour in every chart (``charts.config_colors``)."""
    quality: list[dict[str, Any]]
    """Paired metrics, one row each (``MetricDelta.row()`` plus the metric's name)."""
    cost: dict[str, Any]
    volume: str = ""
    """Where the monthly volume behind the costs comes from (assumed default, given, the log)."""
    latency: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    reproducibility: dict[str, Any]
    figures: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    """Plotly figures as JSON-ready dicts."""

    def _context(self, base: Path | None) -> dict[str, Any]:
        """What the templates need beyond the report: paths shown relative to ``base``."""
        folder = base if base is not None else project_home()
        repro = self.reproducibility
        dataset = (repro.get("dataset") or {}).get("path")
        models = {f"{m['label']}{' (SIMULATED)' if m.get('simulated') else ''}": {
            "params": m.get("params") or {}, "pricing": m.get("pricing") or {},
            "answers": m.get("recorded")} for m in repro.get("models") or []}
        return {"r": self, "command": relative_command(str(repro.get("command") or ""), folder),
                "dataset_path": display_path(dataset, folder) if dataset else None,
                "models_yaml": to_yaml(models),
                "paths_note": ("paths are relative to this report's folder" if base is not None
                               else "paths are relative to the project folder")}

    def html(self, *, base: str | Path | None = None) -> str:
        """The report as one HTML page (plotly.js embedded once; nothing from the network).

        Args:
            base: the folder the page will be written to: paths in it are shown relative to
                it (default: relative to the project folder, ``wb.project_home()``).
        """
        import plotly.io as pio

        charts = [pio.from_json(json.dumps(fig)).to_html(
            full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
            for i, fig in enumerate(self.figures)]
        return jinja_env().get_template(f"{self.template}.html.j2").render(
            charts=charts, **self._context(Path(base) if base is not None else None))

    def markdown(self, *, images: list[ChartImage] | None = None, images_note: str = "",
                 base: str | Path | None = None) -> str:
        """The report as GitHub Markdown: tables, and the charts as images when given.

        Args:
            images: chart images written beside the Markdown (``to_markdown`` draws them);
                without them one line says the charts are in the HTML report.
            images_note: why there are no images (shown in that line).
            base: the folder the Markdown will be written to (paths are shown relative to it).
        """
        if not images and not images_note:
            images_note = ("this copy has no chart images" if self.figures
                           else "this report has no charts")
        return jinja_env().get_template(f"{self.template}.md.j2").render(
            images=images or [], images_note=images_note,
            **self._context(Path(base) if base is not None else None))

    def to_html(self, path: str | Path) -> Path:
        """Write the HTML report (atomically); returns the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, self.html(base=out.parent))  # atomic: a kill never leaves half a report
        return out

    def to_markdown(self, path: str | Path, *, images: bool | None = None) -> Path:
        """Write the Markdown report; its charts as PNGs in ``<name>_charts/`` beside it.

        The images are drawn by kaleido with the local Chromium (``$BROWSER_PATH`` or
        ``chromium`` on the PATH; a few seconds) and referenced by relative paths, so the folder
        can be moved or committed as a whole. Without a browser, the Markdown says so in one
        line and is written all the same. ``images=False`` skips them (the line points to the
        HTML report); the default draws them unless ``WORKBENCH_REPORT_IMAGES=0``.
        """
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        if images is None:
            images = os.environ.get("WORKBENCH_REPORT_IMAGES", "").strip() != "0"
        drawn: list[ChartImage] = []
        note = ""
        if images and self.figures:
            drawn, note = write_chart_images(self.figures, out.parent / f"{out.stem}_charts",
                                             out.parent)
        elif self.figures:
            note = "chart images were not drawn for this copy"
        write_text(out, self.markdown(images=drawn, images_note=note, base=out.parent))
        return out

    def to_pdf(self, path: str | Path) -> Path:
        """Write the report as PDF: Chromium's headless print of the HTML (charts included).

        Needs a local Chromium or Chrome (``$BROWSER_PATH``, else ``chromium`` on the PATH)
        and the ``playwright`` package to drive it; nothing is downloaded. Atomic write.

        Raises:
            ConfigError: no Chromium, no playwright, or the page did not render.

        Example::

            report.to_pdf("migration_report.pdf")   # for leads who forward files
        """
        out = Path(path)
        return html_to_pdf(self.html(base=out.parent), out, charts=len(self.figures))

    def _repr_html_(self) -> str:
        points = "".join(f"<li><b>{html.escape(p.label)}</b>: "
                         f"{html.escape(' '.join(p.lines))}</li>" for p in self.summary.points)
        notes = "".join(f"<li>{html.escape(b)}</li>" for b in self.banner)
        return (f"<div><h3>{html.escape(self.title)}</h3><p><b>{html.escape(self.outcome)}"
                f"</b> {html.escape(self.summary.verdict)}</p><ul>{points}</ul>"
                f"<ul>{notes}</ul><p>Full report: <code>.to_html(path)</code>, "
                "<code>.to_markdown(path)</code>, <code>.to_pdf(path)</code></p></div>")


def jinja_env() -> Environment:
    """The templates' Jinja2 environment: HTML autoescaped; ``md``, ``cell``, ``num`` filters.

    Also ``yaml`` (settings), ``fence`` and ``code`` (code blocks and spans) and ``slug``
    (GitHub's anchor of a heading, for the table of contents).
    """
    env = Environment(loader=PackageLoader("workbench.reports", "templates"),
                      autoescape=select_autoescape(["html.j2"]), trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = markdown_escape
    env.filters["cell"] = _cell
    env.filters["num"] = format_number
    env.filters["yaml"] = to_yaml
    env.filters["fence"] = _fence
    env.filters["code"] = _code_span
    env.filters["slug"] = _slug
    return env


def _cell(value: Any) -> str:
    """``markdown_escape`` for a table cell or mid-line text, where no block can start."""
    return markdown_escape(value, block=False)


def _fence(text: str) -> str:
    """A Markdown code fence longer than any backtick run in ``text``."""
    longest = max((len(run) for run in re.findall(r"`+", str(text))), default=0)
    return "`" * max(3, longest + 1)


def _code_span(text: str) -> str:
    """Inline Markdown code showing ``text`` as it is (backticks inside are allowed)."""
    text = re.sub(r"\s*[\r\n]+\s*", " ", str(text))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading (``1. Decision gates`` → ``1-decision-gates``)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
