"""PII redaction for production traffic logs, applied when a log is loaded (before replay).

Built-in detectors: payment card numbers (13–19 digits, spaces or dashes allowed, kept only when
the Luhn checksum holds, so order ids and tracking numbers survive), e-mail addresses and phone
numbers (7–15 digits with the usual separators, optional +country code). Each match becomes a
typed placeholder (``[CARD]``, ``[EMAIL]``, ``[PHONE]``). Detectors are pluggable: pass your own
``Detector`` (a name, a compiled pattern and an optional validator) to ``Redactor``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_DETECTORS", "Detector", "Redactor", "luhn_valid", "redact"]


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a digit string (card numbers pass it, most random ids do not).

    Example:
        >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
        (True, False)
    """
    nums = [int(d) for d in digits if d.isdigit()]
    if len(nums) < 12:
        return False
    total = 0
    for i, d in enumerate(reversed(nums)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


@dataclass(frozen=True)
class Detector:
    """A kind of personal data: a pattern, and a validator that must accept each match."""

    name: str
    pattern: re.Pattern[str]
    validate: Callable[[str], bool] | None = None

    @property
    def placeholder(self) -> str:
        return f"[{self.name.upper()}]"


_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_NATIONAL = re.compile(r"\d{3}[ .-]\d{3}[ .-]\d{4}|0\d{2,4}[ .-]?\d{3,4}[ .-]?\d{3,4}")


def _phone_ok(match: str) -> bool:
    """Whether a match is a phone number rather than a date, amount or id.

    It needs 7–15 digits and a +country code, an (area code), or a common national shape
    (US 3-3-4, or a trunk 0 then groups).
    """
    digits = sum(c.isdigit() for c in match)
    if not 7 <= digits <= 15 or _DATE.fullmatch(match):
        return False
    return match.startswith("+") or "(" in match or bool(_NATIONAL.fullmatch(match))


DEFAULT_DETECTORS: tuple[Detector, ...] = (
    Detector("card", re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])"), luhn_valid),
    Detector("email", re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")),
    Detector("phone", re.compile(
        r"(?<![\w+/.-])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,5}(?:[ .-]?\d{2,4}){1,4}"
        r"(?![\w/-])"), _phone_ok),
)


@dataclass
class Redactor:
    """Replace personal data in text by typed placeholders, counting what it replaced.

    Example:
        >>> r = Redactor()
        >>> r("Mail jo@example.com or call +1 415-555-0100, card 4111 1111 1111 1111")
        'Mail [EMAIL] or call [PHONE], card [CARD]'
        >>> dict(r.counts)
        {'card': 1, 'email': 1, 'phone': 1}
    """

    detectors: Iterable[Detector] = DEFAULT_DETECTORS
    counts: Counter[str] = field(default_factory=Counter)

    def __call__(self, text: str) -> str:
        """The text with every validated match replaced (cards first, then e-mail, phone)."""
        for det in self.detectors:
            def swap(match: re.Match[str], det: Detector = det) -> str:
                value = match.group(0)
                if det.validate is not None and not det.validate(value):
                    return value
                self.counts[det.name] += 1
                return det.placeholder
            text = det.pattern.sub(swap, text)
        return text

    def value(self, value: Any) -> Any:
        """Redact strings inside any JSON-like value (dicts, lists), leaving other types."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, Mapping):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


def redact(text: str, detectors: Iterable[Detector] = DEFAULT_DETECTORS) -> str:
    """One-off redaction with the given detectors.

    Example:
        >>> redact("order 1234567890123456 for ana@example.org")
        'order 1234567890123456 for [EMAIL]'
    """
    return Redactor(tuple(detectors))(text)
