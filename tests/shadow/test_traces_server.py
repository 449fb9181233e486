"""The app's traces on the team's PostgreSQL-backed `mlflow server`, replayed from there (#22).

Uses the suite's real PostgreSQL + `mlflow server` helpers (tests/tracking/_servers.py): skips
naming the reason when PostgreSQL is missing, fails instead under WORKBENCH_REQUIRE_POSTGRES=1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import workbench as wb
from workbench.cli import main
from workbench.shadow import TrafficLog

from ..tracking._servers import MlflowServer, mlflow_server, postgres
from ..tracking.test_server import postgres_or_skip
from .prod_app import PLANTED, run_app


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with postgres(postgres_or_skip()) as pg, mlflow_server(
            pg.uri("mlflow"), tmp_path_factory.mktemp("traces-server")) as srv:
        yield srv


@pytest.mark.slow
def test_traces_on_the_postgres_server_replay_into_a_report_logged_there(
        server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    app = run_app(server.url, "prod-support")
    log = TrafficLog.load("mlflow-traces:prod-support?max=100", tracking_uri=server.url,
                          slice_tags=["route"])
    assert len(log) == 12 and log.provenance.read == 17
    assert log.provenance.skipped == Counter({"failed": 2, "tool_calls": 2,
                                              "no_chat_request": 1})
    assert {r.request_id for r in log.records} == {
        t for kind in ("chat", "bare", "chain") for t in app.served[kind]}
    assert sorted(str(r.feedback) for r in log.records if r.feedback is not None) == [
        "4.0", "rating=5.0; user_thumbs=thumbs_up", "thumbs_down", "thumbs_up", "thumbs_up"]
    out = tmp_path / "report.html"
    code = main(["shadow", "--traffic", "mlflow-traces:prod-support", "--candidate",
                 "sim/small", "--slice-tag", "route", "--no-judge", "--tracking-uri",
                 server.url, "--experiment", "shadow-prod", "--out", str(out),
                 "--no-progress"])
    printed = capsys.readouterr().out
    assert code in (0, 10, 11), printed
    html = out.read_text()
    assert "17 traces read from mlflow-traces:prod-support" in html
    assert "not replayed: 2 failed (state=ERROR)" in html
    assert [v for v in PLANTED if v in html + out.with_suffix(".md").read_text()] == []
    client = wb.tracking.client(server.url)
    runs = client.search_runs([client.get_experiment_by_name("shadow-prod").experiment_id])
    parent = next(r for r in runs if "workbench.traffic.source" in r.data.tags)
    assert parent.data.tags["workbench.traffic.experiment_id"] == \
        client.get_experiment_by_name("prod-support").experiment_id
    assert parent.data.tags["workbench.traffic.store"] == server.url
