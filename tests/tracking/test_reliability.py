"""Runs that must never be lost or mislabelled in MLflow (#19 items 6, 7 and 15)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main
from workbench.tracking import TrackingError

from ..runner.conftest import small_set

VARIANTS = [wb.PromptVariant("plain", user="{{ message }}"),
            wb.PromptVariant("asked", user="Label this message: {{ message }}")]
DATASETS = Path(__file__).resolve().parents[2] / "datasets"
SHADOW_LOG = DATASETS / "shadow" / "support_traffic.jsonl"
TRIAGE = DATASETS / "support_triage" / "golden.jsonl"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    return f"sqlite:///{tmp_path}/mlflow.db"


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens


def long_labels(n: int = 9) -> wb.GoldenSet:
    """A set whose free-text slice labels are longer than MLflow's 250-character names."""
    gs = small_set(n=n)
    df = gs.df.copy()
    df["feedback"] = [("the answer was fine but slow; " * 10 + f"#{i % 3}") for i in range(n)]
    return wb.GoldenSet.from_df(df, name="long", slices=["difficulty", "feedback"])


def test_long_slice_labels_stay_data_in_the_slices_table(store: str) -> None:
    """Item 15 and #21: free-text slice labels never become metric names (they did, and one
    over ~215 characters pushed a name past MLflow's 250); the full labels are table data."""
    gs = long_labels()
    cmp = wb.compare(gs, ["sim/large"], VARIANTS[:1], [wb.scorers.exact_match], progress=False)
    run_id = wb.log_comparison(cmp, "long", tracking_uri=store)
    client = wb.tracking.client(store)
    child = client.search_runs([client.get_experiment_by_name("long").experiment_id],
                               filter_string=f"tags.mlflow.parentRunId = '{run_id}'")[0]
    keys = list(child.data.metrics)
    assert keys and max(len(k) for k in keys) <= 250
    assert not [k for k in keys if k.startswith("slice")]
    table = wb.tracking.load_table(child.info.run_id, store, "slices.json")
    full = table[table["slice"] == "feedback"]
    assert set(full["label"]) == set(gs.df["feedback"])  # the full values, kept as data
    results = cmp.results
    for row in full.itertuples():
        rows = results[results["slice.feedback"] == row.label]
        assert row.n == len(rows)
        assert row.mean == pytest.approx(rows["score.exact_match"].mean())


def test_mlflow_keys_are_sanitised_shortened_and_stable() -> None:
    key = wb.tracking.mlflow_key
    assert key("slice/lang/pt-BR/m") == "slice/lang/pt-BR/m"
    assert key("slice/x/../y") == "slice/x/_/y" and key("a//b") == "a/_/b"
    long = "judge." + "é" * 400
    assert len(key(long)) == 250 and key(long) == key(long) and key(long) != key(long + "x")


def _fail_second_child(monkeypatch: pytest.MonkeyPatch) -> None:
    from workbench.tracking import _log

    calls: list[int] = []
    real = _log._case_table

    def dies(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt  # the process is stopped while logging the second child
        return real(*args, **kw)

    monkeypatch.setattr(_log, "_case_table", dies)


def test_a_run_whose_logging_stopped_is_never_listed_complete(
    store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Item 6: completeness is marked after the last artifact; the logging can be redone."""
    cmp = wb.compare(small_set(n=9), ["sim/large"], VARIANTS, [wb.scorers.exact_match],
                     progress=False)
    _fail_second_child(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        wb.log_comparison(cmp, "killed", tracking_uri=store)
    monkeypatch.undo()
    listed = wb.list_comparisons("killed", tracking_uri=store)
    assert len(listed) == 1 and listed.loc[0, "status"] != "complete"
    assert listed.loc[0, "logging"] == "failed"
    partial = listed.loc[0, "run_id"]
    tags = wb.tracking.client(store).get_run(partial).data.tags
    assert "workbench.status" not in tags and tags["workbench.logging"] == "failed"
    with pytest.raises(TrackingError, match="did not finish"):
        wb.load_comparison(partial, tracking_uri=store)
    assert wb.load_comparison(partial, tracking_uri=store, allow_unfinished=True).status
    # logging again supersedes the unfinished run
    run_id = wb.log_comparison(cmp, "killed", tracking_uri=store, supersedes=partial)
    listed = wb.list_comparisons("killed", tracking_uri=store).set_index("run_id")
    assert listed.loc[run_id, "status"] == "complete" and listed.loc[run_id, "logging"] == \
        "finished"
    assert listed.loc[partial, "logging"] == "superseded"
    with pytest.raises(TrackingError, match=f"logged again as run {run_id}"):
        wb.load_comparison(partial, tracking_uri=store)
    assert wb.load_comparison(run_id, tracking_uri=store).results.equals(cmp.results)


def test_an_unreachable_server_is_a_clear_error_and_the_saved_run_logs_later(
    store: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Items 6 and the fault suite: MLflow unreachable at log time; `workbench log` later."""
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    cmp = wb.compare(small_set(n=9), ["sim/large", "sim/fast"], VARIANTS[:1],
                     [wb.scorers.exact_match], progress=False)
    saved = cmp.save(tmp_path / "run")
    down = f"http://127.0.0.1:{closed_port()}"
    with pytest.raises(TrackingError) as info:
        wb.log_comparison(cmp, "later", tracking_uri=down, saved=saved,
                          tables={"decision.json": pd.DataFrame({"gate": ["g"], "ok": [1]})},
                          tags={"workbench.decision": "HOLD"}, candidate=("sim/fast", "plain"),
                          incumbent=("sim/large", "plain"))
    message = str(info.value)
    assert f"MLflow at {down}" in message and f"workbench log {saved}" in message
    request = json.loads((saved / "mlflow" / "request.json").read_text())
    assert request["state"] == "pending" and request["tracking_uri"] == down
    # later, with a reachable store: the same tables, tags and roles
    assert main(["log", str(saved), "--tracking-uri", store]) == 0
    listed = wb.list_comparisons("later", tracking_uri=store)
    run_id = listed.loc[0, "run_id"]
    assert listed.loc[0, "status"] == "complete"
    run = wb.tracking.client(store).get_run(run_id)
    assert run.data.tags["workbench.decision"] == "HOLD"
    assert len(wb.tracking.load_table(run_id, store, "decision.json")) == 1
    back = wb.load_comparison(run_id, tracking_uri=store)
    assert back.results.equals(cmp.results)
    assert back.record.roles.model_dump() == {"candidate": ("sim/fast", "plain"),
                                              "incumbent": ("sim/large", "plain")}
    assert main(["log", str(saved), "--tracking-uri", store]) == 0  # already logged: no twin
    assert len(wb.list_comparisons("later", tracking_uri=store)) == 1


def test_a_report_for_other_roles_or_gates_never_overwrites_the_logged_one(
    store: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Item 7: the run's report and decision tag stay; the other report is logged beside."""
    gs = wb.GoldenSet.load(TRIAGE)
    cases = [str(r["id"]) for r in gs.records()][:40]
    gates = wb.Gates(metrics={"label_match": wb.MetricGate(margin=0.1)})
    cmp = wb.compare(gs, ["sim/large", "sim/fast"], VARIANTS,
                     [wb.scorers.label_match(field="intent")], progress=False, cases=cases,
                     experiment="reports", tracking_uri=store)
    run_id = cmp.record.tracking.run_id
    own = wb.migration_report(cmp, ("sim/fast", "asked"), ("sim/large", "plain"), gates)
    client = wb.tracking.client(store)
    tags = client.get_run(run_id).data.tags
    assert tags["workbench.decision"] == own.outcome and "workbench.decision_key" in tags
    logged = Path(client.download_artifacts(run_id, "reports/migration_report.html",
                                            str(tmp_path / "a"))).read_text()
    assert len(wb.tracking.load_table(run_id, store, "decision.json")) == len(own.gates)
    # #21: the parent's description names the set, the roles, the decision with its evidence,
    # and links the report; the children say their configuration
    run = client.get_run(run_id)
    note, eid = run.data.tags["mlflow.note.content"], run.info.experiment_id
    assert f"golden set `{gs.name}` (40 cases evaluated" in note
    assert f"#### Decision\n**{own.outcome}** for candidate `sim/fast · asked` against " \
           "incumbent `sim/large · plain`" in note
    held = [g for g in own.gates if g["status"] != "pass"]
    assert held and all(f"**{g['status'].upper()}** {g['gate']}" in note for g in held)
    assert own.advice and own.advice in note
    report_link = (f"Report: [reports/migration_report.html](#/experiments/{eid}/runs/{run_id}"
                   "/artifacts/reports/migration_report.html?workflowType=machine_learning)")
    assert report_link in note
    kids = client.search_runs([eid], filter_string=f"tags.mlflow.parentRunId = '{run_id}'")
    for kid in kids:
        text = kid.data.tags["mlflow.note.content"]
        assert text.startswith(f"Model `{kid.data.tags['workbench.model']}` (SIMULATED; ")
        assert f"prompt variant `{kid.data.tags['workbench.variant']}`" in text
    # `workbench report` with other roles (default gates)
    out = tmp_path / "other.html"
    assert main(["report", run_id, "--tracking-uri", store, "--candidate", "sim/large:asked",
                 "--incumbent", "sim/fast:plain", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    reports = {a.path for a in client.list_artifacts(run_id, "reports")}
    named = [p for p in reports if "--sim-large.asked-vs-sim-fast.plain--gates-" in p]
    assert len(named) == 3  # .html, .md and its .decision.json
    html = next(p for p in named if p.endswith(".html"))
    assert f"logged to the MLflow run as {html}" in printed
    again = Path(client.download_artifacts(run_id, "reports/migration_report.html",
                                           str(tmp_path / "b"))).read_text()
    assert again == logged  # the run's own report is untouched
    tags = client.get_run(run_id).data.tags
    assert tags["workbench.decision"] == own.outcome  # still describes that report
    assert report_link in tags["mlflow.note.content"]  # and so does the description
    assert f"Other reports on this run:\n- [{html}](#/experiments/{eid}/runs/{run_id}/" \
           "artifacts/" in tags["mlflow.note.content"]
    other = tags[f"workbench.decision/{Path(html).stem}"]
    assert f"<h2>{other}</h2>" in out.read_text()
    table = wb.tracking.load_table(run_id, store, html.replace(".html", ".decision.json"))
    assert len(table) > 0 and "status" in table
    # the same roles and gates again: the same name, no third copy
    assert main(["report", run_id, "--tracking-uri", store, "--candidate", "sim/large:asked",
                 "--incumbent", "sim/fast:plain", "--out", str(out)]) == 0
    assert {a.path for a in client.list_artifacts(run_id, "reports")} == reports


def test_a_shadow_run_gets_its_decision_tag_and_table(store: str, tmp_path: Path) -> None:
    """Item 7 (shadow) and item 15 (a free-text feedback of 300 characters is a slice)."""
    lines = SHADOW_LOG.read_text(encoding="utf-8").splitlines()[:30]
    record = json.loads(lines[0])
    record.update(request_id="long-feedback", feedback="slow but right; " * 20)
    log = tmp_path / "traffic.jsonl"
    log.write_text("\n".join([*lines, json.dumps(record)]) + "\n", encoding="utf-8")
    cmp = wb.shadow_test(log, "sim/small", judge=None, progress=False, experiment="shadow",
                         tracking_uri=store)
    assert cmp.record.tracking.error is None, cmp.record.tracking
    run_id = cmp.record.tracking.run_id
    report = wb.shadow_report(cmp)
    client = wb.tracking.client(store)
    tags = client.get_run(run_id).data.tags
    assert tags["workbench.decision"] == report.outcome
    assert len(wb.tracking.load_table(run_id, store, "decision.json")) == len(report.gates)
    assert {a.path for a in client.list_artifacts(run_id, "reports")} == {
        "reports/shadow_report.html", "reports/shadow_report.md"}
    assert wb.list_comparisons("shadow", tracking_uri=store).loc[0, "logging"] == "finished"
