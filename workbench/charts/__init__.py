"""Charts: pure functions from comparisons and paired statistics to plotly figures.

Every chart takes ``template=`` (a plotly template name or object; default: plotly's current
default) and takes its colours from it, so it reads in light and dark themes; charts of
simulated models say so in the title. ``charts_html`` puts several figures in one
self-contained page with plotly.js embedded once.

Example:
    >>> from workbench import charts
    >>> fig = charts.cost_quality(cmp, "intent", template="plotly_dark")  # doctest: +SKIP
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

__all__ = ["agreement_matrix", "charts_html", "cost_breakdown", "cost_quality", "forest",
           "latency", "pareto_front", "slice_heatmap", "standard_figures", "win_loss"]
