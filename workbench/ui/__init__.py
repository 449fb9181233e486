"""Notebook widgets (ipywidgets 8): build and run a comparison, explore it, label outputs.

Thin layers over the public API a script uses: ``ComparisonBuilder`` (plan, Run / Cancel,
resume), ``ResultsExplorer`` (filter, sort, page, side by side, CSV export) and ``ReviewQueue``
(blind human labels for ``wb.calibrate``). Every model or dataset string they show is escaped.

Example::

    from workbench.ui import ResultsExplorer
    ResultsExplorer(cmp)   # the last expression of a notebook cell shows the widget
"""

from ._builder import BUILTIN_SCORERS, ComparisonBuilder, default_template
from ._explorer import ResultsExplorer, safe_csv_cell
from ._review import ReviewQueue

__all__ = ["BUILTIN_SCORERS", "ComparisonBuilder", "ResultsExplorer", "ReviewQueue",
           "default_template", "safe_csv_cell"]
