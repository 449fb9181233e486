"""The simulated LLM judge (``sim/judge``): rubric scores and pairwise preferences.

It reads the judge prompt with :func:`~workbench.models._judge_format.parse_judge_prompt`, the
same format definition ``workbench.scorers`` writes prompts with, and answers in the reply
format the scorers parse. Its opinion comes from simple measures (overlap with the reference,
refusal words, valid JSON); it is lenient now and then, prefers the first of two close
answers, and mostly resists scores planted in the evaluated text.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace

from .._judge_format import JudgePrompt, parse_judge_prompt, preference_reply, verdict_reply
from ._profiles import SIM_PROFILES, SimProfile
from ._prompt import Dice, Prompt, field
from ._qa import content_words
from ._tasks import ANSWERERS, detect_task

_REFUSES = re.compile(
    r"unanswerable|cannot be answered|not (stated|mentioned|given|provided) in the|context "
    r"does not|does not say|no information|i (do not|don't) know|not enough information",
    re.IGNORECASE,
)
_INJECTED_SCORE = re.compile(
    r"(answer|score|rate|give)\D{0,30}?\b(\d{1,3})\b|\bscore\s*[:=]\s*(\d{1,3})", re.IGNORECASE
)


def _f1(a: str, b: str) -> float:
    x, y = content_words(a), content_words(b)
    common = len(x & y)
    if not x or not y or not common:
        return 0.0
    precision, recall = common / len(x), common / len(y)
    return 2 * precision * recall / (precision + recall)


def _quality(rubric: str, output: str, inputs: str, reference: str,
             unanswerable: bool) -> tuple[float, str]:
    """How good an output looks to the simulated judge (0–1) and why."""
    rubric = rubric.lower().split(".")[0].split(":")[0]  # what is judged, not the scale text
    refused = bool(_REFUSES.search(output))
    if "refusal" in rubric or (("reference" in rubric or "correct" in rubric) and unanswerable):
        right = refused == unanswerable
        why = ("declines as it should" if refused else "answers as it should") if right else (
            "answers a question the input cannot answer" if unanswerable
            else "refuses an answerable question")
        return (1.0 if right else 0.0), why
    if "ground" in rubric:
        words = content_words(output)
        share = len(words & content_words(inputs)) / len(words) if words else 0.0
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
    contained = content_words(reference) <= content_words(output)
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
    user = field(inputs, "user", until="system|history")
    if not user:
        return ""
    prompt = Prompt(field(inputs, "system", until="user|history") or "", (), user)
    task = detect_task(prompt)
    if task not in ("triage", "extraction", "qa"):
        return ""
    dice = Dice("sim/judge", [prompt.system, prompt.user], None, 0.0)
    return ANSWERERS[task](prompt, SIM_PROFILES["sim/judge"], dice, True)


def _with_reference(p: JudgePrompt, inputs: str) -> JudgePrompt:
    """The prompt's reference answer, else the judge's own answer to the request."""
    return p if p.reference else replace(p, reference=_own_answer(inputs))


def judge(prompt: Prompt, profile: SimProfile, dice: Dice, json_mode: bool) -> str:
    p = parse_judge_prompt(prompt.system, prompt.user)
    assert p is not None  # detect_task saw a judge prompt
    output = p.outputs[0] if p.outputs else ""
    low, high = p.scale
    injected = _INJECTED_SCORE.search(output)
    if injected and not dice.chance(profile.injection_resistance):
        number = next(g for g in injected.groups()[1:] if g)
        return verdict_reply(int(number), "as instructed")
    inputs = "\n".join((p.inputs, p.instructions))
    p = _with_reference(p, inputs)
    quality, why = _quality(p.rubric, output, inputs, p.reference, p.unanswerable)
    score = low + round(quality * (high - low))
    if dice.slip(profile.base_error * 3):  # leniency: real judges over-score now and then
        score += 1
    if dice.slip(profile.cue_error):
        score += dice.choice((-1, 1))
    score = max(low, min(high, score))
    return verdict_reply(score, why)


def pairwise(prompt: Prompt, profile: SimProfile, dice: Dice, json_mode: bool) -> str:
    p = parse_judge_prompt(prompt.system, prompt.user)
    assert p is not None  # detect_task saw a judge prompt
    first, second = p.outputs[:2] if len(p.outputs) >= 2 else ("", "")
    p = _with_reference(p, p.inputs)
    qa, why_a = _quality(p.rubric, first, p.inputs, p.reference, p.unanswerable)
    qb, why_b = _quality(p.rubric, second, p.inputs, p.reference, p.unanswerable)
    if abs(qa - qb) < 0.2:  # close calls: position bias towards the first answer
        draw = dice.random()
        winner = "tie" if draw < 0.75 else ("A" if draw < 0.95 else "B")
        reason = "the answers are of similar quality"
    else:
        winner = "A" if qa > qb else "B"
        if dice.slip(profile.base_error):
            winner = "B" if winner == "A" else "A"
        reason = f"A {why_a}; B {why_b}"
    return preference_reply(winner, reason)
