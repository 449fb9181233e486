"""Shadow testing on production traffic: traffic logs, validated and redacted on load.

Example:
    >>> from workbench.shadow import redact
    >>> redact("write to jo@example.com")
    'write to [EMAIL]'
"""

from ._log import TrafficLog, TrafficRecord
from ._redact import DEFAULT_DETECTORS, Detector, Redactor, luhn_valid, redact
from ._replay import (
    PRODUCTION,
    ReplayVariant,
    output_words,
    pairwise_table,
    refused,
    shadow_test,
    traffic_golden_set,
)

__all__ = ["DEFAULT_DETECTORS", "PRODUCTION", "Detector", "Redactor", "ReplayVariant",
           "TrafficLog", "TrafficRecord", "luhn_valid", "output_words",
           "pairwise_table", "redact", "refused", "shadow_test", "traffic_golden_set"]
