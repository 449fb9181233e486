"""Workflows and the public API that joins the layers: run, log to MLflow, decide, report.

``run_experiment`` and ``run_shadow`` own the whole sequence for an experiment file and a
shadow test and return a typed result; ``workbench run``/``gate``/``shadow``/``demo`` only
format it. ``wb.compare``, ``wb.log_comparison``, ``wb.migration_report`` and the rest are the
functions a script or notebook calls step by step.

Example:
    >>> from workbench.workflow import run_experiment
    >>> run_experiment("examples/qa_experiment.yaml", dry_run=True).plan.calls
    308
"""

from ._experiment import ExperimentResult, Listener, QuietListener, run_experiment
from ._facade import (
    acompare,
    chart_figures,
    compare,
    log_after_run,
    log_comparison,
    log_saved,
    migration_report,
    shadow_report,
    shadow_test,
)
from ._shadow import ShadowResult, run_shadow

__all__ = [
    "ExperimentResult", "Listener", "QuietListener", "ShadowResult", "acompare",
    "chart_figures", "compare", "log_after_run", "log_comparison", "log_saved",
    "migration_report", "run_experiment", "run_shadow", "shadow_report", "shadow_test",
]
