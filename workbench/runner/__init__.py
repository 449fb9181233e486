"""The runner: ``plan`` and ``compare`` the case × model × variant matrix; ``Comparison``.

Example:
    >>> import workbench as wb
    >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl")  # doctest: +SKIP
    >>> wb.plan(gs, ["sim/large"], [wb.PromptVariant("t", user="{{ message }}")])  # doctest: +SKIP
"""

from ._comparison import RESULT_COLUMNS, Comparison
from ._errors import DamagedSaveError, RunError
from ._health import error_breakdown
from ._pairwise import PairwiseTable, pairwise
from ._plan import Cell, Plan, plan
from ._run import (
    FAIL_FAST_AFTER,
    SKIPPED,
    RecordedConfig,
    RunHandle,
    acompare,
    compare,
    run_plan,
    start_compare,
)

__all__ = ["FAIL_FAST_AFTER", "RESULT_COLUMNS", "SKIPPED", "Cell", "Comparison",
           "DamagedSaveError", "PairwiseTable", "Plan", "RecordedConfig", "RunError", "RunHandle",
           "acompare", "compare", "error_breakdown", "pairwise", "plan", "run_plan",
           "start_compare"]
