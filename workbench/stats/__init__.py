"""Statistics: confidence intervals, paired comparisons, decision gates, sample sizes, judges.

Example:
    >>> from workbench.stats import mean_ci, plan_sample_size
    >>> str(mean_ci([0.5, 0.7, 0.9]))
    '0.700 [0.203, 1.197]'
    >>> plan_sample_size(effect=0.15, discordance=0.45).n
    155
"""

from ._agreement import label_agreement
from ._calibrate import Calibration, calibrate, load_human_labels, output_sha256
from ._ci import MeanCI, mean_ci
from ._gates import Decision, GateResult, Gates, MetricGate, decide
from ._paired import (
    Estimate,
    MetricDelta,
    PairedComparison,
    agresti_min,
    compare_configs,
    mcnemar_midp,
    paired_delta,
)
from ._power import SampleSize, cases_to_clear, minimum_detectable_effect, plan_sample_size
from ._winshare import WinShare, pairwise_outcomes, win_share

__all__ = [
    "Calibration", "Decision", "Estimate", "GateResult", "Gates", "MeanCI", "MetricDelta",
    "MetricGate", "PairedComparison", "SampleSize", "agresti_min", "calibrate",
    "cases_to_clear", "compare_configs", "decide", "load_human_labels", "mcnemar_midp",
    "mean_ci", "minimum_detectable_effect", "output_sha256", "paired_delta", "plan_sample_size",
    "WinShare", "label_agreement", "pairwise_outcomes", "win_share",
]
