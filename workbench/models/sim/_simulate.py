"""``simulate``: one SIMULATED answer, its token counts and latency, from the prompt alone."""

from __future__ import annotations

from workbench.errors import ConfigError

from ._judges import judge, pairwise
from ._profiles import SimReply, profile_of
from ._prompt import Dice, flatten, parse_prompt, tokens
from ._tasks import ANSWERERS, Answerer, detect_task

_TASKS: dict[str, Answerer] = {**ANSWERERS, "judge": judge, "pairwise": pairwise}


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
        model: ``"sim/large"``, ``"sim/small"``, ``"sim/fast"`` or ``"sim/judge"``.
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
        >>> import json
        >>> reply = simulate("sim/large", [
        ...     {"role": "system", "content": "Classify the ticket's intent. Answer in JSON."},
        ...     {"role": "user", "content": "Message: I was charged twice for my plan."}])
        >>> json.loads(reply.text)["intent"].lower()  # no label list given, so "Billing"
        'billing'
    """
    profile = profile_of(model)
    if max_tokens is not None and max_tokens < 1:
        raise ConfigError(
            f"max_tokens={max_tokens!r} is out of range",
            where=f"model {model!r}",
            fix="Use max_tokens ≥ 1.",
        )
    plain = [{"role": str(m.get("role")), "content": flatten(m.get("content"))} for m in messages]
    dice = Dice(profile.name, plain, seed, temperature)
    prompt = parse_prompt(plain)
    text = _TASKS[detect_task(prompt)](prompt, profile, dice, json_mode)
    prompt_tokens = sum(tokens(m["content"]) + 4 for m in plain) + 3
    completion_tokens = tokens(text)
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

