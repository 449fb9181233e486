"""Reports: the migration report (HTML and Markdown) built from a comparison and its decision.

Example:
    >>> report = wb.migration_report(cmp, ("sim/b", "g"), ("sim/a", "g"))  # doctest: +SKIP
    >>> report.to_html("reports/migration_report.html")  # doctest: +SKIP
"""

from ._migration import MigrationReport, markdown_escape, migration_report, word_diff

__all__ = ["MigrationReport", "markdown_escape", "migration_report", "word_diff"]
