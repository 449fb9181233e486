"""Reports: the migration and shadow-test reports (HTML and Markdown), typed and escaped.

Example:
    >>> report = wb.migration_report(cmp, ("sim/b", "g"), ("sim/a", "g"))  # doctest: +SKIP
    >>> report.to_html("reports/migration_report.html")  # doctest: +SKIP
"""

from ._migration import MigrationReport, markdown_escape, migration_report, word_diff
from ._shadow import ShadowExample, ShadowReport, default_shadow_gates, shadow_report

__all__ = ["MigrationReport", "ShadowExample", "ShadowReport", "default_shadow_gates",
           "markdown_escape", "migration_report", "shadow_report", "word_diff"]
