"""Models: ``ModelSpec`` (any litellm model string), pricing, the call path, simulated models.

This is the only package that imports litellm (lazily: ``import workbench`` stays fast).

Example:
    >>> from workbench.models import ModelSpec
    >>> spec = ModelSpec("openai/gpt-4o-mini", temperature=0, api_key_env="OPENAI_API_KEY")
    >>> spec.params()["model"]
    'openai/gpt-4o-mini'
"""

from ._cache import CallCache, default_cache_dir
from ._executor import RetryPolicy
from ._sim import SIM_PROFILES, SimProfile, SimReply, is_simulated, simulate
from ._spec import ModelSpec, Pricing

__all__ = [
    "SIM_PROFILES",
    "CallCache",
    "ModelSpec",
    "Pricing",
    "RetryPolicy",
    "SimProfile",
    "SimReply",
    "default_cache_dir",
    "is_simulated",
    "simulate",
]
