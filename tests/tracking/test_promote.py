"""Promotion and rollback through the MLflow Prompt Registry (embedded sqlite store)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.errors import ConfigError

from ..runner.conftest import small_set

SET = small_set(n=30)
FEW = [r for r in SET.records() if r["id"] in ("c000", "c001")]
INCUMBENT = wb.PromptVariant("plain", user="{{ message }}")
CANDIDATE = wb.PromptVariant("guided", system="You label support messages.",
                             user="Message: {{ message }}\nLabel:", few_shot=FEW)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/mlflow.db"


def logged(store: str, **kw: Any) -> tuple[wb.Comparison, wb.Decision]:
    fast = wb.ModelSpec("sim/fast", temperature=0.0, max_tokens=64)
    cmp = wb.compare(SET, ["sim/large", fast], [INCUMBENT, CANDIDATE], [wb.scorers.exact_match],
                     progress=False, experiment="promo", tracking_uri=store, **kw)
    gates = wb.Gates(  # gates that cannot fail: a 1.0 margin, no minimum, any error rate
        metrics={"exact_match": wb.MetricGate(margin=1.0, min_informative=0)},
        error_rate_max=1.0, error_rate_increase_max=1.0)
    return cmp, wb.decide(cmp, gates, candidate=("sim/fast", "guided"),
                          incumbent=("sim/large", "plain"))


def test_promote_registers_tags_and_moves_the_alias_then_rollback_moves_it_back(
        store: str) -> None:
    cmp, decision = logged(store)
    assert decision.outcome == "PROMOTE"  # a 1.0 margin cannot fail
    first = wb.promote(decision, cmp, "triage", tracking_uri=store, force=False)
    assert (first.version, first.previous, first.created) == (1, None, True)
    again = wb.promote(decision, cmp, "triage", tracking_uri=store)
    assert (again.version, again.created) == (1, False)  # identical: not registered twice
    variant, model = wb.load_prompt("triage@production", tracking_uri=store)
    assert variant.version == CANDIDATE.version and model.id == "sim/fast"
    assert model.temperature == 0.0 and model.max_tokens == 64
    for row in SET.records():  # renders exactly as the promoted prompt, row by row
        assert variant.render(row) == CANDIDATE.render(row)
    client = wb.tracking.client(store)
    version = client.load_prompt("prompts:/triage@production")
    assert version.tags["workbench.decision"] == "PROMOTE"
    assert version.tags["workbench.parent_run_id"] == cmp.record.tracking.run_id
    assert version.tags["workbench.dataset_digest"] == SET.digest
    assert "exact_match" in version.tags["workbench.metrics"]
    messages = version.template
    assert messages[0] == {"role": "system", "content": CANDIDATE.system}
    assert messages[-1] == {"role": "user", "content": CANDIDATE.user}  # Jinja source verbatim
    assert [m["role"] for m in messages[1:-1]] == ["user", "assistant"] * 2  # few-shot turns
    # a second candidate takes production; rollback returns it to the first
    other = wb.PromptVariant("guided", user="Label: {{ message }}")
    cmp2 = wb.compare(SET, ["sim/large", "sim/fast"], [INCUMBENT, other],
                      [wb.scorers.exact_match], progress=False, experiment="promo",
                      tracking_uri=store)
    d2 = wb.decide(cmp2, wb.Gates(
        metrics={"exact_match": wb.MetricGate(margin=1.0, min_informative=0)},
        error_rate_max=1.0, error_rate_increase_max=1.0),
                   candidate=("sim/fast", "guided"), incumbent=("sim/large", "plain"))
    second = wb.promote(d2, cmp2, "triage", tracking_uri=store)
    assert (second.version, second.previous) == (2, 1)
    assert wb.load_prompt("triage@production", tracking_uri=store)[0].version == other.version
    back = wb.rollback("triage", tracking_uri=store)
    assert (back.version, back.previous) == (1, 2)
    assert wb.load_prompt("triage@production", tracking_uri=store)[0].version == \
        CANDIDATE.version
    with pytest.raises(ConfigError, match="no earlier production version"):
        wb.rollback("triage", tracking_uri=store)


def test_promotion_is_refused_without_evidence_unless_forced(store: str) -> None:
    cmp = wb.compare(SET, ["sim/large", "sim/fast"], [INCUMBENT, CANDIDATE],
                     [wb.scorers.exact_match], progress=False)  # not logged
    decision = wb.decide(cmp, wb.Gates(metrics={"exact_match": wb.MetricGate(
        superiority=True)}), candidate=("sim/large", "plain"), incumbent=("sim/fast", "guided"))
    assert decision.outcome != "PROMOTE"
    with pytest.raises(ConfigError, match=rf"the decision is {decision.outcome}, not PROMOTE; "
                                          r"the comparison was not logged"):
        wb.promote(decision, cmp, "risky", tracking_uri=store)
    forced = wb.promote(decision, cmp, "risky", tracking_uri=store, force=True)
    assert forced.forced
    tags = wb.tracking.client(store).load_prompt("prompts:/risky@production").tags
    assert tags["workbench.forced"] == "true"
    with pytest.raises(ConfigError, match="has no 'production' alias"):
        wb.rollback("nothing-here", tracking_uri=store)
