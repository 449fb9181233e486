"""The simulated models: litellm provider, prices, determinism, prompt-following, and the
Settled-11 rule that they see only the prompt."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.models import SIM_PROFILES, simulate
from workbench.models._litellm import litellm
from workbench.models.sim import register_sim_provider
from workbench.scorers import parse_json_object

ROOT = Path(__file__).resolve().parents[2]
PROMPTS = ROOT / "examples" / "prompts"


def read(name: str) -> str:
    return (PROMPTS / name).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def triage() -> wb.GoldenSet:
    return wb.GoldenSet.load(ROOT / "datasets" / "support_triage" / "golden.jsonl")


def variants(gs: wb.GoldenSet) -> dict[str, wb.PromptVariant]:
    return {
        "terse": wb.PromptVariant("terse", user=read("triage_terse.j2")),
        "guided": wb.PromptVariant("guided", system=read("triage_guided_system.j2"),
                                   user=read("triage_guided_user.j2")),
    }


def intent_accuracy(gs: wb.GoldenSet, model: str, variant: wb.PromptVariant) -> float:
    scorer = wb.scorers.label_match(field="intent")
    rows = gs.records()
    hits = [scorer(r, simulate(model, variant.render(r), seed=0).text).value for r in rows]
    return sum(hits) / len(hits)


def test_litellm_routes_sim_models_sync_and_async() -> None:
    lt = litellm()
    messages = [
        {"role": "system", "content": read("triage_guided_system.j2")},
        {"role": "user", "content": "Message: I was charged twice for my Pro subscription this "
         "month. Please check invoice #88213 and fix the billing."},
    ]
    r = lt.completion(model="sim/large", messages=messages, temperature=0)
    assert parse_json_object(r.choices[0].message.content) == {"intent": "billing",
                                                               "priority": "medium"}
    assert r.model == "sim/large"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    profile = SIM_PROFILES["sim/large"]
    expected = (r.usage.prompt_tokens * profile.input_per_1m
                + r.usage.completion_tokens * profile.output_per_1m) / 1e6
    assert lt.completion_cost(completion_response=r) == pytest.approx(expected)

    from workbench.models._engine import run_sync  # litellm's async clients live on one loop

    ar = run_sync(lt.acompletion(model="sim/fast", messages=messages))
    assert ar.choices[0].message.content and ar.model == "sim/fast"


def test_prices_and_profiles_differ_and_are_labelled_simulated() -> None:
    large, small, fast = (wb.ModelSpec(f"sim/{n}").pricing() for n in ("large", "small", "fast"))
    assert large.input_per_1m > small.input_per_1m > fast.input_per_1m
    assert "simulated" in large.source
    assert wb.ModelSpec("sim/large").simulated
    lat = {n: p.latency_base_s for n, p in SIM_PROFILES.items()}
    assert lat["sim/large"] > lat["sim/small"] > lat["sim/fast"]
    with pytest.raises(ConfigError, match="unknown simulated model 'sim/huge'"):
        wb.ModelSpec("sim/huge")


def test_registering_twice_keeps_one_sim_entry_and_user_entries() -> None:
    lt = litellm()
    original = list(lt.custom_provider_map)
    try:
        lt.custom_provider_map = [*original, {"provider": "mine", "custom_handler": object()}]
        register_sim_provider(lt)
        register_sim_provider(lt)
        providers = [e["provider"] for e in lt.custom_provider_map]
        assert providers.count("sim") == 1 and "mine" in providers
    finally:
        lt.custom_provider_map = original
        register_sim_provider(lt)


def test_deterministic_given_seed_and_prompt(triage: wb.GoldenSet) -> None:
    v = variants(triage)["terse"]
    rows = triage.records()[:60]
    first = [simulate("sim/small", v.render(r), seed=1).text for r in rows]
    again = [simulate("sim/small", v.render(r), seed=1).text for r in rows]
    other = [simulate("sim/small", v.render(r), seed=2).text for r in rows]
    assert first == again
    assert first != other  # the seed matters somewhere


def test_outputs_depend_only_on_the_prompt(triage: wb.GoldenSet) -> None:
    """Settled 11: scramble expected and every column not rendered: outputs do not change."""
    for variant in variants(triage).values():
        rows = triage.records()
        rendered_cols = set(variant.variables)
        shuffled = triage.df.sample(frac=1.0, random_state=7).reset_index(drop=True)
        scrambled = []
        for i, row in enumerate(rows):
            new = dict(row)
            for col in triage.df.columns:
                if col not in rendered_cols and col != "id":
                    new[col] = shuffled.loc[i, col]
            new["expected"] = {"intent": "feedback", "priority": "low"}
            scrambled.append(new)
        assert any(a["intent"] != b["intent"] for a, b in zip(rows, scrambled, strict=True))
        for a, b in zip(rows, scrambled, strict=True):
            for model in SIM_PROFILES:
                assert simulate(model, variant.render(a), seed=3).text == simulate(
                    model, variant.render(b), seed=3).text


def test_quality_orders_models_and_prompt_variants(triage: wb.GoldenSet) -> None:
    v = variants(triage)
    large_guided = intent_accuracy(triage, "sim/large", v["guided"])
    large_terse = intent_accuracy(triage, "sim/large", v["terse"])
    fast_guided = intent_accuracy(triage, "sim/fast", v["guided"])
    fast_terse = intent_accuracy(triage, "sim/fast", v["terse"])
    assert 0.8 <= large_guided < 1.0  # good, never perfect
    assert large_guided - large_terse >= 0.08  # the label list and JSON format help
    assert large_guided - fast_guided >= 0.05
    assert 0.1 < fast_terse < large_terse  # above chance (0.1), below the large model


def test_guided_prompt_gets_json_and_terse_gets_free_wording(triage: wb.GoldenSet) -> None:
    v = variants(triage)
    rows = triage.records()[:40]
    guided = [simulate("sim/small", v["guided"].render(r)).text for r in rows]
    assert all(set(parse_json_object(t) or {}) == {"intent", "priority"} for t in guided)
    terse = [simulate("sim/fast", v["terse"].render(r)).text for r in rows]
    assert not any(t.startswith("{") for t in terse)
    assert any(" " in t or t[:1].isupper() for t in terse)  # free wording, not bare labels


def test_few_shot_turns_teach_the_format(triage: wb.GoldenSet) -> None:
    shots = triage.sample(3, seed=1)
    v = wb.PromptVariant("shots", user=read("triage_terse.j2"), few_shot=shots)
    row = next(r for r in triage.records() if r["id"] not in shots.ids)
    text = simulate("sim/fast", v.render(row)).text
    assert set(parse_json_object(text) or {}) == {"intent", "priority"}  # copied the format


def test_difficulty_cues_cause_more_mistakes(triage: wb.GoldenSet) -> None:
    v = variants(triage)["guided"]
    scorer = wb.scorers.label_match(field="intent")
    by_difficulty: dict[str, list[float]] = {"easy": [], "hard": []}
    for r in triage.records():
        if r["difficulty"] in by_difficulty:
            for seed in range(3):
                out = simulate("sim/fast", v.render(r), seed=seed).text
                by_difficulty[r["difficulty"]].append(scorer(r, out).value)
    easy = sum(by_difficulty["easy"]) / len(by_difficulty["easy"])
    hard = sum(by_difficulty["hard"]) / len(by_difficulty["hard"])
    assert easy - hard >= 0.1


def test_extraction_and_grounded_qa() -> None:
    inv = wb.GoldenSet.load(ROOT / "datasets" / "invoice_extraction" / "golden.jsonl")
    v = wb.PromptVariant("guided", system=read("extraction_guided_system.j2"),
                         user=read("extraction_guided_user.j2"))
    right = {"sim/large": 0, "sim/fast": 0}
    for r in inv.records():
        for model in right:
            out = json.loads(simulate(model, v.render(r), seed=0).text)
            right[model] += abs((out["total"] or -1) - r["expected"]["total"]) < 0.01
    assert len(inv) * 0.6 < right["sim/large"] < len(inv)  # most totals, not all
    assert right["sim/fast"] < right["sim/large"]

    qa = wb.GoldenSet.load(ROOT / "datasets" / "grounded_qa" / "golden.jsonl")
    q = wb.PromptVariant("guided", system=read("qa_guided_system.j2"),
                         user=read("qa_guided_user.j2"))
    unanswerable = [r for r in qa.records() if r["expected"] is None]
    answerable = [r for r in qa.records() if r["expected"] is not None]

    def refusal_rate(model: str, rows: list[dict[str, Any]]) -> float:
        return sum(simulate(model, q.render(r)).text == "unanswerable" for r in rows) / len(rows)

    # the large model refuses a fair share of unanswerable questions, far fewer answerable ones,
    # and more reliably than the fast model (which hallucinates an answer more often)
    assert 0.2 < refusal_rate("sim/large", unanswerable) < 1.0
    assert refusal_rate("sim/large", answerable) < refusal_rate("sim/large", unanswerable) / 2
    assert refusal_rate("sim/fast", unanswerable) < refusal_rate("sim/large", unanswerable)


def test_max_tokens_truncates_with_finish_reason_length() -> None:
    messages = [{"role": "user", "content": "Context: The K2 charges in about 2 hours. It "
                 "prints 900 labels per charge.\nQuestion: What does the printer do?"}]
    full = simulate("sim/large", messages)
    cut = simulate("sim/large", messages, max_tokens=2)
    assert full.finish_reason == "stop" and cut.finish_reason == "length"
    assert cut.completion_tokens == 2 and len(cut.text) < len(full.text)


def test_compare_runs_sim_models_through_the_executor(triage: wb.GoldenSet) -> None:
    gs = wb.GoldenSet.from_df(triage.df.head(20), name="triage20", slices=["difficulty"])
    cmp = wb.compare(gs, ["sim/large", "sim/fast"], [variants(triage)["guided"]],
                     [wb.scorers.label_match(field="intent")], progress=False)
    assert cmp.complete and cmp.simulated_models == ["sim/large", "sim/fast"]
    assert "SIMULATED" in cmp.summary_text() and "SIMULATED" in cmp._repr_html_()
    costs = cmp.summary()["cost_usd"]
    assert costs.loc[("sim/large", "guided")] > 10 * costs.loc[("sim/fast", "guided")]




def test_a_simulated_model_cannot_be_relabelled_as_real() -> None:
    with pytest.raises(ConfigError, match="hides that this model is simulated"):
        wb.ModelSpec("sim/small", name="gpt-5")
    assert wb.ModelSpec("sim/small", temperature=0, name="sim/small-t0").label == "sim/small-t0"
