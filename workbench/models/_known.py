"""Model names litellm knows (its bundled cost map) and the simulated ones: "did you mean"."""

from __future__ import annotations

import difflib
from functools import cache

from ._litellm import litellm
from .sim import SIM_PROFILES

__all__ = ["close_model_ids", "known_model_ids"]

_MODES = ("chat", "responses", "completion")


@cache
def known_model_ids() -> tuple[str, ...]:
    """Chat model strings in the installed litellm's local cost map, and the ``sim/`` models.

    A map entry without its provider prefix (``gpt-4o-mini``, provider ``openai``) is listed
    both ways (``gpt-4o-mini`` and ``openai/gpt-4o-mini``): users type either.

    Example:
        >>> "openai/gpt-4o-mini" in known_model_ids() and "sim/large" in known_model_ids()
        True
    """
    names = set(SIM_PROFILES)
    for key, info in litellm().model_cost.items():
        if not isinstance(info, dict) or info.get("mode") not in _MODES:
            continue
        names.add(key)
        provider = info.get("litellm_provider")
        if isinstance(provider, str) and provider and not key.startswith(f"{provider}/"):
            names.add(f"{provider}/{key}")
    return tuple(sorted(names))


def close_model_ids(text: str, n: int = 3, cutoff: float = 0.75) -> list[str]:
    """Known model strings close to ``text`` (a typo's "did you mean"), best first.

    Compared with :func:`difflib.get_close_matches` (case-insensitive) against
    :func:`known_model_ids`; ``text`` itself is never suggested.

    Example:
        >>> close_model_ids("sim/lage")[0]
        'sim/large'
        >>> close_model_ids("openai/gpt-4o-mni")[0]
        'openai/gpt-4o-mini'
    """
    wanted = text.strip().lower()
    if not wanted:
        return []
    names = {name.lower(): name for name in known_model_ids()}
    found = difflib.get_close_matches(wanted, list(names), n=n + 1, cutoff=cutoff)
    return [names[f] for f in found if f != wanted][:n]
