"""The typed run record: written and read with a schema version; old saves still load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import workbench as wb
from workbench.records import RunRecord, TrackingRef

FIXTURES = Path(__file__).parent / "fixtures"


def test_a_comparison_saved_before_the_record_existed_still_loads(tmp_path: Path) -> None:
    """``fixtures/comparison_v1`` was saved by workbench before #20 (meta as a dict)."""
    raw = json.loads((FIXTURES / "comparison_v1" / "comparison.json").read_text())
    assert raw["schema_version"] == 1 and "roles" in raw and "mlflow" in raw
    cmp = wb.Comparison.load(FIXTURES / "comparison_v1")
    record = cmp.record
    assert isinstance(record, RunRecord) and record.schema_version == 2
    assert record.golden_set.name == raw["golden_set"]["name"]
    assert record.golden_set.digest == raw["golden_set"]["digest"]
    assert [m.label for m in record.models] == ["sim/large", "sim/fast"]
    assert record.models[0].pricing is not None and record.models[0].pricing.source
    assert [s.name for s in record.scorers] == ["intent", "json_valid"]
    assert record.settings.repeats == raw["repeats"] and record.settings.seed == raw["seed"]
    assert record.run.calls_recorded == raw["calls_recorded"] == 24
    assert record.run.status == "complete" and record.versions.workbench
    assert record.roles.candidate == ("sim/fast", "plain")
    assert record.tracking == TrackingRef(run_id="0123456789abcdef", experiment="legacy",
                                          tracking_uri="sqlite:///mlflow.db")
    # the same numbers the old code computed from it
    expected = json.loads((FIXTURES / "comparison_v1_summary.json").read_text())
    summary = cmp.summary()
    for key, row in expected.items():
        model, variant = key.split("|")
        for column, value in row.items():
            assert summary.loc[(model, variant), column] == pytest.approx(value), column
    # decided with the roles recorded in it, and saved again in the new layout
    decision = wb.decide(cmp, wb.Gates(metrics={"json_valid": wb.MetricGate(margin=0.5)}))
    assert decision.candidate == ("sim/fast", "plain")
    again = wb.Comparison.load(cmp.save(tmp_path / "v2"))
    assert again.record == record
    assert json.loads((tmp_path / "v2" / "comparison.json").read_text())["schema_version"] == 2


def test_the_record_is_typed_and_every_writer_sets_its_own_section() -> None:
    gs = wb.GoldenSet.load(Path(__file__).parents[2] / "datasets" / "support_triage"
                           / "golden.jsonl").sample(6, seed=1)
    cmp = wb.compare(gs, ["sim/large"], [wb.PromptVariant("plain", user="{{ message }}")],
                     [wb.scorers.json_valid], progress=False, cache=False)
    record = cmp.record
    assert record.run.calls_recorded == 6 and record.golden_set.evaluated == 6
    assert record.roles.candidate is None and record.tracking is None
    assert record.shadow is None and record.decision is None
    with pytest.raises(ValueError, match="status"):
        record.run.status = "finished"  # type: ignore[assignment]
    with pytest.raises(wb.ConfigError, match="takes a RunRecord"):
        wb.Comparison(cmp.results, {"status": "complete"})  # type: ignore[arg-type]


def test_a_damaged_record_names_the_file(tmp_path: Path) -> None:
    gs = wb.GoldenSet.load(Path(__file__).parents[2] / "datasets" / "support_triage"
                           / "golden.jsonl").sample(4, seed=2)
    cmp = wb.compare(gs, ["sim/large"], [wb.PromptVariant("plain", user="{{ message }}")],
                     [wb.scorers.json_valid], progress=False, cache=False)
    out = cmp.save(tmp_path / "run")
    doc = json.loads((out / "comparison.json").read_text())
    doc["run"]["status"] = 7
    (out / "comparison.json").write_text(json.dumps(doc))
    with pytest.raises(wb.WorkbenchError, match=r"comparison.json does not hold a valid run "
                                                r"record.*'run', 'status'"):
        wb.Comparison.load(out)
