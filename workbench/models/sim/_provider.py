"""The litellm custom provider ``sim``: routes ``sim/...`` model ids to :func:`simulate`, priced."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from workbench.errors import ConfigError

from ._profiles import PROVIDER, SIM_PROFILES, SimReply, is_simulated
from ._simulate import simulate

LATENCY_SCALE_ENV = "WORKBENCH_SIM_LATENCY_SCALE"


def _latency_scale() -> float:
    raw = os.environ.get(LATENCY_SCALE_ENV, "1")
    try:
        return max(0.0, float(raw))
    except ValueError:
        raise ConfigError(
            f"{LATENCY_SCALE_ENV}={raw!r} is not a number",
            fix=f"Set {LATENCY_SCALE_ENV} to a float: 1 for realistic simulated latency, 0 for "
            "none (tests).",
        ) from None


def _reply_for(model: str, messages: Any, optional_params: Mapping[str, Any]) -> SimReply:
    name = model if is_simulated(model) else f"{PROVIDER}/{model}"
    response_format = optional_params.get("response_format")
    json_mode = isinstance(response_format, Mapping) and response_format.get("type") in (
        "json_object",
        "json_schema",
    )
    return simulate(
        name,
        list(messages or []),
        seed=optional_params.get("seed"),
        temperature=optional_params.get("temperature"),
        max_tokens=optional_params.get("max_tokens"),
        json_mode=json_mode,
    )


@lru_cache(maxsize=4)
def _handler_class(litellm: Any) -> type:
    base: type = litellm.CustomLLM

    class SimulatedLLM(base):  # type: ignore[misc]
        """litellm custom provider ``sim``: answers with :func:`simulate` (not a real LLM)."""

        def _response(self, reply: SimReply, model: str) -> Any:
            name = model if is_simulated(model) else f"{PROVIDER}/{model}"
            return litellm.ModelResponse(
                model=name,
                system_fingerprint="workbench-simulated",
                choices=[
                    {
                        "index": 0,
                        "finish_reason": reply.finish_reason,
                        "message": {"role": "assistant", "content": reply.text},
                    }
                ],
                usage={
                    "prompt_tokens": reply.prompt_tokens,
                    "completion_tokens": reply.completion_tokens,
                    "total_tokens": reply.prompt_tokens + reply.completion_tokens,
                },
            )

        def completion(self, model: str, messages: Any, *args: Any, **kwargs: Any) -> Any:
            reply = _reply_for(model, messages, kwargs.get("optional_params") or {})
            time.sleep(reply.latency_s * _latency_scale())
            return self._response(reply, model)

        async def acompletion(self, model: str, messages: Any, *args: Any, **kwargs: Any) -> Any:
            reply = _reply_for(model, messages, kwargs.get("optional_params") or {})
            await asyncio.sleep(reply.latency_s * _latency_scale())
            return self._response(reply, model)

    return SimulatedLLM


@lru_cache(maxsize=4)
def _handler(litellm: Any) -> Any:
    return _handler_class(litellm)()


def register_sim_provider(litellm: Any) -> None:
    """Route ``sim/...`` model ids to the SIMULATED models and register their prices.

    Idempotent. Adds, or replaces, only the entry whose provider is ``"sim"`` in
    ``litellm.custom_provider_map`` (entries the user added for other providers stay, in
    order), then registers each profile's made-up prices with ``litellm.register_model`` so
    that ``litellm.get_model_info("sim/large")`` and ``litellm.completion_cost`` price the
    simulated calls at the profile's rates.

    Args:
        litellm: the imported ``litellm`` module.
    """
    entries = [e for e in litellm.custom_provider_map if e.get("provider") != PROVIDER]
    entries.append({"provider": PROVIDER, "custom_handler": _handler(litellm)})
    litellm.custom_provider_map[:] = entries
    setup = getattr(getattr(litellm, "utils", None), "custom_llm_setup", None)
    if callable(setup):
        setup()  # litellm also does this on every call; done here so routing works at once
    litellm.register_model(
        {
            profile.name: {
                "input_cost_per_token": profile.input_cost_per_token,
                "output_cost_per_token": profile.output_cost_per_token,
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "litellm_provider": PROVIDER,
                "mode": "chat",
                "max_tokens": 4096,
                "max_input_tokens": 128_000,
                "max_output_tokens": 4096,
            }
            for profile in SIM_PROFILES.values()
        }
    )
