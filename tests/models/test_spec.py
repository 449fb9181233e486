"""ModelSpec: validation, pricing from litellm's local map, secrets kept out, real HTTP call."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from workbench.errors import ConfigError
from workbench.models import ModelSpec, Pricing
from workbench.testing import serve

SECRET = "sk-test-0123456789abcdefSECRET"


def test_pricing_comes_from_the_installed_litellm_cost_map() -> None:
    import litellm

    pricing = ModelSpec("openai/gpt-4o-mini").pricing()
    info = litellm.get_model_info("openai/gpt-4o-mini")
    assert pricing.input_per_1m == pytest.approx(info["input_cost_per_token"] * 1e6)
    assert pricing.output_per_1m == pytest.approx(info["output_cost_per_token"] * 1e6)
    assert pricing.source.startswith("litellm ") and "local cost map" in pricing.source


def test_unknown_price_is_refused_before_any_call() -> None:
    with pytest.raises(ConfigError) as info:
        ModelSpec("openai/my-finetune").pricing()
    text = str(info.value)
    assert text.startswith("model 'openai/my-finetune': no price for this model in litellm")
    assert "input_price_per_1m" in text and "accept_unknown_cost=True" in text


def test_price_override_and_accepted_unknown() -> None:
    spec = ModelSpec("openai/my-finetune", input_price_per_1m=0.5, output_price_per_1m=1.5)
    assert spec.pricing() == Pricing(0.5, 1.5, "override")
    assert spec.pricing().cost(2_000_000, 1_000_000) == pytest.approx(2.5)
    unknown = ModelSpec("openai/my-finetune", accept_unknown_cost=True).pricing()
    assert unknown.source == "unknown (accepted)" and unknown.cost(10, 10) is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"temperature": 3}, "temperature=3 is out of range"),
        ({"top_p": 0}, "top_p=0 is out of range"),
        ({"max_tokens": 0}, "max_tokens=0 is out of range"),
        ({"input_price_per_1m": 1.0}, "only one of input_price_per_1m"),
        ({"input_price_per_1m": -1.0, "output_price_per_1m": 1.0}, "cannot be negative"),
        ({"api_key_env": SECRET}, "NAME of an environment variable, not a key"),
        ({"api_key_env": "MY KEY"}, "NAME of an environment variable"),
        ({"api_key_env": "Ab3dEf6hIj9kLm2nOp5qRs8tUv"}, "not a key"),
    ],
)
def test_invalid_specs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        ModelSpec("openai/gpt-4o-mini", **kwargs)
    assert SECRET not in str(info.value)


def test_long_variable_names_are_fine() -> None:
    spec = ModelSpec("openai/gpt-4o-mini", api_key_env="MY_COMPANY_AZURE_OPENAI_API_KEY_PROD")
    assert spec.params()["api_key_env"] == "MY_COMPANY_AZURE_OPENAI_API_KEY_PROD"


def test_invalid_id() -> None:
    with pytest.raises(ConfigError, match="invalid model id"):
        ModelSpec(" ")


def test_key_is_read_at_call_time_and_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WB_TEST_KEY", SECRET)
    spec = ModelSpec("openai/gpt-4o-mini", api_key_env="WB_TEST_KEY", temperature=0)
    kwargs = spec.call_kwargs()
    assert kwargs["api_key"] == SECRET
    assert kwargs["num_retries"] == 0 and kwargs["max_retries"] == 0
    assert kwargs["temperature"] == 0 and "top_p" not in kwargs
    for shown in (repr(spec), str(spec.params()), json.dumps(spec.params())):
        assert SECRET not in shown
    assert spec.params() == {
        "model": "openai/gpt-4o-mini",
        "temperature": 0,
        "api_key_env": "WB_TEST_KEY",
        "accept_unknown_cost": False,
        "timeout_s": 60.0,
        "stream": False,
    }


def test_missing_key_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WB_TEST_KEY", raising=False)
    with pytest.raises(ConfigError, match="environment variable WB_TEST_KEY is not set"):
        ModelSpec("openai/gpt-4o-mini", api_key_env="WB_TEST_KEY").call_kwargs()


def test_real_provider_path_only_changes_the_model_string(monkeypatch: pytest.MonkeyPatch) -> None:
    import litellm

    monkeypatch.setenv("WB_TEST_KEY", SECRET)
    with serve(replies={"capital of France": "Paris"}) as server:
        spec = ModelSpec(
            "openai/served-model",
            api_base=server.base_url,
            api_key_env="WB_TEST_KEY",
            input_price_per_1m=1.0,
            output_price_per_1m=2.0,
        )
        response = litellm.completion(
            messages=[{"role": "user", "content": "capital of France?"}], **spec.call_kwargs()
        )
        assert response.choices[0].message.content == "Paris"
        assert server.fake.requests == 1
        usage = response.usage
        cost = spec.pricing().cost(usage.prompt_tokens, usage.completion_tokens)
        assert cost == pytest.approx((usage.prompt_tokens * 1 + usage.completion_tokens * 2) / 1e6)


def test_models_import_is_lazy_and_offline() -> None:
    code = (
        "import json, os, sys; import workbench.models as m; "
        "lazy = 'litellm' not in sys.modules; m.ModelSpec('openai/gpt-4o-mini').pricing(); "
        "print(json.dumps([lazy, os.environ.get('LITELLM_LOCAL_MODEL_COST_MAP')]))"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "LITELLM_LOCAL_MODEL_COST_MAP"}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env
    ).stdout
    assert json.loads(out.strip().splitlines()[-1]) == [True, "True"]
