"""Large runs in MLflow (#23): a big configuration's per-case table is a Parquet artifact."""

from __future__ import annotations

from pathlib import Path

import pytest

import workbench as wb
from workbench.tracking import _log

from ..runner.conftest import small_set


def test_a_large_configuration_logs_its_cases_as_parquet(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store = f"sqlite:///{tmp_path}/mlflow.db"
    cmp = wb.compare(small_set(n=12), ["sim/large", "sim/fast"],
                     [wb.PromptVariant("plain", user="{{ message }}")], [wb.scorers.exact_match],
                     progress=False)
    monkeypatch.setattr(_log, "CASES_JSON_MAX_ROWS", 10)  # sim/large: 12 cases > 10
    run_id = wb.log_comparison(cmp, "large", tracking_uri=store)
    c = wb.tracking.client(store)
    kids = c.search_runs([c.get_run(run_id).info.experiment_id],
                         filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
    assert len(kids) == 2
    for kid in kids:
        names = {f.path for f in c.list_artifacts(kid.info.run_id)}
        assert "cases.parquet" in names and "cases.json" not in names
        assert "`cases.parquet`" in kid.data.tags["mlflow.note.content"]
        cases = wb.tracking.load_table(kid.info.run_id, store)  # finds the Parquet table
        model = kid.data.tags["workbench.model"]
        mine = cmp.results[cmp.results.model == model]
        assert sorted(cases["case_id"]) == sorted(mine["case_id"])
        logged = cases.set_index("case_id")["output"]
        assert list(logged.loc[list(mine["case_id"])]) == list(mine["output"])
        assert set(cases.columns) >= {"case_id", "message", "expected", "output",
                                      "score.exact_match"}
    monkeypatch.setattr(_log, "CASES_JSON_MAX_ROWS", 20_000)
    small = wb.log_comparison(cmp, "large", tracking_uri=store)
    kid = c.search_runs([c.get_run(small).info.experiment_id],
                        filter_string=f"tags.mlflow.parentRunId = '{small}'")[0]
    assert "cases.json" in {f.path for f in c.list_artifacts(kid.info.run_id)}
    assert len(wb.tracking.load_table(kid.info.run_id, store)) == 12
