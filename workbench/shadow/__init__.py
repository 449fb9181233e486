"""Shadow testing on production traffic: traffic logs, validated and redacted on load.

Example:
    >>> from workbench.shadow import redact
    >>> redact("write to jo@example.com")
    'write to [EMAIL]'
"""

from ._log import TrafficLog, TrafficRecord
from ._redact import DEFAULT_DETECTORS, Detector, Redactor, luhn_valid, redact

__all__ = ["DEFAULT_DETECTORS", "Detector", "Redactor", "TrafficLog", "TrafficRecord",
           "luhn_valid", "redact"]
