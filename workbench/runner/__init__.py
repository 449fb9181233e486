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
from ._run import FAIL_FAST_AFTER, SKIPPED, RecordedConfig

__all__ = ["FAIL_FAST_AFTER", "RESULT_COLUMNS", "SKIPPED", "Cell", "Comparison",
           "DamagedSaveError", "Leakage", "PairwiseTable", "Plan", "RecordedConfig", "RunError",
           "RunHandle", "acompare", "compare", "error_breakdown", "judge_cost_text", "pairwise",
           "plan", "run_plan", "start_compare"]
