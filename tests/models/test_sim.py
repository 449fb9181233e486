"""The SIMULATED models (workbench.models.sim): litellm routing and pricing, determinism,
prompt-following, the shipped example prompts, and DESIGN.md Settled 11 (they see only the
rendered prompt)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.models._engine import run_sync
from workbench.models._litellm import litellm
from workbench.models.sim import (
    SIM_PROFILES,
    SimReply,
    is_simulated,
    register_sim_provider,
    simulate,
)
from workbench.scorers import label_match, parse_json_object

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "examples" / "prompts"
DATASETS = ROOT / "datasets"


def template(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


def load(name: str) -> wb.GoldenSet:
    return wb.GoldenSet.load(DATASETS / name / "golden.jsonl")


def pair(task: str) -> dict[str, wb.PromptVariant]:
    """The example prompt variants of a task: terse (one line) and guided (system + user)."""
    return {
        "terse": wb.PromptVariant("terse", user=template(f"{task}_terse.j2")),
        "guided": wb.PromptVariant(
            "guided",
            system=template(f"{task}_guided_system.j2"),
            user=template(f"{task}_guided_user.j2"),
        ),
    }


@pytest.fixture(autouse=True)
def no_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_SIM_LATENCY_SCALE", "0")


@pytest.fixture
def lt() -> Iterator[ModuleType]:
    """litellm with this module's sim provider registered; litellm's globals restored after."""
    module = litellm()
    saved_map = list(module.custom_provider_map)
    saved_cost = {k: dict(module.model_cost[k]) for k in SIM_PROFILES if k in module.model_cost}
    register_sim_provider(module)
    try:
        yield module
    finally:
        module.custom_provider_map[:] = saved_map
        for key, value in saved_cost.items():
            module.model_cost[key] = value


@pytest.fixture(scope="module")
def triage() -> wb.GoldenSet:
    return load("support_triage")


def intent_accuracy(gs: wb.GoldenSet, model: str, variant: wb.PromptVariant) -> float:
    scorer = label_match(field="intent")
    rows = gs.records()
    hits = [scorer(row, simulate(model, variant.render(row), seed=0).text).value for row in rows]
    return sum(hits) / len(hits)


TRIAGE_MESSAGES = [
    {"role": "system", "content": template("triage_guided_system.j2")},
    {"role": "user", "content": "Channel: email\nMessage: I was charged twice for my plan."},
]


# ---------------------------------------------------------------------------- litellm
def test_litellm_completion_routes_sim_models_with_usage_and_price(lt: ModuleType) -> None:
    response = lt.completion(model="sim/large", messages=TRIAGE_MESSAGES, seed=1)
    assert response.model == "sim/large"
    content = response.choices[0].message.content
    assert content == simulate("sim/large", TRIAGE_MESSAGES, seed=1).text
    assert set(json.loads(content)) == {"intent", "priority"}
    assert response.choices[0].finish_reason == "stop"
    usage = response.usage
    assert usage.prompt_tokens > 50 and usage.completion_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    profile = SIM_PROFILES["sim/large"]
    price = (
        usage.prompt_tokens * profile.input_per_1m + usage.completion_tokens * profile.output_per_1m
    ) / 1e6
    assert lt.completion_cost(completion_response=response) == pytest.approx(price)
    info = lt.get_model_info("sim/large")
    assert info["input_cost_per_token"] == pytest.approx(2.5e-6)
    assert info["output_cost_per_token"] == pytest.approx(1e-5)


def test_litellm_acompletion_matches_simulate(lt: ModuleType) -> None:
    async def call() -> Any:
        return await lt.acompletion(
            model="sim/small", messages=TRIAGE_MESSAGES, seed=4, temperature=0.5
        )

    response = run_sync(call())  # the engine's long-lived loop (DESIGN.md, Settled 3)
    direct = simulate("sim/small", TRIAGE_MESSAGES, seed=4, temperature=0.5)
    assert response.model == "sim/small"
    assert response.choices[0].message.content == direct.text
    assert response.usage.prompt_tokens == direct.prompt_tokens
    assert response.usage.completion_tokens == direct.completion_tokens


def test_response_format_json_object_forces_json(lt: ModuleType) -> None:
    messages = [{"role": "user", "content": "Classify this support ticket: my parcel is late"}]
    plain = lt.completion(model="sim/large", messages=messages).choices[0].message.content
    forced = (
        lt.completion(model="sim/large", messages=messages, response_format={"type": "json_object"})
        .choices[0]
        .message.content
    )
    assert not plain.startswith("{")
    assert json.loads(forced)["intent"].lower().startswith("shipping")


def test_max_tokens_truncates_with_finish_reason_length(lt: ModuleType) -> None:
    reply = simulate("sim/large", TRIAGE_MESSAGES, max_tokens=3)
    assert reply.finish_reason == "length" and reply.completion_tokens == 3
    assert len(reply.text) <= 12
    response = lt.completion(model="sim/fast", messages=TRIAGE_MESSAGES, max_tokens=2)
    assert response.choices[0].finish_reason == "length"
    assert response.usage.completion_tokens == 2


def test_registering_twice_keeps_one_sim_entry_and_the_users_entries(lt: ModuleType) -> None:
    mine = {"provider": "mine", "custom_handler": lt.CustomLLM()}
    lt.custom_provider_map.insert(0, mine)
    register_sim_provider(lt)
    register_sim_provider(lt)
    providers = [entry["provider"] for entry in lt.custom_provider_map]
    assert providers.count("sim") == 1
    assert lt.custom_provider_map[0] is mine
    assert "sim" in lt.provider_list and "sim" in lt._custom_providers


def test_model_spec_prices_sim_models_from_the_profiles(lt: ModuleType) -> None:
    pricing = wb.ModelSpec("sim/small").pricing()
    assert (pricing.input_per_1m, pricing.output_per_1m) == (0.40, 1.60)
    assert "simulated" in pricing.source
    large = wb.ModelSpec("sim/large").pricing()
    assert (large.input_per_1m, large.output_per_1m) == (2.50, 10.00)


# ---------------------------------------------------------------------------- profiles, errors
def test_profiles_differ_in_price_latency_and_skill() -> None:
    large, small, fast = (SIM_PROFILES[f"sim/{n}"] for n in ("large", "small", "fast"))
    assert large.input_per_1m > small.input_per_1m > fast.input_per_1m
    assert large.output_per_1m > small.output_per_1m > fast.output_per_1m
    assert large.latency_base_s > small.latency_base_s > fast.latency_base_s
    assert large.base_error < small.base_error < fast.base_error
    latencies = {name: simulate(name, TRIAGE_MESSAGES, seed=2).latency_s for name in SIM_PROFILES}
    assert 0.4 < latencies["sim/large"] < 1.6 and 0.05 < latencies["sim/fast"] < 0.35
    assert is_simulated("sim/large") and not is_simulated("openai/gpt-4o-mini")


def test_unknown_sim_model_names_it_and_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        simulate("sim/huge", TRIAGE_MESSAGES)
    message = str(caught.value)
    assert "'sim/huge'" in message
    assert all(name in message for name in SIM_PROFILES)


# ---------------------------------------------------------------------------- determinism
def test_same_inputs_give_the_same_reply() -> None:
    first = simulate("sim/small", TRIAGE_MESSAGES, seed=7, temperature=0.9)
    again = simulate("sim/small", [dict(m) for m in TRIAGE_MESSAGES], seed=7, temperature=0.9)
    assert isinstance(first, SimReply) and first == again


def test_seed_matters_above_temperature_zero_only(triage: wb.GoldenSet) -> None:
    variant = pair("triage")["terse"]
    prompts = [variant.render(row) for row in triage.records()]

    def outputs(seed: int, temperature: float) -> list[str]:
        return [simulate("sim/fast", p, seed=seed, temperature=temperature).text for p in prompts]

    assert outputs(1, 1.0) != outputs(2, 1.0)
    assert outputs(1, 0.0) == outputs(2, 0.0)


# ---------------------------------------------------------------------------- Settled 11
@pytest.mark.parametrize("few_shot", [False, True])
def test_outputs_depend_only_on_the_rendered_prompt(triage: wb.GoldenSet, few_shot: bool) -> None:
    """Scramble `expected` and every column not rendered into the prompt: nothing changes."""
    variants = list(pair("triage").values())
    if few_shot:
        variants.append(
            wb.PromptVariant(
                "few-shot",
                system=template("triage_guided_system.j2"),
                user=template("triage_guided_user.j2"),
                few_shot=triage.sample(4, seed=1),
            )
        )
    rows = triage.records()
    for variant in variants:
        hidden = sorted({k for row in rows for k in row} - set(variant.variables) - {"id"})
        assert "expected" in hidden and "intent" in hidden
        rng = random.Random(11)
        scrambled = [dict(row) for row in rows]
        for column in hidden:
            values = [row.get(column) for row in rows]
            rng.shuffle(values)
            for row, value in zip(scrambled, values, strict=True):
                row[column] = value
        assert any(a["expected"] != b["expected"] for a, b in zip(rows, scrambled, strict=True))
        for model in SIM_PROFILES:
            for row, other in zip(rows, scrambled, strict=True):
                messages, again = variant.render(row), variant.render(other)
                assert messages == again
                assert simulate(model, messages, seed=3) == simulate(model, again, seed=3), (
                    variant.name,
                    model,
                    row["id"],
                )


# ---------------------------------------------------------------------------- triage behaviour
def test_triage_accuracy_orders_prompts_and_models(triage: wb.GoldenSet) -> None:
    variants = pair("triage")
    acc = {
        (m, v): intent_accuracy(triage, m, variants[v])
        for m in ("sim/large", "sim/fast")
        for v in variants
    }
    assert acc["sim/large", "guided"] >= acc["sim/large", "terse"] + 0.15
    assert acc["sim/large", "guided"] >= acc["sim/fast", "guided"] + 0.1
    assert acc["sim/large", "terse"] > acc["sim/fast", "terse"]
    assert 0.8 <= acc["sim/large", "guided"] < 0.98  # good, not perfect
    assert 0.3 <= acc["sim/fast", "terse"] <= 0.7  # well above chance (0.1)


def test_few_shot_examples_help_a_weak_model(triage: wb.GoldenSet) -> None:
    shots = triage.sample(4, seed=1)
    guided = pair("triage")["guided"]
    with_shots = wb.PromptVariant(
        "few-shot", system=guided.system or "", user=guided.user, few_shot=shots
    )
    rest = wb.GoldenSet.load(DATASETS / "support_triage" / "golden.jsonl")
    rest_rows = [r for r in rest.records() if r["id"] not in with_shots.few_shot_ids]
    scorer = label_match(field="intent")

    def accuracy(variant: wb.PromptVariant) -> float:
        hits = [
            scorer(r, simulate("sim/fast", variant.render(r), seed=0).text).value for r in rest_rows
        ]
        return sum(hits) / len(hits)

    assert accuracy(with_shots) > accuracy(guided)


def test_guided_prompt_gets_json_with_listed_labels(triage: wb.GoldenSet) -> None:
    guided = pair("triage")["guided"]
    intents = {
        "billing",
        "refund_request",
        "technical_issue",
        "shipping_delivery",
        "cancellation",
        "product_question",
        "account_access",
        "complaint",
        "security_fraud",
        "feedback",
    }
    for model in SIM_PROFILES:
        for row in triage.records():
            text = simulate(model, guided.render(row), seed=0).text
            parsed = json.loads(text) if model == "sim/large" else parse_json_object(text)
            assert parsed is not None and set(parsed) == {"intent", "priority"}, text
            assert parsed["intent"] in intents
            assert parsed["priority"] in {"low", "medium", "high", "urgent"}


def test_terse_prompt_gets_free_wording_sometimes(triage: wb.GoldenSet) -> None:
    terse = pair("triage")["terse"]
    texts = [simulate("sim/large", terse.render(row), seed=0).text for row in triage.records()]
    assert not any(t.startswith("{") for t in texts)
    free = [
        t
        for t in texts
        if " " in t
        and t.lower().replace(" ", "_")
        not in {
            "refund_request",
            "technical_issue",
            "shipping_delivery",
            "product_question",
            "account_access",
            "security_fraud",
        }
    ]
    assert 0.1 < len(free) / len(texts) < 0.6


# ---------------------------------------------------------------------------- other tasks
def test_extraction_gets_most_totals_right_but_not_all() -> None:
    gs = load("invoice_extraction")
    guided = pair("extraction")["guided"]
    right = 0
    rows = gs.records()
    for row in rows:
        output = json.loads(simulate("sim/large", guided.render(row), seed=0).text)
        assert set(output) == {"vendor", "date", "total", "currency"}
        expected = row["expected"]
        if isinstance(expected, str):
            expected = json.loads(expected)
        total = output["total"]
        right += total is not None and abs(float(total) - float(expected["total"])) <= 0.01
    assert 0.6 < right / len(rows) < 1.0


def test_qa_refuses_some_unanswerable_questions_and_answers_others() -> None:
    gs = load("grounded_qa")
    guided = pair("qa")["guided"]
    rows = gs.records()

    def refusal_rate(model: str, answerable: bool) -> float:
        picked = [r for r in rows if (r["expected"] is None) != answerable]
        texts = [simulate(model, guided.render(r), seed=0).text for r in picked]
        return sum(t == "unanswerable" for t in texts) / len(texts)

    assert refusal_rate("sim/large", answerable=False) > 0.5
    assert refusal_rate("sim/large", answerable=True) < 0.2
    assert refusal_rate("sim/large", False) > refusal_rate("sim/fast", False)


def test_other_prompts_get_a_short_generic_reply() -> None:
    reply = simulate("sim/small", [{"role": "user", "content": "Write a haiku about tea."}])
    assert "simulated" in reply.text.lower() and reply.finish_reason == "stop"
