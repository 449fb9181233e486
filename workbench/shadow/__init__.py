"""Shadow testing on production traffic (this part: PII redaction applied when logs load).

Example:
    >>> from workbench.shadow import redact
    >>> redact("write to jo@example.com")
    'write to [EMAIL]'
"""

from ._redact import DEFAULT_DETECTORS, Detector, Redactor, luhn_valid, redact

__all__ = ["DEFAULT_DETECTORS", "Detector", "Redactor", "luhn_valid", "redact"]
