"""Statistics: confidence intervals, paired comparisons, decision gates, sample sizes, judges.

Example:
    >>> from workbench.stats import mean_ci, plan_sample_size
    >>> str(mean_ci([0.5, 0.7, 0.9]))
    '0.700 [0.203, 1.197]'
    >>> plan_sample_size(effect=0.15, discordance=0.45).n
    155
"""

from ._agreement import label_agreement
from ._bounds import (
    Interval,
    clustered_rate,
    clustered_rate_difference,
    hall_interval,
    mean_interval,
    tango_interval,
    tango_z,
)
from ._calibrate import (
    LABEL_COLUMNS,
    Calibration,
    calibrate,
    judge_scale,
    load_human_labels,
    output_sha256,
)
from ._ci import MeanCI, mean_ci
from ._gates import (
    EXIT_CODES,
    Decision,
    GateResult,
    Gates,
    MetricGate,
    Role,
    decide,
    gate_cases,
    metric_gate,
    win_share_gate,
)
from ._paired import (
    Estimate,
    MetricDelta,
    PairedComparison,
    agresti_min,
    compare_configs,
    mcnemar_midp,
    noninferiority_pvalue,
    paired_delta,
)
from ._power import (
    SampleSize,
    cases_to_clear,
    minimum_detectable_effect,
    plan_sample_size,
    round_cases,
)
from ._scores import ScoreStatus, failed_rows, score_status
from ._winshare import WinShare, pairwise_outcomes, win_share

__all__ = [
    "EXIT_CODES", "LABEL_COLUMNS", "Calibration", "Decision", "Estimate", "GateResult", "Gates",
    "Interval", "MeanCI", "MetricDelta", "MetricGate", "PairedComparison", "Role", "SampleSize",
    "ScoreStatus", "WinShare", "agresti_min", "calibrate", "cases_to_clear", "clustered_rate",
    "clustered_rate_difference", "compare_configs", "decide", "failed_rows", "gate_cases",
    "hall_interval", "judge_scale", "label_agreement", "load_human_labels", "mcnemar_midp",
    "mean_ci", "mean_interval", "metric_gate", "minimum_detectable_effect",
    "noninferiority_pvalue", "output_sha256", "paired_delta", "pairwise_outcomes",
    "plan_sample_size", "round_cases", "score_status", "tango_interval", "tango_z", "win_share",
    "win_share_gate",
]
