"""The runner: ``plan`` and ``compare`` the case × model × variant matrix; ``Comparison``.

Example:
    >>> import workbench as wb
    >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl")  # doctest: +SKIP
    >>> wb.plan(gs, ["sim/large"], [wb.PromptVariant("t", user="{{ message }}")])  # doctest: +SKIP
"""

from ._comparison import RESULT_COLUMNS, Comparison
from ._pairwise import PairwiseTable, pairwise
from ._plan import Cell, Plan, plan
from ._run import RecordedConfig, RunHandle, acompare, compare, run_plan, start_compare

__all__ = ["RESULT_COLUMNS", "Cell", "Comparison", "PairwiseTable", "Plan", "RecordedConfig",
           "RunHandle", "acompare", "compare", "pairwise", "plan", "run_plan", "start_compare"]
