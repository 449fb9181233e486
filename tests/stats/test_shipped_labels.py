"""The human labels shipped with grounded_qa (Settled 13) calibrate the simulated judge."""

from __future__ import annotations

from pathlib import Path

import workbench as wb
from workbench.experiments import load_experiment
from workbench.runner import plan, run_plan
from workbench.stats import load_human_labels


def test_shipped_labels_are_keyed_by_output_and_some_have_two_reviewers(repo_root: Path) -> None:
    labels = load_human_labels(repo_root / "datasets" / "grounded_qa" / "human_labels.csv")
    assert len(labels) >= 60
    assert set(labels["scorer"]) == {"judge_correctness"}
    assert labels["label"].between(1, 5).all() and labels["label"].nunique() >= 4
    assert labels["output_sha256"].str.fullmatch(r"[0-9a-f]{64}").all()
    per_output = labels.groupby(["case_id", "model"])["reviewer"].nunique()
    assert (per_output == 2).sum() >= 20 and labels["reviewer"].nunique() == 2
    gs = wb.GoldenSet.load(repo_root / "datasets" / "grounded_qa" / "golden.jsonl")
    assert set(labels["case_id"]) <= set(gs.ids)


def test_the_simulated_judge_agrees_with_the_shipped_labels(repo_root: Path) -> None:
    loaded = load_experiment(repo_root / "examples" / "qa_experiment.yaml")
    labels = loaded.human_labels
    assert labels is not None
    opts = loaded.options()
    p = plan(loaded.golden_set, loaded.models, loaded.variants, loaded.scorers,
             seed=opts["seed"], cases=sorted(set(labels["case_id"])))
    cmp = run_plan(p, concurrency=16, progress=False)
    cal = wb.calibrate(cmp, labels, scorer="judge_correctness")
    # every label matches the output it judged: the experiment reproduces the labelled outputs
    assert cal.stale.empty and cal.unmatched == 0
    assert cal.n == labels.groupby(["case_id", "model"]).ngroups
    assert cal.kind == "ordinal" and cal.within_one is not None
    assert cal.kappa_low > 0  # better than chance, with 95% confidence
    assert cal.human is not None and cal.human["n"] >= 20  # the reviewers' ceiling is reported
    assert "Calibration of 'judge_correctness'" in str(cal)
