"""MLflow tracking: log comparisons for reviewers and load them back.

The only package that imports mlflow (lazily, on first use). Layout: one parent run per
comparison (settings, the exact results, the frozen golden set), one child run per
(model, variant) with params, metrics with 95% CI bounds, per-slice means and a per-case table.
A run counts as logged only once its last artifact is written (tag ``workbench.logging``);
names MLflow sees are made safe (:func:`mlflow_key`); reports never overwrite one that decides
something else (:func:`log_report`).

Example:
    Not run as a doctest: it needs an MLflow tracking store (``sqlite:///mlflow.db`` in the
    working directory unless ``MLFLOW_TRACKING_URI`` says otherwise)::

        import workbench as wb
        run_id = wb.log_comparison(cmp, experiment="triage")
        again = wb.load_comparison(run_id)
"""

from workbench.errors import TrackingError

from ._client import client, metric_key, mlflow_key, mlflow_version
from ._load import list_comparisons, load_comparison, load_table, logging_state
from ._log import LOGGING_TAG, RUN_LAYOUT_VERSION, log_comparison, log_text, supersede
from ._pending import PendingLog
from ._promote import Promotion, load_prompt, promote, rollback
from ._reports import DECISION_KEY_TAG, DECISION_TAG, log_report, report_key, report_name

__all__ = [
    "DECISION_KEY_TAG",
    "DECISION_TAG",
    "LOGGING_TAG",
    "RUN_LAYOUT_VERSION",
    "PendingLog",
    "Promotion",
    "TrackingError",
    "client",
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
    "supersede",
]
