"""Reports: the migration and shadow-test reports (HTML, Markdown, PDF), typed and escaped.

Each opens with an executive summary (decision, quality with its CI, monthly cost, latency,
the next step, what would change the decision), then the charts, the details and an appendix.

Example:
    A candidate against an incumbent on 40 cases of a comparison built by hand (in a notebook
    ``cmp`` comes from ``wb.compare`` or ``wb.load_comparison``; ``migration_report`` shows more):

    >>> import tempfile
    >>> import pandas as pd
    >>> import workbench as wb
    >>> from workbench.records import GoldenSetRef, RunRecord
    >>> from workbench.reports import migration_report
    >>> answers = ["right"] * 30 + ["wrong"] * 10 + ["right"] * 36 + ["wrong"] * 4
    >>> results = pd.DataFrame({"case_id": [f"c{i:02d}" for i in range(40)] * 2,
    ...     "model": ["large"] * 40 + ["small"] * 40, "variant": "v1", "repeat": 0,
    ...     "output": answers, "score.exact_match": [float(a == "right") for a in answers],
    ...     "error_type": None, "cost_usd": 0.001, "latency_s": 0.5, "prompt_tokens": 400,
    ...     "completion_tokens": 20, "billed_usd": 0.0, "judge_cost_usd": 0.0, "cache_hit": True})
    >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest="")))
    >>> report = migration_report(cmp, ("small", "v1"), ("large", "v1"), charts=False)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report.to_html(f"{tmp}/migration_report.html").name
    'migration_report.html'
    >>> report.outcome
    'HOLD'
"""

from ._export import find_chromium, write_pdf
from ._migration import MigrationReport, migration_report
from ._shadow import ShadowExample, ShadowReport, default_shadow_gates, shadow_report
from ._summary import ExecutiveSummary, SummaryPoint
from ._text import as_text, markdown_escape, word_diff

__all__ = ["ExecutiveSummary", "MigrationReport", "ShadowExample", "ShadowReport",
           "SummaryPoint", "as_text", "default_shadow_gates", "find_chromium",
           "markdown_escape", "migration_report", "shadow_report", "word_diff", "write_pdf"]
