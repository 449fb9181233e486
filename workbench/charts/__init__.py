"""Charts: pure functions from comparisons and paired statistics to plotly figures.

Every chart takes ``template=`` (a plotly template name or object; default: plotly's current
default) and takes its colours from it, so it reads in light and dark themes; a configuration
has one colour in every chart of a comparison (``config_colors``); charts of simulated models
say so in the title. ``charts_html`` puts several figures in one
self-contained page with plotly.js embedded once.

Example:
    Quality against cost, in a dark theme, for a comparison built by hand (``wb.compare`` makes
    one from model calls): ``small`` is right on 36 of 40 cases at a quarter of the cost.

    >>> import pandas as pd
    >>> import workbench as wb
    >>> from workbench import charts
    >>> from workbench.records import GoldenSetRef, RunRecord
    >>> results = pd.DataFrame({"case_id": [f"c{i:02d}" for i in range(40)] * 2, "repeat": 0,
    ...     "model": ["large"] * 40 + ["small"] * 40, "variant": "v1", "error_type": None,
    ...     "score.intent": [1.0] * 30 + [0.0] * 10 + [1.0] * 36 + [0.0] * 4,
    ...     "cost_usd": [0.002] * 40 + [0.0005] * 40, "latency_s": [0.9] * 40 + [0.4] * 40,
    ...     "prompt_tokens": 400, "completion_tokens": 20, "billed_usd": 0.0,
    ...     "judge_cost_usd": 0.0, "cache_hit": True})
    >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest="")))
    >>> fig = charts.cost_quality(cmp, "intent", template="plotly_dark")
    >>> [(t.name, t.x[0], t.y[0]) for t in fig.data]   # $ per 1,000 requests, mean score
    [('large · v1', 2.0, 0.75), ('small · v1', 0.5, 0.9)]
"""

from ._charts import (
    charts_html,
    cost_quality,
    forest,
    latency,
    pareto_front,
    slice_heatmap,
    standard_figures,
    win_loss,
)
from ._extra import agreement_matrix, cost_breakdown
from ._theme import config_colors, config_label

__all__ = ["agreement_matrix", "charts_html", "config_colors", "config_label", "cost_breakdown",
           "cost_quality", "forest", "latency", "pareto_front", "slice_heatmap",
           "standard_figures", "win_loss"]
