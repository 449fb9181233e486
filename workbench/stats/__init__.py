"""Statistics: confidence intervals and judge calibration (later: paired tests and gates).

Example:
    >>> from workbench.stats import mean_ci
    >>> str(mean_ci([0.5, 0.7, 0.9]))
    '0.700 [0.203, 1.197]'
"""

from ._calibrate import Calibration, calibrate, load_human_labels, output_sha256
from ._ci import MeanCI, mean_ci

__all__ = ["Calibration", "MeanCI", "calibrate", "load_human_labels", "mean_ci", "output_sha256"]
