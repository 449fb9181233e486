"""PII redaction of traffic logs: planted values go, look-alikes stay."""

from __future__ import annotations

import pytest

from workbench.shadow import Detector, Redactor, luhn_valid
from workbench.shadow import redact_pii as redact

PLANTED = {
    "ana.souza+support@example.com.br": "[EMAIL]",
    "j_doe@mail.co": "[EMAIL]",
    "+44 20 7946 0958": "[PHONE]",
    "+1 (415) 555-0100": "[PHONE]",
    "415-555-0100": "[PHONE]",
    "(030) 1234 5678": "[PHONE]",
    "07700 900123": "[PHONE]",
    "4111 1111 1111 1111": "[CARD]",
    "5500-0000-0000-0004": "[CARD]",
    "378282246310005": "[CARD]",
}
KEPT = ["order 1234567890123456", "invoice INV-2024-000123", "on 2026-11-25 at 10:30",
        "total 1,299.00 EUR", "ticket #48213", "tracking 1Z999AA10123456784", "v2.14.3",
        "call me maybe", "id 550e8400-e29b-41d4-a716-446655440000", "IP 192.168.10.254"]


@pytest.mark.parametrize("value", list(PLANTED))
def test_planted_values_become_typed_placeholders(value: str) -> None:
    text = f"Hi, reach me at {value} please."
    out = redact(text)
    assert value not in out and PLANTED[value] in out
    assert out == f"Hi, reach me at {PLANTED[value]} please."


@pytest.mark.parametrize("text", KEPT)
def test_look_alikes_are_kept(text: str) -> None:
    assert redact(text) == text


def test_luhn_and_counts_and_nested_values() -> None:
    assert luhn_valid("4111-1111-1111-1111") and not luhn_valid("4111-1111-1111-1112")
    r = Redactor()
    data = {"messages": [{"role": "user", "content": "card 4111111111111111, mail a@b.io"}],
            "n": 3}
    assert r.value(data) == {"messages": [{"role": "user", "content": "card [CARD], mail "
                                           "[EMAIL]"}], "n": 3}
    assert dict(r.counts) == {"card": 1, "email": 1}
    assert r(r("a@b.io")) == "[EMAIL]"  # idempotent


def test_detectors_are_pluggable() -> None:
    import re

    ssn = Detector("ssn", re.compile(r"\b\d{3}-\d{2}-\d{4}\b"))
    r = Redactor((ssn,))
    assert r("ssn 123-45-6789, mail a@b.io") == "ssn [SSN], mail a@b.io"
