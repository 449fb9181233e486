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


# ---------------------------------------------------------------- credentials in specs (#19)
CANARY = "canary-0c1d2e3f4a5b"


def test_credentials_in_api_base_are_masked_wherever_the_spec_is_shown() -> None:
    # was: params() returned the URL as is, so comparison.json, MLflow and reports had it
    spec = ModelSpec("openai/m", api_base=f"http://user:{CANARY}@proxy.example/v1")
    query = ModelSpec("openai/m", api_base=f"https://proxy.example/v1?api-version=1&Key={CANARY}")
    for s in (spec, query):
        for shown in (repr(s), str(s), json.dumps(s.params()), json.dumps(s.identity())):
            assert CANARY not in shown and "***" in shown
    assert spec.params()["api_base"] == "http://***@proxy.example/v1"
    assert query.params()["api_base"] == "https://proxy.example/v1?api-version=1&Key=***"
    assert spec.call_kwargs()["api_base"] == f"http://user:{CANARY}@proxy.example/v1"  # sent


def test_the_cache_identity_of_a_plain_api_base_is_unchanged_and_keys_never_enter_it() -> None:
    from workbench.models._cache import cache_key

    messages = [{"role": "user", "content": "hi"}]
    plain = ModelSpec("openai/m", api_base="http://127.0.0.1:8000/v1", temperature=0)
    before = {"id": "openai/m", "temperature": 0, "api_base": "http://127.0.0.1:8000/v1"}
    assert cache_key(plain.identity(), messages) == cache_key(before, messages)  # caches stay
    one = ModelSpec("openai/m", api_base="http://u:key-one-123@h/v1")
    two = ModelSpec("openai/m", api_base="http://u:key-two-456@h/v1")
    assert one.identity() == two.identity()  # a rotated key keeps the cache
    assert "key-one" not in json.dumps(one.identity())


def test_a_masked_api_base_copied_back_is_refused_with_the_fix() -> None:
    shown = ModelSpec("openai/m", api_base="http://u:pw-123456@h/v1").params()["api_base"]
    with pytest.raises(ConfigError, match="masked credential") as info:
        ModelSpec("openai/m", api_base=shown)
    assert "api_key_env" in str(info.value)
    for copied in ("https://h/v1?api-key=***", "http://[REDACTED]@h/v1"):  # MLflow's form
        with pytest.raises(ConfigError, match="masked credential"):
            ModelSpec("openai/m", api_base=copied)


def test_credential_headers_are_refused_and_passed_by_variable_name(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    for headers in ({"Authorization": f"Bearer {CANARY}"}, {"api-key": CANARY},
                    {"X-Custom": SECRET}):
        with pytest.raises(ConfigError, match="carries a credential") as info:
            ModelSpec("openai/m", headers=headers)
        assert CANARY not in str(info.value) and SECRET not in str(info.value)
        assert "headers_env" in str(info.value)
    with pytest.raises(ConfigError, match="NAME of an environment variable") as info:
        ModelSpec("openai/m", headers_env={"api-key": SECRET})
    assert SECRET not in str(info.value)
    with pytest.raises(ConfigError, match="not an HTTP header name"):
        ModelSpec("openai/m", headers={"bad header": "x"})
    with pytest.raises(ConfigError, match="given twice"):
        ModelSpec("openai/m", headers={"X-Team": "a"}, headers_env={"x-team": "TEAM"})
    spec = ModelSpec("openai/m", headers={"X-Team": "search"},
                     headers_env={"api-key": "WB_TEST_GATEWAY"})
    with pytest.raises(ConfigError, match="environment variable WB_TEST_GATEWAY is not set"):
        spec.call_kwargs()
    monkeypatch.setenv("WB_TEST_GATEWAY", CANARY)
    assert spec.call_kwargs()["extra_headers"] == {"X-Team": "search", "api-key": CANARY}
    assert spec.params()["headers_env"] == {"api-key": "WB_TEST_GATEWAY"}
    for shown in (repr(spec), json.dumps(spec.params()), json.dumps(spec.identity())):
        assert CANARY not in shown
    assert spec.identity()["headers"] == {"X-Team": "search"}  # a gateway may route by them
    with pytest.raises(TypeError, match="cannot be changed"):
        spec.headers["X-Team"] = "other"  # type: ignore[index]


def test_a_spec_with_headers_stays_hashable_and_picklable() -> None:
    import copy
    import pickle

    spec = ModelSpec("openai/m", headers={"X-Team": "a"}, headers_env={"api-key": "V"})
    assert pickle.loads(pickle.dumps(spec)) == spec == copy.deepcopy(spec)
    assert hash(spec) == hash(copy.deepcopy(spec)) and len({spec, copy.deepcopy(spec)}) == 1


def test_userinfo_and_env_headers_reach_the_server_over_http(
    monkeypatch: pytest.MonkeyPatch
) -> None:
    import base64

    import litellm

    from .test_secrets_e2e import recording_server

    monkeypatch.setenv("WB_TEST_KEY", SECRET)
    monkeypatch.setenv("WB_TEST_GATEWAY", CANARY)
    with recording_server() as server:
        spec = ModelSpec("openai/served-model",
                         api_base=f"http://user:{CANARY}@127.0.0.1:{server.port}/v1",
                         api_key_env="WB_TEST_KEY", headers={"X-Team": "search"},
                         headers_env={"X-Gateway-Key": "WB_TEST_GATEWAY"},
                         input_price_per_1m=1.0, output_price_per_1m=2.0)
        litellm.completion(messages=[{"role": "user", "content": "hi"}], **spec.call_kwargs())
        (headers, _path), = server.fake.seen
    assert headers["X-Gateway-Key"] == CANARY and headers["X-Team"] == "search"
    assert headers["Authorization"] == "Basic " + base64.b64encode(
        f"user:{CANARY}".encode()).decode()  # httpx turns the userinfo into basic auth
    assert CANARY not in repr(spec) + json.dumps(spec.params())
