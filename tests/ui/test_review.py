"""ReviewQueue driven from Python: blind, shuffled, keys, saved labels, two reviewers."""

from __future__ import annotations

import html
import math
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.errors import ConfigError
from workbench.records import TrackingRef
from workbench.stats import output_sha256
from workbench.stats._calibrate import LABEL_COLUMNS
from workbench.ui import ReviewQueue

from .test_explorer import golden


@pytest.fixture
def judged() -> wb.Comparison:
    return wb.compare(golden(20), ["sim/large", "sim/fast"],
                      [wb.PromptVariant("plain", user="{{ message }}")],
                      [wb.judge("correctness", name="judge_correctness")], progress=False)


def test_items_are_blind_shuffled_and_labelled_by_keys(judged: wb.Comparison,
                                                       tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    q = ReviewQueue(judged, "judge_correctness", reviewer="ana", labels_path=path, sample=30)
    assert (q.low, q.high) == (1, 5) and [b.description for b in q.buttons] == list("12345")
    assert len(q.items) == 30 and q.items != sorted(q.items)  # shuffled
    res = judged.results.set_index(["case_id", "model", "variant", "repeat"])
    for _ in range(3):
        item = q.current
        assert item is not None
        output = html.escape(str(res.loc[item, "output"]))
        assert output in q.body.value
        frame = q.body.value.replace(output, "") + q.header.value  # all but the output itself
        assert "sim/large" not in frame and "sim/fast" not in frame  # configs hidden
        assert "plain" not in frame and "<img" not in q.body.value
        assert f"{res.loc[item, 'score.judge_correctness']:.2f}" not in frame  # no verdict
        q.on_key({"key": "4"})
    assert q.position == 3 and len(q.labels) == 3
    q.on_key({"key": "s"})
    q.on_key({"key": "b"})
    assert q.position == 3
    q.on_key({"key": "9"})  # off the scale: ignored
    assert len(q.labels) == 3
    saved = pd.read_csv(path, dtype={"case_id": str})
    assert list(saved.columns) == [*LABEL_COLUMNS, "note"] and (saved.label == 4).all()
    for row in saved.itertuples():
        output = res.loc[(row.case_id, row.model, row.variant, row.repeat), "output"]
        assert row.output_sha256 == output_sha256(output) and row.reviewer == "ana"
    shown = ReviewQueue(judged, "judge_correctness", reviewer="x", labels_path=tmp_path / "y")
    shown.items = [k for k in shown.items if k[0] == "c00"]
    shown.go(0)
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown.body.value


def test_two_reviewers_share_a_fifth_and_calibrate_reports_both(
        judged: wb.Comparison, tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    ana = ReviewQueue(judged, "judge_correctness", reviewer="ana", labels_path=path)
    bo = ReviewQueue(judged, "judge_correctness", reviewer="bo", labels_path=path, second=True)
    assert len(bo.items) == math.ceil(0.2 * len(ana.items)) and set(bo.items) <= set(ana.items)
    assert bo.items != ana.shared or len(bo.items) < 3  # each reviewer's own order
    res = judged.results.set_index(["case_id", "model", "variant", "repeat"])
    for queue in (ana, bo):  # both agree with the judge's raw score
        while queue.current is not None:
            raw = 1 + round(4 * float(res.loc[queue.current, "score.judge_correctness"]))
            queue.label(float(raw))
    labels = pd.read_csv(path)
    assert set(labels.reviewer) == {"ana", "bo"} and len(labels) == len(ana.items) + len(bo.items)
    cal = wb.calibrate(judged, path, scorer="judge_correctness")
    assert cal.kappa == pytest.approx(1.0) and cal.human and cal.human["n"] == len(bo.items)
    assert cal.human["agreement"] == pytest.approx(1.0)
    ana.save()  # saving again keeps the other reviewer's rows
    assert len(pd.read_csv(path)) == len(labels)


def test_bad_arguments_and_mlflow(judged: wb.Comparison, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="no scorer"):
        ReviewQueue(judged, "nope", reviewer="ana")
    with pytest.raises(ConfigError, match="reviewer"):
        ReviewQueue(judged, "judge_correctness", reviewer=" ")
    q = ReviewQueue(judged, "judge_correctness", reviewer="ana", labels_path=tmp_path / "l.csv")
    q.save_mlflow.click()
    assert "not logged" in q.status.value
    monkeypatch.chdir(tmp_path)
    store = f"sqlite:///{tmp_path}/m.db"
    run_id = wb.log_comparison(judged, "review", tracking_uri=store, charts=False)
    judged.record.tracking = TrackingRef(run_id=run_id, tracking_uri=store)
    q.label(5.0)
    q.save_mlflow.click()
    assert "logged human_labels_judge_correctness.json" in q.status.value
    table = wb.tracking.load_table(run_id, store, "human_labels_judge_correctness.json")
    assert len(table) == 1 and table.label.iloc[0] == 5.0
