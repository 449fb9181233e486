"""Extra charts: cost split by part and the judge-vs-human agreement matrix, by content."""

from __future__ import annotations

import html

import numpy as np
import plotly.io as pio
import pytest

import workbench as wb
from workbench.charts import agreement_matrix, config_colors, cost_breakdown
from workbench.stats import calibrate

from ..runner.conftest import small_set
from ..stats.test_calibrate import HUMAN, JUDGE, tables

EVIL = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def cmp() -> wb.Comparison:
    variants = [wb.PromptVariant("plain", user="{{ message }}"),
                wb.PromptVariant(EVIL, user="Label: {{ message }}")]
    c = wb.compare(small_set(n=20), ["sim/large", "sim/fast"], variants,
                   [wb.scorers.exact_match], progress=False)
    # exact_match costs nothing to score: give every row a made-up judge cost to split out
    c.results["judge_cost_usd"] = np.arange(len(c.results), dtype=float) * 1e-5
    return c


def expected(c: wb.Comparison, model: str, variant: str) -> tuple[float, float, float]:
    rows = c.results[(c.results.model == model) & (c.results.variant == variant)]
    price = {m.label: m.pricing for m in c.record.models}[model]
    assert price is not None and price.input_per_1m is not None
    assert price.output_per_1m is not None
    n = len(rows)
    return (float(rows["prompt_tokens"].sum()) * price.input_per_1m / 1e6 / n * 1000,
            float(rows["completion_tokens"].sum()) * price.output_per_1m / 1e6 / n * 1000,
            float(rows["judge_cost_usd"].sum()) / n * 1000)


def test_cost_breakdown_splits_each_configs_cost_into_its_parts(cmp: wb.Comparison) -> None:
    fig = cost_breakdown(cmp, template="ggplot2")
    prompt, completion, judge = fig.data
    assert [t.name for t in fig.data] == ["prompt", "completion", "judge"]
    assert list(prompt.y) == list(completion.y) == list(judge.y)
    assert len(prompt.y) == 4
    assert f"sim/large · {html.escape(EVIL)}" in prompt.y
    assert not any("<img" in y for y in prompt.y)
    for i, label in enumerate(prompt.y):
        model, variant = html.unescape(label).split(" · ", 1)
        want = expected(cmp, model, variant)
        assert [prompt.x[i], completion.x[i], judge.x[i]] == pytest.approx(want)
        rows = cmp.results[(cmp.results.model == model) & (cmp.results.variant == variant)]
        assert prompt.x[i] + completion.x[i] == pytest.approx(rows["cost_usd"].mean() * 1000)
        total = sum(want)
        assert judge.customdata[i][1] == f"{want[2] / total:.1%} of the total"
    # each bar in its configuration's colour (as in every chart); the parts by pattern
    colours = config_colors(cmp, template="ggplot2")
    shown = [colours[(html.unescape(y).split(" · ", 1)[0], html.unescape(y).split(" · ", 1)[1])]
             for y in prompt.y]
    assert [list(t.marker.color) for t in fig.data] == [shown] * 3
    assert len(set(shown)) == 4 and shown[0] == pio.templates["ggplot2"].layout.colorway[0]
    assert [t.marker.pattern.shape for t in fig.data] == ["", "/", "."]
    for trace in fig.data:
        assert trace.hovertemplate.endswith("<extra></extra>")
        assert "<img" not in trace.hovertemplate
    assert fig.layout.barmode == "stack"
    assert fig.layout.title.text == "cost per 1,000 requests by part — SIMULATED models"
    small = cost_breakdown(cmp, per_requests=10)
    assert list(small.data[0].x) == pytest.approx([x / 100 for x in prompt.x])
    assert "cost per 10 requests" in small.layout.title.text


def test_cost_breakdown_marks_an_unknown_price_and_refuses_bad_input(
        cmp: wb.Comparison) -> None:
    record = cmp.record.model_copy(deep=True)
    for m in record.models:
        if m.label == "sim/fast" and m.pricing is not None:
            m.pricing.input_per_1m = m.pricing.output_per_1m = None
    fig = cost_breakdown(wb.Comparison(cmp.results, record))
    prompt, completion, judge = fig.data
    fast = [i for i, y in enumerate(prompt.y) if y.startswith("sim/fast")]
    large = [i for i, y in enumerate(prompt.y) if y.startswith("sim/large")]
    assert len(fast) == len(large) == 2
    for i in fast:
        assert np.isnan(prompt.x[i]) and np.isnan(completion.x[i]) and judge.x[i] > 0
        assert prompt.customdata[i][0] == "unknown"
        assert "price is unknown" in judge.customdata[i][1]
    for i in large:
        assert not np.isnan(prompt.x[i]) and "of the total" in judge.customdata[i][1]
    notes = [a for a in fig.layout.annotations if a.text == "model price unknown"]
    assert sorted(a.y for a in notes) == sorted(prompt.y[i] for i in fast)
    with pytest.raises(wb.ConfigError, match="per_requests"):
        cost_breakdown(cmp, per_requests=0)
    with pytest.raises(wb.ConfigError, match="no results"):
        cost_breakdown(wb.Comparison(cmp.results.iloc[:0], cmp.record))


def test_agreement_matrix_shows_the_calibrations_confusion_counts() -> None:
    results, labels = tables()
    cal = calibrate(results, labels, scale=(1, 5))
    fig = agreement_matrix(cal, template="plotly_dark", simulated=True)
    trace = fig.data[0]
    assert list(trace.y) == list(trace.x) == ["1", "2", "3", "4", "5"]
    z = np.asarray(trace.z)
    for human, row in cal.confusion.iterrows():
        for judge, count in row.items():
            i, j = list(trace.y).index(f"{human:g}"), list(trace.x).index(f"{judge:g}")
            assert z[i, j] == count
    assert z.sum() == cal.n == 20
    hand = np.zeros((5, 5))
    for h, j in zip(HUMAN, JUDGE, strict=True):
        hand[h - 1, j - 1] += 1
    assert z.tolist() == hand.tolist()
    assert trace.text[0][0] == str(int(hand[0, 0]))
    assert trace.customdata[0][0] == f"{hand[0, 0] / hand[0].sum():.1%}"  # row share
    assert tuple(map(tuple, trace.colorscale)) == tuple(
        map(tuple, pio.templates["plotly_dark"].layout.colorscale.sequential))
    assert trace.hovertemplate.endswith("<extra></extra>")
    title = fig.layout.title.text
    assert f"κ {cal.kappa:.2f} [{cal.kappa_low:.2f}, {cal.kappa_high:.2f}]" in title
    assert "SIMULATED" in title


def test_agreement_matrix_squares_a_one_sided_table_and_names_binary_labels() -> None:
    results, labels = tables()
    cal = calibrate(results, labels, scale=(1, 5), kind="binary", threshold=4)
    fig = agreement_matrix(cal)
    trace = fig.data[0]
    assert list(trace.y) == list(trace.x) == ["fail (0)", "pass (1)"]
    h, j = np.array(HUMAN) >= 4, np.array(JUDGE) >= 4
    assert np.asarray(trace.z).tolist() == [[np.sum(~h & ~j), np.sum(~h & j)],
                                            [np.sum(h & ~j), np.sum(h & j)]]
    assert "SIMULATED" not in fig.layout.title.text
    # a judge that only ever said 4 or 5: its table has two columns, the chart stays square
    lenient = results.assign(**{"score.judge_correctness": [1.0, 0.75] * 10})
    one = calibrate(lenient, labels, scale=(1, 5))
    assert one.confusion.shape == (5, 2)
    z = np.asarray(agreement_matrix(one).data[0].z)
    assert z.shape == (5, 5) and z[:, :3].sum() == 0 and z[:, 3:].sum() == 20
    assert z[:, 4].tolist() == [sum(h == k for h in HUMAN[::2]) for k in range(1, 6)]
    one.confusion = one.confusion.iloc[:0]
    with pytest.raises(wb.ConfigError, match="no confusion table"):
        agreement_matrix(one)
