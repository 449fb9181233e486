"""Notebook rendering of plans and comparisons (Jinja2 with autoescape: model output is data)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from jinja2 import Environment

_ENV = Environment(autoescape=True)

_PLAN = _ENV.from_string("""
<div class="workbench-plan">
  <strong>Plan for {{ name }}</strong>: {{ headline }}
  {{ table }}
  {% for note in notes %}<div>⚠ {{ note }}</div>{% endfor %}
</div>
""")

_COMPARISON = _ENV.from_string("""
<div class="workbench-comparison">
  <strong>Comparison on {{ name }}</strong> — {{ rows }} rows, status <b>{{ status }}</b>,
  billed ${{ "%.4f" | format(spent) }}
  {% if stop_reason %}<div>⚠ {{ stop_reason }}</div>{% endif %}
  {% if simulated %}<div>⚠ SIMULATED models (offline stand-ins, not real LLMs):
    {{ simulated | join(", ") }}</div>{% endif %}
  {{ summary }}
  <div>{{ footnote }}</div>
</div>
""")


def _table(df: pd.DataFrame) -> str:
    # pandas escapes cell text by default (escape=True)
    return df.to_html(float_format=lambda v: f"{v:.4g}", escape=True, border=0)


def plan_html(plan: Any) -> str:
    """HTML of a plan: headline, per-configuration table and notes.

    Plans and comparisons are passed in, not imported: their ``_repr_html_`` calls this.
    """
    return _PLAN.render(
        name=plan.golden_set.name, headline=plan.headline(), notes=plan.notes(),
        table=_Markup(_table(plan.table())),
    )


def comparison_html(cmp: Any) -> str:
    """HTML of a comparison: status, simulated-model warning and the summary table."""
    summary = cmp.summary()
    methods = summary.attrs.get("ci_method", {})
    footnote = "; ".join(f"{k}: {v} CI" for k, v in methods.items())
    footnote += "; failed calls counted as 0" if footnote else ""
    return _COMPARISON.render(
        name=cmp.record.golden_set.name, rows=len(cmp.results),
        status=cmp.status, spent=cmp.spent_usd, stop_reason=cmp.stop_reason,
        simulated=cmp.simulated_models
        + [f"{v} (judge {k})" for k, v in cmp.simulated_judges.items()],
        summary=_Markup(_table(summary)), footnote=footnote,
    )


def _Markup(html: str) -> object:  # noqa: N802 - mirrors markupsafe.Markup
    from markupsafe import Markup

    return Markup(html)  # pandas already escaped the cells
