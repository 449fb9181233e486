"""Models: ``ModelSpec`` (any litellm model string), pricing, the call path, simulated models.

The simulated ``sim/...`` models live in :mod:`workbench.models.sim`. The LLM-judge prompt and
reply format (``render_judge_prompt``, ``parse_judge_prompt``, ...) is defined here once, for
the judges of ``workbench.scorers`` and the simulated judge alike.

This is the only package that imports litellm (lazily: ``import workbench`` stays fast).

Example:
    >>> from workbench.models import ModelSpec
    >>> spec = ModelSpec("openai/gpt-4o-mini", temperature=0, api_key_env="OPENAI_API_KEY")
    >>> spec.params()["model"]
    'openai/gpt-4o-mini'
"""

from ._cache import CallCache, cache_key, default_cache_dir
from ._engine import engine_loop, run_async, run_sync, submit
from ._executor import (
    CONFIG_ERRORS,
    BudgetExhausted,
    BudgetLedger,
    CallExecutor,
    CallRequest,
    CallResult,
    RetryPolicy,
    SharedLimits,
    blank,
)
from ._judge_format import (
    REASON_KEY,
    SCORE_KEY,
    UNANSWERABLE,
    WINNER_KEY,
    JudgePrompt,
    judge_boundary,
    parse_judge_prompt,
    preference_reply,
    render_judge_prompt,
    render_pairwise_prompt,
    strip_evaluated,
    verdict_reply,
)
from ._known import close_model_ids, known_model_ids
from ._litellm import litellm, litellm_version
from ._secrets import redact_secrets
from ._spec import ModelSpec, Pricing
from .sim import SIM_PROFILES, SimProfile, SimReply, is_simulated, simulate

__all__ = [
    "CONFIG_ERRORS",
    "BudgetExhausted",
    "BudgetLedger",
    "CallExecutor",
    "CallRequest",
    "CallResult",
    "blank",
    "cache_key",
    "close_model_ids",
    "engine_loop",
    "known_model_ids",
    "litellm",
    "litellm_version",
    "redact_secrets",
    "run_async",
    "run_sync",
    "submit",
    "REASON_KEY",
    "SCORE_KEY",
    "SIM_PROFILES",
    "UNANSWERABLE",
    "WINNER_KEY",
    "CallCache",
    "JudgePrompt",
    "ModelSpec",
    "Pricing",
    "RetryPolicy",
    "SharedLimits",
    "SimProfile",
    "SimReply",
    "default_cache_dir",
    "is_simulated",
    "judge_boundary",
    "parse_judge_prompt",
    "preference_reply",
    "render_judge_prompt",
    "render_pairwise_prompt",
    "simulate",
    "strip_evaluated",
    "verdict_reply",
]
