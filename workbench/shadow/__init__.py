"""Shadow testing on production traffic: traffic logs, validated and redacted on load.

Redaction replaces e-mail addresses, IBANs, payment cards, US SSNs and phone numbers (any
region's international form, national forms of ``PHONE_REGIONS``) with typed placeholders,
and turns request ids into salted hashes; detectors are pluggable (``Detector``).

Example:
    >>> from workbench.shadow import redact_pii
    >>> redact_pii("write to jo@example.com")
    'write to [EMAIL]'
"""

from ._log import TrafficLog, TrafficRecord
from ._redact import (
    DEFAULT_DETECTORS,
    PHONE_REGIONS,
    Detector,
    Redactor,
    email_valid,
    luhn_valid,
    phone_detector,
    redact_pii,
)
from ._replay import (
    PRODUCTION,
    Period,
    ReplayVariant,
    output_words,
    pairwise_table,
    refused,
    shadow_test,
    traffic_golden_set,
)

__all__ = ["DEFAULT_DETECTORS", "PHONE_REGIONS", "PRODUCTION", "Detector", "Period", "Redactor",
           "ReplayVariant", "TrafficLog", "TrafficRecord", "email_valid", "luhn_valid",
           "output_words", "pairwise_table", "phone_detector", "redact_pii", "refused",
           "shadow_test", "traffic_golden_set"]
