"""MLflow tracking: log comparisons for reviewers and load them back.

The only package that imports mlflow (lazily, on first use). Layout: one parent run per
comparison (settings, the exact results, the frozen golden set), one child run per
(model, variant) with params, metrics with 95% CI bounds, per-slice means and a per-case table.

Example:
    >>> import workbench as wb
    >>> run_id = wb.log_comparison(cmp, experiment="triage")  # doctest: +SKIP
    >>> again = wb.load_comparison(run_id)  # doctest: +SKIP
"""

from ._client import client, mlflow_version
from ._load import list_comparisons, load_comparison, load_table
from ._log import SCHEMA_VERSION, log_comparison, log_text
from ._promote import Promotion, load_prompt, promote, rollback

__all__ = [
    "SCHEMA_VERSION",
    "Promotion",
    "client",
    "list_comparisons",
    "load_comparison",
    "load_prompt",
    "load_table",
    "log_comparison",
    "log_text",
    "mlflow_version",
    "promote",
    "rollback",
]
