"""The runner: ``plan`` and ``compare`` the case × model × variant matrix; ``Comparison``.

Example:
    >>> import workbench as wb
    >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl")
    >>> wb.plan(gs, ["sim/large"], [wb.PromptVariant("t", user="{{ message }}")]).calls
    156
"""

from ._compare import RunHandle, acompare, compare, run_plan, start_compare
from ._comparison import RESULT_COLUMNS, Comparison
from ._errors import DamagedSaveError, RunError
from ._health import error_breakdown
from ._pairwise import PairwiseTable, judge_cost_text, pairwise
from ._plan import Cell, Leakage, Plan, plan
from ._pool import shutdown_workers
from ._run import FAIL_FAST_AFTER, SKIPPED, RecordedConfig
from ._workers import EXECUTORS, Executor

__all__ = ["EXECUTORS", "FAIL_FAST_AFTER", "RESULT_COLUMNS", "SKIPPED", "Cell", "Comparison",
           "DamagedSaveError", "Executor", "Leakage", "PairwiseTable", "Plan", "RecordedConfig",
           "RunError", "RunHandle", "acompare", "compare", "error_breakdown", "judge_cost_text",
           "pairwise", "plan", "run_plan", "shutdown_workers", "start_compare"]
