"""What a reviewer reads in MLflow (issue #21): reruns, calibrated judges, the runs view, where
artifacts go, and quiet library logs."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd
import pytest

import workbench as wb
from workbench.stats import calibrate, output_sha256
from workbench.tracking import RERUN_TAG, verbose

from ..runner.conftest import small_set

PLAIN = wb.PromptVariant("plain", user="{{ message }}")


def children(store: str, run_id: str) -> list[object]:
    c = wb.tracking.client(store)
    return c.search_runs([c.get_run(run_id).info.experiment_id],
                         filter_string=f"tags.mlflow.parentRunId = '{run_id}'")


def test_a_cached_rerun_is_tagged_and_shows_what_its_answers_cost(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/mlflow.db"
    gs = small_set(n=9)

    def run(n: int = 9) -> str:
        cmp = wb.compare(small_set(n=n), ["sim/large"], [PLAIN], [wb.scorers.exact_match],
                         progress=False, experiment="reruns", tracking_uri=store)
        return str(cmp.record.tracking.run_id)

    first, again = run(), run()  # the second answers every call from the cache
    c = wb.tracking.client(store)
    one, two = c.get_run(first), c.get_run(again)
    assert RERUN_TAG not in one.data.tags and two.data.tags[RERUN_TAG] == first
    assert two.data.tags["workbench.fingerprint"] == one.data.tags["workbench.fingerprint"]
    assert two.info.run_name.endswith(" · rerun") and "rerun" not in one.info.run_name
    assert one.info.run_name.startswith(f"{gs.name} · 1 model × 1 variant · 20")
    m1, m2 = one.data.metrics, two.data.metrics
    assert m1["spent_usd"] > 0 and m2["spent_usd"] == 0  # this run billed nothing ...
    assert m2["cost_usd"] == pytest.approx(m1["cost_usd"]) and m2["cost_usd"] > 0  # ... for
    assert m2["original_spent_usd"] == pytest.approx(m1["spent_usd"])  # answers that cost
    assert m2["cache_hit_rate"] == 1 and m1["cache_hit_rate"] == 0
    note = two.data.tags["mlflow.note.content"]
    assert "This run billed $0.0000" in note and "9 of 9 answers from the cache" in note
    assert f"**Rerun** of [{one.info.run_name}](#/experiments/{one.info.experiment_id}/runs/" \
           f"{first}?workflowType=machine_learning)" in note
    other = c.get_run(run(n=6))  # other cases: another comparison, not a rerun
    assert RERUN_TAG not in other.data.tags
    listed = wb.list_comparisons("reruns", tracking_uri=store).set_index("run_id")
    assert listed.loc[again, "rerun_of"] == first and pd.isna(listed.loc[first, "rerun_of"])
    assert listed.loc[again, "spent_usd"] == 0 and listed.loc[again, "cost_usd"] > 0


def labels_for(cmp: wb.Comparison, scorer: str) -> pd.DataFrame:
    """Human labels on a 1-5 scale that agree with the judge on most outputs, not all."""
    rows = cmp.results.reset_index(drop=True)
    judge = (rows[f"score.{scorer}"] * 4 + 1).round().astype(int)
    human = [min(5, j + 1) if i % 4 == 0 else j for i, j in enumerate(judge)]
    return pd.DataFrame({
        "case_id": rows["case_id"], "model": rows["model"], "variant": rows["variant"],
        "repeat": rows["repeat"], "scorer": scorer,
        "output_sha256": [output_sha256(o) for o in rows["output"]], "reviewer": "ana",
        "label": human})


def test_a_calibrated_judge_gets_a_run_with_kappa_ci_and_agreement(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/mlflow.db"
    cmp = wb.compare(small_set(n=12), ["sim/large"], [PLAIN],
                     [wb.judge("correctness", "sim/judge")], progress=False)
    cal = calibrate(cmp, labels_for(cmp, "judge_correctness"), scorer="judge_correctness")
    saved = cmp.save(tmp_path / "run")
    run_id = wb.log_comparison(cmp, "judged", tracking_uri=store, saved=saved, charts=False,
                               calibrations={"judge_correctness": cal})
    runs = children(store, run_id)
    judge = [r for r in runs if r.data.tags.get("workbench.kind") == "judge"]
    assert len(runs) == 2 and len(judge) == 1
    tags, metrics = judge[0].data.tags, judge[0].data.metrics
    assert tags["workbench.judge"] == "judge_correctness"
    assert tags["workbench.judge_model"] == "sim/judge" and tags["workbench.simulated"] == "true"
    assert metrics["kappa"] == pytest.approx(cal.kappa)
    assert (metrics["kappa_ci_low"], metrics["kappa_ci_high"]) == pytest.approx(
        (cal.kappa_low, cal.kappa_high))
    assert metrics["agreement"] == pytest.approx(cal.agreement) and 0 < cal.agreement < 1
    assert metrics["labels_n"] == cal.n == 12
    assert metrics["judge_cost_usd"] == pytest.approx(cmp.results["judge_cost_usd"].sum())
    assert judge[0].data.params["calibration.kappa_method"] == cal.kappa_method
    assert f"Cohen's kappa ({cal.kappa_method}) {cal.kappa:.3f}" in tags["mlflow.note.content"]
    # the roles and the comparison read back as before; only the parent is a comparison
    assert wb.load_comparison(run_id, tracking_uri=store).results.equals(cmp.results)
    assert len(wb.list_comparisons("judged", tracking_uri=store)) == 1
    # `workbench log DIR` logs it again from the saved request, judge run included
    request = json.loads((saved / "mlflow" / "request.json").read_text())
    assert request["calibrations"]["judge_correctness"]["kappa"] == pytest.approx(cal.kappa)
    again, logged = wb.workflow.log_saved(saved, force=True)
    assert logged and again != run_id
    judged = [r for r in children(store, again) if r.data.tags.get("workbench.kind") == "judge"]
    assert judged[0].data.metrics["kappa"] == pytest.approx(cal.kappa)


def test_experiments_open_on_the_runs_view_and_keep_artifacts_beside_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DESIGN.md R8: a notebook in notebooks/ logging to the project's store writes nothing
    beside itself (MLflow's default artifact root is ./mlruns of the working directory)."""
    home, notebooks = tmp_path / "project", tmp_path / "project" / "notebooks"
    notebooks.mkdir(parents=True)
    monkeypatch.chdir(notebooks)
    store = f"sqlite:///{home}/mlflow.db"
    cmp = wb.compare(small_set(n=6), ["sim/large"], [PLAIN], [wb.scorers.exact_match],
                     progress=False, experiment="triage", tracking_uri=store)
    assert list(notebooks.iterdir()) == []
    run_id = str(cmp.record.tracking.run_id)
    c = wb.tracking.client(store)
    exp = c.get_experiment_by_name("triage")
    location = Path(exp.artifact_location)
    assert location.parent == home / "mlruns" and location.name.startswith("triage-")
    assert (location / run_id / "artifacts" / "comparison").is_dir()
    assert wb.tracking.artifact_home(store) == home / "mlruns"
    # the kind MLflow's UI reads, and a description saying how to reach the runs table
    assert exp.tags[wb.tracking.EXPERIMENT_KIND_TAG] == "custom_model_development"
    assert "workflowType=machine_learning" in exp.tags["mlflow.note.content"]
    # an experiment made elsewhere gets the kind, not a new artifact location
    made = c.create_experiment("made-elsewhere", artifact_location=str(tmp_path / "theirs"))
    wb.log_comparison(cmp, "made-elsewhere", tracking_uri=store, charts=False)
    theirs = c.get_experiment(made)
    assert theirs.tags[wb.tracking.EXPERIMENT_KIND_TAG] == "custom_model_development"
    assert Path(theirs.artifact_location) == tmp_path / "theirs"
    assert list(notebooks.iterdir()) == []
    assert wb.tracking.run_url(run_id, store) == (
        f"http://127.0.0.1:5000/#/experiments/{exp.experiment_id}/runs/{run_id}"
        "?workflowType=machine_learning")


def test_library_logs_stay_quiet_unless_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow logs "Creating initial MLflow database tables..." at INFO to stderr, which a
    notebook shows as a red box: quiet by default, shown with verbose()."""
    monkeypatch.delenv("WORKBENCH_VERBOSE", raising=False)
    monkeypatch.delenv("MLFLOW_LOGGING_LEVEL", raising=False)
    cmp = wb.compare(small_set(n=6), ["sim/large"], [PLAIN], [wb.scorers.exact_match],
                     progress=False)
    capsys.readouterr()
    wb.log_comparison(cmp, "quiet", tracking_uri=f"sqlite:///{tmp_path}/a.db", charts=False)
    out, err = capsys.readouterr()
    assert err == "" and out == ""
    try:
        verbose()
        assert wb.tracking.is_verbose()
        wb.log_comparison(cmp, "loud", tracking_uri=f"sqlite:///{tmp_path}/b.db", charts=False)
        err = capsys.readouterr().err
        assert "INFO mlflow.store.db.utils: Creating initial MLflow database tables" in err
    finally:
        verbose(None)
    assert logging.getLogger("mlflow").getEffectiveLevel() == logging.WARNING
    monkeypatch.setenv("WORKBENCH_VERBOSE", "1")  # the same switch for a whole process
    assert wb.tracking.is_verbose()
    # against a server MLflow prints "View run" links per ended run: not for workbench's own
    from workbench.tracking._quiet import quiet_run_links

    monkeypatch.delenv("WORKBENCH_VERBOSE")
    with quiet_run_links():
        assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"
    assert "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT" not in os.environ
