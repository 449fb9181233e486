"""wb.calibrate: kappa (statsmodels, checked against scikit-learn), bias, stale labels,
reviewer agreement, binary thresholds and input checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

import workbench as wb
from workbench.errors import ConfigError
from workbench.stats import calibrate, output_sha256

HUMAN = [1, 2, 3, 4, 5, 5, 4, 3, 2, 1, 5, 5, 4, 4, 3, 2, 5, 1, 3, 4]
JUDGE = [1, 2, 4, 5, 5, 5, 4, 3, 2, 2, 5, 5, 5, 4, 4, 2, 5, 2, 3, 5]  # lenient


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    outputs = [f"answer {i}" for i in range(len(HUMAN))]
    results = pd.DataFrame({
        "case_id": [f"c{i}" for i in range(len(HUMAN))], "model": "m", "variant": "v",
        "repeat": 0, "output": outputs,
        "score.judge_correctness": [(j - 1) / 4 for j in JUDGE],  # stored 0-1, scale 1-5
    })
    labels = pd.DataFrame({
        "case_id": results["case_id"], "model": "m", "variant": "v", "repeat": 0,
        "scorer": "judge_correctness", "output_sha256": [output_sha256(o) for o in outputs],
        "reviewer": "ana", "label": HUMAN,
    })
    return results, labels


def test_ordinal_kappa_bias_and_confusion() -> None:
    results, labels = tables()
    cal = calibrate(results, labels, scale=(1, 5))
    assert cal.n == 20 and cal.kind == "ordinal"
    assert cal.kappa == pytest.approx(cohen_kappa_score(HUMAN, JUDGE, weights="quadratic"))
    assert cal.kappa_low < cal.kappa < cal.kappa_high
    assert cal.agreement == pytest.approx(np.mean(np.array(HUMAN) == np.array(JUDGE)))
    assert cal.bias == pytest.approx(np.mean(np.array(JUDGE) - np.array(HUMAN)))
    assert cal.bias_low > 0 and "over-scores" in str(cal)  # the judge is lenient
    assert cal.within_one == 1.0 and cal.spearman is not None and cal.spearman > 0.8
    assert int(cal.confusion.to_numpy().sum()) == 20
    assert "kappa (quadratic-weighted)" in cal.to_frame().index


def test_binary_threshold_uses_unweighted_kappa() -> None:
    results, labels = tables()
    cal = calibrate(results, labels, scale=(1, 5), kind="binary", threshold=4)
    h, j = np.array(HUMAN) >= 4, np.array(JUDGE) >= 4
    assert cal.kind == "binary" and cal.kappa_method == "unweighted"
    assert cal.kappa == pytest.approx(cohen_kappa_score(h, j))


def test_kappa_of_one_category_is_undefined_and_said_so(recwarn: pytest.WarningsRecorder) -> None:
    # every label and every score 5: chance agreement is 1, kappa is 0/0, not a number to show
    results, labels = tables()
    results["score.judge_correctness"] = 1.0
    labels["label"] = 5
    cal = calibrate(results, labels, scale=(1, 5))
    assert np.isnan(cal.kappa) and cal.agreement == 1.0
    assert "kappa (quadratic-weighted) undefined (every label and score in one category" in str(
        cal)
    assert "bias (judge − human) +0.000 on every output (no spread, so no interval)" in str(cal)
    assert cal.spearman is None and "Spearman" not in str(cal)
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_stale_and_unmatched_labels_are_reported_not_used() -> None:
    results, labels = tables()
    results.loc[0, "output"] = "a different answer now"  # the model's output changed
    extra = labels.iloc[[1]].assign(case_id="gone")
    cal = calibrate(results, pd.concat([labels, extra]), scale=(1, 5))
    assert cal.n == 19 and len(cal.stale) == 1 and cal.stale.loc[0, "case_id"] == "c0"
    assert cal.unmatched == 1 and "stale" in str(cal)


def test_two_reviewers_give_a_ceiling_and_a_median() -> None:
    results, labels = tables()
    second = labels.iloc[:10].assign(reviewer="ben", label=[1, 2, 3, 4, 4, 5, 4, 2, 2, 1])
    cal = calibrate(results, pd.concat([labels, second]), scale=(1, 5))
    assert cal.human is not None and cal.human["n"] == 10
    assert cal.human["reviewers"] == ["ana", "ben"]
    assert cal.human["kappa"] == pytest.approx(cohen_kappa_score(
        HUMAN[:10], [1, 2, 3, 4, 4, 5, 4, 2, 2, 1], weights="quadratic"))


def test_bad_label_tables_are_refused(tmp_path: Path) -> None:
    results, labels = tables()
    with pytest.raises(ConfigError, match="lacks columns"):
        calibrate(results, labels.drop(columns=["reviewer"]))
    bad = tmp_path / "labels.csv"
    labels.assign(label=["x"] + HUMAN[1:]).to_csv(bad, index=False)
    with pytest.raises(ConfigError, match="row 2"):
        calibrate(results, bad)
    with pytest.raises(ConfigError, match="no scorer 'nope'"):
        calibrate(results, labels.assign(scorer="nope"))
    assert wb.calibrate is calibrate
