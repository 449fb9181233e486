"""More figures (plotly): cost per request split by part, judge-vs-human agreement matrix."""

from __future__ import annotations

import html
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.runner import Comparison
from workbench.stats import Calibration

from ._charts import _title
from ._theme import Template, _template, config_colors

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _sequential(template: Any) -> Any:
    scale = template.layout.colorscale.sequential if template.layout.colorscale else None
    return scale or "Blues"


def _price(comparison: Comparison, model: str, key: str) -> float | None:
    entry = comparison.record.model(model)
    value = getattr(entry.pricing, key, None) if entry is not None and entry.pricing else None
    return None if value is None else float(value)


_PATTERNS = {"prompt": "", "completion": "/", "judge": "."}
"""The parts of a cost bar by pattern: the colour is the configuration's."""


def _money(value: float) -> str:
    return "unknown" if math.isnan(value) else f"${value:.4f}"


def cost_breakdown(comparison: Comparison, *, per_requests: int = 1000,
                   template: Template = None) -> go.Figure:
    """Cost per ``per_requests`` requests of each configuration, split into its parts.

    One stacked horizontal bar per (model, variant): the prompt tokens' cost (prompt tokens ×
    the model's input price), the completion tokens' cost (completion tokens × its output
    price) and the judge calls' cost, each summed over the configuration's rows (calls) and
    scaled to ``per_requests`` of them. Prompt + completion is the model cost of
    ``cost_quality``'s x axis per call; a model whose price is unknown has no prompt or
    completion segment and says so in the hover. Each bar has its configuration's colour
    (``config_colors``, as in every chart); the parts are told apart by their pattern (prompt
    solid, completion hatched, judge dotted).

    Example:
        Two priced models on 40 cases of a comparison built by hand (``wb.compare`` records
        the tokens and each model's prices):

        >>> import workbench as wb
        >>> from workbench.records import GoldenSetRef, ModelRecord, PricingRecord, RunRecord
        >>> models = [ModelRecord(label=label, pricing=PricingRecord(input_per_1m=p,
        ...                                                          output_per_1m=5 * p))
        ...           for label, p in (("large", 4.0), ("small", 1.0))]
        >>> results = pd.DataFrame({"case_id": [f"c{i:02d}" for i in range(40)] * 2,
        ...     "model": ["large"] * 40 + ["small"] * 40, "variant": "v1",
        ...     "prompt_tokens": 400, "completion_tokens": 20, "judge_cost_usd": 0.0})
        >>> record = RunRecord(golden_set=GoldenSetRef(name="toy", digest=""), models=models)
        >>> fig = cost_breakdown(wb.Comparison(results, record), per_requests=10_000)
        >>> [(t.name, t.x) for t in fig.data]   # dollars per 10,000 requests: large, small
        [('prompt', (16.0, 4.0)), ('completion', (4.0, 1.0)), ('judge', (0.0, 0.0))]
    """
    import plotly.graph_objects as go

    if isinstance(per_requests, bool) or not isinstance(per_requests, int) or per_requests < 1:
        raise ConfigError(f"per_requests={per_requests!r}", fix="Use an integer ≥ 1.")
    t = _template(template)
    df = comparison.results
    if df.empty:
        raise ConfigError("this comparison has no results to chart",
                          fix="Chart a comparison in which at least one call ran.")
    labels: list[str] = []
    parts: dict[str, list[float]] = {"prompt": [], "completion": [], "judge": []}
    unknown: list[bool] = []
    colours = config_colors(comparison, template=t)
    groups = {(str(m), str(v)): g for (m, v), g in df.groupby(["model", "variant"], sort=False,
                                                                observed=True)}
    for (model, variant), group in ((c, groups[c]) for c in colours):  # the charts' order
        n = len(group)
        price_in = _price(comparison, str(model), "input_per_1m")
        price_out = _price(comparison, str(model), "output_per_1m")
        prompt = float(group["prompt_tokens"].fillna(0).sum())
        completion = float(group["completion_tokens"].fillna(0).sum())
        judge = float(group["judge_cost_usd"].fillna(0).sum())
        parts["prompt"].append(float("nan") if price_in is None else
                               prompt * price_in / 1e6 / n * per_requests)
        parts["completion"].append(float("nan") if price_out is None else
                                   completion * price_out / 1e6 / n * per_requests)
        parts["judge"].append(judge / n * per_requests)
        unknown.append(price_in is None or price_out is None)
        labels.append(html.escape(f"{model} · {variant}"))
    totals = np.nansum(np.array([parts[p] for p in parts], dtype=float), axis=0)
    per = f"{per_requests:,}"
    fig = go.Figure()
    bar_colours = [colours[c] for c in colours]
    for part, values in parts.items():
        custom = []
        for value, total, missing in zip(values, totals, unknown, strict=True):
            if missing:
                share = "share unknown: the model's price is unknown"
            else:
                share = f"{value / total:.1%} of the total" if total > 0 else "— of $0 total"
            custom.append([_money(value), share])
        fig.add_trace(go.Bar(
            y=labels, x=values, name=part, orientation="h",
            marker={"color": bar_colours, "pattern": {"shape": _PATTERNS[part],
                                                      "solidity": 0.45}},
            customdata=custom,
            hovertemplate=(f"<b>%{{y}}</b><br>{part}: %{{customdata[0]}} per {per} requests"
                           "<br>%{customdata[1]}<extra></extra>")))
    for label, missing in zip(labels, unknown, strict=True):
        if missing:
            fig.add_annotation(x=0, y=label, text="model price unknown", showarrow=False,
                               xanchor="left")
    fig.update_layout(
        template=t, barmode="stack", height=160 + 30 * len(labels),
        yaxis={"autorange": "reversed"}, xaxis_title=f"USD per {per} requests",
        legend={"title": {"text": "part (pattern)"}},
        title=_title(f"cost per {per} requests by part", bool(comparison.simulated_models)))
    return fig


def _label(value: Any, binary: bool) -> str:
    text = f"{value:g}" if isinstance(value, (int, float, np.number)) else str(value)
    if binary and text in ("0", "1"):
        return f"{'pass' if text == '1' else 'fail'} ({text})"
    return html.escape(text)


def agreement_matrix(calibration: Calibration, *, template: Template = None,
                     simulated: bool = False) -> go.Figure:
    """Confusion matrix of the judge's labels (columns) against people's (rows), as counts.

    Uses ``calibration.confusion``; labels seen on only one side get an empty row or column so
    the diagonal (agreement) stays straight. The hover gives the count and its share of the
    row (of the outputs people gave that label); the title gives Cohen's kappa with its CI.

    Example:
        A 1–5 judge (scores stored as 0–1) against one reviewer on five outputs; a notebook
        calls ``wb.calibrate(cmp, "datasets/grounded_qa/human_labels.csv")`` instead:

        >>> import workbench as wb
        >>> outputs = ["about 2 hours", "PDF and CSV", "not in the page", "Paris", "3 seats"]
        >>> results = pd.DataFrame({"case_id": ["q1", "q2", "q3", "q4", "q5"], "model": "m",
        ...     "variant": "v", "repeat": 0, "output": outputs,
        ...     "score.judge": [1.0, 0.75, 0.0, 1.0, 0.5]})
        >>> labels = results[["case_id", "model", "variant", "repeat"]].assign(
        ...     scorer="judge", reviewer="ana", label=[5, 4, 2, 5, 3],
        ...     output_sha256=[wb.stats.output_sha256(o) for o in outputs])
        >>> cal = wb.calibrate(results, labels, scale=(1, 5))
        >>> fig = agreement_matrix(cal, simulated=True)
        >>> fig.data[0].x
        ('1', '2', '3', '4', '5')
        >>> fig.data[0].z[1]   # human 2: the judge said 1
        [1.0, 0.0, 0.0, 0.0, 0.0]
    """
    import plotly.graph_objects as go

    confusion = getattr(calibration, "confusion", None)
    if not isinstance(confusion, pd.DataFrame) or confusion.empty:
        raise ConfigError("this calibration has no confusion table to chart",
                          fix="Pass the result of wb.calibrate(...) on at least one label.")
    t = _template(template)
    cats = sorted(set(confusion.index) | set(confusion.columns))
    table = confusion.reindex(index=cats, columns=cats, fill_value=0).fillna(0)
    counts = table.to_numpy(dtype=float)
    row_totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts / row_totals
    binary = calibration.kind == "binary"
    names = [_label(c, binary) for c in cats]
    custom = [[f"{shares[i, j]:.1%}" if row_totals[i, 0] else "—"
               for j in range(len(cats))] for i in range(len(cats))]
    fig = go.Figure(go.Heatmap(
        z=counts.tolist(), x=names, y=names,
        text=[[str(int(v)) for v in row] for row in counts], texttemplate="%{text}",
        customdata=custom, colorscale=_sequential(t), zmin=0, colorbar={"title": "outputs"},
        hovertemplate=("human %{y} · judge %{x}<br>%{z:d} outputs, %{customdata} of the "
                       "outputs people labelled %{y}<extra></extra>"),
    ))

    def num(v: float) -> str:
        return "n/a" if math.isnan(v) else f"{v:.2f}"

    kappa = (f"κ {num(calibration.kappa)} [{num(calibration.kappa_low)}, "
             f"{num(calibration.kappa_high)}]")
    fig.update_layout(
        template=t, xaxis={"title": "judge label", "type": "category"},
        yaxis={"title": "human label", "type": "category", "autorange": "reversed"},
        height=240 + 40 * len(cats),
        title=_title(f"judge vs human labels: {kappa} ({calibration.scorer}, "
                     f"{calibration.kappa_method}, n={calibration.n})", simulated))
    return fig
