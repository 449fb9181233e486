"""MLflow tracking: log comparisons for reviewers and load them back.

The only package that imports mlflow (lazily, on first use). Layout: one parent run per
comparison (settings, the exact results, the frozen golden set, a description naming the
decision and linking the report), one child run per (model, variant) with params, at most 30
metrics with 95% CI bounds (the candidate's with paired deltas ``delta.<scorer>``) and tables
of every figure, per-slice means and per-case results, and one per calibrated judge. A run
counts as logged only once its last artifact is written (tag ``workbench.logging``); names
MLflow sees are made safe (:func:`mlflow_key`); reports never overwrite one that decides
something else (:func:`log_report`). Experiments created in a sqlite store keep their
artifacts beside it (:func:`artifact_home`) and open on the runs view (:func:`ui_url`);
MLflow's INFO logs stay quiet unless asked (:func:`verbose`, ``WORKBENCH_VERBOSE=1``).

Example:
    Not run as a doctest: it needs an MLflow tracking store (the project's
    ``sqlite:///<home>/mlflow.db`` unless ``MLFLOW_TRACKING_URI`` says otherwise)::

        import workbench as wb
        run_id = wb.log_comparison(cmp, experiment="triage")
        again = wb.load_comparison(run_id)
"""

from workbench.errors import TrackingError

from ._client import client, metric_key, mlflow_key, mlflow_version
from ._experiments import EXPERIMENT_KIND, EXPERIMENT_KIND_TAG, artifact_home, run_url, ui_url
from ._figures import MAX_CHILD_METRICS, calibration_figures
from ._load import list_comparisons, load_comparison, load_table, logging_state
from ._log import (
    FINGERPRINT_TAG,
    LOGGING_TAG,
    RERUN_TAG,
    RUN_LAYOUT_VERSION,
    fingerprint,
    log_comparison,
    log_text,
    supersede,
)
from ._pending import PendingLog
from ._promote import Promotion, load_prompt, promote, rollback
from ._quiet import is_verbose, verbose
from ._reports import DECISION_KEY_TAG, DECISION_TAG, log_report, report_key, report_name
from ._traces import (
    TRACE_PAGE_SIZE,
    TraceExperiment,
    TraceFeedback,
    TraceRow,
    TraceSpan,
    iter_traces,
    trace_experiment,
)

__all__ = [
    "DECISION_KEY_TAG",
    "DECISION_TAG",
    "EXPERIMENT_KIND",
    "EXPERIMENT_KIND_TAG",
    "FINGERPRINT_TAG",
    "LOGGING_TAG",
    "MAX_CHILD_METRICS",
    "RERUN_TAG",
    "RUN_LAYOUT_VERSION",
    "TRACE_PAGE_SIZE",
    "PendingLog",
    "Promotion",
    "TraceExperiment",
    "TraceFeedback",
    "TraceRow",
    "TraceSpan",
    "TrackingError",
    "artifact_home",
    "calibration_figures",
    "client",
    "fingerprint",
    "is_verbose",
    "iter_traces",
    "list_comparisons",
    "load_comparison",
    "load_prompt",
    "load_table",
    "log_comparison",
    "log_report",
    "log_text",
    "logging_state",
    "metric_key",
    "mlflow_key",
    "mlflow_version",
    "promote",
    "report_key",
    "report_name",
    "rollback",
    "run_url",
    "supersede",
    "trace_experiment",
    "ui_url",
    "verbose",
]
