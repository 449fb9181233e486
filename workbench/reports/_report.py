"""What both reports share: the ``Report`` base, its Jinja2 environment and text helpers.

A report is a typed pydantic model rendered by the templates in ``templates/`` to one
self-contained HTML page and to GitHub Markdown; every piece of model or dataset text goes
through ``markdown_escape`` (Markdown) or Jinja2's autoescape (HTML).
"""

from __future__ import annotations

import difflib
import html
import json
import math
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field

from workbench._atomic import write_text

__all__ = ["Report", "as_text", "format_number", "jinja_env", "json_safe", "markdown_escape",
           "word_diff"]

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def markdown_escape(value: Any) -> str:
    r"""Text safe inside GitHub Markdown (and its tables): no markup, links, images or HTML.

    Example:
        >>> markdown_escape("a|b ![x](http://e/i.png) <img src=x>\nnext")
        'a\\|b \\!\\[x\\]\\(http://e/i\\.png\\) &lt;img src=x&gt; ⏎ next'
    """
    text = "" if value is None else str(value)
    text = re.sub(r"\r\n|\r|\n", " ⏎ ", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff as (op, text) with op in ``=``, ``-``, ``+``.

    Example:
        >>> word_diff("the cat sat", "the dog sat")
        [('=', 'the'), ('-', 'cat'), ('+', 'dog'), ('=', 'sat')]
    """
    a, b = (old or "").split(), (new or "").split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(("-", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", " ".join(b[j1:j2])))
    return out


class Report(BaseModel):
    """What the HTML and Markdown reports share: a decision with its gates, and figures.

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
    quality: list[dict[str, Any]]
    """Paired metrics, one row each (``MetricDelta.row()`` plus the metric's name)."""
    cost: dict[str, Any]
    latency: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    reproducibility: dict[str, Any]
    figures: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    """Plotly figures as JSON-ready dicts."""

    def html(self) -> str:
        """The report as one HTML page (plotly.js embedded once; nothing from the network)."""
        import plotly.io as pio

        charts = [pio.from_json(json.dumps(fig)).to_html(
            full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
            for i, fig in enumerate(self.figures)]
        return jinja_env().get_template(f"{self.template}.html.j2").render(r=self, charts=charts)

    def markdown(self) -> str:
        """The report as GitHub Markdown (tables, no raw HTML; charts are in the HTML)."""
        return jinja_env().get_template(f"{self.template}.md.j2").render(r=self)

    def to_html(self, path: str | Path) -> Path:
        """Write the HTML report; returns the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, self.html())  # atomic: a kill never leaves half a report
        return out

    def to_markdown(self, path: str | Path) -> Path:
        """Write the Markdown report; returns the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, self.markdown())
        return out

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(g['status'].upper())}</td>"
                       f"<td>{html.escape(g['gate'])}</td><td>{html.escape(g['evidence'])}</td>"
                       "</tr>" for g in self.gates)
        notes = "".join(f"<li>{html.escape(b)}</li>" for b in self.banner)
        return (f"<div><h3>{html.escape(self.title)}</h3><p><b>{html.escape(self.outcome)}"
                f"</b> {html.escape(self.headline)}</p><ul>{notes}</ul><table>{rows}</table>"
                "<p>Full report: <code>.to_html(path)</code>, <code>.to_markdown(path)"
                "</code></p></div>")


def jinja_env() -> Environment:
    """The report templates' Jinja2 environment: HTML autoescaped, ``md`` and ``num`` filters."""
    env = Environment(loader=PackageLoader("workbench.reports", "templates"),
                      autoescape=select_autoescape(["html.j2"]), trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = markdown_escape
    env.filters["num"] = format_number
    return env


def format_number(value: Any, digits: int = 3, signed: bool = False) -> str:
    """A number for the templates (``num`` filter): ``n/a`` for None/NaN, ints with commas."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def json_safe(value: Any) -> Any:
    """JSON-safe plain Python values (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def as_text(value: Any) -> str:
    """A table cell as display text: empty for missing, JSON for objects and lists."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
