"""HTML the builder shows: the plan as a formatted table, a finished run, money as text."""

from __future__ import annotations

import html
import math
from typing import Any

from workbench._home import mlflow_ui_command
from workbench.runner import Comparison, Plan

__all__ = ["held_usd", "money", "plan_html", "result_html"]

_TABLE = ("<style>.wb-plan td,.wb-plan th{text-align:right;padding:2px 8px;white-space:nowrap;"
          "font-variant-numeric:tabular-nums}.wb-plan td.l,.wb-plan th.l{text-align:left}"
          "</style>")
HELD_NOTE = ("held for calls cancelled in flight: counted against the budget, a provider "
             "may have billed them")


def money(value: float | None) -> str:
    """``$0.0123`` (four decimals, as the CLI), ``unknown`` for None or NaN.

    Example:
        >>> money(0.01234), money(None), money(1234.5)
        ('$0.0123', 'unknown', '$1,234.5000')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "unknown"
    return f"${value:,.4f}"


def plan_html(p: Plan) -> str:
    """The plan: its headline, a formatted per-configuration table, and its notes."""
    table = p.table()
    judges = "judge_calls" in table.columns
    head = ["model", "variant", "calls", "prompt tokens", "est. answer tokens", "est. cost"]
    if judges:
        head += ["judge calls", "est. judge cost"]
    rows = []
    for key, row in table.iterrows():
        model, variant = key if isinstance(key, tuple) else (key, "")
        cells = [f"<td class='l'>{html.escape(str(model))}</td>",
                 f"<td class='l'>{html.escape(str(variant))}</td>",
                 f"<td>{int(row['calls']):,}</td>", f"<td>{int(row['prompt_tokens']):,}</td>",
                 f"<td>{int(row['est_completion_tokens']):,}</td>",
                 f"<td>{money(_number(row['est_cost_usd']))}</td>"]
        if judges:
            cells += [f"<td>{int(row['judge_calls']):,}</td>",
                      f"<td>{money(_number(row['est_judge_cost_usd']))}</td>"]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    header = "".join(f"<th class='{'l' if i < 2 else ''}'>{h}</th>" for i, h in enumerate(head))
    notes = "".join(f"<div>⚠ {html.escape(n)}</div>" for n in p.notes())
    return (f"{_TABLE}<div class='wb-plan'><b>Plan</b>: {html.escape(p.headline())}"
            f"<table><tr>{header}</tr>{''.join(rows)}</table>{notes}</div>")


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(
        value)


def held_usd(cmp: Comparison) -> float:
    """Dollars the run counted against its budget beyond what its calls billed.

    After a cancel, calls that were in flight never recorded an answer; a resumed run counts
    their reserved cost as spent (the provider may have billed them). 0 for a plain run.
    """
    return max(0.0, float(cmp.record.run.spent_usd) - cmp.spent_usd)


def result_html(cmp: Comparison, *, logging: str = "") -> str:
    """A finished (or stopped) run: status, what it billed, the MLflow run, the summary."""
    state = f"<b>{html.escape(cmp.status)}</b>"
    if not cmp.complete:
        state += f": {html.escape(cmp.stop_reason or '')}; tick “resume” and Run to finish"
    held = held_usd(cmp)
    billed = (f"billed {money(cmp.spent_usd)}"
              + (f" (+ {money(held)} {HELD_NOTE})" if held >= 5e-5 else ""))
    parts = [f"<p>{state} · {len(cmp.results):,} rows · {billed}</p>"]
    ref = cmp.record.tracking
    if ref is not None and ref.run_id:
        parts.append(f"<p>MLflow parent run <code>{html.escape(ref.run_id)}</code> in "
                     f"<code>{html.escape(ref.experiment or '')}</code>; open the UI with "
                     f"<code>{html.escape(mlflow_ui_command(ref.tracking_uri))}</code></p>")
    elif ref is not None and ref.error:
        parts.append(f"<p style='color:#cf222e'>logging to MLflow failed: "
                     f"{html.escape(ref.error)}</p>")
    if logging:
        parts.append(f"<p><i>{html.escape(logging)}</i></p>")
    parts.append(cmp.summary()._repr_html_())
    return "".join(parts)
