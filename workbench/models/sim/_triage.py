"""Simulated support-ticket triage: intent and priority from cue words in the ticket.

Mistakes come from what the ticket's text invites (negation, several intents, typos, mixed
languages, sarcasm, planted instructions) and from the model's profile; a label list in the
prompt and few-shot examples reduce them (DESIGN.md, Settled 11).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ._profiles import SimProfile
from ._prompt import Dice, Prompt, payload, to_json
from ._triage_lexicon import FREE_WORDING, INTENTS, LEXICON, NEIGHBOURS, PRIORITIES

_COMPILED = {
    intent: [(re.compile(rx, re.I), weight, kind) for rx, weight, kind in cues]
    for intent, cues in LEXICON.items()
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
        found = [i for i in INTENTS if i in span] or (
            ["refund_request"] if "refund bot" in span else []
        )
        intent = intent or (found[0] if found else None)
        priority = priority or next((p for p in PRIORITIES if p in span), None)
    return intent, priority


def _learned(p: float, shots: int) -> float:
    """A skill after ``shots`` few-shot examples: each closes 15% of the remaining gap."""
    return 1 - (1 - p) * 0.85 ** min(shots, 4)


def _intent_scores(text: str, profile: SimProfile, dice: Dice, shots: int) -> dict[str, float]:
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
    return sorted(INTENTS, key=lambda i: (-scores[i], INTENTS.index(i)))


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


def triage(prompt: Prompt, profile: SimProfile, dice: Dice, json_mode: bool) -> str:
    message = payload(prompt.user, "message|ticket|customer message|text|email|body")
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
    labels_listed = sum(label in prompt.instructions for label in INTENTS) >= 6
    p = profile.base_error + profile.cue_error * _difficulty_cues(message, scores, injected)
    p *= 0.7 if labels_listed else 1.0
    p *= 0.75 if shots >= 2 else 1.0
    if dice.slip(p):
        runner_up = ranked[1] if scores[ranked[1]] > 0 else None
        intent = runner_up if runner_up and dice.chance(0.7) else dice.choice(NEIGHBOURS[intent])
    priority = _priority(text, intent)
    if dice.slip(p + 0.05):
        index = PRIORITIES.index(priority) + (1 if dice.chance(0.5) else -1)
        priority = PRIORITIES[min(3, max(0, index))]
    intent, priority = forced[0] or intent, forced[1] or priority
    return _triage_text(prompt, profile, dice, json_mode, intent, priority, labels_listed)


def _triage_text(
    prompt: Prompt,
    profile: SimProfile,
    dice: Dice,
    json_mode: bool,
    intent: str,
    priority: str,
    labels_listed: bool,
) -> str:
    shot_answers = prompt.answers
    json_shots = any(a.startswith("{") for a in shot_answers)
    wants_json = json_mode or json_shots or "json" in prompt.instructions
    taught = labels_listed or any(a.lower() in INTENTS or '"intent"' in a for a in shot_answers)
    if taught:
        label = intent
    elif dice.chance(profile.free_form):
        label = dice.choice(FREE_WORDING[intent])
    else:
        label = intent.replace("_", " ").capitalize()
    if wants_json:
        body = to_json({"intent": label, "priority": priority})
        if not json_mode and not json_shots and dice.slip(profile.format_error):
            return f"```json\n{body}\n```"  # weaker models wrap JSON in a code fence
        return body
    if "priority" in prompt.instructions and not shot_answers:
        return f"{label}, {priority}"
    return label

