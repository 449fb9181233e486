"""Statistics: confidence intervals (and, later, paired tests and decision gates).

Example:
    >>> from workbench.stats import mean_ci
    >>> str(mean_ci([0.5, 0.7, 0.9]))
    '0.700 [0.203, 1.197]'
"""

from ._ci import MeanCI, mean_ci

__all__ = ["MeanCI", "mean_ci"]
