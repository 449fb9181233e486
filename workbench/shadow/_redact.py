r"""Personal-data redaction for production traffic logs, applied when a log is loaded.

Built-in detectors, applied in this order, each match replaced by a typed placeholder:

- ``email`` → ``[EMAIL]``: addresses with Unicode local parts and domains (``josé@exämple.com``,
  checked label by label with IDNA) and IP-literal domains (``user@[192.168.1.1]``).
- ``iban`` → ``[IBAN]``: with or without spaces, kept only when ``stdnum.iban`` validates the
  country format and the mod-97 checksum.
- ``card`` → ``[CARD]``: 13–19 digits, written compact or in groups of three or more digits
  separated by one kind of space, dash, dot or slash, kept only when the Luhn checksum
  (``stdnum.luhn``) holds and the first digit is a card network's (2–6), so order ids,
  enumerations and tracking numbers survive.
- ``ssn`` → ``[SSN]``: US social security numbers written ``123-45-6789`` or ``123 45 6789``
  that ``stdnum.us.ssn`` accepts (no 000/666/9xx area, 00 group or 0000 serial).
- ``phone`` → ``[PHONE]``: what ``phonenumbers.PhoneNumberMatcher`` finds as a valid number
  grouped as that country writes it (``Leniency.STRICT_GROUPING``), in international form
  (``+33 1 42 68 53 00``, ``0044 20 7946 0958``) or national form for any of
  :data:`PHONE_REGIONS`; dates, times, amounts, versions, UUIDs and IP addresses are not
  valid numbers in any of them.

Detectors are pluggable: a :class:`Detector` is a name plus either a compiled pattern (with an
optional validator each match must pass) or a finder returning spans, e.g.
``Detector("nhs", re.compile(r"\b\d{3} \d{3} \d{4}\b"), stdnum.gb.nhs.is_valid)``.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from stdnum import iban as _iban
from stdnum import luhn as _luhn
from stdnum.us import ssn as _ssn

from workbench.errors import ConfigError

__all__ = ["DEFAULT_DETECTORS", "PHONE_REGIONS", "Detector", "Redactor", "email_valid",
           "luhn_valid", "phone_detector", "redact_pii"]

Span = tuple[int, int]

PHONE_REGIONS: tuple[str, ...] = ("US", "GB", "FR", "DE", "JP", "IN")
"""Regions whose national phone formats are recognised (international ``+``/``00`` forms are
recognised whatever the region). Add yours with ``phone_detector(regions=...)``."""


def luhn_valid(digits: str) -> bool:
    """The Luhn checksum of a number (separators ignored), at least 12 digits long.

    Example:
        >>> luhn_valid("4111111111111111"), luhn_valid("4111111111111112")
        (True, False)
    """
    compact = "".join(c for c in digits if c.isdigit())
    return len(compact) >= 12 and _luhn.is_valid(compact)


@dataclass(frozen=True)
class Detector:
    """A kind of personal data: how to find it, and a validator each finding must pass.

    Args:
        name: the kind, used in counts and in the placeholder (``"ssn"`` → ``[SSN]``).
        pattern: a compiled regular expression whose matches are candidates.
        validate: called with each candidate's text; only accepted ones are replaced.
        finder: instead of a pattern, a function returning ``(start, end)`` spans of a text
            (for detectors built on a library, like the phone one).
    """

    name: str
    pattern: re.Pattern[str] | None = None
    validate: Callable[[str], bool] | None = None
    finder: Callable[[str], Iterable[Span]] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", self.name or ""):
            raise ConfigError(f"detector name {self.name!r} is not a word",
                              fix='Use letters, digits and "_" (it becomes the placeholder, '
                                  'e.g. "ssn" → [SSN]).')
        if (self.pattern is None) == (self.finder is None):
            raise ConfigError(f"detector {self.name!r} needs a pattern or a finder (one of them)",
                              fix="Pass pattern=re.compile(...) (and optionally validate=...), "
                                  "or finder=function returning (start, end) spans.")

    @property
    def placeholder(self) -> str:
        """What a finding is replaced with: the name in capitals, in brackets."""
        return f"[{self.name.upper()}]"

    def spans(self, text: str) -> list[Span]:
        """Validated, non-overlapping ``(start, end)`` spans of ``text``, in order."""
        if self.finder is not None:
            found: Iterable[Span] = self.finder(text)
        else:
            assert self.pattern is not None
            found = (m.span() for m in self.pattern.finditer(text))
        kept: list[Span] = []
        for start, end in sorted(found, key=lambda s: (s[0], -s[1])):
            if end <= start or (kept and start < kept[-1][1]):
                continue
            if self.validate is None or self.validate(text[start:end]):
                kept.append((start, end))
        return kept


# ---------------------------------------------------------------- e-mail
_LOCAL = r"\w\u0300-\u036f!#$%&'*+/=?^`{|}~\-"  # RFC 5322 atom characters, Unicode letters
_LABEL = r"[\w\u0300-\u036f\-]+"
_EMAIL = re.compile(
    rf"(?<![{_LOCAL}.])[{_LOCAL}]+(?:\.[{_LOCAL}]+)*"
    rf"@(?:\[[^\]\s]{{2,60}}\]|{_LABEL}(?:\.{_LABEL})+)"
)


def email_valid(address: str) -> bool:
    """Whether a string is a plausible e-mail address (syntax, IDNA domain or IP literal).

    Example:
        >>> [email_valid(a) for a in ("josé@exämple.com", "user@[192.168.1.1]", "a@b.c1")]
        [True, True, False]
    """
    local, _, domain = address.rpartition("@")
    if not local or len(local) > 64 or len(domain) > 255:
        return False
    if domain.startswith("["):
        literal = domain[1:-1]
        literal = literal[5:] if literal.lower().startswith("ipv6:") else literal
        try:
            ipaddress.ip_address(literal)
        except ValueError:
            return False
        return True
    labels = domain.split(".")
    tld = labels[-1]
    if not (tld.isalpha() and len(tld) >= 2) and not tld.lower().startswith("xn--"):
        return False
    for label in labels:
        if not label or len(label) > 63 or label[0] == "-" or label[-1] == "-" or "_" in label:
            return False
        try:
            label.encode("idna")
        except UnicodeError:
            return False
    return True


# ---------------------------------------------------------------- IBAN
_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ -]?[A-Za-z0-9]){11,30}")


def _iban_spans(text: str) -> Iterator[Span]:
    """The longest prefix of each candidate that ends at a word boundary and validates."""
    for match in _IBAN_CANDIDATE.finditer(text):
        start, chunk = match.start(), match.group(0)
        for end in range(len(chunk), 14, -1):
            after = start + end
            if after < len(text) and text[after].isalnum():
                continue
            if chunk[end - 1] not in " -" and _iban.is_valid(chunk[:end]):
                yield start, after
                break


# ---------------------------------------------------------------- cards
_DIGIT_GROUPS = re.compile(r"(?<!\w)\d+(?:[ ./-]\d+)*")


def _card_spans(text: str) -> Iterator[Span]:
    """13–19 digits, compact or in groups of 3+ with one kind of separator, Luhn-valid, 2–6."""
    for run in _DIGIT_GROUPS.finditer(text):
        if run.end() < len(text) and text[run.end()].isalnum():
            continue  # part of a word, e.g. a tracking code
        groups = [(m.start() + run.start(), m.end() + run.start())
                  for m in re.finditer(r"\d+", run.group(0))]
        i = 0
        while i < len(groups):
            best = None
            digits, seps = 0, set()
            for j in range(i, len(groups)):
                if j > i:
                    seps.add(text[groups[j - 1][1]:groups[j][0]])
                digits += groups[j][1] - groups[j][0]
                grouped_short = j > i and any(e - s < 3 for s, e in groups[i:j + 1])
                if digits > 19 or len(seps) > 1 or grouped_short:
                    break
                number = "".join(text[s:e] for s, e in groups[i:j + 1])
                if digits >= 13 and number[0] in "23456" and _luhn.is_valid(number):
                    best = j
            if best is None:
                i += 1
                continue
            yield groups[i][0], groups[best][1]
            i = best + 1


# ---------------------------------------------------------------- US SSN
_SSN = re.compile(r"(?<![\w-])(?<!\d[ .])\d{3}([- ])\d{2}\1\d{4}(?![\w-])(?![ .]\d)")


def _ssn_valid(value: str) -> bool:
    return _ssn.is_valid(re.sub(r"\D", "", value))


# ---------------------------------------------------------------- phones
def phone_detector(regions: Sequence[str] = PHONE_REGIONS, *,
                   leniency: int = phonenumbers.Leniency.STRICT_GROUPING) -> Detector:
    """A ``phone`` detector on ``phonenumbers.PhoneNumberMatcher`` for these regions.

    International numbers (``+…`` or ``00…``) are found whatever the regions; national forms
    (``(030) 1234 5678``, ``415-555-0100``) for the regions given. The default leniency
    (a ``phonenumbers.Leniency`` value) keeps only valid numbers grouped the way their country
    writes them, which leaves dates, times, amounts, versions, UUIDs and IP addresses alone.

    Raises:
        ConfigError: for a region ``phonenumbers`` does not know.

    Example:
        >>> Redactor((phone_detector(["BR"]),))("ligue (11) 91234-5678")
        'ligue [PHONE]'
    """
    known = phonenumbers.SUPPORTED_REGIONS
    bad = [r for r in regions if r not in known]
    if bad or not regions:
        raise ConfigError(f"unknown phone regions {bad}" if bad else "no phone region given",
                          where="phone_detector(regions=...)",
                          fix='Use ISO 3166 alpha-2 codes such as "US", "GB", "BR".')
    chosen = tuple(dict.fromkeys(regions))

    def find(text: str) -> list[Span]:
        if sum(c.isdigit() for c in text) < 5:
            return []
        spans: list[Span] = []
        for region in chosen:
            spans += [(m.start, m.end)
                      for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency)]
        return spans

    return Detector("phone", finder=find)


DEFAULT_DETECTORS: tuple[Detector, ...] = (
    Detector("email", _EMAIL, email_valid),
    Detector("iban", finder=_iban_spans),
    Detector("card", finder=_card_spans),
    Detector("ssn", _SSN, _ssn_valid),
    phone_detector(),
)
"""email, iban, card, ssn, phone, in the order they are applied."""


@dataclass
class Redactor:
    """Replace personal data in text by typed placeholders, counting what it replaced.

    Each detector runs on the text the previous ones left, so a finding is counted once.

    Example:
        >>> r = Redactor()
        >>> r("Mail jo@example.com or call +1 415-555-0100, card 4111 1111 1111 1111")
        'Mail [EMAIL] or call [PHONE], card [CARD]'
        >>> dict(r.counts)
        {'email': 1, 'card': 1, 'phone': 1}
    """

    detectors: Iterable[Detector] = DEFAULT_DETECTORS
    counts: Counter[str] = field(default_factory=Counter)
    """Replacements so far, per detector name."""

    def __post_init__(self) -> None:
        self.detectors = tuple(self.detectors)
        names = [d.name for d in self.detectors]
        if len(set(names)) != len(names):
            raise ConfigError(f"two detectors share a name: {names}",
                              fix="Give each detector its own name (the counts are per name).")

    def __call__(self, text: str) -> str:
        """The text with every validated finding replaced by its detector's placeholder."""
        for det in self.detectors:
            spans = det.spans(text)
            if not spans:
                continue
            parts, last = [], 0
            for start, end in spans:
                parts += [text[last:start], det.placeholder]
                last = end
            text = "".join(parts) + text[last:]
            self.counts[det.name] += len(spans)
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


def redact_pii(text: str, detectors: Iterable[Detector] = DEFAULT_DETECTORS) -> str:
    """One-off redaction with the given detectors.

    Example:
        >>> redact_pii("order 1234567890123456 for ana@example.org")
        'order 1234567890123456 for [EMAIL]'
    """
    return Redactor(tuple(detectors))(text)
