"""Charts: figure content checked against the statistics, colours from the template."""

from __future__ import annotations

import html
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import plotly.io as pio
import pytest

import workbench as wb
from workbench import charts

from ..runner.conftest import small_set
from ..stats.test_paired import CAND, INC, fake

VARIANTS = [wb.PromptVariant("plain", user="{{ message }}"),
            wb.PromptVariant("<img src=x onerror=alert(1)>", user="Label: {{ message }}")]


@pytest.fixture
def cmp() -> wb.Comparison:
    return wb.compare(small_set(n=30), ["sim/large", "sim/fast"], VARIANTS,
                      [wb.scorers.exact_match, wb.scorers.token_f1], progress=False)


def paired() -> wb.PairedComparison:
    groups = ["a"] * 40 + ["b"] * 40 + ["c"] * 40
    cand = {**CAND, "acc": lambda i, r: 0.0 if 40 <= i < 80 and i % 4 else float(i % 4 != 0)}
    return wb.compare_configs(fake(INC, cand, 120, slices=groups), ("small", "v"), ("big", "v"))


def test_forest_plots_each_delta_with_its_interval_and_margins() -> None:
    pc = paired()
    fig = charts.forest(pc, margins={"acc": 0.05}, simulated=True, template="ggplot2")
    trace = fig.data[0]
    assert list(trace.y) == ["acc", "f1"]
    assert list(trace.x) == pytest.approx([pc.metrics["acc"].delta, pc.metrics["f1"].delta])
    assert list(trace.error_x.array) == pytest.approx(
        [m.high - m.delta for m in pc.metrics.values()])
    assert list(trace.error_x.arrayminus) == pytest.approx(
        [m.delta - m.low for m in pc.metrics.values()])
    assert trace.marker.color == pio.templates["ggplot2"].layout.colorway[0] == "#F8766D"
    assert charts.forest(pc).data[0].marker.color == pio.templates[
        pio.templates.default].layout.colorway[0]
    assert [s.x0 for s in fig.layout.shapes if s.line.dash == "dash"] == [-0.05]
    assert "SIMULATED" in fig.layout.title.text and "small/v vs big/v" in fig.layout.title.text


def test_slice_heatmap_shows_deltas_and_marks_significant_regressions() -> None:
    pc = paired()
    light = charts.slice_heatmap(pc, template="plotly_white")
    other = charts.slice_heatmap(pc, template="simple_white")
    trace = light.data[0]
    assert list(trace.y) == ["group=a", "group=b", "group=c"] and list(trace.x) == ["acc", "f1"]
    sl = pc.slices.set_index(["value", "metric"])
    assert np.asarray(trace.z)[1, 0] == pytest.approx(sl.loc[("b", "acc"), "delta"])
    assert trace.text[1][0].startswith("▼") and not trace.text[0][0].startswith("▼")
    assert trace.zmid == 0
    assert tuple(map(tuple, trace.colorscale)) == tuple(
        map(tuple, pio.templates["plotly_white"].layout.colorscale.diverging))
    assert tuple(map(tuple, other.data[0].colorscale)) == tuple(
        map(tuple, pio.templates["simple_white"].layout.colorscale.diverging))
    assert trace.colorscale != other.data[0].colorscale  # the template's colours, not ours
    with pytest.raises(wb.ConfigError, match="no slices"):
        charts.slice_heatmap(wb.compare_configs(fake(INC, CAND, 20), ("small", "v"),
                                                ("big", "v")))


def test_cost_quality_matches_the_summary_and_draws_the_pareto_frontier(
        cmp: wb.Comparison) -> None:
    fig = charts.cost_quality(cmp, "token_f1", template="plotly_white")
    summary = cmp.summary()
    assert not any("<img" in t.name for t in fig.data)
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == 4
    for trace in points:
        model, variant = html.unescape(trace.name).split(" · ", 1)
        row = summary.loc[(model, variant)]
        assert trace.y[0] == pytest.approx(row["token_f1"])
        assert trace.x[0] == pytest.approx(row["cost_per_case_usd"] * 1000)
        assert trace.error_y.array[0] == pytest.approx(row["token_f1_high"] - row["token_f1"])
        assert "<img" not in trace.hovertemplate  # data text escaped in the hover
    front = [t for t in fig.data if t.name == "Pareto frontier"]
    expected = charts.pareto_front(pd.DataFrame({
        "cost": summary["cost_per_case_usd"] * 1000, "quality": summary["token_f1"]}))
    if len(expected) > 1:
        assert list(front[0].x) == pytest.approx(list(expected["cost"]))
        assert np.all(np.diff(front[0].y) > 0)  # each step up the frontier costs more
    else:  # one configuration is both cheapest and best: no line to draw
        assert not front
    assert "SIMULATED" in fig.layout.title.text
    with pytest.raises(wb.ConfigError, match="Use one of: exact_match, token_f1"):
        charts.cost_quality(cmp, "bleu")


def test_the_frontier_joins_cheaper_worse_and_dearer_better_configurations() -> None:
    dear = wb.ModelSpec("sim/fast", input_price_per_1m=500.0, output_price_per_1m=500.0)
    c = wb.compare(small_set(n=30), ["sim/large", dear], VARIANTS[:1], [wb.scorers.token_f1],
                   progress=False)
    summary = c.summary()
    fig = charts.cost_quality(c)
    front = [t for t in fig.data if t.name == "Pareto frontier"]
    assert summary["token_f1"].idxmax() != summary["cost_per_case_usd"].idxmin()
    assert len(front) == 1 and len(front[0].x) == 2
    assert front[0].x[0] < front[0].x[1] and front[0].y[0] < front[0].y[1]


def test_pareto_front_keeps_undominated_points() -> None:
    df = pd.DataFrame({"cost": [1, 2, 3, 2.5, 0.5], "quality": [0.5, 0.7, 0.9, 0.6, 0.2]})
    assert charts.pareto_front(df).index.tolist() == [4, 0, 1, 2]


def test_latency_boxes_hold_each_configs_calls(cmp: wb.Comparison) -> None:
    fig = charts.latency(cmp)
    assert len(fig.data) == 4
    for trace in fig.data:
        model, variant = html.unescape(trace.name).split(" · ", 1)
        rows = cmp.results[(cmp.results.model == model) & (cmp.results.variant == variant)]
        values = rows["latency_s"].to_numpy(dtype=float)
        q1, median, q3 = np.percentile(values, [25, 50, 75])
        assert (trace.q1[0], trace.median[0], trace.q3[0]) == pytest.approx((q1, median, q3))
        assert trace.mean[0] == pytest.approx(values.mean())
        iqr = q3 - q1  # whiskers at the last call within 1.5 IQR, as plotly draws them
        assert trace.lowerfence[0] == values[values >= q1 - 1.5 * iqr].min()
        assert trace.upperfence[0] == values[values <= q3 + 1.5 * iqr].max()
        assert trace.x is None  # statistics, not every call: small at any size
        assert f"n={len(values)}" in trace.hovertemplate


class _Sources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.remote: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.scripts += tag == "script"
        for key, value in attrs:
            if key in ("src", "href") and value and not value.startswith(("#", "data:")):
                self.remote.append(value)


def test_charts_html_is_self_contained_with_plotly_once(cmp: wb.Comparison) -> None:
    page = charts.charts_html([charts.latency(cmp), charts.cost_quality(cmp)],
                              "<script>x</script> report")
    parser = _Sources()
    parser.feed(page)
    assert parser.remote == []  # nothing loaded from the network
    assert page.count("plotly.js v") == 1 and page.count("Plotly.newPlot") == 2
    assert "&lt;script&gt;x&lt;/script&gt; report" in page and "<script>x</script>" not in page
    with pytest.raises(wb.ConfigError, match="no figure"):
        charts.charts_html([], "t")


def test_an_unknown_template_names_the_known_ones(cmp: wb.Comparison) -> None:
    with pytest.raises(wb.ConfigError, match="unknown plotly template 'neon'.*plotly_dark"):
        charts.latency(cmp, template="neon")


def test_win_loss_bars_hold_each_groups_shares_and_use_the_template_colours() -> None:
    outcomes = pd.Series(["win"] * 6 + ["tie"] * 3 + ["loss"] * 3,
                         index=[f"r{i}" for i in range(12)])
    days = pd.Series(["d1"] * 8 + ["<b>d2</b>"] * 4, index=outcomes.index)
    fig = charts.win_loss(outcomes, by={"day": days}, simulated=True, template="ggplot2")
    wins, ties, losses = fig.data
    assert [t.name for t in fig.data] == ["win", "tie", "loss"]
    assert list(wins.y) == ["all", html.escape("day=<b>d2</b>"), "day=d1"]  # values sorted
    assert list(wins.x) == pytest.approx([6 / 12, 0 / 4, 6 / 8])
    assert list(ties.x) == pytest.approx([3 / 12, 1 / 4, 2 / 8])
    assert list(losses.x) == pytest.approx([3 / 12, 3 / 4, 0 / 8])
    ws = wb.stats.win_share(list(outcomes))
    assert wins.customdata[0][2:] == pytest.approx([ws.share, ws.low, ws.high])
    # outcome colours: the diverging scale's ends and a grey, never a configuration's colour
    # (ggplot2 has no diverging scale of its own: plotly's RdBu, blue for wins, red for losses)
    import plotly.colors

    rdbu = plotly.colors.get_colorscale("RdBu")
    colours = [t.marker.color for t in fig.data]
    assert [colours[0], colours[2]] == [rdbu[-1][1], rdbu[0][1]]
    assert len(set(colours)) == 3 and not set(colours) & set(
        pio.templates["ggplot2"].layout.colorway)
    dark = charts.win_loss(outcomes, template="plotly_dark")
    scale = pio.templates["plotly_dark"].layout.colorscale.diverging
    assert [dark.data[0].marker.color, dark.data[2].marker.color] == [scale[-1][1],
                                                                      scale[0][1]]
    assert "SIMULATED" in fig.layout.title.text


def _config_colours(figures: list[object]) -> dict[tuple[str, str], set[str]]:
    """Every trace that names a configuration (``model · variant``): the colours it is drawn in."""
    seen: dict[tuple[str, str], set[str]] = {}
    for fig in figures:
        for trace in fig.data:  # type: ignore[attr-defined]
            name = html.unescape(trace.name or "")
            if " · " in name:
                model, variant = name.split(" · ", 1)
                seen.setdefault((model, variant), set()).add(trace.marker.color)
    return seen


def test_one_colour_per_configuration_in_every_chart(cmp: wb.Comparison) -> None:
    paired = wb.compare_configs(cmp, ("sim/fast", "plain"), ("sim/large", "plain"))
    figures = charts.standard_figures(cmp, paired, template="ggplot2")
    colours = charts.config_colors(cmp, template="ggplot2")
    assert len(colours) == 4 and len(set(colours.values())) == 4
    # cost vs quality (twice: one per scorer) and latency draw every configuration, each in
    # its one colour; the forest plot's points are the candidate's
    assert _config_colours(figures) == {c: {colour} for c, colour in colours.items()}
    assert sum(" · " in (t.name or "") for f in figures for t in f.data) == 3 * 4
    assert figures[0].data[0].marker.color == colours[("sim/fast", "plain")]
    # the colours follow the configurations, not the order of the rows (e.g. after a reload)
    shuffled = wb.Comparison(cmp.results.sample(frac=1, random_state=3).reset_index(drop=True),
                             cmp.record, cmp.score_details)
    assert shuffled.results["model"].iloc[0] != cmp.results["model"].iloc[0] or \
        shuffled.results["variant"].iloc[0] != cmp.results["variant"].iloc[0]
    assert charts.config_colors(shuffled, template="ggplot2") == colours
    assert _config_colours([charts.latency(shuffled, template="ggplot2"),
                            charts.cost_quality(shuffled, template="ggplot2")]) == {
        c: {colour} for c, colour in colours.items()}
    # more configurations than the template has colours: still one colour each
    many = charts.config_colors([(f"m{i}", "v") for i in range(30)], template="ggplot2")
    assert len(set(many.values())) == 30
