"""wb.shadow_test: the log replayed through the runner, production as a recorded config."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import ConfigError
from workbench.models import ModelSpec
from workbench.shadow import PRODUCTION, ReplayVariant, TrafficLog, pairwise_table
from workbench.testing import serve

SHIPPED = Path(__file__).resolve().parents[2] / "datasets" / "shadow" / "support_traffic.jsonl"


def subset(tmp_path: Path, n: int = 40, extra: list[dict[str, Any]] | None = None) -> Path:
    lines = SHIPPED.read_text(encoding="utf-8").splitlines()[:n]
    lines += [json.dumps(e) for e in extra or []]
    out = tmp_path / "traffic.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def shadow_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return subset(tmp_path_factory.mktemp("log"), 60)


@pytest.fixture(scope="module")
def shadow_cmp(tmp_path_factory: pytest.TempPathFactory, shadow_log: Path) -> Iterator[Any]:
    mp = pytest.MonkeyPatch()
    mp.setenv("WORKBENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    mp.setenv("WORKBENCH_SIM_LATENCY_SCALE", "0")
    yield wb.shadow_test(shadow_log, "sim/small", progress=False)
    mp.undo()


def test_replay_sends_every_logged_request_exactly_as_logged(tmp_path: Path) -> None:
    log = TrafficLog.load(subset(tmp_path, 60, [{
        "request_id": "multi", "timestamp": "2026-11-03T10:00:00Z", "served_model": "sim/large",
        "messages": [{"role": "user", "content": "first"}, {"role": "assistant", "content": "a"},
                     {"role": "user", "content": "second {{ 7*7 }}"}],
        "response": "ok", "latency_s": 0.2, "prompt_tokens": 9, "completion_tokens": 1}]))
    gs = wb.shadow.traffic_golden_set(log)
    rows = {str(r["id"]): r for r in gs.records()}
    variant = ReplayVariant()
    for record in log.records:
        assert variant.render(rows[record.request_id]) == [m.model_dump()
                                                           for m in record.messages]
    assert "multi" not in rows  # request ids are salted hashes (they may hold personal data)
    assert rows[log.id_of("multi")]["system"] is None  # no system message: none is invented
    assert "expected" not in gs.df.columns  # nothing is known right in production traffic
    assert gs.slices == ["channel", "language", "day", "feedback"]
    assert {rows[r.request_id]["day"] for r in log.records} >= {"2026-11-02"}


def test_production_is_a_recorded_config_priced_at_the_served_model_and_never_called(
    shadow_cmp: Any, shadow_log: Path
) -> None:
    cmp = shadow_cmp
    res = cmp.results
    served = res[res.model == "served:sim/large"].set_index("case_id")
    cand = res[res.model == "sim/small"]
    assert len(served) == len(cand) == 60 and set(res.variant) == {PRODUCTION}
    log = TrafficLog.load(shadow_log)  # the same file gives the same hashed ids
    records = {log.id_of(r["request_id"]): r for r in map(json.loads,
                                                           SHIPPED.read_text().splitlines()[:60])}
    price = ModelSpec("sim/large").pricing()
    for case_id, row in served.iterrows():
        rec = records[str(case_id)]
        assert row["prompt_tokens"] == rec["prompt_tokens"]
        assert row["latency_s"] == pytest.approx(rec["latency_s"])
        assert row["cost_usd"] == pytest.approx(price.cost(rec["prompt_tokens"],
                                                           rec["completion_tokens"]))
        assert row["billed_usd"] == 0 and not row["cache_hit"]
    # the output is the logged response after redaction (the shipped log's are clean JSON)
    assert served.loc[log.id_of("req-0037"), "output"] == records[log.id_of("req-0037")][
        "response"]
    # only the candidate was called, once per distinct request (repeated tickets share a call)
    distinct = {json.dumps(r["messages"]) for r in records.values()}
    assert cmp.record.run.requests_sent == len(distinct) and cmp.record.run.calls_planned == 120
    assert cmp.status == "complete" and cmp.record.roles.model_dump() == {
        "candidate": ("sim/small", PRODUCTION), "incumbent": ("served:sim/large", PRODUCTION)}
    models = {m.label: m for m in cmp.record.models}
    assert "never called" in (models["served:sim/large"].recorded or "")
    assert set(cmp.scorers) == {"refused", "output_words", "json_valid"}


def test_pairwise_verdicts_are_kept_and_count_both_orders(shadow_cmp: Any) -> None:
    pw = pairwise_table(shadow_cmp)
    assert pw is not None and len(pw) == 60
    a = pw.attrs
    assert a["wins"] + a["losses"] + a["ties"] == a["n"] == 60
    assert a["rubric"] == "helpfulness" and a["simulated_judge"] is True
    consistent = pw[pw.consistent.astype(bool)]
    assert (consistent.verdict_candidate_first == consistent.verdict_incumbent_first).all()
    assert (pw[~pw.consistent.astype(bool)].outcome == "tie").all()


def test_the_reference_free_judge_prefers_the_right_label() -> None:
    from workbench.models.sim import simulate
    from workbench.scorers import RUBRICS, pairwise_messages

    logged = json.loads(SHIPPED.read_text().splitlines()[0])  # req-0037, a cron/report bug
    case = {"system": logged["messages"][0]["content"], "history": None,
            "user": logged["messages"][1]["content"]}
    right, wrong = logged["response"], '{"intent": "billing", "priority": "urgent"}'
    votes = []
    for a, b in ((right, wrong), (wrong, right)):
        messages = pairwise_messages(RUBRICS["helpfulness"], case, a, b, reference=False,
                                     input_columns=["history", "system", "user"])
        assert "Reference answer" not in messages[1]["content"]
        votes.append(json.loads(simulate("sim/judge", messages).text)["winner"])
    assert votes == ["A", "B"]  # the right answer wins in either position


def test_label_agreement_matches_a_count_by_hand(shadow_cmp: Any) -> None:
    agree = wb.label_agreement(shadow_cmp)
    overall = agree[agree.slice == "(all)"].set_index("field")
    res = shadow_cmp.results
    from workbench.scorers import parse_json_object

    served = res[res.model == "served:sim/large"].set_index("case_id").output
    cand = res[res.model == "sim/small"].set_index("case_id").output
    for field in ("intent", "priority"):
        same = sum((parse_json_object(served[c]) or {}).get(field)
                   == (parse_json_object(cand[c]) or {}).get(field) for c in served.index)
        assert overall.loc[field, "agree"] == same and overall.loc[field, "n"] == 60
        assert overall.loc[field, "low"] <= same / 60 <= overall.loc[field, "high"]
    by_lang = agree[(agree.field == "intent") & (agree.slice == "language")]
    assert by_lang["n"].sum() == 60 and by_lang["agree"].sum() == overall.loc["intent", "agree"]
    changes = dict(agree.attrs["changes"])
    assert sum(n for k, n in changes.items()) <= 2 * 60


def test_a_log_served_by_several_models_needs_served(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = json.loads(SHIPPED.read_text().splitlines()[0])
    other.update(request_id="x-1", served_model="sim/fast")
    log = subset(tmp_path, 10, [other])
    with pytest.raises(ConfigError, match="served by 2 models") as caught:
        wb.shadow_test(log, "sim/small", judge=None, progress=False)
    assert 'served="<model>"' in str(caught.value)
    # the command line says the same with its own flag, not Python keyword syntax
    assert main(["shadow", "--log", str(log), "--candidate", "sim/small", "--no-judge",
                 "--no-progress", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "served by 2 models" in err and "--served MODEL" in err and "served=" not in err
    cmp = wb.shadow_test(log, "sim/small", judge=None, served="sim/fast", progress=False)
    assert set(cmp.results.case_id) == {TrafficLog.load(log).id_of("x-1")}
    assert cmp.record.shadow.left_out == 10
    assert pairwise_table(cmp) is None


def test_a_variant_re_renders_from_the_logged_fields(tmp_path: Path) -> None:
    variant = wb.PromptVariant("terse", system="Classify the ticket. JSON only.",
                               user="{{ user }}")
    cmp = wb.shadow_test(subset(tmp_path, 8), "sim/fast", variant, judge=None, progress=False)
    assert set(zip(cmp.results.model, cmp.results.variant, strict=True)) == {
        ("sim/fast", "terse"), ("served:sim/large", PRODUCTION)}
    with pytest.raises(ConfigError, match="served configuration"):
        wb.shadow_test(subset(tmp_path, 8), "sim/fast", wb.PromptVariant(PRODUCTION,
                       user="{{ user }}"), judge=None, progress=False)
    with pytest.raises(ConfigError, match="message"):  # not a column of the replay set
        wb.shadow_test(subset(tmp_path, 8), "sim/fast",
                       wb.PromptVariant("v", user="{{ message }}"), judge=None, progress=False)


def test_a_real_provider_candidate_goes_over_http_and_production_is_never_sent(
    tmp_path: Path, fake_key: str
) -> None:
    with serve(latency_ms=2) as server:
        spec = ModelSpec("openai/candidate", api_base=server.base_url,
                         api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                         output_price_per_1m=2.0)
        cmp = wb.shadow_test(subset(tmp_path, 12), spec, judge=None, progress=False)
        assert server.fake.requests == 12  # the candidate's calls only
    cand = cmp.results[cmp.results.model == "openai/candidate"]
    assert cand.error_type.isna().all() and (cand.billed_usd > 0).all()
    assert fake_key not in cmp.record.model_dump_json()


def test_the_runner_refuses_recorded_rows_for_cases_it_does_not_plan() -> None:
    from workbench.runner import Cell, RecordedConfig, plan, run_plan

    gs = wb.GoldenSet.from_df(pd.DataFrame({"id": ["a"], "q": ["x"]}), name="one")
    p = plan(gs, ["sim/fast"], [wb.PromptVariant("v", user="{{ q }}")])
    stray = RecordedConfig(label="served:x", variant=wb.PromptVariant("p", user="{{ q }}"),
                           rows=[(Cell("zz", "served:x", "p", 0, [], "k", None, 1, 1), {})],
                           pricing={}, simulated=False, source="test")
    with pytest.raises(ConfigError, match="zz"):
        run_plan(p, progress=False, recorded=[stray])


def test_a_budget_stop_keeps_the_replayed_part_and_can_at_most_hold(tmp_path: Path) -> None:
    log = subset(tmp_path, 40)
    cmp = wb.shadow_test(log, "sim/large", budget_usd=0.005, judge=None, progress=False)
    assert cmp.status == "budget_stopped"
    cand = cmp.results[cmp.results.model == "sim/large"]
    assert 0 < len(cand) < 40 and (cmp.results.model == "served:sim/large").sum() == 40
    report = wb.shadow_report(cmp, wb.Gates(metrics={"json_valid": wb.MetricGate(margin=0.5)}),
                              log=False)
    assert report.outcome != "PROMOTE" and report.banner[0].startswith("INCOMPLETE")
    again = wb.shadow_test(log, "sim/large", resume=True, judge=None, progress=False)
    assert again.status == "complete"
    assert again.record.run.requests_sent < len({json.dumps(r["messages"]) for r in map(
        json.loads, log.read_text().splitlines())})  # recorded calls were not made again


def test_the_judge_spends_only_what_the_candidate_left_of_the_budget(tmp_path: Path) -> None:
    cmp = wb.shadow_test(subset(tmp_path, 40), "sim/large", budget_usd=0.005, progress=False)
    assert cmp.status == "budget_stopped"
    pw = pairwise_table(cmp)
    assert pw is not None and len(pw) > 0
    # the candidate used up the budget: no judge call may be paid (was: unlimited)
    assert pw.attrs["judge_cost_usd"] == 0.0 and pw.attrs["errors"] == len(pw)
    assert pw["error"].str.startswith("BudgetExhausted").all()
