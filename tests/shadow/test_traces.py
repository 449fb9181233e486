"""Shadow tests on traced production traffic (#22): the instrumented app's MLflow traces (a
sqlite store) and its OTLP/JSON export, loaded, replayed from the command line, reported,
with no planted personal data left anywhere the workbench writes."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.cli import main
from workbench.errors import DatasetError, TrackingError
from workbench.shadow import TrafficLog
from workbench.tracking import iter_traces

from ..artifacts import downloaded_artifacts
from .prod_app import PLANTED, TICKETS, SupportApp, run_app

SKIPPED = Counter({"failed": 2, "tool_calls": 2, "no_chat_request": 1})


@dataclass
class Prod:
    root: Path
    store: str
    otlp: Path
    app: SupportApp

    @property
    def mlflow(self) -> str:
        return "mlflow-traces:prod-support"


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prod]:
    """The app's 17 traces in a sqlite store and in an OTLP/JSON export (written once)."""
    root = tmp_path_factory.mktemp("prod")
    (root / "otlp").mkdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_SIM_LATENCY_SCALE", "0")
        mp.chdir(root)  # anything MLflow writes beside the working directory stays here
        store = f"sqlite:///{root}/traces.db"
        app = run_app(store, "prod-support", otlp=root / "otlp" / "traces.jsonl")
        yield Prod(root, store, root / "otlp" / "traces.jsonl", app)


def by_request(log: TrafficLog) -> dict[str, Any]:
    return {r.messages[-1].content: r for r in log.records}


def test_both_sources_load_the_same_requests_and_say_what_they_skipped(prod: Prod) -> None:
    traced = TrafficLog.load(prod.mlflow, tracking_uri=prod.store, slice_tags=["route"])
    otlp = TrafficLog.load(f"otlp:{prod.otlp}", slice_tags=["route"])
    for log in (traced, otlp):
        assert len(log) == 12 and log.provenance.read == 17
        assert log.provenance.skipped == SKIPPED and log.served_models == ["sim/large"]
        assert "17 traces read; not replayed: 2 failed (state=ERROR)" in log.describe()
        assert "2 tool calls the candidate cannot see" in log.describe()
        assert "1 no chat request" in log.describe() and log.slices == ["route"]
    assert set(traced.provenance.examples["failed"]) == set(prod.app.served["fail"])
    assert set(traced.provenance.examples["tool_calls"]) == set(prod.app.served["agent"])
    assert traced.provenance.examples["no_chat_request"] == prod.app.served["search"]
    assert {r.request_id for r in traced.records} == {
        t for kind in ("chat", "bare", "chain") for t in prod.app.served[kind]}
    a, b = by_request(traced), by_request(otlp)
    assert a.keys() == b.keys()
    for text, rec in a.items():
        other = b[text]
        assert rec.messages == other.messages and rec.response == other.response
        assert (rec.prompt_tokens, rec.completion_tokens) == (other.prompt_tokens,
                                                              other.completion_tokens)
        assert rec.cost_usd == pytest.approx(other.cost_usd) and rec.cost_usd > 0
        assert rec.slices == other.slices and rec.slices["route"] in {
            t.route for t in TICKETS}
        assert abs((rec.timestamp - other.timestamp).total_seconds()) < 5
        assert other.feedback is None  # OpenTelemetry has no feedback convention
    feedback = {t.text[:20]: (t.thumbs, t.rating) for t in TICKETS if t.kind in ("chat", "bare")}
    got = {k[:20]: r.feedback for k, r in a.items() if k[:20] in feedback}
    assert got["I was charged twice "] == "thumbs_up"
    assert got["My parcel has not ar"] == "thumbs_down"  # the note (a rationale) is not kept
    assert got["How do I export my d"] == 4.0
    assert got["Where can I download"] == "rating=5.0; user_thumbs=thumbs_up"
    assert got["The app crashes when"] is None
    plain = TrafficLog.load(prod.mlflow, tracking_uri=prod.store)
    assert plain.slices == [] and all(r.slices == {} for r in plain.records)  # tags only if asked


def test_the_span_option_picks_the_llm_calls_of_chains(prod: Prod) -> None:
    first = {r.request_id: r for r in TrafficLog.load(prod.mlflow, tracking_uri=prod.store,
                                                       span="first").records}
    last = {r.request_id: r for r in TrafficLog.load(prod.mlflow, tracking_uri=prod.store,
                                                      span="last").records}
    chains = prod.app.served["chain"]
    assert [first[t].messages[-1].content for t in chains] == [
        t.text for t in TICKETS if t.kind == "chain"]
    for t in chains:  # the chain answers the ticket as the first call rewrote it
        assert last[t].messages[-1].content == first[t].response
        assert last[t].feedback is None and last[t].timestamp > first[t].timestamp
    every = TrafficLog.load(prod.mlflow, tracking_uri=prod.store, span="all")
    assert len(every) == 14 and every.provenance.skipped["tool_calls"] == 4
    ids = {r.request_id for r in every.records}
    assert {f"{t}/1" for t in prod.app.served["chain"]} | {
        f"{t}/2" for t in prod.app.served["chain"]} <= ids
    assert "LLM span all" in every.provenance.summary()


def test_filters_periods_limits_and_pages(prod: Prod, monkeypatch: pytest.MonkeyPatch) -> None:
    billing = TrafficLog.load(f"{prod.mlflow}?filter=tags.route = 'billing'",
                              tracking_uri=prod.store)
    assert len(billing) == 5 and billing.provenance.skipped == Counter({"no_chat_request": 1})
    assert billing.provenance.filter == "tags.route = 'billing'"
    rows = list(iter_traces("prod-support", tracking_uri=prod.store))
    stamps = [r.timestamp_ms for r in rows]
    assert stamps == sorted(stamps) and len(rows) == 17
    middle = pd.Timestamp(stamps[8], unit="ms", tz="UTC").isoformat().replace("+00:00", "Z")
    later = TrafficLog.load(f"{prod.mlflow}?since={middle}", tracking_uri=prod.store)
    assert later.provenance.read == 9
    capped = TrafficLog.load(f"{prod.mlflow}?max=4", tracking_uri=prod.store)
    assert capped.provenance.read == 4
    import mlflow

    pages: list[int] = []
    original = mlflow.MlflowClient.search_traces

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        pages.append(kwargs["max_results"])
        return original(self, *args, **kwargs)

    monkeypatch.setattr(mlflow.MlflowClient, "search_traces", spy)
    paged = [r.trace_id for r in iter_traces("prod-support", tracking_uri=prod.store,
                                             page_size=5)]
    assert paged == [r.trace_id for r in rows] and pages == [5, 5, 5, 5]  # never all at once
    pages.clear()
    assert len(list(iter_traces("prod-support", tracking_uri=prod.store, page_size=5,
                                max_traces=7))) == 7 and pages == [5, 2]


def test_unknown_experiments_missing_stores_and_bad_filters_say_how_to_fix(
        prod: Prod, tmp_path: Path) -> None:
    with pytest.raises(TrackingError, match=r"no experiment 'prod-suport' in this store\. .*Use "
                                            r"one that exists: 'prod-support' \(id \d+\)"):
        TrafficLog.load("mlflow-traces:prod-suport", tracking_uri=prod.store)
    with pytest.raises(TrackingError, match="no MLflow store at"):
        TrafficLog.load(prod.mlflow, tracking_uri=f"sqlite:///{tmp_path}/none.db")
    assert not (tmp_path / "none.db").exists()  # reading never creates a store
    with pytest.raises(TrackingError, match="MLflow refused the trace filter"):
        TrafficLog.load(f"{prod.mlflow}?filter=colour = 'red'", tracking_uri=prod.store)
    with pytest.raises(DatasetError, match="no replayable request: 0 traces read"):
        TrafficLog.load(f"{prod.mlflow}?until=2000-01-01", tracking_uri=prod.store)


def test_a_sample_at_load_is_stratified_and_reproducible(prod: Prod) -> None:
    kwargs: dict[str, Any] = {"tracking_uri": prod.store, "slice_tags": ["route"]}
    one = TrafficLog.load(prod.mlflow, sample=6, stratify_by="tag:route", seed=2, **kwargs)
    two = TrafficLog.load(prod.mlflow, sample=6, stratify_by="tag:route", seed=2, **kwargs)
    assert [r.request_id for r in one.records] == [r.request_id for r in two.records]
    assert len(one) == 6 and Counter(r.slices["route"] for r in one.records) == Counter(
        {"billing": 3, "shipping": 1, "how_to": 1, "bug": 1})  # 2.5, 1.5, 1, 1: a tie by name
    assert one.provenance.skipped == SKIPPED and one.provenance.loaded == 6
    assert "sampled 6 of 12 requests, stratified by tag:route (4 strata), seed 2" in \
        one.describe()


def planted_in(text: str) -> list[str]:
    return [v for v in PLANTED if v in text]


@pytest.mark.slow
def test_the_command_line_replays_both_sources_into_reports_without_personal_data(
        prod: Prod, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_cache: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    assert planted_in(prod.otlp.read_text()) and planted_in(
        (prod.root / "traces.db").read_bytes().decode("utf-8", "ignore"))  # production holds it
    shadow_store = f"sqlite:///{tmp_path}/shadow.db"
    code = main(["shadow", "--traffic", prod.mlflow, "--traces-uri", prod.store,
                 "--candidate", "sim/small", "--slice-tag", "route", "--slice-tag", "account",
                 "--out", str(tmp_path / "out" / "traced.html"), "--experiment", "shadow-prod",
                 "--tracking-uri", shadow_store, "--no-progress"])
    out = capsys.readouterr().out
    assert code in (0, 10, 11), out
    assert "mlflow-traces:prod-support: 12 requests (17 traces read; not replayed" in out
    html = (tmp_path / "out" / "traced.html").read_text()
    md = (tmp_path / "out" / "traced.md").read_text()
    for text in (html, md):
        assert "mlflow-traces:prod-support" in text
        assert "17 traces read from mlflow-traces:prod-support" in text
        assert "not replayed: 2 failed (state=ERROR), 2 tool calls the candidate cannot see, " \
               "1 no chat request" in text.replace("\n", " ")
        assert "--traffic mlflow-traces:prod-support" in text  # the rebuild command
    client = wb.tracking.client(shadow_store)
    experiment = client.get_experiment_by_name("shadow-prod")
    parent = next(r for r in client.search_runs([experiment.experiment_id])
                  if "workbench.traffic.source" in r.data.tags)
    source_id = wb.tracking.client(prod.store).get_experiment_by_name(
        "prod-support").experiment_id
    assert parent.data.tags["workbench.traffic.experiment_id"] == source_id
    assert parent.data.tags["workbench.traffic.experiment"] == "prod-support"
    assert parent.data.tags["workbench.traffic.read"] == "17"
    rebuilt = wb.shadow_report(wb.load_comparison(parent.info.run_id, tracking_uri=shadow_store),
                               log=False)
    assert any("2 tool calls the candidate cannot see" in b for b in rebuilt.banner)

    code = main(["shadow", "--traffic", f"otlp:{prod.otlp}", "--candidate",
                 "sim/small:production", "--span", "last", "--sample", "8", "--stratify-by",
                 "day", "--no-judge", "--out", str(tmp_path / "out" / "otlp.html"),
                 "--no-progress"])
    out = capsys.readouterr().out
    assert code in (0, 10, 11), out
    otlp_html = (tmp_path / "out" / "otlp.html").read_text()
    assert f"otlp:{prod.otlp}" in otlp_html and "sampled 8 of 12 requests" in otlp_html
    assert "--span last --sample 8 --stratify-by day" in otlp_html
    assert "17 traces read from otlp:" in otlp_html and "LLM span last: 8 requests kept" in \
        otlp_html and "stratified by day (1 stratum)" in otlp_html

    # personal data: none in any file the workbench wrote, nor in the shadow test's MLflow runs
    written = [p for root in (tmp_path, _isolated_cache) for p in root.rglob("*") if p.is_file()]
    assert {"shadow.db", "traced.html", "traced.md", "otlp.html"} <= {p.name for p in written}
    for path in written:
        text = (pd.read_parquet(path).to_csv() if path.suffix == ".parquet"
                else path.read_bytes().decode("utf-8", "ignore"))
        assert planted_in(text) == [], path
    seen = 0
    for run in client.search_runs([experiment.experiment_id]):
        assert planted_in(json.dumps([run.data.params, run.data.tags])) == []
        for name, local in downloaded_artifacts(client, run.info.run_id, tmp_path / "dl"):
            assert planted_in(local.read_bytes().decode("utf-8", "ignore")) == [], name
            seen += 1
    assert seen > 5


class _TraceIds:
    """An OpenTelemetry id generator that gives one trace id (the MLflow trace's)."""

    def __init__(self, trace_id: int) -> None:
        self.trace_id = trace_id

    def generate_trace_id(self) -> int:
        return self.trace_id

    def generate_span_id(self) -> int:
        return 0x1234567890ABCDEF

    def is_trace_id_random(self) -> bool:
        return True


def test_one_request_recorded_three_ways_gives_the_same_record(prod: Prod,
                                                               tmp_path: Path) -> None:
    """JSONL (the app's own request log), an MLflow trace and an OTLP GenAI span of one call."""
    import mlflow
    from opentelemetry.exporter.otlp.json.file import FileSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from workbench.models import litellm

    from .prod_app import SYSTEM, parts, traced_to

    messages = [{"role": "system", "content": SYSTEM},
                {"role": "user", "content": "Refund invoice 4471 to maria.lopez@example.com"}]
    with traced_to(prod.store, "three-ways"):
        response = litellm().completion(model="sim/large", messages=messages)
        trace_id = mlflow.get_last_active_trace_id()
        assert trace_id is not None
        mlflow.flush_trace_async_logging()
        mlflow.set_trace_tag(trace_id, "route", "billing")
        span = mlflow.get_trace(trace_id).data.spans[0]
    start, end = span.start_time_ns, span.end_time_ns
    usage, cost = span.attributes["mlflow.chat.tokenUsage"], span.attributes["mlflow.llm.cost"]
    text = response.choices[0].message.content
    stamp = (pd.Timestamp(0, tz="UTC") + pd.Timedelta(microseconds=start // 1000)).isoformat()
    line = {"request_id": trace_id, "timestamp": stamp, "messages": messages,
            "served_model": "sim/large", "response": text, "latency_s": (end - start) / 1e9,
            "prompt_tokens": usage["input_tokens"], "completion_tokens": usage["output_tokens"],
            "cost_usd": cost["total_cost"], "slices": {"route": "billing"}}
    (tmp_path / "requests.jsonl").write_text(json.dumps(line) + "\n")
    provider = TracerProvider(id_generator=_TraceIds(int(trace_id.removeprefix("tr-"), 16)))
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(tmp_path / "otlp.jsonl")))
    otel = provider.get_tracer("support-app").start_span("chat sim/large", start_time=start,
                                                        attributes={
        "gen_ai.operation.name": "chat", "gen_ai.request.model": "sim/large",
        "gen_ai.response.model": response.model, "route": "billing",
        "gen_ai.usage.input_tokens": usage["input_tokens"],
        "gen_ai.usage.output_tokens": usage["output_tokens"],
        "gen_ai.usage.cost": cost["total_cost"], "gen_ai.input.messages": parts(messages),
        "gen_ai.output.messages": json.dumps([{"role": "assistant",
                                               "parts": [{"type": "text", "content": text}]}])})
    otel.end(end_time=end)
    provider.shutdown()

    logs = [TrafficLog.load(tmp_path / "requests.jsonl", id_salt="team secret"),
            TrafficLog.load("mlflow-traces:three-ways", tracking_uri=prod.store,
                            slice_tags=["route"], id_salt="team secret"),
            TrafficLog.load(f"otlp:{tmp_path / 'otlp.jsonl'}", slice_tags=["route"],
                            id_salt="team secret")]
    jsonl, traced, otlp = (log.records[0] for log in logs)
    assert jsonl == traced  # every field, the id a salted hash of the trace id
    assert jsonl.request_id == logs[0].id_of(trace_id)
    assert otlp.request_id == logs[2].id_of(trace_id.removeprefix("tr-"))  # OTel's trace id
    assert otlp.model_copy(update={"request_id": jsonl.request_id}) == jsonl
    assert jsonl.messages[-1].content == "Refund invoice 4471 to [EMAIL]"
    assert logs[0].redactions == logs[1].redactions == logs[2].redactions
