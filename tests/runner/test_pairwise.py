"""wb.pairwise: both orders, wins only when they agree, consistency rate, costs, errors."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.scorers._judge import boundary
from workbench.testing import serve

COLUMNS = ["case_id", "verdict_candidate_first", "verdict_incumbent_first", "outcome",
           "consistent", "judge_cost_usd", "error"]


def qa_set() -> wb.GoldenSet:
    rows = [{"id": f"q{i}", "question": f"What is item {i}?", "context": f"Item {i} is red.",
             "hint": "good" if i % 2 else "bad", "expected": "red"} for i in range(6)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name="pw")


def run_pair(server: Any) -> wb.Comparison:
    model = wb.ModelSpec("openai/m", api_base=server.base_url, api_key_env="FAKE_PROVIDER_KEY",
                         input_price_per_1m=1.0, output_price_per_1m=1.0)
    variants = [wb.PromptVariant("cand", user="{{ question }} ({{ hint }})"),
                wb.PromptVariant("inc", user="Please: {{ question }}")]
    return wb.compare(qa_set(), [model], variants, progress=False)


def test_a_judge_that_always_prefers_the_first_answer_yields_only_ties(fake_key: str) -> None:
    with serve(replies={"Output B:": '{"winner": "A", "reason": "first is best"}'}) as srv:
        cmp = run_pair(srv)
        before = srv.fake.requests
        judge = wb.ModelSpec("openai/judge", api_base=srv.base_url,
                             api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=3.0,
                             output_price_per_1m=3.0)
        pw = wb.pairwise(cmp, candidate=("openai/m", "cand"), incumbent=("openai/m", "inc"),
                         judge=judge, golden_set=qa_set())
        assert srv.fake.requests - before == 2 * 6  # every case asked in both orders
    assert list(pw.columns) == COLUMNS
    assert (pw["verdict_candidate_first"] == "candidate").all()
    assert (pw["verdict_incumbent_first"] == "incumbent").all()
    assert (pw["outcome"] == "tie").all() and not pw["consistent"].any()
    assert pw.attrs["consistency_rate"] == 0.0 and pw.attrs["ties"] == 6
    assert (pw["judge_cost_usd"] > 0).all()


def test_consistent_verdicts_count_as_wins_and_losses(fake_key: str) -> None:
    with serve() as srv:
        cmp = run_pair(srv)
        outputs = cmp.results.set_index(["variant", "case_id"])["output"]
        replies = {}
        for case in qa_set().ids:
            cand, inc = outputs[("cand", case)], outputs[("inc", case)]
            better_first = case in ("q1", "q3", "q5")  # the candidate wins these cases
            replies[f"<<<{boundary(cand, inc)}"] = '{"winner": "%s"}' % (
                "A" if better_first else "B")
            replies[f"<<<{boundary(inc, cand)}"] = '{"winner": "%s"}' % (
                "B" if better_first else "A")
        srv.fake.replies = replies
        judge = wb.ModelSpec("openai/judge", api_base=srv.base_url,
                             api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                             output_price_per_1m=1.0)
        pw = wb.pairwise(cmp, candidate=("openai/m", "cand"), incumbent=("openai/m", "inc"),
                         judge=judge, golden_set=qa_set())
    assert pw.attrs["wins"] == 3 and pw.attrs["losses"] == 3 and pw.attrs["ties"] == 0
    assert pw.attrs["consistency_rate"] == 1.0
    assert set(pw.loc[pw["outcome"] == "win", "case_id"]) == {"q1", "q3", "q5"}


def test_simulated_judge_prefers_the_stronger_model() -> None:
    gs = wb.GoldenSet.load("datasets/grounded_qa/golden.jsonl")
    v = wb.PromptVariant("guided", system=open("examples/prompts/qa_guided_system.j2").read(),
                         user=open("examples/prompts/qa_guided_user.j2").read())
    cmp = wb.compare(gs, ["sim/large", "sim/fast"], [v], cases=gs.ids[:60], progress=False)
    pw = wb.pairwise(cmp, candidate=("sim/large", "guided"), incumbent=("sim/fast", "guided"))
    assert pw.attrs["n"] == 60 and pw.attrs["errors"] == 0 and pw.attrs["simulated_judge"]
    assert pw.attrs["wins"] > pw.attrs["losses"]
    assert 0.5 <= pw.attrs["consistency_rate"] < 1.0  # position bias shows on close calls


def test_unknown_configuration_is_refused() -> None:
    gs = wb.GoldenSet.load("datasets/grounded_qa/golden.jsonl")
    v = wb.PromptVariant("guided", user="Context: {{ context }}\nQuestion: {{ question }}")
    cmp = wb.compare(gs, ["sim/fast"], [v], cases=gs.ids[:3], progress=False)
    with pytest.raises(ConfigError, match="no results for candidate"):
        wb.pairwise(cmp, candidate=("sim/large", "guided"), incumbent=("sim/fast", "guided"))
