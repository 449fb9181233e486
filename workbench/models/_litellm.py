"""The one place litellm is imported (lazily: the import takes seconds)."""

from __future__ import annotations

import os
from functools import cache
from importlib.metadata import version
from types import ModuleType


@cache
def litellm() -> ModuleType:
    """Import litellm with its bundled cost map (no network fetch, reproducible prices)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm as module

    module.suppress_debug_info = True  # no "Give Feedback / Get Help" banners in user output
    from .sim import register_sim_provider  # the offline sim/ models, priced

    register_sim_provider(module)
    return module


def litellm_version() -> str:
    """Installed litellm version, without importing it."""
    return version("litellm")
