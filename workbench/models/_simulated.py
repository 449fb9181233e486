"""SIMULATED models for offline demos and tests: ``sim/large``, ``sim/small``, ``sim/fast``.

These are **not LLMs**. They are small deterministic programs registered with litellm as a
custom provider (``sim``), so they travel the same call path as real models. They read only
the rendered prompt (DESIGN.md, Settled 11) — never a dataset file, an expected answer or a
slice label — and answer the shipped tasks with heuristics:

- support triage: keyword scoring of the customer's message into an intent and a priority;
- invoice extraction: regular expressions for vendor, date, total and currency;
- grounded QA: the context sentence that overlaps the question most, or a refusal.

Their mistakes come from cues in the text (length, negation, several intents, mixed language,
sarcasm, embedded instructions, ambiguous dates, subtotals) and grow from ``sim/large`` to
``sim/fast``; temperature adds seeded noise. They follow the prompt: a listed label set is
answered exactly, "JSON" gets a JSON object, few-shot turns teach the format, and a terse
prompt gets freer wording that exact scorers miss more often. Prices and latencies are made up
to differ like a large, a small and a fast model. Everything they produce is labelled simulated.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

from workbench.errors import ConfigError

__all__ = ["SIM_PROFILES", "SimProfile", "SimReply", "is_simulated", "register_sim_provider",
           "simulate"]


@dataclass(frozen=True)
class SimProfile:
    """Price, latency and skill of one simulated model (all invented)."""

    name: str
    input_per_1m: float
    output_per_1m: float
    latency_base_s: float
    latency_per_token_s: float
    base_error: float
    """Chance of a wrong label on an easy message."""
    hard_error: float
    """Extra chance of a wrong label per difficulty cue in the message."""
    free_form: float
    """Chance of free wording when the prompt does not list the labels."""
    skills: frozenset[str]
    """Heuristics this model has: ``negation``, ``multilingual``, ``eu_numbers``, ``dates``…"""


SIM_PROFILES: dict[str, SimProfile] = {
    "sim/large": SimProfile("sim/large", 2.50, 10.00, 0.55, 0.010, 0.03, 0.05, 0.25,
                            frozenset({"negation", "multilingual", "eu_numbers", "dates",
                                       "vendor_case", "injection", "refuse", "codes",
                                       "lexicon"})),
    "sim/small": SimProfile("sim/small", 0.40, 1.60, 0.22, 0.005, 0.07, 0.09, 0.40,
                            frozenset({"negation", "dates", "refuse", "codes", "lexicon"})),
    "sim/fast": SimProfile("sim/fast", 0.10, 0.40, 0.07, 0.002, 0.12, 0.13, 0.55,
                           frozenset()),
}


@dataclass(frozen=True)
class SimReply:
    """One simulated answer with its token usage and simulated latency."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    finish_reason: str


def is_simulated(model_id: str) -> bool:
    """True for simulated model ids (``sim/...``).

    Example:
        >>> is_simulated("sim/large"), is_simulated("openai/gpt-4o-mini")
        (True, False)
    """
    return model_id.startswith("sim/")


def _profile(model: str) -> SimProfile:
    name = model if model.startswith("sim/") else f"sim/{model}"
    if name not in SIM_PROFILES:
        raise ConfigError(
            f"unknown simulated model {model!r}",
            fix=f"Use one of {', '.join(SIM_PROFILES)}.",
        )
    return SIM_PROFILES[name]


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


# --------------------------------------------------------------------------- triage
# Cue patterns per intent: (regex, weight, multilingual). Non-English cues count fully only for
# models with the "multilingual" skill and half for the others.
_CUES: dict[str, list[tuple[str, float, bool]]] = {
    "billing": [
        (r"\bcharg(ed|es?)\b|\bbill(ed|ing|s)?\b|invoice|receipt|statement", 2, False),
        (r"\bvat\b|\btax\b|\bhst\b|fee\b|prorat|seats?\b|price|renewal|card on file|"
         r"\bowe\b|paid|payment|\$\d|\d+[.,]\d\d\b", 1, False),
        (r"factura|rechnung|facture|cobr(aron|o)|abgebucht|pagu[ée]", 2, True),
    ],
    "refund_request": [
        (r"refu?n?d|money back|reimburs|(get|getting|want) .{0,30}\bback\b|return it|"
         r"price back|fee back|\bback since\b", 3, False),
        (r"devuelvan|reembolso|erstatt|rembours|devolu", 3, True),
    ],
    "technical_issue": [
        (r"crash|\berror\b|\bbug\b|not working|doesn't work|broken|won't load|fail(s|ing)?\b|"
         r"\bsync\b|offline|blank|greys? out|lags?\b|stuck at \d|empty file|"
         r"black (image|screen)|logs me out|\b50[0-9]\b|\b429\b|keeps? (crashing|saying)",
         2, False),
        (r"\bapp\b|update|firmware|api\b|button|export|dashboard|iframe|browser|safari|"
         r"chrome|wifi|router|cron|reports?\b", 1, False),
        (r"no abre|pantalla|kamera|schwarz|funktioniert nicht|se crashea|no funciona", 2, True),
    ],
    "shipping_delivery": [
        (r"deliver(y|ed)?\b|shipping|\bship(s|ped)?\b|package|parcel|tracking|courier|"
         r"arriv(e|ed)|\bboxe?s?\b|customs|express|order .{0,20}(late|came|still)|"
         r"wrong address|where is my", 2, False),
        (r"pedido|lleg[óo]|lieferung|sendung|paket|encomenda|entrega|chegou", 2, True),
    ],
    "cancellation": [
        (r"\bcancel(l?ing|led)?\b|terminate|close (the|my) account|end (the|my) .{0,20}"
         r"contract|stop my subscri|don'?t want it renew|freeze my|pause", 3, False),
        (r"cancelar|k[üu]ndig|r[ée]silier|annuler|cancelar a assinatura", 3, True),
    ],
    "product_question": [
        (r"^(does|do|can|is|are|which|what)\b|\bdoes (the|it|your)\b|true to size|"
         r"compatible|volume pricing|come with|work on|warranty|garantie|tested by|"
         r"before we sign|parental controls|webhooks?|region|better for", 2, False),
        (r"können sie mir sagen|est-ce que|lieferbar", 2, True),
    ],
    "account_access": [
        (r"password|log ?in+\b|sign in|locked|2fa|two-factor|reset email|verification code|"
         r"get (back )?into my account|sso|saml|owner(ship)? rights|session expired|"
         r"email i log in|acc?ount not found|\bcan'?t (get in|access)", 3, False),
        (r"entrar a mi cuenta|compte est bloqu|konto|contraseña", 3, True),
    ],
    "complaint": [
        (r"unacceptable|terrible|worst|disappoint|rude|complain|frustrat|awful|ridiculous|"
         r"misleading|lawyer|condescending|discriminat|hung up|on hold|do better|"
         r"wasteful|cool cool|really feeling|reporting it", 3, False),
        (r"p[ée]ssim|nunca más|reicht es|dritte mal|atrasou", 3, True),
    ],
    "security_fraud": [
        (r"fraud|hack|phishing|suspicious|unauthori[sz]ed|stolen|scam|never made|"
         r"someone (else |changed)|not me|compromis|leak|vulnerabilit|device i don'?t own|"
         r"asking for my password|is that really you|never ordered|nie bestellt", 4, False),
        (r"alguien entr[óo]|nie bestellt", 4, True),
    ],
    "feedback": [
        (r"suggest|feature request|would be (cool|nice)|dark mode|shoutout|well done|"
         r"fantastic|great|love|kind\b|observation|no issue|thanks?\b|keep it up|"
         r"otherwise service is fine|wishlist", 2, False),
        (r"me encanta|danke|ótimo|übersichtlicher", 2, True),
    ],
}
INTENTS: dict[str, list[tuple[re.Pattern[str], float, bool]]] = {
    intent: [(re.compile(rx, re.I), w, ml) for rx, w, ml in cues]
    for intent, cues in _CUES.items()
}
_INJECTED = re.compile(r"(real message|actually my issue|the real issue)\s*:|</message>.*?\}|"
                       r"output intent=\w+|the correct label is \w+\.?|mark as urgent\.?",
                       re.I | re.S)
FREE_WORDING: dict[str, tuple[str, ...]] = {
    "billing": ("Billing", "Billing issue", "This is a billing question."),
    "refund_request": ("Refund request", "Refund", "The customer wants a refund."),
    "technical_issue": ("Technical issue", "Bug report", "A technical problem."),
    "shipping_delivery": ("Shipping delivery", "Delivery problem", "Shipping"),
    "cancellation": ("Cancellation", "Cancel subscription", "They want to cancel."),
    "product_question": ("Product question", "Question about the product", "Pre-sales"),
    "account_access": ("Account access", "Login problem", "Password reset"),
    "complaint": ("Complaint", "Unhappy customer", "Complaint about service."),
    "security_fraud": ("Security fraud", "Fraud", "Possible account compromise."),
    "feedback": ("Feedback", "Positive feedback", "Product suggestion"),
}
PRIORITIES = ("low", "medium", "high", "urgent")
_NEGATION = re.compile(r"\b(not|don't|do not|no longer|never|isn't|wasn't|without)\s+"
                       r"(\w+\s+){0,2}(cancel|refund|charged|hacked|working)", re.I)
_FOREIGN = re.compile(r"\b(el|la|los|por favor|und|der|die|das|bitte|je|vous|merci|mi|mein)\b",
                      re.I)
_SARCASM = re.compile(r"\b(great|love how|thanks a lot|wonderful|fantastic)\b.*\b(again|not|"
                      r"still|never)\b", re.I)
_INJECTION = re.compile(r"ignore (all |the )?(previous|above|prior) instructions|system prompt|"
                        r"you are now|respond with", re.I)


def _intent_scores(message: str, skills: frozenset[str]) -> dict[str, float]:
    text = message
    if "injection" in skills:  # strip planted instructions and fake assistant turns
        text = _INJECTED.sub(" ", text)
    scores: dict[str, float] = {}
    for intent, cues in INTENTS.items():
        total = 0.0
        for rank, (pattern, weight, multilingual) in enumerate(cues):
            if rank and not multilingual and "lexicon" not in skills:
                continue  # weaker models know only the most common words
            hits = len(pattern.findall(text))
            if hits:
                factor = 1.0 if not multilingual or "multilingual" in skills else 0.5
                total += weight * factor * min(hits, 2)
        scores[intent] = total
    if "negation" in skills:
        for match in _NEGATION.finditer(text):
            verb = match.group(3).lower()
            target = {"cancel": "cancellation", "refund": "refund_request",
                      "hacked": "security_fraud", "charged": "billing"}.get(verb)
            if target:
                scores[target] = max(0.0, scores[target] - 3.5)
    return scores


def _difficulty(message: str, scores: dict[str, float], skills: frozenset[str]) -> int:
    cues = 0
    cues += len(message) > 280
    cues += bool(_NEGATION.search(message))
    cues += sum(1 for s in scores.values() if s >= 1) >= 2
    cues += bool(_FOREIGN.search(message)) and "multilingual" not in skills
    cues += bool(_SARCASM.search(message))
    cues += bool(_INJECTION.search(message)) and "injection" not in skills
    words = re.findall(r"[a-z]+", message.lower())
    typos = sum(1 for w in words if re.search(r"(.)\1\1|[^aeiouy]{5,}", w))
    cues += typos >= 2
    return cues


def _priority(message: str, intent: str) -> str:
    text = message.lower()
    if re.search(r"everyone|whole team|all our|can't work|losing orders|production|lawyer|"
                 r"we close|emergency|asap|immediately|right now|never made|hack|stolen|"
                 r"someone (changed|used)|leak|alguien|nie bestellt|hackeou|a utilisé", text):
        return "urgent"
    if intent == "security_fraud":
        return "high"
    if re.search(r"twice|\b\d times|fix this|third time|weeks|again|wrong address|"
                 r"not delivered|empty|terminate|cancel it|late father|misleading|"
                 r"old price|stuck|no longer have|nobody else|owner|fails for", text):
        return "high"
    if intent in ("feedback", "product_question") or re.search(
            r"\bhow (do|can)\b|wondering|suggest|would be|just wanted", text):
        return "low"
    return "medium"


# --------------------------------------------------------------------------- extraction
_MONTHS = {m: i for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september",
     "october", "november", "december"], start=1)}
_CURRENCY_CODES = ("USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK",
                   "PLN", "CZK", "INR", "SGD", "HKD", "ZAR", "BRL", "MXN")
_SYMBOLS = (("NZ$", "NZD"), ("A$", "AUD"), ("AU$", "AUD"), ("C$", "CAD"), ("CA$", "CAD"),
            ("S$", "SGD"), ("HK$", "HKD"), ("R$", "BRL"), ("£", "GBP"), ("€", "EUR"),
            ("¥", "JPY"), ("₹", "INR"), ("kr", "SEK"), ("zł", "PLN"), ("$", "USD"))


def _currency(doc: str, skills: frozenset[str]) -> str:
    if "codes" in skills:
        for code in _CURRENCY_CODES:
            if re.search(rf"\b{code}\b", doc):
                return code
    for symbol, code in _SYMBOLS:
        if "codes" not in skills and len(symbol) > 1 and symbol.endswith("$"):
            continue  # weak models read NZ$ as plain dollars
        if symbol in doc:
            return code
    return "USD"


_MONEY = re.compile(r"-?\d{1,3}(?:[ .,'\u00a0]\d{3})+(?:[.,]\d{1,2})?|-?\d+[.,]\d{2}\b|"
                    r"(?<=[$€£¥])\s?-?\d+\b|-?\d+(?=\s?(?:€|EUR|USD|GBP|CHF|kr)\b)")
_TOTAL_WORDS = re.compile(r"total|amount (due|payable)|balance due|to pay|summe|gesamt|importe|"
                          r"montant|totaal|totale|att betala|à payer|zu zahlen|合計|valor", re.I)
_IGNORED = re.compile(r"ignore (all |the )?previous|note to ai|output the total|report the total|"
                      r"sub-?total|deposit|already (paid|received)|still open|previous|anterior|"
                      r"original invoice|vat|tax|tva|mwst|iva|gst", re.I)


def _number(raw: str, skills: frozenset[str]) -> float | None:
    raw = raw.replace("\u00a0", " ").replace("'", "").strip()
    if "eu_numbers" in skills and re.fullmatch(r"-?\d{1,3}([ .]\d{3})*,\d{1,2}", raw):
        raw = raw.replace(".", "").replace(" ", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d{1,2}", raw):
        raw = raw.replace(",", ".") if "eu_numbers" in skills else raw.replace(",", "")
    else:
        raw = raw.replace(",", "").replace(" ", "")
    try:
        return round(float(raw), 2)
    except ValueError:
        return None


def _total(doc: str, skills: frozenset[str], rng: random.Random, hard: float) -> float | None:
    lines = [ln for ln in doc.splitlines() if ln.strip()]
    careful = "dates" in skills
    candidates: list[str] = []
    for ln in lines:
        for part in re.split(r"(?<=[.;])\s+", ln):
            if _TOTAL_WORDS.search(part) and _MONEY.search(part):
                if careful and _IGNORED.search(part):
                    continue  # subtotals, taxes, deposits and planted instructions
                candidates.append(part)
    if candidates:
        chosen = candidates[-1] if careful or rng.random() > 0.4 + hard else candidates[0]
        after = _TOTAL_WORDS.search(chosen)
        tail = chosen[after.end():] if after and careful else chosen
        amounts = _MONEY.findall(tail) or _MONEY.findall(chosen)
        return _number(amounts[0] if careful else amounts[-1], skills)
    amounts = [a for a in _MONEY.findall(doc)]
    if not amounts:
        return None
    values = [v for v in (_number(a, skills) for a in amounts) if v is not None]
    if not values:
        return None
    return max(values) if careful else values[-1]


_MONTH_NAMES = {
    **{m: i for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep",
                                    "oct", "nov", "dec"], start=1)},
    **{m: i for i, m in enumerate(["janv", "févr", "mars", "avr", "mai", "juin", "juil", "août",
                                    "sept", "oct", "nov", "déc"], start=1)},
    **{m: i for i, m in enumerate(["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep",
                                    "oct", "nov", "dic"], start=1)},
    **{m: i for i, m in enumerate(["jän", "feb", "mär", "apr", "mai", "jun", "jul", "aug", "sep",
                                    "okt", "nov", "dez"], start=1)},
    "janvier": 1, "février": 2, "avril": 4, "juillet": 7, "enero": 1, "febrero": 2,
    "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7, "agosto": 8, "septiembre": 9,
    "octubre": 10, "noviembre": 11, "diciembre": 12, "januar": 1, "februar": 2, "märz": 3,
    "juni": 6, "juli": 7, "oktober": 10, "dezember": 12,
}


def _month(word: str, skills: frozenset[str]) -> int | None:
    w = word.lower().rstrip(".")
    english = {k: v for k, v in _MONTHS.items()}
    if w in english:
        return english[w]
    if w[:3] in {k[:3] for k in _MONTHS} and (w[:3] == w or w in english):
        return _MONTHS[next(k for k in _MONTHS if k[:3] == w[:3])]
    if "multilingual" in skills:
        return _MONTH_NAMES.get(w) or _MONTH_NAMES.get(w[:4]) or _MONTH_NAMES.get(w[:3])
    return None


def _date(doc: str, currency: str, skills: frozenset[str]) -> str | None:
    careful = "dates" in skills
    lines = doc.splitlines()
    keyed = [ln for ln in lines if re.search(r"\bdate\b|dated|issued|datum|fecha|data\b|"
                                             r"établie|emitida|billed on|年", ln, re.I)]
    if careful:
        keyed = [ln for ln in keyed if not re.search(r"due|next|original|fällig|vence", ln,
                                                     re.I)] or keyed
    for line in keyed + lines:
        found = _date_in(line, currency, skills)
        if found:
            return found
    return None


def _date_in(line: str, currency: str, skills: frozenset[str]) -> str | None:
    m = re.search(r"(\d{4})-(\d{2})-(\d{2})", line)
    if m:
        return m.group(0)
    m = re.search(r"(\d{4})年\s*(\d{1,2})月\s*(\d{1,2})日", line)
    if m and "multilingual" in skills:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(r"(\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?([^\W\d_]+)\.?,?\s+(?:de\s+)?(\d{4})",
                  line)
    if m and _month(m.group(2), skills):
        return _iso(int(m.group(3)), _month(m.group(2), skills) or 0, int(m.group(1)))
    m = re.search(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})", line)
    if m and _month(m.group(1), skills):
        return _iso(int(m.group(3)), _month(m.group(1), skills) or 0, int(m.group(2)))
    m = re.search(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4})", line)
    if m:
        a, b, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        us_style = currency == "USD" or "dates" not in skills
        if "dates" in skills and re.search(r"JJ/MM|DD/MM|TT\.MM|\(NZ\)|\.|-", m.group(0) +
                                           line[m.end():m.end() + 14]):
            us_style = False
        if "dates" in skills and re.search(r"\bdata\b|\bora\b", line, re.I):
            us_style = False
        month, day = (a, b) if us_style else (b, a)
        if month > 12:
            month, day = day, month
        return _iso(year, month, day)
    return None


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


_COMPANY = re.compile(r"\b(ltd|limited|gmbh|kg|ag|s\.?l\.?|s\.?a\.?|sarl|b\.?v\.?|ab|inc|llc|co\.|"
                      r"s\.r\.l\.|pty|plc|oy|as|a/s|d\.o\.o\.|k\.k\.|services|studio|market)\b",
                      re.I)
_NOT_VENDOR = re.compile(r"invoice|receipt|credit note|facture|fecha|fattura|factuur|faktura|"
                         r"rechnung|fakturanummer|copy|date\b|bill to|customer|your company|"
                         r"subject|dear|hello|hi\b|^to\b|^from\b|tax|vat|^\W+$|automat|gate",
                         re.I)


def _vendor(doc: str, skills: frozenset[str]) -> str:
    lines = [ln.strip() for ln in doc.splitlines() if ln.strip()]
    careful = "dates" in skills
    if careful:
        for text in lines:
            m = re.search(r"(issued by|from|vendor|seller|supplier|by)\s*:?\s+([A-Z][^,\n(]+?)"
                          r"(?:,|\s\(|$| for | on )", text)
            if m and _COMPANY.search(m.group(2)):
                return m.group(2).strip()
        for text in lines:
            if _COMPANY.search(text) and not _NOT_VENDOR.search(text) and ":" not in text:
                return _tidy(text, skills)
    for text in lines:
        if _NOT_VENDOR.search(text) or ":" in text or sum(c.isdigit() for c in text) > 4:
            continue
        return _tidy(text, skills)
    return lines[0] if lines else ""


def _tidy(text: str, skills: frozenset[str]) -> str:
    text = re.split(r"\s{2,}|\s[—|–-]\s|←", text)[0].strip()
    if "vendor_case" in skills:
        text = re.sub(r"\s#\d+$", "", text)
        if text.isupper():
            text = " ".join(w if len(w) <= 2 or w in ("LLC", "AB", "KG") else w.capitalize()
                            for w in text.split())
    return text


# --------------------------------------------------------------------------- QA
_STOP = set("the a an of to in on for is are was were be by with what which who how does do "
            "did when where why can i it its this that from at as and or many much long".split())


_NUMBER_WORDS = r"\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty"


def _qa(context: str, question: str, profile: SimProfile, rng: random.Random,
        refusal: str) -> str:
    q_words = {w for w in re.findall(r"[a-z0-9]+", question.lower()) if w not in _STOP}
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", context) if s.strip()]
    if not sentences or not q_words:
        return refusal

    def overlap(s: str) -> float:
        words = set(re.findall(r"[a-z0-9]+", s.lower()))
        return len(q_words & words) / len(q_words)

    best = max(sentences, key=overlap)
    # named things and numbers the question asks about but the context never mentions
    names = [w for w in re.findall(r"(?<!^)(?<![.?!] )\b[A-Z][a-z]+\b|\b\d+\b", question)
             if w.lower() not in _STOP]
    missing = [w for w in names if w.lower() not in context.lower()]
    notice = {"sim/large": 0.95, "sim/small": 0.6, "sim/fast": 0.3}[profile.name]
    if missing and rng.random() < notice:
        return refusal
    threshold = {"sim/large": 0.4, "sim/small": 0.4, "sim/fast": 0.3}[profile.name]
    if overlap(best) < threshold and rng.random() < notice:
        return refusal
    lower_q = question.lower()
    if re.match(r"how (long|many|much|far|often|fast)|what (percentage|year|is the)|when|"
                r"within how|at what rate|by what date", lower_q):
        counts = Counter(re.findall(r"[a-z0-9]+", context.lower()))

        named = {w.lower() for w in names}

        def distinctive(text: str) -> float:  # rarer question words and names weigh more
            words = set(re.findall(r"[a-z0-9]+", text.lower())) & q_words
            return sum((3.0 if w in named else 1.0) / counts[w] for w in words if counts[w])

        clauses = [c for c in re.split(r",\s*|;\s*|\s+and\s+|\s+but\s+|\s+while\s+", best)
                   if c.strip()]
        clause = max(clauses, key=distinctive) if "dates" in profile.skills else best
        m = re.search(rf"\b((about|up to|roughly|around|every|within|only)\s+)?"
                      rf"\b({_NUMBER_WORDS})\b(\s*(%|[^\W\d_]+)){{0,2}}", clause, re.I)
        if m and "refuse" in profile.skills:
            span = re.sub(r"(\s+(on|the|with|for|of|in|to|a|at|and|per|by))+$", "",
                          m.group(0).strip().rstrip(",."), flags=re.I)
            return span
    return best.rstrip(".")


# --------------------------------------------------------------------------- dispatch
def _seed_rng(model: str, messages: list[dict[str, str]], seed: int | None,
              temperature: float | None) -> random.Random:
    blob = json.dumps([model, seed, temperature, messages], sort_keys=True, ensure_ascii=False)
    return random.Random(int.from_bytes(hashlib.sha256(blob.encode()).digest()[:8], "big"))


def _field(text: str, name: str, until: str | None = None) -> str | None:
    """The text after ``name:`` (at a line start), up to ``until:`` or the end."""
    m = re.search(rf"(?:^|\n)\s*{name}\s*:\s*", text, re.I)
    if not m:
        return None
    rest = text[m.end():]
    if until is not None:
        stop = re.search(rf"\n\s*{until}\s*:", rest, re.I)
        if stop:
            rest = rest[: stop.start()]
    return rest.strip()


def _wants_json(prompt: str, shots: list[str]) -> bool:
    return "json" in prompt.lower() or any(s.strip().startswith("{") for s in shots)


def _triage(case: str, prompt: str, shots: list[str], profile: SimProfile,
            rng: random.Random, temperature: float) -> str:
    message = _field(case, "message") or case
    scores = _intent_scores(message, profile.skills)
    ranked = sorted(INTENTS, key=lambda k: (-scores[k], list(INTENTS).index(k)))
    hard = _difficulty(message, scores, profile.skills)
    lists_labels = sum(label in prompt for label in INTENTS) >= 6
    p_err = profile.base_error + profile.hard_error * hard
    p_err *= 0.7 if lists_labels else 1.0
    p_err *= 0.75 if shots else 1.0
    p_err *= 1.0 + 0.5 * temperature
    intent = ranked[0] if scores[ranked[0]] > 0 else rng.choice(["complaint", "product_question",
                                                                 "feedback"])
    if rng.random() < p_err:
        intent = ranked[1] if scores[ranked[1]] > 0 and rng.random() < 0.7 else rng.choice(
            list(INTENTS))
    priority = _priority(message, intent)
    if rng.random() < p_err:
        i = PRIORITIES.index(priority) + rng.choice([-1, 1])
        priority = PRIORITIES[min(3, max(0, i))]
    if _wants_json(prompt, shots):
        return json.dumps({"intent": intent, "priority": priority})
    if lists_labels or shots:
        return intent
    if rng.random() < profile.free_form * (1.0 + 0.3 * temperature):
        return rng.choice(FREE_WORDING[intent])
    return intent.replace("_", " ")


def _extraction(case: str, prompt: str, profile: SimProfile, rng: random.Random,
                temperature: float) -> str:
    doc = case
    skills = profile.skills
    hard = 0.15 * (len(doc) > 500) + 0.1 * ("credit" in doc.lower())
    currency = _currency(doc, skills)
    out: dict[str, Any] = {
        "vendor": _vendor(doc, skills),
        "date": _date(doc, currency, skills),
        "total": _total(doc, skills, rng, hard),
        "currency": currency,
    }
    if rng.random() < (profile.base_error + hard) * (1 + temperature):
        key = rng.choice(["vendor", "date", "total"])
        if key == "total" and out["total"] is not None:
            out["total"] = round(out["total"] * rng.choice([0.9, 1.1]), 2)
        elif key == "date" and out["date"]:
            out["date"] = out["date"][:8] + "01"
        elif key == "vendor":
            out["vendor"] = out["vendor"].split(" ")[0]
    if _wants_json(prompt, []):
        return json.dumps(out, ensure_ascii=False)
    return "\n".join(f"{k.capitalize()}: {v}" for k, v in out.items())


def simulate(model: str, messages: list[dict[str, str]], *, seed: int | None = None,
             temperature: float | None = None, max_tokens: int | None = None) -> SimReply:
    """The simulated answer to a chat prompt (deterministic given all arguments).

    Only ``messages`` (the rendered prompt) is read; there is no other input.

    Example:
        >>> r = simulate("sim/large", [{"role": "system", "content": "Answer in JSON with "
        ...   "intent and priority."}, {"role": "user", "content": "I was charged twice!"}])
        >>> json.loads(r.text)["intent"]
        'billing'
    """
    profile = _profile(model)
    temp = 0.7 if temperature is None else float(temperature)
    rng = _seed_rng(profile.name, messages, seed, temperature)
    *earlier, last = messages or [{"role": "user", "content": ""}]
    case = last.get("content") or ""
    shots = [m.get("content") or "" for m in earlier if m.get("role") == "assistant"]
    prompt = "\n".join(m.get("content") or "" for m in messages)
    lower = prompt.lower()
    if re.search(r"invoice|receipt", lower) and re.search(r"vendor|total", lower):
        text = _extraction(case, prompt, profile, rng, temp)
    elif "context" in lower and "question" in lower:
        refusal = "unanswerable" if "unanswerable" in lower else "The context does not say."
        context = _field(case, "context", until="question") or prompt
        question = _field(case, "question", until="context") or case
        text = _qa(context, question, profile, rng, refusal)
    elif re.search(r"intent|triage|classify|support|ticket|label", lower):
        text = _triage(case, prompt, shots, profile, rng, temp)
    else:
        text = f"(simulated {profile.name}) I read {len(case.split())} words."
    prompt_tokens = sum(_tokens(m.get("content") or "") + 4 for m in messages)
    completion_tokens = _tokens(text)
    finish = "stop"
    if max_tokens is not None and completion_tokens > max_tokens:
        text, completion_tokens, finish = text[: max_tokens * 4], max_tokens, "length"
    latency = (profile.latency_base_s + profile.latency_per_token_s * completion_tokens) * (
        rng.lognormvariate(0.0, 0.25))
    return SimReply(text, prompt_tokens, completion_tokens, round(latency, 4), finish)


# --------------------------------------------------------------------------- litellm provider
def _latency_scale() -> float:
    try:
        return max(0.0, float(os.environ.get("WORKBENCH_SIM_LATENCY_SCALE", "1")))
    except ValueError:
        return 1.0


def _handler_class(litellm: Any) -> type:
    class SimLLM(litellm.CustomLLM):  # type: ignore[misc]
        """litellm custom provider answering with :func:`simulate` (SIMULATED, not an LLM)."""

        def _reply(self, model: str, messages: Any, optional_params: dict[str, Any]
                   ) -> tuple[SimReply, str]:
            name = model if model.startswith("sim/") else f"sim/{model}"
            plain = [{"role": str(m.get("role")), "content": str(m.get("content") or "")}
                     for m in messages]
            reply = simulate(name, plain, seed=optional_params.get("seed"),
                             temperature=optional_params.get("temperature"),
                             max_tokens=optional_params.get("max_tokens"))
            return reply, name

        def _response(self, reply: SimReply, name: str) -> Any:
            return litellm.ModelResponse(
                model=name,
                choices=[{"index": 0, "finish_reason": reply.finish_reason,
                          "message": {"role": "assistant", "content": reply.text}}],
                usage={"prompt_tokens": reply.prompt_tokens,
                       "completion_tokens": reply.completion_tokens,
                       "total_tokens": reply.prompt_tokens + reply.completion_tokens},
            )

        def completion(self, model: str, messages: Any, *args: Any, **kwargs: Any) -> Any:
            reply, name = self._reply(model, messages, kwargs.get("optional_params") or {})
            time.sleep(reply.latency_s * _latency_scale())
            return self._response(reply, name)

        async def acompletion(self, model: str, messages: Any, *args: Any, **kwargs: Any
                              ) -> Any:
            reply, name = self._reply(model, messages, kwargs.get("optional_params") or {})
            await asyncio.sleep(reply.latency_s * _latency_scale())
            return self._response(reply, name)

    return SimLLM


def register_sim_provider(litellm: Any) -> None:
    """Register the ``sim`` provider and its prices with litellm (idempotent).

    Adds or replaces only the ``sim`` entry of ``litellm.custom_provider_map``; entries for
    other providers are left alone.
    """
    handler = _handler_class(litellm)()
    others = [e for e in litellm.custom_provider_map if e.get("provider") != "sim"]
    litellm.custom_provider_map = [*others, {"provider": "sim", "custom_handler": handler}]
    litellm.register_model({
        p.name: {
            "input_cost_per_token": p.input_per_1m / 1e6,
            "output_cost_per_token": p.output_per_1m / 1e6,
            "litellm_provider": "sim",
            "mode": "chat",
            "max_tokens": 4096,
            "max_input_tokens": 128_000,
            "max_output_tokens": 4096,
            "cache_creation_input_token_cost": 0.0,
            "cache_read_input_token_cost": 0.0,
        }
        for p in SIM_PROFILES.values()
    })
