"""Which task a prompt asks for, and the simulated answerers of the ordinary tasks.

Tasks are recognised from the prompt alone: support-ticket triage, invoice extraction,
grounded question answering, an LLM-judge prompt (rubric or pairwise, in the format of
``workbench.models._judge_format``); anything else gets a short generic reply.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .._judge_format import parse_judge_prompt
from ._extraction import extraction
from ._profiles import SimProfile
from ._prompt import Dice, Prompt
from ._qa import qa
from ._triage import triage
from ._triage_lexicon import INTENTS

Answerer = Callable[[Prompt, SimProfile, Dice, bool], str]
"""A task's simulated answer: (prompt, profile, dice, json_mode) → text."""


def detect_task(prompt: Prompt) -> str:
    """The task a prompt asks for (a judge prompt is recognised by the shared judge format)."""
    judged = parse_judge_prompt(prompt.system, prompt.user)
    if judged is not None:
        return "pairwise" if judged.kind == "pairwise" else "judge"
    answers = " ".join(prompt.answers).lower()
    if '"vendor"' in answers or '"total"' in answers:
        return "extraction"
    if '"intent"' in answers or any(a.lower() in INTENTS for a in prompt.answers):
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


def _generic(prompt: Prompt, profile: SimProfile, dice: Dice) -> str:
    words = prompt.user.split()
    topic = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    opener = dice.choice(("Here is a short answer.", "Sure.", "Understood."))
    return (
        f"{opener} (Simulated reply from {profile.name}, an offline stand-in, not a real "
        f"LLM.) You wrote about: {topic}"
    )


ANSWERERS: dict[str, Answerer] = {
    "triage": triage,
    "extraction": extraction,
    "qa": lambda prompt, profile, dice, _json_mode: qa(prompt, profile, dice),
    "generic": lambda prompt, profile, dice, _json_mode: _generic(prompt, profile, dice),
}
"""The answerers of every task but the judges'."""
