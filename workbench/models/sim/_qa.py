"""Simulated grounded question answering: a span of the context, or a refusal."""

from __future__ import annotations

import re

from ._profiles import SimProfile
from ._prompt import Dice, Prompt, field

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


def stem(word: str) -> str:
    for suffix in ("ings", "ing", "ed", "es", "s", "ly"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word[:5]


def content_words(text: str) -> set[str]:
    return {stem(w) for w in re.findall(r"[^\W_]+", text.lower()) if w not in _STOP}


def qa(prompt: Prompt, profile: SimProfile, dice: Dice) -> str:
    user = prompt.user
    context = field(user, "context|passage|document", until="question") or user
    question = field(user, "question", until="context|passage") or user
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
    asked = content_words(question)
    if not sentences or not asked:
        return refusal
    missing = asked - content_words(context)
    # names and numbers in the question that the context never mentions
    specific = {
        stem(w.lower())
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

    names = {stem(w.lower()) for w in re.findall(r"\b[A-Z][\w-]+", question[1:])}

    def overlap(sentence: str) -> float:
        # the passage's topic names are in most sentences: they count half
        return sum(0.5 if w in names else 1.0 for w in asked & content_words(sentence))

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
        if stem(m.group(0).lower()) in asked
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


def _span(question: str, sentence: str, profile: SimProfile, dice: Dice) -> str:
    """The part of the sentence that answers the question (large models cut tighter)."""
    if not dice.chance(profile.numbers):
        return sentence.rstrip(".")  # the whole sentence: right, but not short
    q = question.lower()
    asked = content_words(question)
    wh_noun = re.match(r"(?:in |from |on )?(?:which|what)\s+(\w+)", q)
    noun = stem(wh_noun.group(1)) if wh_noun else ""
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
            if not (content_words(m.group(0)) <= asked)
        ]
        found = _closest(quantities, sentence, asked)
        if found:
            return found
    for m in re.finditer(
        r"\b(?:like|such as|called|named|including)\s+((?:a |an |the )?"
        r"[\w-]+(?:\s+(?:and|or)\s+[\w-]+)?)",
        sentence,
    ):
        before = content_words(sentence[max(0, m.start() - 30) : m.start()])
        if before & asked:
            return m.group(1)
    if q.startswith("where"):
        places = [
            (m.start(), m.end(), m.group(0))
            for m in re.finditer(
                r"\b(?:in|on|at|through)\s+(?:a |an |the )?[\w' -]+?(?=[,.;]| and | or | which |$)",
                sentence,
            )
            if not (content_words(m.group(0)) <= asked)
        ]
        found = _closest(places, sentence, asked)
        if found:
            return found
    if re.match(r"(who|which|what|where|in which)\b", q):
        names = [
            (m.start(), m.end(), m.group(0))
            for m in _NAME.finditer(sentence)
            if m.group(0).split()[0].lower() not in _SENTENCE_STARTERS
            and not ((content_words(m.group(0)) - {noun}) & asked)
            and not (content_words(m.group(0)) <= asked)
        ]
        found = _closest(names, sentence, asked)
        if found:
            return found
    clauses = [
        c.strip(" .")
        for c in re.split(r"[,;:]|\bwhile\b|\bbut\b|\bbecause\b", sentence)
        if c.strip(" .")
    ]
    if not clauses:
        return sentence
    return max(clauses, key=lambda c: (len(asked & content_words(c)), -len(c)))

