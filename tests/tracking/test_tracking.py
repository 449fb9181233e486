"""MLflow logging and loading back on the embedded sqlite store (DESIGN.md: MLflow layout)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.testing import serve

from ..runner.conftest import small_set

VARIANTS = [wb.PromptVariant("plain", user="{{ message }}"),
            wb.PromptVariant("asked", user="Label this message: {{ message }}")]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An embedded store in a temp dir; artifacts (./mlruns) land there too, never in the repo."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    return f"sqlite:///{tmp_path}/mlflow.db"


def simulated(**kw: Any) -> wb.Comparison:
    scorers = [wb.scorers.exact_match, wb.judge("correctness", "sim/judge")]
    return wb.compare(small_set(n=12), ["sim/large", "sim/fast"], VARIANTS, scorers,
                      progress=False, **kw)


def test_round_trip_rebuilds_the_same_comparison(store: str) -> None:
    cmp = simulated(experiment="triage", tracking_uri=store, candidate=("sim/fast", "asked"),
                    incumbent=("sim/large", "plain"))
    run_id = cmp.record.tracking.run_id
    back = wb.load_comparison(run_id, tracking_uri=store)
    assert back.results.equals(cmp.results)
    assert back.results.dtypes.equals(cmp.results.dtypes)
    assert back.score_details.equals(cmp.score_details)
    assert back.golden_set().digest == cmp.record.golden_set.digest  # the frozen copy
    assert back.record.models == cmp.record.models and back.status == "complete"
    listed = wb.list_comparisons("triage", tracking_uri=store)
    assert list(listed["run_id"]) == [run_id] and listed.loc[0, "simulated"]
    assert listed.loc[0, "configs"] == 4 and listed.loc[0, "status"] == "complete"
    # candidate − incumbent deltas with their CIs on the candidate's child run, whose tag
    # names the incumbent; p-values and the rest of the paired table in paired.json
    client = wb.tracking.client(store)
    children = {(r.data.tags["workbench.model"], r.data.tags["workbench.variant"]): r
                for r in client.search_runs(
                    [client.get_run(run_id).info.experiment_id],
                    filter_string=f"tags.mlflow.parentRunId = '{run_id}'")}
    candidate = children[("sim/fast", "asked")]
    assert candidate.data.tags["workbench.incumbent"] == "sim/large · plain"
    assert candidate.data.tags["workbench.incumbent_run_id"] == children[
        ("sim/large", "plain")].info.run_id
    deltas = candidate.data.metrics
    paired = wb.compare_configs(cmp, ("sim/fast", "asked"), ("sim/large", "plain"))
    for name, m in paired.metrics.items():
        assert deltas[f"delta.{name}"] == pytest.approx(m.delta)
        assert deltas[f"delta.{name}_ci_low"] == pytest.approx(m.low)
        assert deltas[f"delta.{name}_ci_high"] == pytest.approx(m.high)
    assert deltas["delta.cost_ratio"] == pytest.approx(paired.estimates["cost_ratio"].value)
    assert not [k for k in client.get_run(run_id).data.metrics if k.startswith("delta")]
    assert not [k for r in children.values() if r is not candidate
                for k in r.data.metrics if k.startswith("delta")]
    figures = wb.tracking.load_table(candidate.info.run_id, store, "figures.json")
    p_values = figures.set_index("figure")["value"]
    for name, m in paired.metrics.items():
        assert p_values[f"delta.{name}_p_value"] == pytest.approx(m.p_value)
    table = wb.tracking.load_table(run_id, store, "paired.json")
    assert list(table["metric"]) == list(paired.metrics) and "method" in table


def test_children_carry_params_metrics_with_cis_tags_and_case_tables(store: str) -> None:
    cmp = simulated()
    run_id = wb.log_comparison(cmp, "layout", tracking_uri=store,
                               candidate=("sim/fast", "asked"), incumbent=("sim/large", "plain"))
    client = wb.tracking.client(store)
    exp = client.get_experiment_by_name("layout")
    children = client.search_runs([exp.experiment_id],
                                  filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
    assert len(children) == 4
    summary = cmp.summary()
    started = str(cmp.record.run.started_at)[:16].replace("T", " ")
    for child in children:
        tags, params, metrics = child.data.tags, child.data.params, child.data.metrics
        key = (tags["workbench.model"], tags["workbench.variant"])
        expected_role = {("sim/fast", "asked"): "candidate",
                         ("sim/large", "plain"): "incumbent"}.get(key, "none")
        role = f" ({expected_role})" if expected_role != "none" else ""
        assert child.info.run_name == f"{key[0]} · {key[1]}{role} · {started}"
        assert tags["workbench.role"] == expected_role
        assert tags["workbench.kind"] == "configuration"
        assert tags["workbench.simulated"] == "true"
        assert tags["workbench.dataset_digest"] == cmp.record.golden_set.digest
        assert params["model.model"] == key[0] and params["variant.name"] == key[1]
        assert params["pricing.source"].startswith("simulated")
        # every child states its decoding parameters, set or not
        assert {params[f"model.{k}"] for k in ("temperature", "max_tokens", "top_p", "seed")
                } == {"provider default"}
        row = summary.loc[key]
        for name in ("exact_match", "judge_correctness"):
            assert metrics[f"{name}_mean"] == pytest.approx(row[name])
            assert metrics[f"{name}_ci_low"] == pytest.approx(row[f"{name}_low"])
            assert metrics[f"{name}_ci_high"] == pytest.approx(row[f"{name}_high"])
            assert metrics[f"{name}_ci_low"] <= metrics[f"{name}_mean"] <= metrics[
                f"{name}_ci_high"]
        assert metrics["judge_cost_usd"] == pytest.approx(row["judge_cost_usd"])
        assert metrics["latency_p95_s"] == pytest.approx(row["latency_p95_s"])
        assert metrics["cost_per_1k_usd"] == pytest.approx(1000 * row["cost_per_case_usd"])
        assert metrics["error_rate"] == 0
        # a few metrics that compare across runs; slices and the rest are tables
        assert len(metrics) <= wb.tracking.MAX_CHILD_METRICS
        assert not [k for k in metrics if k.startswith("slice")]
        figures = wb.tracking.load_table(child.info.run_id, store, "figures.json")
        logged = figures[figures["metric"]].set_index("figure")["value"]
        assert logged.to_dict() == pytest.approx(metrics)
        every = figures.set_index("figure")["value"]
        assert every["cache_hit_rate"] == pytest.approx(row["cache_hits"] / row["n_calls"])
        assert every["prompt_tokens"] == row["prompt_tokens"] and "latency_p99_s" in every
        group = cmp.results[(cmp.results.model == key[0]) & (cmp.results.variant == key[1])]
        hard = group[group["slice.difficulty"] == "hard"]["score.exact_match"].mean()
        slices = wb.tracking.load_table(child.info.run_id, store, "slices.json")
        mean = slices[(slices["scorer"] == "exact_match") & (slices["slice"] == "difficulty")
                      & (slices["label"] == "hard")]["mean"]
        assert list(mean) == [pytest.approx(hard)]
        table = wb.tracking.load_table(child.info.run_id, store)
        assert len(table) == 12 and {"case_id", "message", "expected", "output",
                                     "score.exact_match"} <= set(table.columns)
        inputs = {d.dataset.name for d in child.inputs.dataset_inputs}
        assert inputs == {"small"}
    parent = client.get_run(run_id)
    assert parent.data.tags["workbench.kind"] == "comparison"
    assert "SIMULATED" in parent.data.tags["mlflow.note.content"]
    assert json.loads(parent.data.params["scorers"]) == ["exact_match", "judge_correctness"]
    arts = {a.path for a in client.list_artifacts(run_id)}
    assert {"comparison", "golden_set", "prompts", "summary.json", "charts.html"} <= arts
    page = Path(client.download_artifacts(run_id, "charts.html")).read_text()
    assert page.count("plotly.js v") == 1  # embedded once, opens without network
    assert page.count("Plotly.newPlot") == 5  # forest, slice heatmap, 2 × cost/quality, latency


def test_an_api_key_reaches_no_param_tag_artifact_or_store_file(
    tmp_path: Path, store: str, fake_key: str
) -> None:
    with serve() as srv:
        model = wb.ModelSpec("openai/keyed", api_base=srv.base_url, api_key_env="FAKE_PROVIDER_KEY",
                             input_price_per_1m=1.0, output_price_per_1m=2.0)
        cmp = wb.compare(small_set(n=6), [model], VARIANTS[:1], [wb.scorers.exact_match],
                         progress=False, experiment="secrets", tracking_uri=store)
    run_id = cmp.record.tracking.run_id
    client = wb.tracking.client(store)
    runs = [client.get_run(run_id), *client.search_runs(
        [client.get_experiment_by_name("secrets").experiment_id])]
    for run in runs:
        text = json.dumps([run.data.params, run.data.tags, list(run.data.metrics)])
        assert fake_key not in text
    assert runs[1].data.params.get("model.api_key_env") == "FAKE_PROVIDER_KEY"  # the name only
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".parquet" for p in files) and any(p.name == "mlflow.db"
                                                              for p in files)
    for path in files:  # every artifact and the store itself
        assert fake_key.encode() not in path.read_bytes(), path
    assert not client.search_traces(locations=[runs[0].info.experiment_id]) if hasattr(
        client, "search_traces") else True


def test_a_budget_stopped_run_is_logged_and_tagged_incomplete(store: str) -> None:
    p = wb.plan(small_set(n=12), ["sim/large"], VARIANTS, [wb.scorers.exact_match])
    cmp = wb.compare(small_set(n=12), ["sim/large"], VARIANTS, [wb.scorers.exact_match],
                     progress=False, cache=False, budget_usd=(p.est_cost_usd or 0) / 3,
                     experiment="partial", tracking_uri=store)
    assert cmp.status == "budget_stopped"
    run = wb.tracking.client(store).get_run(cmp.record.tracking.run_id)
    assert run.data.tags["workbench.status"] == "budget_stopped"
    assert run.data.tags["workbench.complete"] == "false"
    assert run.data.tags["workbench.interrupted"] == "true"
    assert run.info.run_name.endswith(" · BUDGET-STOPPED")
    assert "budget" in run.data.tags["workbench.stop_reason"]
    assert "INCOMPLETE" in run.data.tags["mlflow.note.content"]
    back = wb.load_comparison(run.info.run_id, tracking_uri=store)
    assert back.status == "budget_stopped" and back.results.equals(cmp.results)


def test_tracking_uri_comes_from_the_environment(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    cmp = simulated(mlflow=True)
    assert cmp.record.tracking.experiment == "workbench"
    assert wb.load_comparison(cmp.record.tracking.run_id).results.equals(cmp.results)


def test_a_logging_failure_warns_and_keeps_the_results(store: str) -> None:
    with pytest.warns(RuntimeWarning, match="logging it to MLflow failed"):
        cmp = simulated(experiment="x", tracking_uri="nosuchscheme://nowhere")
    assert len(cmp.results) == 48 and cmp.record.tracking.error is not None


def test_loading_a_child_or_unknown_run_says_what_to_pass(store: str) -> None:
    cmp = simulated(experiment="t", tracking_uri=store)
    run_id = cmp.record.tracking.run_id
    client = wb.tracking.client(store)
    child = client.search_runs([client.get_experiment_by_name("t").experiment_id],
                               filter_string=f"tags.mlflow.parentRunId = '{run_id}'")[0]
    with pytest.raises(ConfigError, match=f"Use the parent run id \\({run_id}\\)"):
        wb.load_comparison(child.info.run_id, tracking_uri=store)
    with pytest.raises(ConfigError, match="cannot read the run"):
        wb.load_comparison("0" * 32, tracking_uri=store)


def test_merge_joins_an_incumbent_logged_earlier(store: str) -> None:
    gs = small_set(n=12)
    incumbent = wb.compare(gs, ["sim/large"], VARIANTS[:1], [wb.scorers.exact_match],
                           progress=False, experiment="m", tracking_uri=store)
    candidate = wb.compare(gs, ["sim/fast"], VARIANTS[:1], [wb.scorers.exact_match],
                           progress=False)
    earlier = wb.load_comparison(incumbent.record.tracking.run_id, tracking_uri=store)
    both = candidate.merge(earlier)
    assert len(both.results) == 24
    assert set(both.summary().index) == {("sim/fast", "plain"), ("sim/large", "plain")}
    assert [m.label for m in both.record.models] == ["sim/fast", "sim/large"]
    with pytest.raises(ConfigError, match="both comparisons hold"):
        candidate.merge(candidate)
    other = wb.compare(small_set(n=9), ["sim/small"], VARIANTS[:1], [wb.scorers.exact_match],
                       progress=False)
    with pytest.raises(ConfigError, match="different data"):
        candidate.merge(other)
    assert isinstance(both.results, pd.DataFrame)


def test_prompts_are_registered_once_per_template_and_linked(store: str) -> None:
    cmp = simulated(experiment="reg", tracking_uri=store, register_prompts=True)
    client = wb.tracking.client(store)
    exp = client.get_experiment_by_name("reg")
    children = client.search_runs([exp.experiment_id], filter_string="tags.`workbench.model` "
                                  "= 'sim/large'")
    uris = {c.data.params["variant.prompt_uri"] for c in children}
    assert uris == {"prompts:/reg.plain/1", "prompts:/reg.asked/1"}
    prompt = client.load_prompt("prompts:/reg.asked/1")
    assert prompt.template == [{"role": "user", "content": VARIANTS[1].user}]
    assert prompt.tags["workbench.prompt_version"] == VARIANTS[1].version
    wb.log_comparison(cmp, "reg", tracking_uri=store, register_prompts=True)  # unchanged
    assert client.load_prompt("reg.asked", allow_missing=True, cache_ttl_seconds=0).version == 1
    changed = wb.PromptVariant("asked", user="Label: {{ message }}")
    again = wb.compare(small_set(n=12), ["sim/large"], [changed], [wb.scorers.exact_match],
                       progress=False, experiment="reg", tracking_uri=store,
                       register_prompts=True)
    child = client.search_runs([exp.experiment_id], filter_string=(
        f"tags.mlflow.parentRunId = '{again.record.tracking.run_id}'"))[0]
    assert child.data.params["variant.prompt_uri"] == "prompts:/reg.asked/2"
