"""SIMULATED models for offline demos and tests: ``sim/large``, ``sim/small``, ``sim/fast``.

These are **not real LLMs** and nothing here calls one. They are small deterministic programs
(keyword scoring, regular expressions, sentence overlap) that litellm routes to as a custom
provider named ``sim``, so they travel exactly the same call path, cache, budget and pricing
code as ``openai/...`` or ``anthropic/...`` models. Their prices and latencies are invented to
differ the way a large, a small and a fast model differ; every answer they give is simulated.

What they read (DESIGN.md, Settled 11): only the rendered prompt, i.e. the chat messages
(system text, few-shot user/assistant turns and the last user message). They never open a
dataset file and never see ``expected`` or a slice column, so their mistakes come from what is
in the text: length, typos, negation ("I do NOT want to cancel"), mixed languages, several
intents, sarcasm, injected instructions, ambiguous dates, subtotals next to totals, and from
the model's profile (``sim/fast`` makes the most). Temperature adds seeded noise; the same
model, messages, seed and temperature always give the same answer.

They follow the prompt the way real models roughly do, so prompt variants change scores in
explainable ways:

- a prompt that lists the allowed labels is answered with exactly one of them;
- a prompt that asks for JSON (or few-shot answers that are JSON) gets a JSON object;
- few-shot turns teach the label vocabulary and format and reduce mistakes;
- a terse prompt without the label list gets freer wording more often ("Billing issue"),
  which an exact label scorer counts as wrong;
- ``max_tokens`` below the answer's length truncates it with ``finish_reason="length"``.

Tasks are recognised from the prompt: support-ticket triage (intent and priority), invoice
field extraction (vendor, date, total, currency as JSON), grounded question answering (a
short span from the context, or a refusal); anything else gets a short generic reply.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any, TypeVar

from workbench.errors import ConfigError

__all__ = [
    "SIM_PROFILES",
    "SimProfile",
    "SimReply",
    "is_simulated",
    "register_sim_provider",
    "simulate",
]

PROVIDER = "sim"
_T = TypeVar("_T")
LATENCY_SCALE_ENV = "WORKBENCH_SIM_LATENCY_SCALE"


# ====================================================================== profiles
@dataclass(frozen=True)
class SimProfile:
    """Invented price, latency and skill of one simulated model (not a real LLM).

    Probabilities are per call and drawn from the seeded generator, so a weaker profile makes
    more of the mistakes a hard text invites, not random mistakes everywhere.
    """

    name: str
    """The litellm model id, e.g. ``"sim/large"``."""
    input_per_1m: float
    """Made-up price in US dollars per million prompt tokens."""
    output_per_1m: float
    """Made-up price in US dollars per million completion tokens."""
    latency_base_s: float
    """Seconds before the first token (time to first token, roughly)."""
    latency_per_token_s: float
    """Seconds per completion token."""
    latency_jitter: float
    """Sigma of the log-normal factor applied to the latency (seeded)."""
    base_error: float
    """Chance of a slip on an easy case."""
    cue_error: float
    """Extra chance of a slip per difficulty cue in the text (typos, negation, ...)."""
    free_form: float
    """Chance of free wording when the prompt neither lists labels nor shows examples."""
    format_error: float
    """Chance of wrapping a requested JSON object in a Markdown code fence."""
    negation: float
    """Chance of reading a negation ("not cancelling") correctly."""
    multilingual: float
    """Chance of understanding a non-English cue word."""
    rare_words: float
    """Chance of knowing a less common cue word or phrase."""
    injection_resistance: float
    """Chance of ignoring instructions planted in the data."""
    numbers: float
    """Chance of reading amounts, dates and currencies with their locale right, repairing
    scan damage, and cutting a QA answer down to the exact span."""
    careful_total: float
    """Chance of reading a document carefully: the grand total rather than the first amount
    labelled total, the issue date rather than the first date, the seller rather than the
    first line."""
    hallucination: float
    """Chance of answering from a near-miss sentence when the context lacks the answer."""

    @property
    def input_cost_per_token(self) -> float:
        """Dollars per prompt token (litellm's unit)."""
        return self.input_per_1m / 1e6

    @property
    def output_cost_per_token(self) -> float:
        """Dollars per completion token (litellm's unit)."""
        return self.output_per_1m / 1e6


SIM_PROFILES: dict[str, SimProfile] = {
    p.name: p
    for p in (
        SimProfile(
            "sim/large",
            2.50,
            10.00,
            latency_base_s=0.60,
            latency_per_token_s=0.008,
            latency_jitter=0.15,
            base_error=0.04,
            cue_error=0.055,
            free_form=0.30,
            format_error=0.0,
            negation=0.95,
            multilingual=0.97,
            rare_words=0.97,
            injection_resistance=0.92,
            numbers=0.93,
            careful_total=0.93,
            hallucination=0.12,
        ),
        SimProfile(
            "sim/small",
            0.40,
            1.60,
            latency_base_s=0.25,
            latency_per_token_s=0.004,
            latency_jitter=0.20,
            base_error=0.055,
            cue_error=0.08,
            free_form=0.27,
            format_error=0.03,
            negation=0.65,
            multilingual=0.75,
            rare_words=0.72,
            injection_resistance=0.55,
            numbers=0.72,
            careful_total=0.70,
            hallucination=0.35,
        ),
        SimProfile(
            "sim/fast",
            0.10,
            0.40,
            latency_base_s=0.09,
            latency_per_token_s=0.002,
            latency_jitter=0.25,
            base_error=0.07,
            cue_error=0.11,
            free_form=0.22,
            format_error=0.08,
            negation=0.30,
            multilingual=0.50,
            rare_words=0.45,
            injection_resistance=0.20,
            numbers=0.45,
            careful_total=0.40,
            hallucination=0.60,
        ),
        # the simulated LLM judge: lenient (it over-scores now and then, as real judges do),
        # prone to prefer the first of two close answers, and resistant to injected text
        SimProfile(
            "sim/judge",
            0.50,
            2.00,
            latency_base_s=0.30,
            latency_per_token_s=0.004,
            latency_jitter=0.15,
            base_error=0.05,
            cue_error=0.08,
            free_form=0.20,
            format_error=0.0,
            negation=0.80,
            multilingual=0.85,
            rare_words=0.85,
            injection_resistance=0.95,
            numbers=0.85,
            careful_total=0.80,
            hallucination=0.25,
        ),
    )
}


@dataclass(frozen=True)
class SimReply:
    """One simulated answer: its text, token usage and simulated latency."""

    text: str
    """The answer (truncated when ``max_tokens`` was reached)."""
    prompt_tokens: int
    """Estimated prompt tokens (about four characters per token plus per-message overhead)."""
    completion_tokens: int
    """Estimated completion tokens."""
    latency_s: float
    """Simulated seconds the call takes (before ``WORKBENCH_SIM_LATENCY_SCALE``)."""
    finish_reason: str
    """``"stop"``, or ``"length"`` when ``max_tokens`` cut the answer short."""


def is_simulated(model_id: str) -> bool:
    """True for the offline simulated model ids (``sim/...``), which are not real LLMs.

    Example:
        >>> is_simulated("sim/large"), is_simulated("openai/gpt-4o-mini")
        (True, False)
    """
    return model_id.startswith(f"{PROVIDER}/")


def _profile(model: str) -> SimProfile:
    profile = SIM_PROFILES.get(model)
    if profile is None:
        raise ConfigError(
            f"unknown simulated model {model!r}",
            where=f"model {model!r}",
            fix=f"Use one of {', '.join(SIM_PROFILES)} (offline stand-ins, not real LLMs), "
            "or a real litellm model string such as 'openai/gpt-4o-mini'.",
        )
    return profile


# ====================================================================== seeded dice
def _digest(*parts: Any) -> int:
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.blake2b(blob.encode("utf-8"), digest_size=8).digest(), "big")


class _Dice:
    """Seeded draws for one call.

    Most draws come from a stream fixed by (model, messages), i.e. what the model "would" do
    greedily; temperature re-draws a share of them from a stream that also depends on seed and
    temperature, and makes slips more likely.
    """

    def __init__(
        self, model: str, messages: Any, seed: int | None, temperature: float | None
    ) -> None:
        self.temperature = 1.0 if temperature is None else max(0.0, float(temperature))
        self._fixed = random.Random(_digest("fixed", model, messages))
        self._noise = random.Random(_digest("noise", model, messages, seed, temperature))
        self._mix = min(1.0, 0.3 * self.temperature)
        self.latency = random.Random(_digest("latency", model, messages, seed, temperature))

    def random(self) -> float:
        fixed, noise, pick = self._fixed.random(), self._noise.random(), self._noise.random()
        return noise if pick < self._mix else fixed

    def chance(self, p: float) -> bool:
        return self.random() < p

    def slip(self, p: float) -> bool:
        """A mistake with probability ``p``, raised by temperature (1.0 → ×1.3)."""
        return self.random() < min(0.95, p * (1.0 + 0.3 * self.temperature))

    def choice(self, options: Sequence[_T]) -> _T:
        return options[min(len(options) - 1, int(self.random() * len(options)))]


# ====================================================================== prompt parsing
@dataclass(frozen=True)
class _Prompt:
    system: str
    shots: tuple[tuple[str, str], ...]
    user: str

    @property
    def instructions(self) -> str:
        """System text and the last user message, lower-cased (where instructions live)."""
        return f"{self.system}\n{self.user}".lower()

    @property
    def answers(self) -> list[str]:
        return [a.strip() for _, a in self.shots]


def _parse(messages: Sequence[Mapping[str, Any]]) -> _Prompt:
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for message in messages:
        role = str(message.get("role") or "user")
        content = message.get("content")
        text = content if isinstance(content, str) else _flatten(content)
        if role in ("system", "developer"):
            system.append(text)
        else:
            turns.append(("assistant" if role == "assistant" else "user", text))
    last = max((i for i, (role, _) in enumerate(turns) if role == "user"), default=-1)
    user = turns[last][1] if last >= 0 else ""
    shots: list[tuple[str, str]] = []
    pending: str | None = None
    for role, text in turns[: max(last, 0)]:
        if role == "user":
            pending = text
        elif pending is not None:
            shots.append((pending, text))
            pending = None
    return _Prompt("\n".join(system), tuple(shots), user)


def _flatten(content: Any) -> str:
    """Text parts of a multi-part message (images and audio are ignored)."""
    if isinstance(content, list):
        return "\n".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
    return "" if content is None else str(content)


# a trailing instruction line after the data, e.g. "Answer with the intent label."
_FIELD_STOP = re.compile(
    r"^\s*(?:answer|respond|reply|output|return|classify|choose)\s+(?:with|only|in|as|using|"
    r"exactly|the|one)\b[^\n]*$",
    re.I | re.M,
)


def _field(text: str, names: str, until: str | None = None) -> str | None:
    """The value after ``Name:`` at a line start, up to the ``until`` field or the end."""
    match = re.search(rf"(?:^|\n)[ \t]*(?:{names})[ \t]*:[ \t]*", text, re.I)
    if match is None:
        return None
    rest = text[match.end() :]
    if until:
        stop = re.search(rf"\n[ \t]*(?:{until})[ \t]*:", rest, re.I)
        if stop:
            rest = rest[: stop.start()]
    return rest.strip()


_VERB = re.compile(
    r"classif|triage|label|categori|route|ticket|message|extract|invoice|"
    r"receipt|document|read|answer|summari|translate",
    re.I,
)


def _payload(user: str, names: str) -> str:
    """The data inside a user turn.

    What follows an instruction line ("Classify this: ..."), else a named field
    ("Message: ..."), else the whole turn.
    """
    first, _, rest = user.partition("\n")
    head, colon, tail = first.partition(":")
    if colon and len(head) <= 100 and _VERB.search(head):
        body: str | None = f"{tail}\n{rest}"
    else:
        body = _field(user, names)
    if body is None:
        return user.strip()
    stop = _FIELD_STOP.search(body)
    return (body[: stop.start()] if stop and stop.start() > 0 else body).strip()


def _task(prompt: _Prompt) -> str:
    if "impartial evaluator" in prompt.system.lower() and "<<<EVAL-" in prompt.user:
        return "pairwise" if "Output B:" in prompt.user else "judge"
    answers = " ".join(prompt.answers).lower()
    if '"vendor"' in answers or '"total"' in answers:
        return "extraction"
    if '"intent"' in answers or any(a.lower() in _INTENTS for a in prompt.answers):
        return "triage"
    user = prompt.user.lower()
    if re.search(r"(?m)^\s*context\s*:", user) and re.search(r"(?m)^\s*question\s*:", user):
        return "qa"
    for text in (prompt.system.lower(), user.split("\n", 1)[0], prompt.instructions):
        if re.search(r"\bcontext\b", text) and re.search(r"\bquestions?\b|\banswer", text):
            return "qa"
        if re.search(r"\bextract|\bvendor\b|\bseller\b", text) and re.search(
            r"invoice|receipt|document|bill\b", text
        ):
            return "extraction"
        if re.search(r"\bintents?\b|\btriage|classif|categori|\btickets?\b|support message", text):
            return "triage"
    return "generic"


# ====================================================================== tokens and output
def _tokens(text: str) -> int:
    """About four characters per token (non-ASCII text costs more, as with real tokenizers)."""
    extra = sum(1 for c in text if ord(c) > 127) // 2
    return max(1, (len(text) + extra + 3) // 4)


def _json(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


# ====================================================================== triage
_INTENTS = (
    "billing",
    "refund_request",
    "technical_issue",
    "shipping_delivery",
    "cancellation",
    "product_question",
    "account_access",
    "complaint",
    "security_fraud",
    "feedback",
)
_PRIORITIES = ("low", "medium", "high", "urgent")

# Cue words per intent: (pattern, weight, kind) where kind is "core" (every model knows it),
# "rare" (known with the profile's rare_words chance) or "foreign" (its multilingual chance).
_LEXICON: dict[str, list[tuple[str, float, str]]] = {
    "billing": [
        (r"\bbill(ed|ing|s)?\b|\binvoices?\b|\bcharged\b|\breceipt\b|\bstatement\b", 2, "core"),
        (r"\bfee\b|\bprice\b|\bcard on file\b|\bpayment\b|\bcharge\b|\bowe\b|\bpaid\b", 1, "core"),
        (
            r"\bvat\b|\btax\b|\bhst\b|prorat|\bseats\b|\brenewal\b|\bdiscounted\b|\brate\b",
            1,
            "rare",
        ),
        (r"factura|rechnung|facture|cobraron|abgebucht|mensualidad|montant|pagu[ée]", 2, "foreign"),
    ],
    "refund_request": [
        (r"\brefunds?\b|money back|\breimburs", 3, "core"),
        (
            r"\brefnd\b|\b(fee|price|money) back\b|\breturn (it|them)\b|\breturn it for\b|"
            r"for her money|\bsent back\b",
            3,
            "rare",
        ),
        (r"reembolso|devu[ée]lva|erstattung|rembours|devolu[çc]", 3, "foreign"),
    ],
    "technical_issue": [
        (
            r"\bcrash(es|ing)?\b|\berror\b|\bbug\b|not working|doesn'?t work|\bwon'?t (load|open)|"
            r"\bkeeps? crashing\b",
            3,
            "core",
        ),
        (r"\bapp\b|\bfails?\b|\bfailing\b|\bupdate\b", 1, "core"),
        (
            r"\bsync\b|\boffline\b|\bblank\b|greys? out|\blags?\b|stuck at \d|empty file|"
            r"logs? me out|\b50\d\b|\b429\b|firmware|\bapi\b|dashboard|iframe|\bexport\b|"
            r"\bcron\b|never show up|can'?t change it",
            2,
            "rare",
        ),
        (
            r"no abre|pantalla|se crashea|no funciona|funktioniert nicht|kamera|schwarzes",
            3,
            "foreign",
        ),
    ],
    "shipping_delivery": [
        (
            r"\bdeliver(y|ed)?\b|\bshipping\b|\bship\b|\bpackage\b|\bparcel\b|\btracking\b|"
            r"\bcourier\b|\barrived?\b|where is my (order|package|parcel)",
            2,
            "core",
        ),
        (
            r"\bcustoms\b|\bexpress\b|wrong address|\bbox was\b|order came|sorting facility|"
            r"hasn'?t arrived|\blate again\b|\bthe order is still\b",
            2,
            "rare",
        ),
        (
            r"\bpedido\b|lleg[óo]|lieferung|sendung|\bpaket\b|encomenda|\bentrega\b|chegou",
            2,
            "foreign",
        ),
    ],
    "cancellation": [
        (r"(?<!-)\bcancel(l?ing|led|lation)?\b|\bterminate\b|\bunsubscribe\b", 3, "core"),
        (
            r"stop my subscri|don'?t want it renew|\bfreeze\b|\bpause\b|move to another vendor|"
            r"close the account|end the [\w ]{0,20}contract|stop all further",
            3,
            "rare",
        ),
        (r"cancelar|k[üu]ndig|r[ée]silier|annuler", 3, "foreign"),
    ],
    "product_question": [
        (
            r"\bcompatible\b|difference between|\bwarranty\b|\bdoes the\b|\bdo you (offer|ship)\b|"
            r"\bcome with\b",
            2,
            "core",
        ),
        (
            r"true to size|volume pricing|parental controls|\bwork on\b|tested by|better for|"
            r"before we sign|webhooks|comes in\b|thinking of getting|not buying yet|"
            r"\bregion\b",
            2,
            "rare",
        ),
        (
            r"¿el|est-ce que la|können sie mir sagen|lieferbar|incluye|quick question|garantie",
            2,
            "foreign",
        ),
    ],
    "account_access": [
        (
            r"\blog ?in+\b|\bsign in\b|\bpassword\b|\blocked out\b|two-factor|\b2fa\b|"
            r"get back into my account",
            3,
            "core",
        ),
        (
            r"reset (email|link)|verification code|\bsso\b|\bsaml\b|owner rights|"
            r"transfer ownership|session expired|acc?ount not found|email i log in with|"
            r"log in myself",
            3,
            "rare",
        ),
        (
            r"entrar a mi cuenta|compte est bloqu|in mein konto|contraseña|code de vérification",
            3,
            "foreign",
        ),
    ],
    "complaint": [
        (
            r"unacceptable|terrible|\bworst\b|disappoint|\brude\b|complain|frustrat|\bawful\b|"
            r"ridiculous",
            3,
            "core",
        ),
        (
            r"misleading|lawyer|condescending|discriminat|hung up|on hold|do better|wasteful|"
            r"cool cool|really feeling|consumer authority|refused to honou?r|escalated to a "
            r"manager",
            3,
            "rare",
        ),
        (r"p[ée]ssim[oa]|nunca más|reicht es|dritte mal|ninguém me avisou", 3, "foreign"),
    ],
    "security_fraud": [
        (
            r"\bfraud\b|\bhack(ed)?\b|phishing|suspicious|unauthori[sz]ed|\bstolen\b|\bscam\b|"
            r"never made",
            4,
            "core",
        ),
        (
            r"someone (changed|else)|compromis|\bleaked\b|vulnerabilit|device i don'?t own|"
            r"asking for my password|is that really you|don'?t recognise|sketchy|"
            r"claiming to be|\bcvv\b|login from",
            4,
            "rare",
        ),
        (
            r"alguien entr[óo]|nie bestellt|hackeou|utilisé ma carte|eu não fiz|code sms|"
            r"n'ai pas faites",
            4,
            "foreign",
        ),
    ],
    "feedback": [
        (
            r"\bsuggest(ion)?\b|feature request|would be (cool|nice|great)|\bfantastic\b|"
            r"well done|\blove\b|shoutout",
            3,
            "core",
        ),
        (
            r"dark mode|observation|keep it up|no issue|just wanted to (say|tell)|"
            r"otherwise service is fine|wishlist|super kind|finally a\b",
            3,
            "rare",
        ),
        (r"me encanta|danke|ótimo|übersichtlicher", 3, "foreign"),
    ],
}
_COMPILED = {
    intent: [(re.compile(rx, re.I), weight, kind) for rx, weight, kind in cues]
    for intent, cues in _LEXICON.items()
}
# what a confused model says instead, when no runner-up has any cue
_NEIGHBOURS = {
    "billing": ("refund_request", "cancellation"),
    "refund_request": ("billing", "complaint"),
    "technical_issue": ("account_access", "complaint"),
    "shipping_delivery": ("complaint", "refund_request"),
    "cancellation": ("billing", "refund_request"),
    "product_question": ("feedback", "technical_issue"),
    "account_access": ("technical_issue", "security_fraud"),
    "complaint": ("feedback", "refund_request"),
    "security_fraud": ("account_access", "billing"),
    "feedback": ("complaint", "product_question"),
}
_FREE_WORDING = {
    "billing": ("Billing issue", "This looks like a billing question.", "Payment/billing"),
    "refund_request": ("Refund", "The customer wants a refund.", "Refund (return)"),
    "technical_issue": ("Bug report", "Technical problem with the app.", "Tech support"),
    "shipping_delivery": ("Shipping", "Delivery problem", "Order delivery issue"),
    "cancellation": (
        "Cancel subscription",
        "The customer wants to cancel.",
        "Cancellation request",
    ),
    "product_question": ("Pre-sales question", "General product inquiry", "Product info"),
    "account_access": ("Login problem", "Account / login issue", "Password reset"),
    "complaint": ("Unhappy customer", "A complaint about the service.", "Negative experience"),
    "security_fraud": ("Fraud", "Possible account compromise.", "Security"),
    "feedback": ("Positive feedback", "Product suggestion", "Praise"),
}

_INJECTION = re.compile(
    r"ignore (all )?(the )?(previous|prior|above) instructions[^.\n]*[.\n]?|ignorez les "
    r"instructions[^.\n]*[.\n]?|^\s*system\s*:[^\n]*|\[admin override\][^.\n]*[.\n]?|"
    r"the correct label is \w+\.?|respond only with \{[^}]*\}\.?|</message>\s*assistant\s*:"
    r"\s*\{[^}]*\}|###\s*new instructions:[^\n]*|you are now an? [^.\n]*[.\n]?|"
    r"note to the ai[^.\n]*[.:]\s*[^.\n]*[.\n]?|pretend you'?re in debug mode[^.\n]*[.\n]?|"
    r"\breal message\s*:|actually my issue\s*:",
    re.I | re.M,
)
_RESIST_HINT = re.compile(
    r"ignore (any )?instructions|treat the [\w ]{0,20}as data|"
    r"instructions (written )?inside|do not follow",
    re.I,
)
_NEGATION = re.compile(
    r"\b(?:not|n't|no)\b[\w ,']{0,22}?\b(?:cancel\w*|refund\w*|complaint|problem|fraud)\b|"
    r"\bnot (?:asking|sure)\b[^.,;!?]{0,30}",
    re.I,
)
_PIVOT = re.compile(
    r"what i (actually|really) need is|no wait|actually,? |real message\s*:|"
    r"\bbut what i\b",
    re.I,
)
_SARCASM = re.compile(r"oh great|cool cool|really feeling|yeah right|thanks a lot|love how", re.I)
_TYPOS = re.compile(
    r"\b(u|pls|plz|im|dont|cant|wont|shouldnt|hasnt|thru|inn|acount|refnd|"
    r"subscripton|lol|sooo+|yo|w|4)\b",
    re.I,
)
_ENGLISH = re.compile(r"\b(the|my|is|and|please|why|every|time|help|with|it|really)\b", re.I)
_FOREIGN = re.compile(
    r"\b(el|la|los|mi|con|pero|ya|und|ich|die|der|mein|nicht|je|mon|est|"
    r"c'est|trop|minha|tem|que|não|sobre|für|meine?|por)\b",
    re.I,
)


def _clean_injections(message: str) -> str:
    return _INJECTION.sub(" ", message)


def _injected_labels(message: str) -> tuple[str | None, str | None]:
    """Labels an injected instruction tries to force (what a fooled model answers)."""
    intent = priority = None
    for match in _INJECTION.finditer(message):
        span = match.group(0).lower()
        found = [i for i in _INTENTS if i in span] or (
            ["refund_request"] if "refund bot" in span else []
        )
        intent = intent or (found[0] if found else None)
        priority = priority or next((p for p in _PRIORITIES if p in span), None)
    return intent, priority


def _learned(p: float, shots: int) -> float:
    """A skill after ``shots`` few-shot examples: each closes 15% of the remaining gap."""
    return 1 - (1 - p) * 0.85 ** min(shots, 4)


def _intent_scores(text: str, profile: SimProfile, dice: _Dice, shots: int) -> dict[str, float]:
    knows_rare = dice.chance(_learned(profile.rare_words, shots))
    knows_foreign = dice.chance(_learned(profile.multilingual, shots))
    scores: dict[str, float] = {}
    for intent, cues in _COMPILED.items():
        total = 0.0
        for pattern, weight, kind in cues:
            if (kind == "rare" and not knows_rare) or (kind == "foreign" and not knows_foreign):
                continue
            hits = len(pattern.findall(text))
            total += weight * min(hits, 2)
        scores[intent] = total
    if "?" in text and max(scores.values()) < 3:
        scores["product_question"] += 1.5  # a plain question with no problem words
    return scores


def _ranked(scores: Mapping[str, float]) -> list[str]:
    return sorted(_INTENTS, key=lambda i: (-scores[i], _INTENTS.index(i)))


def _priority(text: str, intent: str) -> str:
    low = text.lower()
    if re.search(
        r"right now|immediately|\basap\b|can'?t work|whole team|for everyone|"
        r"all our|production|losing orders|we close|lawyer|someone changed|"
        r"never made|leaked|hackeou|alguien entr|nie bestellt|utilisé ma carte|"
        r"an hour ago|address i don'?t know|escalate",
        low,
    ):
        return "urgent"
    if intent == "security_fraud":
        return "high"
    if re.search(
        r"\b\d+ times\b|fix this now|third time|\d+ days\b|weeks\b|wrong address|"
        r"not delivered|literally empty|terminate|cancel it|late father|misleading|"
        r"old price|locked out|no longer have|nobody else|before my shift|"
        r"stuck at \d|consumer authority|promised",
        low,
    ):
        return "high"
    if intent in ("feedback", "product_question") or re.search(
        r"\bhow (do|can) i\b|wondering|suggest|just wanted|is it possible|what'?s the process|"
        r"not a problem|\bsend me\b|\bresent\b|lol\b|\?$",
        low,
    ):
        return "low"
    return "medium"


def _difficulty_cues(text: str, scores: Mapping[str, float], injected: bool) -> int:
    ranked = sorted(scores.values(), reverse=True)
    english, foreign = bool(_ENGLISH.search(text)), len(_FOREIGN.findall(text)) >= 2
    return sum(
        (
            len(text) > 180,
            len(_TYPOS.findall(text)) >= 2,
            bool(_NEGATION.search(text)),
            english and foreign,
            ranked[1] > 0 and ranked[1] >= 0.6 * ranked[0],
            ranked[0] == 0,
            bool(_SARCASM.search(text)),
            injected,
        )
    )


def _triage(prompt: _Prompt, profile: SimProfile, dice: _Dice, json_mode: bool) -> str:
    message = _payload(prompt.user, "message|ticket|customer message|text|email|body")
    text = message
    shots = len(prompt.shots)
    injected = bool(_INJECTION.search(text))
    forced: tuple[str | None, str | None] = (None, None)
    if injected:
        resist = _learned(profile.injection_resistance, shots)
        if _RESIST_HINT.search(prompt.system or prompt.instructions):
            resist = 1 - (1 - resist) * 0.5  # told to treat the ticket as data
        forced = (None, None) if dice.chance(resist) else _injected_labels(text)
        text = _clean_injections(text)
    reads_negation = dice.chance(_learned(profile.negation, shots))
    if reads_negation:
        text = _NEGATION.sub(" ", text)
    pivot = _PIVOT.search(text)
    if pivot and reads_negation:
        text = text[pivot.end() :]  # the request after "what I actually need is"
    scores = _intent_scores(text, profile, dice, shots)
    ranked = _ranked(scores)
    intent = (
        ranked[0]
        if scores[ranked[0]] > 0
        else dice.choice(("product_question", "complaint", "feedback"))
    )
    # how the prompt helps: the label list, few-shot examples
    labels_listed = sum(label in prompt.instructions for label in _INTENTS) >= 6
    p = profile.base_error + profile.cue_error * _difficulty_cues(message, scores, injected)
    p *= 0.7 if labels_listed else 1.0
    p *= 0.75 if shots >= 2 else 1.0
    if dice.slip(p):
        runner_up = ranked[1] if scores[ranked[1]] > 0 else None
        intent = runner_up if runner_up and dice.chance(0.7) else dice.choice(_NEIGHBOURS[intent])
    priority = _priority(text, intent)
    if dice.slip(p + 0.05):
        index = _PRIORITIES.index(priority) + (1 if dice.chance(0.5) else -1)
        priority = _PRIORITIES[min(3, max(0, index))]
    intent, priority = forced[0] or intent, forced[1] or priority
    return _triage_text(prompt, profile, dice, json_mode, intent, priority, labels_listed)


def _triage_text(
    prompt: _Prompt,
    profile: SimProfile,
    dice: _Dice,
    json_mode: bool,
    intent: str,
    priority: str,
    labels_listed: bool,
) -> str:
    shot_answers = prompt.answers
    json_shots = any(a.startswith("{") for a in shot_answers)
    wants_json = json_mode or json_shots or "json" in prompt.instructions
    taught = labels_listed or any(a.lower() in _INTENTS or '"intent"' in a for a in shot_answers)
    if taught:
        label = intent
    elif dice.chance(profile.free_form):
        label = dice.choice(_FREE_WORDING[intent])
    else:
        label = intent.replace("_", " ").capitalize()
    if wants_json:
        body = _json({"intent": label, "priority": priority})
        if not json_mode and not json_shots and dice.slip(profile.format_error):
            return f"```json\n{body}\n```"  # weaker models wrap JSON in a code fence
        return body
    if "priority" in prompt.instructions and not shot_answers:
        return f"{label}, {priority}"
    return label


# ====================================================================== extraction
_CODES = (
    "USD",
    "EUR",
    "GBP",
    "CHF",
    "JPY",
    "CAD",
    "AUD",
    "NZD",
    "SEK",
    "NOK",
    "DKK",
    "PLN",
    "CZK",
    "INR",
    "SGD",
    "HKD",
    "ZAR",
    "BRL",
    "MXN",
    "GHS",
    "HUF",
    "TRY",
    "CNY",
    "KRW",
)
_SYMBOLS = (
    ("NZ$", "NZD"),
    ("CA$", "CAD"),
    ("C$", "CAD"),
    ("AU$", "AUD"),
    ("A$", "AUD"),
    ("S$", "SGD"),
    ("HK$", "HKD"),
    ("R$", "BRL"),
    ("£", "GBP"),
    ("€", "EUR"),
    ("¥", "JPY"),
    ("円", "JPY"),
    ("₹", "INR"),
    ("zł", "PLN"),
    ("Kč", "CZK"),
)
_DOLLAR_PLACES = (
    (r"canad|toronto|montr[ée]al|vancouver|halifax|ontario|saskatoon|\b(ON|QC|BC|AB)\b", "CAD"),
    (r"australia|sydney|melbourne|brisbane|byron bay|\b(NSW|VIC|QLD)\b", "AUD"),
    (r"new zealand|auckland|wellington|\(NZ\)", "NZD"),
    (r"singapore", "SGD"),
    (r"mexic|\bMXN\b", "MXN"),
)
_KRONA_PLACES = (
    (r"oslo|norw|norge|trondheim|bergen|\bmva\b", "NOK"),
    (r"copenhagen|københavn|denmark|danmark|\bi alt\b", "DKK"),
    (r"stockholm|malmö|sweden|sverige|göteborg|\bmoms\b", "SEK"),
)


def _currency(doc: str, profile: SimProfile, dice: _Dice) -> str:
    local = dice.chance(profile.numbers)
    for code in _CODES:
        if re.search(rf"\b{code}\b", doc):
            return code
    for symbol, code in _SYMBOLS:
        if symbol in doc and (len(symbol) == 1 or local or not symbol.endswith("$")):
            return code
    if re.search(r"\beuros?\b", doc, re.I):
        return "EUR"
    if re.search(r"\d\s?kr\b|\bkr\s?\d", doc, re.I):
        if local:
            for pattern, code in _KRONA_PLACES:
                if re.search(pattern, doc, re.I):
                    return code
        return "SEK"
    if re.search(r"\bR\s?\d", doc) and local:
        return "ZAR"
    if local:
        for pattern, code in _DOLLAR_PLACES:
            if re.search(pattern, doc, re.I if code != "CAD" else 0):
                return code
    return "USD"


_OCR_DIGITS = str.maketrans({"O": "0", "o": "0", "l": "1", "I": "1"})
_OCR_RUN = re.compile(r"(?<![^\W\d_])[\dOolI]+(?:[.,' ][\dOolI]+)*(?![^\W\d_])")
_AMOUNT = re.compile(
    r"(?<![\w.,/-])-?\(?(?:\d{1,3}(?:(?:[ '\u00a0]|\s?[.,])\d{3})+|\d+)(?:[.,]\d{1,2})?\)?"
    r"(?![\d%/]|[.,]\d|\s?(?:x\b|h\b|kg\b|km\b|gb\b|tb\b|pages?\b|nights?\b|days?\b|walks?\b))",
    re.I,
)


def _ocr_numbers(text: str) -> str:
    """Undo O/0 and l/1 swaps inside numbers (what a careful reader of a scan does)."""
    return _OCR_RUN.sub(
        lambda m: m.group(0).translate(_OCR_DIGITS) if re.search(r"\d", m.group(0)) else m.group(0),
        text,
    )


def _number(raw: str, eu_aware: bool) -> float | None:
    text = raw.replace("\u00a0", " ").replace("'", "").replace("(", "").replace(")", "")
    text = re.sub(r"\s", "", text)
    if eu_aware and re.fullmatch(r"-?\d{1,3}(\.\d{3})*,\d{1,2}", text):
        text = text.replace(".", "").replace(",", ".")
    elif re.fullmatch(r"-?\d+,\d{2}", text):
        text = text.replace(",", ".") if eu_aware else text.replace(",", "")
    elif re.fullmatch(r"-?\d{1,3}(\.\d{3})+", text) and eu_aware:
        text = text.replace(".", "")
    else:
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        return None
    return round(value, 2)


_STRONG_TOTAL = re.compile(
    r"grand total|total (due|payable|amount|ttc|paid|charged|this|new charges|for this|a pagar)|"
    r"invoice total|amount (due|payable|paid)|gesamtbetrag|rechnungsbetrag|endbetrag|"
    r"totale documento|totaal te betalen|att betala|å betale|\bi alt\b|celkem|razem brutto|"
    r"importe total|montant total|total \(?inc|total \(|total [a-z]{3}\b|comes to|"
    r"(total|final)[^.]{0,25}\bis\b|this is the one|use final|\bfinal\b",
    re.I,
)
_TOTAL = re.compile(
    r"\btotal[e]?\b|\btotaal\b|\bsumme?\b|\bsumma\b|\bsum\b|\bgesamt\b|"
    r"\bvalor\b|\bamount\b|\bpaid\b|\bcharged\b|\bfor\b|\bis\b",
    re.I,
)
_NOT_TOTAL = re.compile(
    r"sub-?total|subtotaal|zwischensumme|\bnet(to)?\b|nettobetrag|\bht\b|imponible|netto|"
    r"\bbase\b|základ|\bvat\b|\btax\b|\btva\b|\bmwst\b|\biva\b|\bgst\b|\bhst\b|\bmva\b|"
    r"\bmoms\b|\bdph\b|\bust\b|deposit|acompte|abschlag|already|paid by|payments? received|"
    r"previous|past due|balance|remaining|solde|saldo|reste|\bbal\b|change|rückgeld|resto|"
    r"cash|contanti|\bcard\b|debit|credits?\b|visa|\bbar\b|gutschein|voucher|rewards|"
    r"mutuelle|proforma|quote|original|late fee|still open|ignore|note to ai|instructions|"
    r"zu zahlen|pagamento|anterior|next|price then|betalt|you saved|eftpos|multibanco|"
    r"\bcb\b|tip\b|current charges|plus|\+|herav|enthalten|dont",
    re.I,
)


def _label_score(label: str, careful: bool) -> float:
    low = re.sub(r"(?<=[a-z])0|0(?=[a-z])", "o", label.lower())
    low = re.sub(r"(?<=[a-z])1|1(?=[a-z])", "l", low)
    if _STRONG_TOTAL.search(low):
        return 5.0
    if _TOTAL.search(low):
        return 1.0 if careful and _NOT_TOTAL.search(low) else 3.0
    return 0.0


def _total(doc: str, profile: SimProfile, dice: _Dice, eu_aware: bool) -> float | None:
    careful = dice.chance(profile.careful_total)
    lines = [ln for ln in re.split(r"\n|(?<=[.;!])\s+(?=[A-Z])", doc) if ln.strip()]
    scored: list[tuple[float, int, float]] = []
    plain: list[float] = []
    for index, line in enumerate(lines):
        position = 0
        for match in _AMOUNT.finditer(line):
            value = _number(match.group(0), eu_aware)
            label = line[position : match.start()]
            position = match.end()
            if value is None or (value == int(value) and (1900 <= value <= 2100 or value > 1e7)):
                continue
            if re.search(r"[#№]|\bno\.?\s*$|\bnr\.?\s*$|invoice\s*$|ref\s*$", label, re.I):
                continue  # an invoice or order number, not money
            plain.append(value)
            score = _label_score(label, careful)
            if score > 0:
                scored.append((score, index, value))
    if scored:
        if careful:  # the best-labelled amount; among equals the later (totals come last)
            return abs(max(scored, key=lambda s: (s[0], s[1]))[2])
        return next(v for score, _, v in scored if score >= 3 or score == scored[0][0])
    if not plain:
        return None
    return max(plain) if careful else plain[-1]


_MONTH_NAMES = (
    "january jan janvier janv enero ene januar jän janeiro gennaio januari",
    "february feb février févr febrero februar fevereiro febbraio februari",
    "march mar mars marzo märz mär março maart",
    "april apr avril avr abril aprile",
    "may mai mayo maio maggio mei",
    "june jun juin junio juni junho giugno",
    "july jul juillet juil julio juli julho luglio",
    "august aug août agosto augustus",
    "september sep sept septembre septiembre setembro settembre",
    "october oct octobre octubre oktober outubro ottobre okt",
    "november nov novembre noviembre novembro",
    "december dec décembre déc diciembre dezember dez dezembro dicembre",
)
_MONTHS: dict[str, int] = {}
for _month_number, _spellings in enumerate(_MONTH_NAMES, start=1):
    _MONTHS.update({w: _month_number for w in _spellings.split() if w not in _MONTHS})

_DATE_KEY = re.compile(
    r"\bdate\b|\bdated\b|datum|fecha|\bdata\b|émission|établie|issued|"
    r"invoiced|fakturadato|fakturadatum|factuurdatum|rechnungsdatum|"
    r"wystawienia|vystavení|emitida|emitid|billed on|charged|\bvom\b|年",
    re.I,
)
_DATE_AWAY = re.compile(
    r"due|échéance|vencimiento|förfallo|vervaldatum|zahlbar|delivery|"
    r"lieferdatum|service|event|booked|install|next|original|"
    r"ausfahrt|einfahrt|opening|leistungszeitraum|period|again",
    re.I,
)


def _iso(year: int, month: int, day: int) -> str | None:
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _date_in(line: str, day_first: bool, foreign_months: bool) -> str | None:
    line = _ocr_numbers(line)
    m = re.search(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\b", line)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日", line)
    if m:
        return _iso(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(
        r"\b(\d{1,2})(?:st|nd|rd|th|\.)?\s+(?:de\s+)?([^\W\d_]{3,})\.?,?\s+"
        r"(?:de\s+)?(\d{4})\b",
        line,
    )
    if m:
        month = _month(m.group(2), foreign_months)
        if month:
            return _iso(int(m.group(3)), month, int(m.group(1)))
    m = re.search(r"\b([^\W\d_]{3,})\.?\s+(\d{1,2}),?\s+(\d{4})\b", line)
    if m:
        month = _month(m.group(1), foreign_months)
        if month:
            return _iso(int(m.group(3)), month, int(m.group(2)))
    m = re.search(r"\b(\d{1,2})([./-])(\d{1,2})\2(\d{4})\b", line)
    if m:
        a, b, year = int(m.group(1)), int(m.group(3)), int(m.group(4))
        first_is_day = day_first or m.group(2) in ".-"
        if a > 12:
            first_is_day = True
        elif b > 12:
            first_is_day = False
        return _iso(year, b, a) if first_is_day else _iso(year, a, b)
    return None


def _month(word: str, foreign: bool) -> int | None:
    word = word.lower().rstrip(".")
    month = _MONTHS.get(word)
    if month is None:
        return None
    english = (
        word
        in (
            "january february march april may june july august september october "
            "november december jan feb mar apr jun jul aug sep sept oct nov "
            "dec"
        ).split()
    )
    return month if english or foreign else None


def _day_first(doc: str, knows_locale: bool) -> bool:
    """Whether dd/mm/yyyy is meant: stated formats win, then the issuer's country."""
    if re.search(r"MM/DD|US format", doc):
        return False
    if re.search(r"DD/MM|JJ/MM|TT\.MM|\(UK\)|\(NZ\)|dd/mm", doc, re.I):
        return True
    if not knows_locale:
        return False  # the classic mistake: every slash date read the US way
    if re.search(
        r"\b[A-Z]{2} \d{5}\b|,\s?(TX|CA|NY|OR|WA|AZ|CO|NC|NJ|IL|ID|AK|WI|NE|TN|MA)\b|"
        r"\b(Phoenix|Chicago|Seattle|Denver|Boise|Austin|Raleigh|Nashville)\b",
        doc,
    ):
        return False
    return True


def _date(doc: str, profile: SimProfile, dice: _Dice) -> str | None:
    knows_locale = dice.chance(profile.numbers)
    careful = dice.chance(profile.careful_total)
    day_first = _day_first(doc, knows_locale)
    lines = [ln for ln in re.split(r"\n|\s\|\s|\s—\s|;", doc) if ln.strip()]
    keyed = [ln for ln in lines if _DATE_KEY.search(ln)]
    if careful:
        keyed = [ln for ln in keyed if not _DATE_AWAY.search(ln)] or keyed
        ordered = keyed + [ln for ln in lines if not _DATE_AWAY.search(ln)] + lines
    else:
        ordered = lines  # the first date anywhere, due date or not
    for line in ordered:
        found = _date_in(line, day_first, foreign_months=knows_locale)
        if found:
            return found
    return None


_VENDOR_LABEL = re.compile(
    r"(?i:issued by|bill from|invoice (?:received )?from|receipt from|vendor|supplier|seller|"
    r"issuer|merchant|company|rechnungssteller|émetteur|fornecedor|dostawca|leverandør|"
    r"dodavatel|betreiber|footer|from)\b[ \t]*[:|\t]?[ \t]*\n?[ \t]*"
    r"(?P<name>[A-Z][^\n,|(<—·]+(?:,\s*(?:Lda|Inc|Ltd|LLC|S\.?A|S\.?L)\.?)?)",
)
_DOC_WORDS = re.compile(
    r"^(tax)?(invoice|receipt|rechnung|facture|factura|fattura|fatura|factuur|faktura|"
    r"creditnote|statement|statementofaccount|kvitto|kvittering|invoicesummary|proforma|"
    r"monthlyinvoice|invoicedetail|summaryofcharges|fakturavat|inv)",
)
_NOT_NAME = re.compile(
    r"^(page|seite|blad|p\.?\d|\[?p\d|\d+\s*/\s*\d+|subject|date|datum|hi\b|hello|hey\b|dear|"
    r"bonjour|hola|olá|guten|good (morning|afternoon)|sehr geehrte|thank|thanks|best\b|"
    r"kind regards|regards|cordialement|un saludo|viele grüße|abraço|cheers|\*|\[|~|=|-|\+|\||'|"
    r"line items|your\b|sessão|summary|bill to|customer|client|item|description|quick summary|"
    r"please|as promised|our invoice|attached|note|total|plan\b|receipt for|order\b)",
    re.I,
)
_SIGN_OFF = re.compile(
    r"^(best|kind regards|regards|thanks!?|cheers|cordialement|un saludo|"
    r"viele grüße|abraço|warm regards|best regards)[,!]?\s*",
    re.I,
)
_EMAIL = re.compile(
    r"^\s*(subject|from|hi|hello|hey|dear|bonjour|hola|olá|guten tag|good "
    r"afternoon)\b",
    re.I | re.M,
)


def _doc_word(text: str) -> bool:
    squashed = re.sub(r"[\W_]+", "", text.lower().replace("0", "o").replace("1", "l"))
    squashed = squashed.replace("lnvolce", "invoice").replace("lnvoice", "invoice")
    return bool(_DOC_WORDS.match(squashed))


def _name_like(part: str) -> bool:
    part = re.sub(r"\s#\d+\b", "", part).strip()
    if len(part) < 3 or part.startswith(".") or "?" in part or "@" in part:
        return False
    if _NOT_NAME.match(part) or _doc_word(part):
        return False
    if ":" in part or re.search(r"[$€£¥]|\d[.,]\d\d", part):
        return False
    return sum(c.isdigit() for c in part) <= 2 and bool(re.search(r"[^\W\d_]{3}", part))


_MONEY_LINE = re.compile(r"\d[.,]\d\d\b|[$€£¥]\s?\d|\d\s?(€|kr)\b")


def _vendor(doc: str, profile: SimProfile, dice: _Dice) -> str:
    careful = dice.chance(profile.careful_total)
    lines = [ln.strip() for ln in doc.splitlines() if ln.strip()]
    if careful:
        for match in _VENDOR_LABEL.finditer(doc):
            line = doc[doc.rfind("\n", 0, match.start()) + 1 : doc.find("\n", match.end())]
            if re.search(r"not the seller|not an invoice|buyer|your company", line, re.I):
                continue
            name = match.group("name").strip(" .:")
            if not _doc_word(name) and re.search(r"[^\W\d_]{3}", name):
                return _tidy(name, profile)
        if _EMAIL.search(doc) and lines:
            last = _SIGN_OFF.sub("", lines[-1]).strip()
            last = re.split(r"\s[—–-]\s|^[—–-]\s*", last)[-1].strip()
            if _name_like(last) and len(last.split()) >= 2:
                return _tidy(last, profile)
    for line in lines:
        if careful and ("your company" in line.lower() or _MONEY_LINE.search(line)):
            continue  # the buyer, or an item line
        for part in re.split(r"\s[—–|·]\s|\s{3,}|\t", line):
            part = re.sub(r"^(fa\.|\[p\d\]|\d/\d)\s*", "", part.strip(), flags=re.I)
            label, colon, value = part.partition(":")
            if colon and _doc_word(label) and _name_like(value):
                part = value
            if _name_like(part):
                return _tidy(part, profile)
            if not careful and part:
                return _tidy(part, profile)  # hasty: whatever heads the document
    return _tidy(lines[0], profile) if lines else ""


def _ocr_letter(match: re.Match[str]) -> str:
    before, digit, after = match.group(1), match.group(2), match.group(3)
    vowels = "aeiouyAEIOUY"
    if digit == "0":
        letter = "o"
    elif before not in vowels and after not in vowels:
        letter = "i"
    else:
        letter = "l"
    return before + letter + after


def _tidy(name: str, profile: SimProfile) -> str:
    legal = r"(?:Lda|Inc|Ltd|LLC|S\.?A|S\.?L|Co|GmbH)\.?"
    name = re.split(
        rf"\s*←|\s<|\s\((?!Pty\))|,(?!\s*{legal}(?:$|[\s,]))|"
        r"(?<!\b(?:Co|Sp|St|Fa))\.\s+(?=[A-Z][a-z])|\s[—–|·]\s|\s#\d|"
        r"\s{2,}(?=[A-Z][a-z]|\d)",
        name,
    )[0]
    dotted = name.strip(" ;:").endswith(".") and re.search(rf"\b{legal}$", name.strip(" ;:"))
    name = name.strip(" .:;") + ("." if dotted else "")
    if profile.numbers > 0.9:  # a large model repairs scan damage and prints names nicely
        if not re.search(r"[a-z]", re.sub(r"\b(e\.K|s\.r\.l|d\.o\.o)\.?", "", name)):
            keep = {"LLC", "AB", "KG", "AG", "AS", "SA", "BV", "LTD", "IT", "HVAC", "B&B"}
            name = " ".join(w if w in keep else w.capitalize() for w in name.split())
        for _ in range(2):  # overlapping damage such as "R00M"
            name = re.sub(r"([^\W\d_])([01])([^\W\d_]?)", _ocr_letter, name)
        name = re.sub(r"(^|\s)0(?=[^\W\d_])", r"\1O", name)
        if re.fullmatch(r"(?:\w ){2,}\w", name):
            name = name.replace(" ", "")
        name = re.sub(r"\s{2,}", " ", name)
    return name.strip()


def _extraction(prompt: _Prompt, profile: SimProfile, dice: _Dice, json_mode: bool) -> str:
    doc = _payload(prompt.user, "invoice|document|receipt|text|input")
    if re.search(r"(note to ai|ignore previous instructions)", doc, re.I) and dice.chance(
        profile.injection_resistance
    ):
        doc = re.sub(r"[^\n]*(note to ai|ignore previous instructions)[^\n]*", " ", doc, flags=re.I)
    careful_ocr = dice.chance(profile.numbers)
    readable = _ocr_numbers(doc) if careful_ocr else doc
    eu_aware = dice.chance(profile.numbers)
    fields: dict[str, Any] = {
        "vendor": _vendor(doc, profile, dice),
        "date": _date(doc, profile, dice),
        "total": _total(readable, profile, dice, eu_aware),
        "currency": _currency(doc, profile, dice),
    }
    if fields["total"] is not None and fields["total"] == int(fields["total"]):
        fields["total"] = int(fields["total"]) if fields["currency"] == "JPY" else fields["total"]
    hard = 0.03 * (len(doc) > 450) + 0.03 * bool(re.search(r"credit|statement|page", doc, re.I))
    if dice.slip(0.5 * profile.base_error + hard):
        key = dice.choice(("vendor", "date", "total"))
        if key == "total" and isinstance(fields["total"], (int, float)):
            fields["total"] = round(fields["total"] * dice.choice((0.9, 1.1, 0.1)), 2)
        elif key == "date" and fields["date"]:
            fields["date"] = fields["date"][:8] + "01"
        elif key == "vendor" and fields["vendor"]:
            fields["vendor"] = fields["vendor"].split(" ")[0]
    wants_json = (
        json_mode or "json" in prompt.instructions or any(a.startswith("{") for a in prompt.answers)
    )
    if wants_json:
        return _json(fields)
    if dice.chance(1 - profile.free_form):
        return _json(fields)  # even unasked, most models answer extraction with JSON
    return "\n".join(f"{k.capitalize()}: {v}" for k, v in fields.items())


# ====================================================================== grounded QA
_STOP = frozenset(
    "the a an of to in on for is are was were be been by with what which who whom whose how "
    "does do did when where why can could may might will would should it its this that these "
    "those from at as and or many much long often there their they them i my me we our you "
    "your he she his her according text passage mean any per than after before get have has "
    "s fast large need needed take place give look date case begin between difference "
    "kind type about more most named mentioned called".split()
)
_QUANTITY = re.compile(
    r"(?:(?:about|up to|roughly|around|every|within|only|at least|more than|over|under|"
    r"nearly|approximately)\s+)?(?<![\d:.,])(?:\d[\d,.]*\d|\d|one|two|three|four|five|six|seven|eight|"
    r"nine|ten|eleven|twelve|twenty|thirty|forty|fifty|hundred)\b(?:\s*(?:%|°C|°F))?"
    r"(?:\s+(?:to|and)\s+\d[\d,.]*)?(?:\s+(?:per\s+[^\W\d_]+|(?!and\b|or\b|with\b|the\b|in\b|"
    r"of\b|for\b|until\b|before\b|after\b|on\b|at\b|a\b|is\b|are\b|per\b)[^\W\d_]+'?)){0,2}",
    re.I,
)
_NAME = re.compile(r"(?:[A-Z][\w'-]*|[A-Z]{2,})(?:\s+(?:[A-Z][\w'-]*|B|C|T|and\s+[A-Z]\w*))*")


def _stem(word: str) -> str:
    for suffix in ("ings", "ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:5]


def _words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[^\W_]+", text.lower()) if w not in _STOP}


def _qa(prompt: _Prompt, profile: SimProfile, dice: _Dice) -> str:
    user = prompt.user
    context = _field(user, "context|passage|document", until="question") or user
    question = _field(user, "question", until="context|passage") or user
    wording = prompt.instructions
    refusal = (
        "unanswerable"
        if "unanswerable" in wording
        else "I don't know."
        if "i don't know" in wording
        else "The context does not say."
    )
    if re.search(r"note to ai|system\s*:|ignore the question", context, re.I) and dice.chance(
        profile.injection_resistance
    ):
        context = re.sub(
            r"[^.]*(note to ai|system\s*:|ignore the question)[^.]*\.?", " ", context, flags=re.I
        )
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", context) if s.strip()]
    asked = _words(question)
    if not sentences or not asked:
        return refusal
    missing = asked - _words(context)
    # names and numbers in the question that the context never mentions
    specific = {
        _stem(w.lower())
        for w in re.findall(r"(?<!^)\b[A-Z][\w-]+|\b\d[\w.]*", question)
        if w.lower() not in _STOP
    }
    unanswerable = bool(specific & missing) or len(missing) / len(asked) > 0.3
    told_to_refuse = bool(
        re.search(
            r"does not contain|doesn't contain|not in the context|"
            r"cannot be answered|unanswerable|refuse",
            wording,
        )
    )
    hallucinate = profile.hallucination * (0.6 if told_to_refuse else 1.0)
    if unanswerable and not dice.chance(hallucinate):
        return refusal
    if not unanswerable and dice.slip(0.5 * profile.base_error):
        return refusal  # a false refusal now and then

    names = {_stem(w.lower()) for w in re.findall(r"\b[A-Z][\w-]+", question[1:])}

    def overlap(sentence: str) -> float:
        # the passage's topic names are in most sentences: they count half
        return sum(0.5 if w in names else 1.0 for w in asked & _words(sentence))

    best = max(sentences, key=overlap)
    answer = _span(question, best, profile, dice)
    if re.search(r"short|exact phrase|only the answer|few words", wording):
        return answer
    return answer[:1].upper() + answer[1:] + ("" if answer.endswith(".") else ".")


def _closest(candidates: list[tuple[int, int, str]], sentence: str, asked: set[str]) -> str | None:
    """The candidate (start, end, text) nearest to the question's words in the sentence."""
    anchors = [
        (m.start(), m.end())
        for m in re.finditer(r"[^\W_]+", sentence)
        if _stem(m.group(0).lower()) in asked
    ]
    if not candidates:
        return None

    def gap(start: int, end: int, anchor: tuple[int, int]) -> float:
        if anchor[1] <= start:
            return 0.8 * (start - anchor[1])  # answers tend to follow the words asked about
        if anchor[0] >= end:
            return 1.2 * (anchor[0] - end)
        return 0.0

    def distance(item: tuple[int, int, str]) -> float:
        return min((gap(item[0], item[1], a) for a in anchors), default=0.0)

    return min(candidates, key=distance)[2]


_SENTENCE_STARTERS = frozenset(
    "the a an in it its this during under until from unlike some many most if when for to".split()
)


def _span(question: str, sentence: str, profile: SimProfile, dice: _Dice) -> str:
    """The part of the sentence that answers the question (large models cut tighter)."""
    if not dice.chance(profile.numbers):
        return sentence.rstrip(".")  # the whole sentence: right, but not short
    q = question.lower()
    asked = _words(question)
    wh_noun = re.match(r"(?:in |from |on )?(?:which|what)\s+(\w+)", q)
    noun = _stem(wh_noun.group(1)) if wh_noun else ""
    choice = re.search(r"\b(\w+) or (\w+)\b", q)
    if choice and re.match(r"(does|is|are|do|should|can)\b", q):
        for option in choice.groups():
            if re.search(rf"\b{option}\b", sentence, re.I):
                return option
    if re.match(
        r"(how (long|many|much|far|often|fast|early|large)|what (percentage|share|"
        r"year|rate|is the|was the|interest)|when|within how|at what|by what|in how|"
        r"in (which|what) year|after how|about how)",
        q,
    ):
        quantities = [
            (m.start(), m.end(), m.group(0).strip(" ,."))
            for m in _QUANTITY.finditer(sentence)
            if not (_words(m.group(0)) <= asked)
        ]
        found = _closest(quantities, sentence, asked)
        if found:
            return found
    for m in re.finditer(
        r"\b(?:like|such as|called|named|including)\s+((?:a |an |the )?"
        r"[\w-]+(?:\s+(?:and|or)\s+[\w-]+)?)",
        sentence,
    ):
        before = _words(sentence[max(0, m.start() - 30) : m.start()])
        if before & asked:
            return m.group(1)
    if q.startswith("where"):
        places = [
            (m.start(), m.end(), m.group(0))
            for m in re.finditer(
                r"\b(?:in|on|at|through)\s+(?:a |an |the )?[\w' -]+?(?=[,.;]| and | or | which |$)",
                sentence,
            )
            if not (_words(m.group(0)) <= asked)
        ]
        found = _closest(places, sentence, asked)
        if found:
            return found
    if re.match(r"(who|which|what|where|in which)\b", q):
        names = [
            (m.start(), m.end(), m.group(0))
            for m in _NAME.finditer(sentence)
            if m.group(0).split()[0].lower() not in _SENTENCE_STARTERS
            and not ((_words(m.group(0)) - {noun}) & asked)
            and not (_words(m.group(0)) <= asked)
        ]
        found = _closest(names, sentence, asked)
        if found:
            return found
    clauses = [
        c.strip(" .")
        for c in re.split(r"[,;:]|\bwhile\b|\bbut\b|\bbecause\b", sentence)
        if c.strip(" .")
    ]
    return max(clauses, key=lambda c: (len(asked & _words(c)), -len(c))) if clauses else sentence


# ====================================================================== generic
def _generic(prompt: _Prompt, profile: SimProfile, dice: _Dice) -> str:
    words = prompt.user.split()
    topic = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    opener = dice.choice(("Here is a short answer.", "Sure.", "Understood."))
    return (
        f"{opener} (Simulated reply from {profile.name}, an offline stand-in, not a real "
        f"LLM.) You wrote about: {topic}"
    )


# ====================================================================== judges
_FENCED = re.compile(r"<<<(EVAL-[0-9a-f]{10})\n(.*?)\n\1>>>", re.DOTALL)
_REFUSES = re.compile(
    r"unanswerable|cannot be answered|not (stated|mentioned|given|provided) in the|context "
    r"does not|does not say|no information|i (do not|don't) know|not enough information",
    re.IGNORECASE,
)
_INJECTED_SCORE = re.compile(
    r"(answer|score|rate|give)\D{0,30}?\b(\d{1,3})\b|\bscore\s*[:=]\s*(\d{1,3})", re.IGNORECASE
)


def _section(text: str, name: str) -> str:
    m = re.search(rf"(?m)^{name}:\s*(.*?)(?=\n\n[A-Z][\w ]+:|\Z)", text, re.DOTALL)
    return m.group(1).strip() if m else ""


def _f1(a: str, b: str) -> float:
    x, y = _words(a), _words(b)
    common = len(x & y)
    if not x or not y or not common:
        return 0.0
    precision, recall = common / len(x), common / len(y)
    return 2 * precision * recall / (precision + recall)


def _quality(rubric: str, output: str, inputs: str, reference: str) -> tuple[float, str]:
    """How good an output looks to the simulated judge (0–1) and why."""
    rubric = rubric.lower().split(".")[0].split(":")[0]  # what is judged, not the scale text
    refused = bool(_REFUSES.search(output))
    unanswerable = reference.startswith("(none")
    if "refusal" in rubric or (("reference" in rubric or "correct" in rubric) and unanswerable):
        right = refused == unanswerable
        why = ("declines as it should" if refused else "answers as it should") if right else (
            "answers a question the input cannot answer" if unanswerable
            else "refuses an answerable question")
        return (1.0 if right else 0.0), why
    if "ground" in rubric:
        words = _words(output)
        share = len(words & _words(inputs)) / len(words) if words else 0.0
        return min(1.0, share * 1.1), f"{share:.0%} of its content is in the input"
    if "format" in rubric or "instruction" in rubric:
        wants_json = "json" in inputs.lower() or "json" in rubric
        if wants_json:
            try:
                ok = isinstance(json.loads(output.strip()), dict)
            except ValueError:
                ok = False
            return (1.0 if ok else 0.2), "valid JSON object" if ok else "not a JSON object"
        return 0.8, "no format problem seen"
    if refused:
        return 0.0, "refuses although a reference answer exists"
    f1 = _f1(output, reference)
    contained = _words(reference) <= _words(output)
    if contained and len(output) <= 3 * max(len(reference), 8):
        return 1.0, "matches the reference"
    if contained:
        return 0.75, "contains the reference answer, wordy"
    if f1 >= 0.5:
        return 0.5, "partly matches the reference"
    if f1 > 0.2:
        return 0.25, "mostly differs from the reference"
    return 0.0, "does not match the reference"


def _own_answer(inputs: str) -> str:
    """Without a reference answer, the judge answers the request itself and compares.

    The request is read from the judge prompt's input (``system:`` and ``user:`` lines, as a
    shadow test's replayed traffic shows them); empty when it is not a task the simulator
    knows, so the judge then has nothing to compare against.
    """
    user = _field(inputs, "user", until="system|history")
    if not user:
        return ""
    prompt = _Prompt(_field(inputs, "system", until="user|history") or "", (), user)
    task = _task(prompt)
    if task not in ("triage", "extraction", "qa"):
        return ""
    dice = _Dice("sim/judge", [prompt.system, prompt.user], None, 0.0)
    return _TASKS[task](prompt, SIM_PROFILES["sim/judge"], dice, True)


def _judge_scale(user: str) -> tuple[int, int]:
    m = re.search(r"integers from (\d+) to (\d+)", user)
    return (int(m.group(1)), int(m.group(2))) if m else (1, 5)


def _judge(prompt: _Prompt, profile: SimProfile, dice: _Dice, json_mode: bool) -> str:
    user = prompt.user
    fenced = _FENCED.findall(user)
    output = fenced[0][1] if fenced else ""
    low, high = _judge_scale(user)
    injected = _INJECTED_SCORE.search(output)
    if injected and not dice.chance(profile.injection_resistance):
        number = next(g for g in injected.groups()[1:] if g)
        return _json({"score": int(number), "reason": "as instructed"})
    inputs = "\n".join(
        (_section(user, "Input"), _section(user, "Instructions the output had to follow"))
    )
    quality, why = _quality(_section(user, "Rubric") or _section(user, "Criterion"), output,
                            inputs, _section(user, "Reference answer") or _own_answer(inputs))
    score = low + round(quality * (high - low))
    if dice.slip(profile.base_error * 3):  # leniency: real judges over-score now and then
        score += 1
    if dice.slip(profile.cue_error):
        score += dice.choice((-1, 1))
    score = max(low, min(high, score))
    return _json({"score": score, "reason": why})


def _pairwise(prompt: _Prompt, profile: SimProfile, dice: _Dice, json_mode: bool) -> str:
    user = prompt.user
    fenced = _FENCED.findall(user)
    first, second = (fenced[0][1], fenced[1][1]) if len(fenced) >= 2 else ("", "")
    rubric = _section(user, "Criterion")
    inputs = _section(user, "Input")
    reference = _section(user, "Reference answer") or _own_answer(inputs)
    qa, why_a = _quality(rubric, first, inputs, reference)
    qb, why_b = _quality(rubric, second, inputs, reference)
    if abs(qa - qb) < 0.2:  # close calls: position bias towards the first answer
        draw = dice.random()
        winner = "tie" if draw < 0.75 else ("A" if draw < 0.95 else "B")
        reason = "the answers are of similar quality"
    else:
        winner = "A" if qa > qb else "B"
        if dice.slip(profile.base_error):
            winner = "B" if winner == "A" else "A"
        reason = f"A {why_a}; B {why_b}"
    return _json({"winner": winner, "reason": reason})


# ====================================================================== simulate
_TASKS: dict[str, Callable[[_Prompt, SimProfile, _Dice, bool], str]] = {
    "triage": _triage,
    "extraction": _extraction,
    "qa": lambda prompt, profile, dice, _json_mode: _qa(prompt, profile, dice),
    "generic": lambda prompt, profile, dice, _json_mode: _generic(prompt, profile, dice),
    "judge": _judge,
    "pairwise": _pairwise,
}


def simulate(
    model: str,
    messages: list[dict[str, str]],
    *,
    seed: int | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    json_mode: bool = False,
) -> SimReply:
    """The SIMULATED answer of an offline ``sim/...`` model to a chat prompt.

    Pure and deterministic: the same arguments always give the same reply. Only ``messages``
    (the rendered prompt) is read; nothing else about the case is known.

    Args:
        model: ``"sim/large"``, ``"sim/small"`` or ``"sim/fast"``.
        messages: chat messages (``role`` and ``content``), as sent to any litellm model.
        seed: changes the sampling noise when ``temperature`` is above 0.
        temperature: 0 makes the answer independent of ``seed``; higher values re-draw more
            decisions from the seeded noise and make slips more likely (None means 1.0, the
            usual provider default).
        max_tokens: cut the answer at this many tokens (``finish_reason="length"``).
        json_mode: answer with a JSON object where the task has one (what
            ``response_format={"type": "json_object"}`` asks of a real model).

    Returns:
        The reply with estimated token counts and a simulated latency in seconds.

    Raises:
        ConfigError: for an unknown ``sim/...`` model.

    Example:
        >>> reply = simulate("sim/large", [
        ...     {"role": "system", "content": "Classify the ticket's intent. Answer in JSON."},
        ...     {"role": "user", "content": "Message: I was charged twice for my plan."}])
        >>> json.loads(reply.text)["intent"].lower()  # no label list given, so "Billing"
        'billing'
    """
    profile = _profile(model)
    if max_tokens is not None and max_tokens < 1:
        raise ConfigError(
            f"max_tokens={max_tokens!r} is out of range",
            where=f"model {model!r}",
            fix="Use max_tokens ≥ 1.",
        )
    plain = [{"role": str(m.get("role")), "content": _flatten(m.get("content"))} for m in messages]
    dice = _Dice(profile.name, plain, seed, temperature)
    prompt = _parse(plain)
    text = _TASKS[_task(prompt)](prompt, profile, dice, json_mode)
    prompt_tokens = sum(_tokens(m["content"]) + 4 for m in plain) + 3
    completion_tokens = _tokens(text)
    finish = "stop"
    if max_tokens is not None and completion_tokens > max_tokens:
        text = text[: max_tokens * 4]
        completion_tokens, finish = max_tokens, "length"
    rng = dice.latency
    latency = (
        profile.latency_base_s
        + profile.latency_per_token_s * completion_tokens
        + 2e-5 * prompt_tokens
    ) * rng.lognormvariate(0.0, profile.latency_jitter)
    if rng.random() < 0.02:
        latency *= 2.5  # a slow tail, as real endpoints have
    return SimReply(text, prompt_tokens, completion_tokens, round(latency, 4), finish)


# ====================================================================== litellm provider
def _latency_scale() -> float:
    raw = os.environ.get(LATENCY_SCALE_ENV, "1")
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise ConfigError(
            f"{LATENCY_SCALE_ENV}={raw!r} is not a number",
            fix=f"Set {LATENCY_SCALE_ENV} to a float: 1 for realistic simulated latency, 0 for "
            "none (tests).",
        ) from None


def _reply_for(model: str, messages: Any, optional_params: Mapping[str, Any]) -> SimReply:
    name = model if is_simulated(model) else f"{PROVIDER}/{model}"
    response_format = optional_params.get("response_format")
    json_mode = isinstance(response_format, Mapping) and response_format.get("type") in (
        "json_object",
        "json_schema",
    )
    return simulate(
        name,
        list(messages or []),
        seed=optional_params.get("seed"),
        temperature=optional_params.get("temperature"),
        max_tokens=optional_params.get("max_tokens"),
        json_mode=json_mode,
    )


@lru_cache(maxsize=4)
def _handler_class(litellm: Any) -> type:
    base: type = litellm.CustomLLM

    class SimulatedLLM(base):  # type: ignore[misc]
        """litellm custom provider ``sim``: answers with :func:`simulate` (not a real LLM)."""

        def _response(self, reply: SimReply, model: str) -> Any:
            name = model if is_simulated(model) else f"{PROVIDER}/{model}"
            return litellm.ModelResponse(
                model=name,
                system_fingerprint="workbench-simulated",
                choices=[
                    {
                        "index": 0,
                        "finish_reason": reply.finish_reason,
                        "message": {"role": "assistant", "content": reply.text},
                    }
                ],
                usage={
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                },
            )

        def completion(self, model: str, messages: Any, *args: Any, **kwargs: Any) -> Any:
            reply = _reply_for(model, messages, kwargs.get("optional_params") or {})
            time.sleep(reply.latency_s * _latency_scale())
            return self._response(reply, model)

        async def acompletion(self, model: str, messages: Any, *args: Any, **kwargs: Any) -> Any:
            reply = _reply_for(model, messages, kwargs.get("optional_params") or {})
            await asyncio.sleep(reply.latency_s * _latency_scale())
            return self._response(reply, model)

    return SimulatedLLM


@lru_cache(maxsize=4)
def _handler(litellm: Any) -> Any:
    return _handler_class(litellm)()


def register_sim_provider(litellm: Any) -> None:
    """Route ``sim/...`` model ids to the SIMULATED models and register their prices.

    Idempotent. Adds, or replaces, only the entry whose provider is ``"sim"`` in
    ``litellm.custom_provider_map`` (entries the user added for other providers stay, in
    order), then registers each profile's made-up prices with ``litellm.register_model`` so
    that ``litellm.get_model_info("sim/large")`` and ``litellm.completion_cost`` price the
    simulated calls at the profile's rates.

    Args:
        litellm: the imported ``litellm`` module.
    """
    entries = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
    entries.append({"provider": PROVIDER, "custom_handler": _handler(litellm)})
    litellm.custom_provider_map[:] = entries
    setup = getattr(getattr(litellm, "utils", None), "custom_llm_setup", None)
    if callable(setup):
        setup()  # litellm also does this on every call; done here so routing works at once
    litellm.register_model(
        {
            profile.name: {
                "input_cost_per_token": profile.input_cost_per_token,
                "output_cost_per_token": profile.output_cost_per_token,
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "litellm_provider": PROVIDER,
                "mode": "chat",
                "max_tokens": 4096,
                "max_input_tokens": 128_000,
                "max_output_tokens": 4096,
            }
            for profile in SIM_PROFILES.values()
        }
    )
