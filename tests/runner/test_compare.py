"""compare(): the results table, scoring, cache, errors per call, budget stop, save/load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.models import RetryPolicy
from workbench.runner import RESULT_COLUMNS, Comparison

from .conftest import small_set

VARIANTS = [
    wb.PromptVariant("plain", user="{{ message }}"),
    wb.PromptVariant("polite", system="Be brief.", user="Please label: {{ message }}"),
]
FAST = RetryPolicy(max_attempts=2, base_s=0.01, max_backoff_s=0.02)


def run(gs: wb.GoldenSet, models: list[wb.ModelSpec], **kw: Any) -> Comparison:
    kw.setdefault("scorers", [wb.scorers.exact_match])
    return wb.compare(gs, models, VARIANTS, progress=False, retry=FAST, **kw)


def test_results_table_has_one_row_per_cell_and_the_settled_columns(
    server: Any, models: list[wb.ModelSpec]
) -> None:
    gs = small_set()
    cmp = run(gs, models, repeats=2)
    df = cmp.results
    assert list(df.columns) == RESULT_COLUMNS + ["score.exact_match", "slice.difficulty"]
    assert len(df) == 12 * 2 * 2 * 2
    assert not df.duplicated(["case_id", "model", "variant", "repeat"]).any()
    assert cmp.complete and cmp.status == "complete"
    # the fake answers "billing" only for billing messages: exactly those cases pass
    billing = df["case_id"].isin([f"c{i:03d}" for i in range(0, 12, 3)])
    assert (df.loc[billing, "score.exact_match"] == 1).all()
    assert (df.loc[~billing, "score.exact_match"] == 0).all()
    assert set(df["slice.difficulty"]) == {"easy", "hard"}
    assert (df["prompt_tokens"] > 0).all() and (df["latency_s"] > 0).all()
    big = df[df["model"] == "openai/big"]
    assert big["cost_usd"].sum() > 50 * df[df["model"] == "openai/tiny"]["cost_usd"].sum()
    assert "message" not in df.columns and "expected" not in df.columns


def test_summary_has_cis_costs_latency_and_says_how_errors_count(
    server: Any, models: list[wb.ModelSpec]
) -> None:
    cmp = run(small_set(), models)
    s = cmp.summary()
    assert set(s.index.get_level_values("model")) == {"openai/big", "openai/tiny"}
    row = s.loc[("openai/big", "plain")]
    assert row["n_cases"] == 12 and row["exact_match"] == pytest.approx(4 / 12)
    assert row["exact_match_low"] < row["exact_match"] < row["exact_match_high"]
    assert s.attrs["ci_method"]["exact_match"] == "Wilson 95%"
    assert row["latency_p50_s"] <= row["latency_p95_s"] <= row["latency_p99_s"]
    assert row["cost_per_case_usd"] == pytest.approx(row["cost_usd"] / 12)
    text = cmp.summary_text()
    assert "Wilson 95%" in text and "failed calls and scorer failures counted as 0" in text


def test_rerun_is_answered_from_the_cache_for_zero_dollars(
    server: Any, models: list[wb.ModelSpec]
) -> None:
    gs = small_set()
    first = run(gs, models)
    before = server.fake.requests
    again = run(gs, models)
    assert server.fake.requests == before  # zero calls
    assert again.results["cache_hit"].all() and again.spent_usd == 0
    cols = ["case_id", "model", "variant", "output", "prompt_tokens", "cost_usd", "latency_s"]
    assert again.results[cols].equals(first.results[cols])
    fresh = run(gs, models, cache=False)
    assert server.fake.requests == before + len(fresh.results)
    assert not fresh.results["cache_hit"].any()


def test_a_failing_call_never_loses_the_others(server: Any, models: list[wb.ModelSpec]) -> None:
    gs = small_set(markers={1: "500", 4: "429x1", 7: "length"})
    cmp = run(gs, models[:1])
    df = cmp.results.set_index(["case_id", "variant"])
    assert cmp.complete and len(df) == 24
    failed = df.loc[("c001", "plain")]
    assert failed["error_type"] == "InternalServerError" and failed["attempts"] == 2
    assert pd_isna(failed["score.exact_match"]) and pd_isna(failed["output"])
    recovered = df.loc[("c004", "plain")]
    assert pd_isna(recovered["error_type"]) and recovered["attempts"] == 2
    assert df.loc[("c007", "plain"), "finish_reason"] == "length"
    assert df["error_type"].notna().sum() == 2  # c001 under both variants
    s = cmp.summary()
    assert s.loc[("openai/big", "plain"), "errors"] == 1
    drop = cmp.summary(errors="drop")
    assert drop.attrs["errors"] == "drop"
    assert drop.loc[("openai/big", "plain"), "exact_match"] >= s.loc[("openai/big", "plain"),
                                                                    "exact_match"]


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_budget_stops_the_run_and_keeps_what_completed(
    server: Any, models: list[wb.ModelSpec]
) -> None:
    gs = small_set(n=30)
    p = wb.plan(gs, models[:1], VARIANTS)
    per_call = max(p.estimate_usd(c) or 0 for c in p.cells)
    budget = (p.est_cost_usd or 0) / 3
    cmp = run(gs, models[:1], budget_usd=budget, concurrency=4)
    assert cmp.status == "budget_stopped" and "budget" in (cmp.stop_reason or "")
    assert 0 < len(cmp.results) < len(p.cells)
    # never past the budget by more than the calls in flight
    assert cmp.spent_usd <= budget + 4 * per_call * 1.5
    assert cmp.record.run.calls_recorded == len(cmp.results)


def test_plan_refuses_bad_setups_before_any_call(server: Any, models: list[wb.ModelSpec]) -> None:
    gs = small_set()
    before = server.fake.requests
    with pytest.raises(ConfigError) as err:
        wb.plan(gs, [models[0], models[0]],
                [VARIANTS[0], VARIANTS[0], wb.PromptVariant("x", user="{{ missing }}")],
                [wb.scorers.exact_match, wb.scorers.exact_match])
    text = str(err.value)
    assert "two models are named 'openai/big'" in text
    assert "two variants are named 'plain'" in text
    assert "two scorers are named 'exact_match'" in text
    assert "missing" in text and "Available columns" in text
    with pytest.raises(ConfigError, match="no price"):
        wb.plan(gs, [wb.ModelSpec("openai/unknown-model-xyz", api_base=server.base_url)],
                VARIANTS)
    assert server.fake.requests == before


def test_few_shot_cases_are_excluded_from_every_configuration(
    server: Any, models: list[wb.ModelSpec]
) -> None:
    gs = small_set()
    shots = wb.PromptVariant("shots", user="{{ message }}", few_shot=gs.sample(2, seed=3))
    p = wb.plan(gs, models, [VARIANTS[0], shots])
    assert len(p.excluded_ids) == 2 and len(p.case_ids) == 10
    assert {c.case_id for c in p.cells}.isdisjoint(p.excluded_ids)
    assert any("few-shot" in n for n in p.notes())
    with pytest.raises(ConfigError, match="few-shot"):
        wb.plan(gs, models, [shots], leakage="error")


def test_save_load_round_trip_and_config(
    server: Any, models: list[wb.ModelSpec], tmp_path: Path, fake_key: str
) -> None:
    gs = small_set()
    gs_dir = gs.freeze(tmp_path / "data")
    gs = wb.GoldenSet.load(gs_dir)
    cmp = run(gs, models, scorers=[wb.scorers.exact_match,
                                   wb.scorers.label_match(name="label")])
    out = cmp.save(tmp_path / "run")
    back = Comparison.load(out)
    assert back.results.equals(cmp.results)
    assert back.results.dtypes.equals(cmp.results.dtypes)
    assert len(cmp.score_details) > 0 and back.score_details.equals(cmp.score_details)
    assert back.record.golden_set.digest == gs.digest
    saved = (out / "comparison.json").read_text() + (tmp_path / "run.yaml").as_posix()
    assert fake_key not in saved and "FAKE_PROVIDER_KEY" in saved  # the name, never the key
    config = tmp_path / "exp" / "again.yaml"
    cmp.to_config(config)
    from workbench.experiments import load_experiment

    # the written file points at the golden set outside its own folder: refused unless allowed
    with pytest.raises(wb.ConfigError, match="outside the experiment's folder"):
        load_experiment(config)
    loaded = load_experiment(config, allow_outside=[gs_dir])
    assert [m.label for m in loaded.models] == ["openai/big", "openai/tiny"]
    assert [s.name for s in loaded.scorers] == ["exact_match", "label"]
    again = wb.plan(loaded.golden_set, loaded.models, loaded.variants, loaded.scorers)
    assert again.fingerprint() == wb.plan(gs, models, VARIANTS).fingerprint()


def test_load_refuses_newer_schema(tmp_path: Path) -> None:
    (tmp_path / "results.parquet").write_bytes(b"")
    (tmp_path / "comparison.json").write_text(json.dumps({"schema_version": 99}))
    with pytest.raises(ConfigError, match="schema_version 99"):
        Comparison.load(tmp_path)


def test_keys_never_reach_results_or_checkpoints(
    server: Any, models: list[wb.ModelSpec], fake_key: str
) -> None:
    gs = small_set(n=4, markers={0: "500"})
    cmp = run(gs, models[:1])
    assert fake_key not in Path(cmp.record.run.checkpoint).read_text()
    assert fake_key not in cmp.results.to_csv()
    assert fake_key not in cmp.record.model_dump_json()


def test_streaming_models_fill_ttft(server: Any, models: list[wb.ModelSpec]) -> None:
    from dataclasses import replace

    cmp = run(small_set(n=4), [replace(models[0], stream=True)])
    assert cmp.results["ttft_s"].notna().all()
    assert (cmp.results["ttft_s"] <= cmp.results["latency_s"]).all()


def test_missing_key_variable_is_refused_by_plan(server: Any, monkeypatch: pytest.MonkeyPatch
                                                 ) -> None:
    monkeypatch.delenv("NOT_SET_KEY_VAR", raising=False)
    spec = wb.ModelSpec("openai/big", api_base=server.base_url, api_key_env="NOT_SET_KEY_VAR",
                        input_price_per_1m=1, output_price_per_1m=1)
    with pytest.raises(ConfigError, match="NOT_SET_KEY_VAR is not set"):
        wb.plan(small_set(), [spec], VARIANTS)


def test_notebook_html_escapes_names(server: Any, models: list[wb.ModelSpec]) -> None:
    from dataclasses import replace

    evil = replace(models[0], name="<script>alert(1)</script>")
    variants = [wb.PromptVariant("<b>v</b>", user="{{ message }}")]
    p = wb.plan(small_set(n=3), [evil], variants)
    cmp = wb.compare(small_set(n=3), [evil], variants, progress=False)
    for html in (p._repr_html_(), cmp._repr_html_()):
        assert "<script>" not in html and "&lt;script&gt;" in html
        assert "<b>v</b>" not in html


def test_plan_prices_the_judge_calls_and_the_estimate_covers_them(
    server: Any, models: list[wb.ModelSpec]
) -> None:
    gs = small_set()
    judge = wb.judge("correctness", "sim/judge")
    base = wb.plan(gs, models, VARIANTS, [wb.scorers.exact_match])
    p = wb.plan(gs, models, VARIANTS, [wb.scorers.exact_match, judge])
    assert p.calls == base.calls == 48 and p.judge_calls == 48 and base.judge_calls == 0
    assert p.est_judge_cost_usd is not None and p.est_judge_cost_usd > 0
    assert p.est_cost_usd == pytest.approx((base.est_cost_usd or 0) + p.est_judge_cost_usd)
    assert "48 judge calls" in p.headline() and "judge calls" not in base.headline()
    assert "sim/judge" in " ".join(p.notes())  # the simulated judge is named as such
    assert list(p.table()["judge_calls"]) == [12, 12, 12, 12]
    cmp = run(gs, models, scorers=[judge], cache=False)
    actual = float(cmp.results["judge_cost_usd"].sum())
    assert p.est_judge_cost_usd / 3 <= actual <= p.est_judge_cost_usd * 1.1
    assert cmp.simulated_judges == {"judge_correctness": "sim/judge"}
    assert "SIMULATED judges" in cmp.summary_text()


def test_a_judge_with_an_unknown_price_is_refused_before_any_call(
    models: list[wb.ModelSpec]
) -> None:
    unknown = wb.judge("correctness", wb.ModelSpec("openai/judge-nobody-prices",
                                                   api_base="http://127.0.0.1:9/v1"))
    with pytest.raises(ConfigError, match="judge 'judge_correctness'"):
        wb.plan(small_set(), models, VARIANTS, [unknown])
