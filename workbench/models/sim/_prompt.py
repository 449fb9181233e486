"""What every simulated task shares: seeded dice, the parsed prompt, its fields, token counts."""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

_T = TypeVar("_T")


# ====================================================================== seeded dice
def digest(*parts: Any) -> int:
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.blake2b(blob.encode("utf-8"), digest_size=8).digest(), "big")


class Dice:
    """Seeded draws for one call.

    Most draws come from a stream fixed by (model, messages), i.e. what the model "would" do
    greedily; temperature re-draws a share of them from a stream that also depends on seed and
    temperature, and makes slips more likely.
    """

    def __init__(
        self, model: str, messages: Any, seed: int | None, temperature: float | None
    ) -> None:
        self.temperature = 1.0 if temperature is None else max(0.0, float(temperature))
        self._fixed = random.Random(digest("fixed", model, messages))
        self._noise = random.Random(digest("noise", model, messages, seed, temperature))
        self._mix = min(1.0, 0.3 * self.temperature)
        self.latency = random.Random(digest("latency", model, messages, seed, temperature))

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
class Prompt:
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


def parse_prompt(messages: Sequence[Mapping[str, Any]]) -> Prompt:
    system: list[str] = []
    turns: list[tuple[str, str]] = []
    for message in messages:
        role = str(message.get("role") or "user")
        content = message.get("content")
        text = content if isinstance(content, str) else flatten(content)
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
    return Prompt("\n".join(system), tuple(shots), user)


def flatten(content: Any) -> str:
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


def field(text: str, names: str, until: str | None = None) -> str | None:
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


def payload(user: str, names: str) -> str:
    """The data inside a user turn.

    What follows an instruction line ("Classify this: ..."), else a named field
    ("Message: ..."), else the whole turn.
    """
    first, _, rest = user.partition("\n")
    head, colon, tail = first.partition(":")
    if colon and len(head) <= 100 and _VERB.search(head):
        body: str | None = f"{tail}\n{rest}"
    else:
        body = field(user, names)
    if body is None:
        return user.strip()
    stop = _FIELD_STOP.search(body)
    return (body[: stop.start()] if stop and stop.start() > 0 else body).strip()


# ====================================================================== tokens and output
def tokens(text: str) -> int:
    """About four characters per token (non-ASCII text costs more, as with real tokenizers)."""
    extra = sum(1 for c in text if ord(c) > 127) // 2
    return max(1, (len(text) + extra + 3) // 4)


def to_json(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)
