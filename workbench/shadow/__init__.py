"""Shadow testing on production traffic: traffic logs, validated and redacted on load.

Traffic comes from a JSONL log, MLflow traces (``mlflow-traces:<experiment>?since=...``) or
OTLP/JSON exports of OpenTelemetry GenAI spans (``otlp:<files or folder>``): see
``SOURCE_FORMS``; what a trace cannot replay is counted by reason (``SKIP_REASONS``).

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
from ._sample import STRATA
from ._sources import (
    SKIP_REASONS,
    SOURCE_FORMS,
    SPAN_CHOICES,
    Provenance,
    SpanChoice,
    TrafficSource,
    parse_source,
)
from ._trace_log import load_traces, note_traffic  # registers mlflow-traces: and otlp:

__all__ = ["DEFAULT_DETECTORS", "PHONE_REGIONS", "PRODUCTION", "SKIP_REASONS", "SOURCE_FORMS",
           "SPAN_CHOICES", "STRATA", "Detector", "Period", "Provenance", "Redactor",
           "ReplayVariant", "SpanChoice", "TrafficLog", "TrafficRecord", "TrafficSource",
           "email_valid", "load_traces", "luhn_valid", "note_traffic", "output_words",
           "pairwise_table", "parse_source", "phone_detector", "redact_pii", "refused",
           "shadow_test", "traffic_golden_set"]
