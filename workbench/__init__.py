"""workbench: compare LLMs and prompt variants on golden sets, log to MLflow, report migrations.

``import workbench`` is cheap: public names are imported on first use, and litellm, mlflow,
plotly and ipywidgets only when a feature needs them.

Example:
    >>> import workbench as wb
    >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl")
    >>> len(gs), gs.name
    (156, 'support_triage')
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING, Any

# litellm (imported lazily by workbench.models, and by mlflow.genai) must use its bundled price
# map: otherwise it fetches one over the network at import, and prices stop being reproducible.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from workbench._version import __version__  # noqa: E402
from workbench.errors import ConfigError, DatasetError, WorkbenchError  # noqa: E402

if TYPE_CHECKING:
    from workbench import (
        charts,
        experiments,
        records,
        reports,
        scorers,
        shadow,
        stats,
        tracking,
        workflow,
    )
    from workbench._home import default_tracking_uri, mlflow_ui_command, output_dir, project_home
    from workbench.datasets import CheckReport, GoldenSet
    from workbench.models import ModelSpec, RetryPolicy
    from workbench.prompts import PromptVariant
    from workbench.reports import MigrationReport, ShadowReport
    from workbench.runner import Comparison, Plan, pairwise, plan
    from workbench.scorers import Score, judge, scorer
    from workbench.stats import (
        Decision,
        Gates,
        MetricGate,
        PairedComparison,
        calibrate,
        compare_configs,
        decide,
        label_agreement,
        mean_ci,
        minimum_detectable_effect,
        pairwise_outcomes,
        plan_sample_size,
    )
    from workbench.tracking import (
        list_comparisons,
        load_comparison,
        load_prompt,
        promote,
        rollback,
        verbose,
    )
    from workbench.workflow import (
        acompare,
        compare,
        log_comparison,
        log_saved,
        migration_report,
        shadow_report,
        shadow_test,
    )

__all__ = [
    "project_home",
    "default_tracking_uri",
    "mlflow_ui_command",
    "output_dir",
    "verbose",
    "CheckReport",
    "Comparison",
    "ConfigError",
    "Decision",
    "Gates",
    "MetricGate",
    "MigrationReport",
    "PairedComparison",
    "DatasetError",
    "GoldenSet",
    "ModelSpec",
    "Plan",
    "PromptVariant",
    "RetryPolicy",
    "Score",
    "WorkbenchError",
    "__version__",
    "acompare",
    "calibrate",
    "charts",
    "compare",
    "compare_configs",
    "decide",
    "mean_ci",
    "migration_report",
    "minimum_detectable_effect",
    "pairwise",
    "plan_sample_size",
    "promote",
    "reports",
    "rollback",
    "plan",
    "judge",
    "list_comparisons",
    "load_comparison",
    "load_prompt",
    "log_comparison",
    "log_saved",
    "scorer",
    "scorers",
    "shadow",
    "shadow_report",
    "shadow_test",
    "ShadowReport",
    "label_agreement",
    "pairwise_outcomes",
    "experiments",
    "records",
    "stats",
    "tracking",
    "workflow",
]

# public name -> module that defines it, imported on first attribute access (PEP 562)
_LAZY = {
    "project_home": "workbench._home",
    "default_tracking_uri": "workbench._home",
    "mlflow_ui_command": "workbench._home",
    "output_dir": "workbench._home",
    "GoldenSet": "workbench.datasets",
    "CheckReport": "workbench.datasets",
    "PromptVariant": "workbench.prompts",
    "ModelSpec": "workbench.models",
    "RetryPolicy": "workbench.models",
    "Comparison": "workbench.runner",
    "Plan": "workbench.runner",
    "plan": "workbench.runner",
    "compare": "workbench.workflow",
    "acompare": "workbench.workflow",
    "pairwise": "workbench.runner",
    "Score": "workbench.scorers",
    "scorer": "workbench.scorers",
    "judge": "workbench.scorers",
    "mean_ci": "workbench.stats",
    "calibrate": "workbench.stats",
    "compare_configs": "workbench.stats",
    "decide": "workbench.stats",
    "Decision": "workbench.stats",
    "Gates": "workbench.stats",
    "MetricGate": "workbench.stats",
    "PairedComparison": "workbench.stats",
    "plan_sample_size": "workbench.stats",
    "minimum_detectable_effect": "workbench.stats",
    "log_comparison": "workbench.workflow",
    "log_saved": "workbench.workflow",
    "migration_report": "workbench.workflow",
    "MigrationReport": "workbench.reports",
    "ShadowReport": "workbench.reports",
    "shadow_test": "workbench.workflow",
    "shadow_report": "workbench.workflow",
    "label_agreement": "workbench.stats",
    "pairwise_outcomes": "workbench.stats",
    "load_comparison": "workbench.tracking",
    "list_comparisons": "workbench.tracking",
    "promote": "workbench.tracking",
    "rollback": "workbench.tracking",
    "load_prompt": "workbench.tracking",
    "verbose": "workbench.tracking",
}
_SUBMODULES = {"charts", "experiments", "records", "reports", "scorers", "shadow", "stats",
               "tracking", "workflow"}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f"workbench.{name}")
        globals()[name] = value
        return value
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
