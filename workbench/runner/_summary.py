"""``SummaryTable``: what ``Comparison.summary()`` returns, numbers inside, CLI cells outside.

The frame holds every figure as a number (``intent``, ``intent_low``, ``intent_high``,
``cost_usd``, ``latency_p95_s``…), so code selects, sorts and exports it like any DataFrame.
A notebook (and ``print``) shows it as the CLI prints it: one ``0.618 [0.539, 0.692]`` cell per
scorer, errors, cost, latency and the footnotes; ``.raw`` is the plain numeric DataFrame.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["SummaryTable"]

_STYLE = ("<style>.wb-summary{overflow-x:auto;max-width:100%}.wb-summary td,.wb-summary th{"
          "text-align:right;padding:2px 6px;white-space:nowrap;"
          "font-variant-numeric:tabular-nums}"
          ".wb-summary .wb-notes{opacity:.85;font-size:90%;margin-top:4px;white-space:normal}"
          "</style>")
"""A wide summary (many scorers) scrolls sideways inside its output instead of being cut."""


def _money(value: float) -> str:
    return "unknown" if np.isnan(value) else f"${value:,.4f}"


class SummaryTable(pd.DataFrame):
    """Per (model, variant) figures as numbers; displayed like the CLI's summary.

    ``attrs`` holds ``ci_method`` (interval method per scorer), ``errors`` (how errors were
    counted), ``scorers`` and ``notes`` (the footnotes). Selecting columns or rows gives a
    plain DataFrame (of numbers).

    Example:
        >>> table = cmp.summary()
        >>> table.formatted().loc[("sim/large", "terse"), "intent"]
        '0.750 [0.468, 0.911]'
        >>> float(table.loc[("sim/large", "terse"), "intent"])
        0.75
    """

    @property
    def raw(self) -> pd.DataFrame:
        """The same figures as a plain ``DataFrame`` (shown with every numeric column)."""
        out = pd.DataFrame(self)
        out.attrs = dict(self.attrs)
        return out

    @property
    def notes(self) -> list[str]:
        """The footnotes: interval methods, how errors count, simulated models, status."""
        return list(self.attrs.get("notes", []))

    def formatted(self) -> pd.DataFrame:
        """The cells the CLI prints, as text.

        ``n``, ``0.618 [0.539, 0.692]`` per scorer, errors (failed calls + scorer failures,
        with the error rate), cost, judge cost, $/case, p50/p95 latency in seconds, cache hits.
        """
        t = pd.DataFrame(self)
        shown = pd.DataFrame(index=t.index)
        if t.empty:
            return shown
        shown["n"] = t["n_cases"]
        for name in self.attrs.get("scorers", []):
            shown[name] = [
                "n/a" if np.isnan(m) else f"{m:.3f} [{lo:.3f}, {hi:.3f}]"
                for m, lo, hi in zip(t[name], t[f"{name}_low"], t[f"{name}_high"], strict=True)
            ]
        shown["errors"] = [f"{e}+{se} ({r:.0%})" if se else f"{e} ({r:.0%})" for e, se, r in
                           zip(t["errors"], t["scorer_errors"], t["error_rate"], strict=True)]
        shown["cost"] = [_money(v) for v in t["cost_usd"]]
        if (t["judge_cost_usd"] > 0).any():
            shown["judge $"] = [_money(v) for v in t["judge_cost_usd"]]
        shown["$/case"] = [_money(v) for v in t["cost_per_case_usd"]]
        shown["p50 s"] = t["latency_p50_s"].map(lambda v: f"{v:.2f}")
        shown["p95 s"] = t["latency_p95_s"].map(lambda v: f"{v:.2f}")
        shown["cached"] = t["cache_hits"]
        return shown

    def text(self) -> str:
        """The formatted table and its footnotes as plain text (what the CLI prints)."""
        if self.empty:
            return "\n".join(self.notes)
        return "\n".join([self.formatted().to_string(), *self.notes])

    def __repr__(self) -> str:
        """The CLI's text (the numbers stay in the frame; ``.raw`` shows them)."""
        return self.text()

    def _repr_html_(self) -> str:
        notes = "".join(f"<div>{html.escape(n)}</div>" for n in self.notes)
        if self.empty:
            return f"<div class='wb-summary'>{notes}</div>"
        table = self.formatted().to_html(escape=True, border=0)  # model text is data
        return (f"{_STYLE}<div class='wb-summary'>{table}<div class='wb-notes'>{notes}</div>"
                "</div>")

    def _repr_latex_(self) -> None:  # pandas' LaTeX view would show the raw columns
        return None

    @classmethod
    def of(cls, table: pd.DataFrame, attrs: dict[str, Any]) -> SummaryTable:
        """Wrap a summary frame with its attributes (scorers, methods, errors, notes)."""
        out = cls(table)
        out.attrs = dict(table.attrs)
        out.attrs.update(attrs)
        return out
