"""The figures (plotly): paired-delta forest plot, slice heatmap, cost vs quality, latency."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.runner import Comparison
from workbench.stats import PairedComparison

from ._theme import (
    OUTCOME_NEUTRAL,
    Config,
    Template,
    _colorway,
    _diverging,
    _ends,
    _template,
    config_colors,
    config_label,
)

if TYPE_CHECKING:
    import plotly.graph_objects as go


def _title(text: str, simulated: bool) -> str:
    """A chart title: escaped (plotly renders tags in titles), SIMULATED said where so."""
    text = html.escape(text)
    return f"{text} — SIMULATED models" if simulated else text


def _simulated(comparison: Comparison, configs: Sequence[tuple[str, str]] | None = None) -> bool:
    sims = set(comparison.simulated_models)
    if configs is None:
        return bool(sims)
    return any(model in sims for model, _ in configs)


def forest(paired: PairedComparison, *, margins: dict[str, float] | None = None,
           simulated: bool = False, template: Template = None,
           colors: Mapping[Config, str] | None = None) -> go.Figure:
    """Paired deltas (candidate − incumbent) of every metric with their 95% CIs.

    One row per metric: the Δ as a point and its interval as error bars (labelled with the
    method), a zero line, and each gate's −margin when ``margins`` is given. The points take
    the candidate's colour from ``colors`` (``config_colors`` of the comparison; default: the
    template's first colour).

    Example:
        The paired statistics of a comparison built by hand (``wb.compare`` makes one from
        model calls): ``small`` is right on 36 of 40 cases, ``large`` on 30.

        >>> import workbench as wb
        >>> from workbench.records import GoldenSetRef, RunRecord
        >>> results = pd.DataFrame({"case_id": [f"c{i:02d}" for i in range(40)] * 2,
        ...     "model": ["large"] * 40 + ["small"] * 40, "variant": "v1", "repeat": 0,
        ...     "score.intent": [1.0] * 30 + [0.0] * 10 + [1.0] * 36 + [0.0] * 4,
        ...     "error_type": None, "cost_usd": 0.001, "latency_s": 0.5})
        >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest="")))
        >>> paired = wb.compare_configs(cmp, ("small", "v1"), ("large", "v1"))
        >>> fig = forest(paired, margins={"intent": 0.02})
        >>> fig.data[0].y, fig.data[0].x
        (('intent',), (0.15,))
        >>> fig.layout.title.text
        'small/v1 vs large/v1: paired Δ with 95% CIs'
    """
    import plotly.graph_objects as go

    t = _template(template)
    rows = list(paired.metrics.values())
    cand_key = (str(paired.candidate[0]), str(paired.candidate[1]))
    colour = (colors or {}).get(cand_key) or _colorway(t)[0]
    fig = go.Figure(go.Scatter(
        x=[m.delta for m in rows], y=[m.metric for m in rows], mode="markers",
        marker={"size": 10, "color": colour}, name="Δ (candidate − incumbent)",
        error_x={"type": "data", "symmetric": False,
                 "array": [m.high - m.delta for m in rows],
                 "arrayminus": [m.delta - m.low for m in rows]},
        customdata=[[m.low, m.high, m.method, m.p_value, m.test, m.n, m.incumbent.mean,
                     m.candidate.mean] for m in rows],
        hovertemplate=("<b>%{y}</b><br>Δ %{x:+.3f} [%{customdata[0]:+.3f}, "
                       "%{customdata[1]:+.3f}] (%{customdata[2]} 95%)<br>"
                       "%{customdata[6]:.3f} → %{customdata[7]:.3f}, n=%{customdata[5]}<br>"
                       "p=%{customdata[3]:.3g} (%{customdata[4]})<extra></extra>"),
    ))
    fig.add_vline(x=0, line_dash="dot")
    for metric, margin in (margins or {}).items():
        if metric in paired.metrics:
            fig.add_shape(type="line", x0=-margin, x1=-margin, yref="y", y0=metric, y1=metric,
                          line={"dash": "dash"})
            fig.add_annotation(x=-margin, y=metric, text=f"−{margin:g}", showarrow=False,
                               yshift=12)
    cand, inc = "/".join(paired.candidate), "/".join(paired.incumbent)
    fig.update_layout(
        template=t, title=_title(f"{cand} vs {inc}: paired Δ with 95% CIs", simulated),
        xaxis_title="candidate − incumbent", yaxis={"autorange": "reversed"},
        height=180 + 40 * len(rows), showlegend=False)
    return fig


def slice_heatmap(paired: PairedComparison, *, simulated: bool = False,
                  template: Template = None) -> go.Figure:
    """Per slice value (rows) and metric (columns): Δ coloured around 0, CI and adjusted p.

    Cells whose adjusted p shows a significant regression are marked ``▼``.
    """
    import plotly.graph_objects as go

    t = _template(template)
    sl = paired.slices
    if sl.empty:
        raise ConfigError("this comparison has no slices to chart",
                          fix="Declare slice columns in the golden set's sidecar (slices:).")
    sl = sl.assign(row=sl["slice"] + "=" + sl["value"])
    rows = list(dict.fromkeys(sl["row"]))
    metrics = list(dict.fromkeys(sl["metric"]))
    grid = sl.pivot(index="row", columns="metric", values="delta").reindex(index=rows,
                                                                         columns=metrics)

    def cell(column: str) -> list[list[Any]]:
        table = sl.pivot(index="row", columns="metric", values=column)
        out: list[list[Any]] = table.reindex(index=rows, columns=metrics).to_numpy().tolist()
        return out

    low, high, padj, n, reg = (cell(c) for c in ("low", "high", "p_adjusted", "n",
                                                 "regression"))
    values = grid.to_numpy(dtype=float)
    text = [[("▼ " if reg[i][j] is True else "") + ("" if np.isnan(values[i, j])
                                                     else f"{values[i, j]:+.2f}")
             for j in range(len(metrics))] for i in range(len(rows))]
    custom = np.dstack([low, high, padj, n]).tolist()
    limit = float(np.nanmax(np.abs(values))) if not np.isnan(values).all() else 1.0
    correction = sl["correction"].iloc[0]
    fig = go.Figure(go.Heatmap(
        z=values.tolist(), x=[html.escape(m) for m in metrics],
        y=[html.escape(r) for r in rows], text=text,
        texttemplate="%{text}", customdata=custom, colorscale=_diverging(t), zmid=0,
        zmin=-max(limit, 1e-9), zmax=max(limit, 1e-9), colorbar={"title": "Δ"},
        hovertemplate=("<b>%{y}</b> · %{x}<br>Δ %{z:+.3f} [%{customdata[0]:+.3f}, "
                       "%{customdata[1]:+.3f}] 95%<br>" + f"{correction}-adjusted p "
                       "%{customdata[2]:.3g}, n=%{customdata[3]}<extra></extra>"),
    ))
    cand, inc = "/".join(paired.candidate), "/".join(paired.incumbent)
    fig.update_layout(
        template=t, height=160 + 28 * len(rows), yaxis={"autorange": "reversed"},
        title=_title(f"{cand} vs {inc} per slice (▼ significant regression, {correction})",
                     simulated))
    return fig


def pareto_front(points: pd.DataFrame, cost: str = "cost", quality: str = "quality"
                 ) -> pd.DataFrame:
    """The rows no other row beats on both cost (lower) and quality (higher), cheapest first.

    Example:
        >>> df = pd.DataFrame({"cost": [1, 2, 3, 2.5], "quality": [0.5, 0.7, 0.9, 0.6]})
        >>> pareto_front(df).index.tolist()
        [0, 1, 2]
    """
    ordered = points.sort_values([cost, quality], ascending=[True, False])
    best = -np.inf
    keep = []
    for idx, row in ordered.iterrows():
        if row[quality] > best:
            keep.append(idx)
            best = row[quality]
    return ordered.loc[keep]


def cost_quality(comparison: Comparison, metric: str | None = None, *,
                 per_requests: int = 1000, template: Template = None,
                 summary: pd.DataFrame | None = None) -> go.Figure:
    """Quality (mean with 95% CI) against cost per ``per_requests`` requests, per configuration.

    The Pareto frontier (no configuration both cheaper and better) is drawn as a grey dashed
    line; each configuration has its ``config_colors`` colour. ``summary`` is
    ``comparison.summary()`` when the caller already has it (a report shows the same table).
    """
    import plotly.graph_objects as go

    t = _template(template)
    name = metric or (comparison.scorers[0] if comparison.scorers else None)
    if name is None or name not in comparison.scorers:
        raise ConfigError(f"no metric {metric!r} to chart",
                          fix=f"Use one of: {', '.join(comparison.scorers) or '(none)'}.")
    summary = (comparison.summary() if summary is None else summary).reset_index()
    colours = config_colors(comparison, template=t)
    keys = list(zip(summary["model"].astype(str), summary["variant"].astype(str), strict=True))
    pts = pd.DataFrame({
        "config": [config_label(k) for k in keys], "colour": [colours[k] for k in keys],
        "cost": summary["cost_per_case_usd"].astype(float) * per_requests,
        "quality": summary[name].astype(float), "low": summary[f"{name}_low"].astype(float),
        "high": summary[f"{name}_high"].astype(float), "n": summary["n_cases"],
        "judge": summary["judge_cost_usd"].astype(float) / summary["n_cases"].clip(lower=1)
        * per_requests})
    fig = go.Figure()
    for i in sorted(range(len(keys)), key=lambda j: keys[j]):  # config_colors' order
        row = pts.iloc[i]
        fig.add_trace(go.Scatter(
            x=[row["cost"]], y=[row["quality"]], mode="markers", name=html.escape(row["config"]),
            marker={"size": 12, "color": row["colour"]},
            error_y={"type": "data", "symmetric": False,
                     "array": [row["high"] - row["quality"]],
                     "arrayminus": [row["quality"] - row["low"]]},
            customdata=[[row["low"], row["high"], row["n"], row["judge"]]],
            hovertemplate=(f"<b>{html.escape(row['config'])}</b><br>{html.escape(name)} "
                           "%{y:.3f} [%{customdata[0]:.3f}, %{customdata[1]:.3f}] 95%, "
                           "n=%{customdata[2]}<br>$%{x:.4f} per " + f"{per_requests:,}"
                           " requests (judge $%{customdata[3]:.4f} apart)<extra></extra>")))
    front = pareto_front(pts.dropna(subset=["cost", "quality"]))
    if len(front) > 1:
        fig.add_trace(go.Scatter(x=front["cost"], y=front["quality"], mode="lines",
                                 name="Pareto frontier",
                                 line={"dash": "dash", "color": OUTCOME_NEUTRAL},
                                 hoverinfo="skip"))
    fig.update_layout(
        template=t, title=_title(f"{name} against cost", _simulated(comparison)),
        xaxis_title=f"model cost per {per_requests:,} requests (USD)",
        yaxis_title=f"{name} (mean, 95% CI)")
    return fig


def latency(comparison: Comparison, *, template: Template = None) -> go.Figure:
    """Latency distribution per configuration (box with p50 and p95 in the hover).

    Configurations in ``config_colors`` order and colours, as in every other chart. Each box
    is drawn from its computed statistics (quartiles linear as numpy's, whiskers at the last
    call within 1.5 IQR, as plotly draws them), never from every call: the chart stays a few
    kilobytes at 100,000 calls per configuration.
    """
    import plotly.graph_objects as go

    t = _template(template)
    colours = config_colors(comparison, template=t)
    fig = go.Figure()
    by_config = {(str(k[0]), str(k[1])): g for k, g in comparison.results.groupby(
        ["model", "variant"], sort=False, observed=True)}
    for config, colour in colours.items():
        values = by_config[config]["latency_s"].dropna().to_numpy(dtype=float)
        if not values.size:
            continue
        q1, p50, q3, p95 = np.percentile(values, [25, 50, 75, 95])
        iqr = q3 - q1
        low = float(values[values >= q1 - 1.5 * iqr].min())
        high = float(values[values <= q3 + 1.5 * iqr].max())
        label = config_label(config)
        fig.add_trace(go.Box(
            y=[html.escape(label)], q1=[q1], median=[p50], q3=[q3], lowerfence=[low],
            upperfence=[high], mean=[float(values.mean())], name=html.escape(label),
            orientation="h", boxpoints=False, marker={"color": colour},
            hovertemplate=(f"<b>{html.escape(label)}</b><br>p50 {p50:.3f} s, p95 {p95:.3f} s, "
                           f"n={values.size}<extra></extra>")))
    fig.update_layout(template=t, title=_title("latency per call", _simulated(comparison)),
                      xaxis_title="seconds (request to response)", showlegend=False,
                      yaxis={"autorange": "reversed"})
    return fig


def win_loss(outcomes: pd.Series, *, by: Mapping[str, pd.Series] | None = None,
             title: str = "pairwise verdicts", simulated: bool = False,
             template: Template = None) -> go.Figure:
    """Win / tie / loss shares of the candidate, overall and per group (stacked bars).

    ``outcomes`` is ``wb.pairwise_outcomes(...)`` (``win``/``tie``/``loss`` by case id);
    ``by`` maps a group name (a slice, a day) to each case's value. The hover shows counts and
    the win share (wins + ½ ties) / n with its 95% t interval. Wins and losses take the two
    ends of the template's diverging colour scale and ties a neutral grey: outcome colours,
    never a configuration's (``config_colors``).

    Example:
        Six verdicts over two days (a shadow test's come from
        ``wb.pairwise_outcomes(pw, cmp, candidate)``):

        >>> ids = [f"r{i}" for i in range(6)]
        >>> outcomes = pd.Series(["win", "win", "tie", "loss", "win", "tie"], index=ids)
        >>> days = pd.Series(["mon", "mon", "mon", "tue", "tue", "tue"], index=ids)
        >>> fig = win_loss(outcomes, by={"day": days})
        >>> fig.data[0].name, fig.data[0].y, [round(x, 2) for x in fig.data[0].x]
        ('win', ('all', 'day=mon', 'day=tue'), [0.5, 0.67, 0.33])
    """
    import plotly.graph_objects as go

    from workbench.stats import win_share

    t = _template(template)
    loss_colour, win_colour = _ends(_diverging(t))
    groups: list[tuple[str, pd.Series]] = [("all", outcomes)]
    for name, values in (by or {}).items():
        keyed = values.reindex(outcomes.index)
        for value in sorted({str(v) for v in keyed.dropna()}):
            groups.append((f"{name}={value}", outcomes[keyed.astype(str) == value]))
    rows = [g for g, _ in groups]
    stats = [win_share(list(o)) for _, o in groups]
    fig = go.Figure()
    for colour, kind, attr in ((win_colour, "win", "wins"), (OUTCOME_NEUTRAL, "tie", "ties"),
                               (loss_colour, "loss", "losses")):
        shares = [getattr(w, attr) / w.n if w.n else 0.0 for w in stats]
        custom = [[getattr(w, attr), w.n, w.share, w.low, w.high] for w in stats]
        fig.add_trace(go.Bar(
            y=[html.escape(r) for r in rows], x=shares, name=kind, orientation="h",
            marker={"color": colour}, customdata=custom,
            hovertemplate=(f"<b>%{{y}}</b><br>{kind}: %{{customdata[0]}} of "
                           "%{customdata[1]}<br>win share %{customdata[2]:.3f} "
                           "[%{customdata[3]:.3f}, %{customdata[4]:.3f}] 95% t"
                           "<extra></extra>")))
    fig.add_vline(x=0.5, line_dash="dot")
    fig.update_layout(template=t, barmode="stack", height=160 + 26 * len(rows),
                      yaxis={"autorange": "reversed"}, xaxis={"range": [0, 1],
                                                              "title": "share of cases"},
                      title=_title(title, simulated))
    return fig


def standard_figures(comparison: Comparison, paired: PairedComparison | None = None, *,
                     metrics: Sequence[str] | None = None,
                     margins: dict[str, float] | None = None,
                     template: Template = None,
                     summary: pd.DataFrame | None = None) -> list[go.Figure]:
    """The figures reports and ``charts.html`` show, in order.

    With ``paired``: the forest plot (gate ``margins`` drawn) and, when the comparison has
    slices, the slice heatmap; then quality against cost for each of ``metrics`` (default:
    every scorer) and the latency distribution when latencies were recorded. A configuration
    has one colour in all of them (``config_colors``). ``summary``: the comparison's summary
    table when the caller has it (computed once otherwise).
    """
    figures = []
    if paired is not None:
        simulated = _simulated(comparison, [paired.candidate, paired.incumbent])
        figures.append(forest(paired, margins=margins, simulated=simulated, template=template,
                              colors=config_colors(comparison, template=template)))
        if not paired.slices.empty:
            figures.append(slice_heatmap(paired, simulated=simulated, template=template))
    names = list(metrics) if metrics is not None else list(comparison.scorers)
    if names and summary is None:
        summary = comparison.summary()
    figures += [cost_quality(comparison, name, template=template, summary=summary)
                for name in names]
    if comparison.results["latency_s"].notna().any():
        figures.append(latency(comparison, template=template))
    return figures


def charts_html(figures: Sequence[go.Figure], title: str) -> str:
    """One self-contained HTML page: plotly.js embedded once, then every figure.

    Nothing is loaded from the network (no CDN); the title is escaped.
    """
    if not figures:
        raise ConfigError("no figure to write", fix="Pass at least one figure.")
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={
        "displaylogo": False}) for i, fig in enumerate(figures)]
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
            f"{html.escape(title)}</title></head><body>\n<h1>{html.escape(title)}</h1>\n"
            + "\n".join(f"<div class=\"chart\">{p}</div>" for p in parts) + "\n</body></html>\n")
