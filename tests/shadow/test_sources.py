"""Traffic sources (#22): source strings, the GenAI / OpenInference conventions, OTLP files,
what a trace cannot replay, and reproducible stratified samples."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import ConfigError, DatasetError
from workbench.shadow import SOURCE_FORMS, TrafficLog, parse_source
from workbench.shadow._genai import llm_call
from workbench.shadow._sample import sample_records
from workbench.shadow._sources import LLMCall, Skip, TraceCalls, chat_messages, trace_outcomes

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "datasets" / "shadow" / "support_traffic.jsonl"


# ---------------------------------------------------------------- source strings


def test_the_three_forms_parse_with_their_options() -> None:
    s = parse_source("mlflow-traces:prod-support?filter=tags.route = 'billing'&since=2026-11-01"
                     "&until=2026-11-07&max=500")
    assert (s.kind, s.target, s.filter, s.max) == ("mlflow-traces", "prod-support",
                                                   "tags.route = 'billing'", 500)
    assert s.since.isoformat() == "2026-11-01T00:00:00+00:00"
    assert s.until.isoformat() == "2026-11-08T00:00:00+00:00"  # a date: the whole day
    assert parse_source("mlflow-traces:7?since=2026-11-01T09:30:00%2B02:00").since.isoformat() \
        == "2026-11-01T07:30:00+00:00"
    assert parse_source("mlflow-traces:a%26b?filter=tags.x = 'a%26b'").filter == "tags.x = 'a&b'"
    o = parse_source("otlp:exports/a.jsonl,b.jsonl?max=3")
    assert (o.kind, o.target, o.max) == ("otlp", "exports/a.jsonl,b.jsonl", 3)
    assert parse_source(SHIPPED).kind == "jsonl" and parse_source("t.jsonl").kind == "jsonl"


@pytest.mark.parametrize(("source", "message"), [
    ("kafka:support-topic", "unknown traffic source 'kafka:'"),
    ("mlflow-traces:", "names nothing"),
    ("mlflow-traces:prod?sample=3", "unknown option 'sample=3'"),
    ("otlp:x.jsonl?filter=status = 'OK'", "unknown option"),
    ("mlflow-traces:prod?since=yesterday", "since='yesterday' is not an ISO date"),
    ("mlflow-traces:prod?since=2026-11-01T09:00:00", "is not an ISO date or a time with a zone"),
    ("mlflow-traces:prod?max=0", "max='0'"),
    ("mlflow-traces:prod?since=2026-11-05&until=2026-11-01", "since is not before until"),
])
def test_bad_sources_say_what_and_how_to_fix(source: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        TrafficLog.load(source)
    if "unknown traffic source" in message:  # lists the three forms
        assert all(form in str(caught.value) for form in SOURCE_FORMS)


def test_jsonl_options_for_traces_are_refused_and_cost_is_optional(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="for traces, not a JSONL log"):
        TrafficLog.load(SHIPPED, span="last")
    line = json.loads(SHIPPED.read_text().splitlines()[0])
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps({**line, "cost_usd": 0.0012}) + "\n" + json.dumps(
        {**line, "request_id": "other"}) + "\n")
    log = TrafficLog.load(path)
    assert [r.cost_usd for r in log.records] == [0.0012, None]
    assert log.provenance.kind == "jsonl" and log.name == "t.jsonl"
    assert log.provenance.summary() == "2 requests read from t.jsonl: 2 requests kept."


# ---------------------------------------------------------------- what a trace can replay


def call(**over: Any) -> LLMCall:
    base: dict[str, Any] = {
        "span_id": "s", "start_ns": 1_796_000_000_123_456_789, "end_ns": 1_796_000_000_623_456_789,
        "messages": [{"role": "system", "content": "Be brief."},
                     {"role": "user", "content": "Hi"}],
        "response": "Hello", "model": "sim/large", "prompt_tokens": 9, "completion_tokens": 2}
    return LLMCall(**{**base, **over})


def test_chat_messages_read_parts_and_refuse_tools_and_images() -> None:
    assert chat_messages([{"role": "developer", "content": "x"},
                          {"role": "user", "content": [{"type": "text", "text": "a"},
                                                       {"type": "text", "text": "b"}]}]) == (
        [{"role": "system", "content": "x"}, {"role": "user", "content": "a\nb"}], None)
    assert chat_messages([{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "data:"}}]}])[1] == "unsupported_content"
    assert chat_messages([{"role": "assistant", "content": "", "tool_calls": [{}]}])[1] \
        == "tool_calls"
    assert chat_messages("a prompt")[1] == chat_messages([])[1] == "no_chat_request"


def test_each_trace_becomes_records_or_counted_skips() -> None:
    two = TraceCalls("t1", "OK", [call(span_id="a", response="rewritten"),
                                  call(span_id="b", model="sim/fast")],
                     tags={"route": "billing", "user": "u@example.com"}, feedback="thumbs_up")
    first, = trace_outcomes(two, "first", ["route"])
    assert isinstance(first, dict) and first["request_id"] == "t1"
    assert first["response"] == "rewritten" and first["feedback"] is None  # not the answer seen
    assert first["slices"] == {"route": "billing"}  # only the tags asked for
    assert first["timestamp"] == "2026-11-30T00:53:20.123456Z" and first["latency_s"] == 0.5
    last, = trace_outcomes(two, "last")
    assert isinstance(last, dict) and last["served_model"] == "sim/fast"
    assert last["feedback"] == "thumbs_up" and last["slices"] == {}
    assert [o["request_id"] for o in trace_outcomes(two, "all")  # type: ignore[index]
            ] == ["t1/1", "t1/2"]
    cases = {
        "failed": TraceCalls("t", "ERROR", [call()]),
        "unfinished": TraceCalls("t", "IN_PROGRESS", [call()]),
        "no_chat_request": TraceCalls("t", "OK", []),
        "tool_calls": TraceCalls("t", "OK", [call(tools_offered=True)]),
        "unsupported_content": TraceCalls("t", "OK", [call(unsupported=True)]),
        "no_response": TraceCalls("t", "OK", [call(response=None)]),
        "no_token_counts": TraceCalls("t", "OK", [call(prompt_tokens=None)]),
    }
    for reason, trace in cases.items():
        assert trace_outcomes(trace) == [Skip(reason, "t", trace_outcomes(trace)[0].detail)
                                         ], reason  # type: ignore[union-attr]
    mixed = TraceCalls("t", "OK", [call(response_tool_calls=True), call()])
    assert [o.reason if isinstance(o, Skip) else "kept"
            for o in trace_outcomes(mixed, "all")] == ["tool_calls", "kept"]


# ---------------------------------------------------------------- the conventions

SEMCONV = {
    "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
    "gen_ai.response.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.input_tokens": 30, "gen_ai.usage.output_tokens": 7,
    "gen_ai.system_instructions": json.dumps([{"type": "text", "content": "Be brief."}]),
    "gen_ai.input.messages": json.dumps([{"role": "user", "parts": [
        {"type": "text", "content": "Where is my order?"}]}]),
    "gen_ai.output.messages": json.dumps([{"role": "assistant", "finish_reason": "stop",
                                           "parts": [{"type": "text", "content": "On its way."}]}]),
}
EVENTS = [("gen_ai.system.message", {"content": "Be brief."}),
          ("gen_ai.user.message", {"content": "Where is my order?"}),
          ("gen_ai.choice", {"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "On its way."}})]
OPENINFERENCE = {
    "openinference.span.kind": "LLM", "llm.model_name": "gpt-4o-mini-2024-07-18",
    "llm.token_count.prompt": 30, "llm.token_count.completion": 7, "llm.cost.total": 0.0001,
    "llm.input_messages.0.message.role": "system",
    "llm.input_messages.0.message.content": "Be brief.",
    "llm.input_messages.1.message.role": "user",
    "llm.input_messages.1.message.contents.0.message_content.type": "text",
    "llm.input_messages.1.message.contents.0.message_content.text": "Where is my order?",
    "llm.output_messages.0.message.role": "assistant",
    "llm.output_messages.0.message.content": "On its way.",
}
OPENLLMETRY = {
    "gen_ai.system": "openai", "gen_ai.request.model": "gpt-4o-mini-2024-07-18",
    "gen_ai.usage.prompt_tokens": 30, "gen_ai.usage.completion_tokens": 7,
    "gen_ai.prompt.0.role": "system", "gen_ai.prompt.0.content": "Be brief.",
    "gen_ai.prompt.1.role": "user", "gen_ai.prompt.1.content": "Where is my order?",
    "gen_ai.completion.0.role": "assistant", "gen_ai.completion.0.content": "On its way.",
}


@pytest.mark.parametrize(("attributes", "events"), [
    (SEMCONV, []),
    ({**{k: v for k, v in SEMCONV.items() if "messages" not in k and "instructions" not in k}},
     EVENTS),
    (OPENINFERENCE, []),
    (OPENLLMETRY, []),
], ids=["semconv-attributes", "semconv-events", "openinference", "openllmetry"])
def test_every_convention_gives_the_same_call(attributes: dict[str, Any],
                                              events: list[Any]) -> None:
    got = llm_call("s", 0, 1_200_000_000, "OK", attributes, events)
    assert got is not None
    messages, reason = chat_messages(got.messages)
    assert reason is None and messages == [{"role": "system", "content": "Be brief."},
                                           {"role": "user", "content": "Where is my order?"}]
    assert (got.response, got.prompt_tokens, got.completion_tokens) == ("On its way.", 30, 7)
    assert got.model in ("gpt-4o-mini", "gpt-4o-mini-2024-07-18")
    assert not (got.failed or got.tools_offered or got.response_tool_calls)


def test_spans_that_are_not_llm_calls_or_use_tools_are_told_apart() -> None:
    assert llm_call("s", 0, 1, "OK", {"gen_ai.operation.name": "execute_tool"}) is None
    assert llm_call("s", 0, 1, "OK", {"gen_ai.operation.name": "embeddings"}) is None
    assert llm_call("s", 0, 1, "OK", {"http.method": "GET"}) is None
    assert llm_call("s", 0, 1, "OK", {"openinference.span.kind": "CHAIN"}) is None
    tools = llm_call("s", 0, 1, "OK", {**SEMCONV, "gen_ai.tool.definitions": "[{\"name\": 1}]"})
    assert tools is not None and tools.tools_offered
    calls = llm_call("s", 0, 1, "OK", {**SEMCONV, "gen_ai.output.messages": json.dumps([
        {"role": "assistant", "parts": [{"type": "tool_call", "name": "lookup"}]}])})
    assert calls is not None and calls.response_tool_calls
    failed = llm_call("s", 0, 1, "ERROR", SEMCONV)
    assert failed is not None and failed.failed
    tool_result = llm_call("s", 0, 1, "OK", {**SEMCONV, "gen_ai.input.messages": json.dumps([
        {"role": "tool", "parts": [{"type": "tool_call_response", "response": "42"}]}])})
    assert tool_result is not None and chat_messages(tool_result.messages)[1] == "tool_calls"


# ---------------------------------------------------------------- OTLP files


def otlp_line(trace: str, span: str, attributes: dict[str, Any], *, parent: str = "",
              status: int = 0, start: int = 1_796_000_000_000_000_000) -> str:
    def value(v: Any) -> dict[str, Any]:
        if isinstance(v, bool):
            return {"boolValue": v}
        if isinstance(v, int):
            return {"intValue": str(v)}
        if isinstance(v, float):
            return {"doubleValue": v}
        return {"stringValue": str(v)}

    return json.dumps({"resourceSpans": [{"resource": {"attributes": []}, "scopeSpans": [{
        "scope": {"name": "t"}, "spans": [{
            "traceId": trace, "spanId": span, "parentSpanId": parent, "name": "chat",
            "kind": 3, "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 10**9),
            "attributes": [{"key": k, "value": value(v)} for k, v in attributes.items()],
            "status": {"code": status} if status else {}}]}]}]})


def test_otlp_files_and_folders_load_and_broken_ones_name_file_line_and_column(
        tmp_path: Path) -> None:
    ids = [f"{i:032x}" for i in range(1, 4)]
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.jsonl").write_text(
        otlp_line(ids[0], "0" * 15 + "1", {**SEMCONV, "route": "billing"}) + "\n"
        + otlp_line(ids[1], "0" * 15 + "2", SEMCONV, status=2,
                    start=1_796_000_005_000_000_000) + "\n")
    (tmp_path / "exports" / "b.json").write_text(  # one pretty-printed document
        json.dumps(json.loads(otlp_line(ids[2], "0" * 15 + "3", OPENINFERENCE)), indent=2))
    (tmp_path / "exports" / "notes.txt").write_text("not an export")
    log = TrafficLog.load(f"otlp:{tmp_path / 'exports'}", slice_tags=["route"])
    assert [r.request_id for r in log.records] == [ids[0], ids[2]]
    assert log.provenance.skipped == Counter({"failed": 1}) and log.provenance.read == 3
    assert log.records[0].slices == {"route": "billing"} and log.records[1].slices == {}
    assert log.records[1].cost_usd == 0.0001
    one = TrafficLog.load(f"otlp:{tmp_path / 'exports' / 'a.jsonl'},"
                          f"{tmp_path / 'exports' / 'b.json'}?max=1")
    assert len(one) == 1 and one.provenance.read == 1
    broken = tmp_path / "broken.jsonl"
    broken.write_text(otlp_line(ids[0], "0" * 15 + "1", SEMCONV) + "\n"
                      + '{"resourceSpans": [{"scopeSpans": [\n')
    with pytest.raises(DatasetError, match=r"broken.jsonl, line 2: not JSON: .*\(column \d+\)"):
        TrafficLog.load(f"otlp:{broken}")
    doc = tmp_path / "doc.json"
    doc.write_text('{\n  "resourceSpans": [\n    {"scopeSpans": [}\n  ]\n}\n')
    with pytest.raises(DatasetError, match=r"doc.json, line 3: not JSON"):
        TrafficLog.load(f"otlp:{doc}")
    other = tmp_path / "other.json"
    other.write_text('{"resourceMetrics": []}\n')
    with pytest.raises(DatasetError, match="other.json, line 1: not an OTLP/JSON trace export"):
        TrafficLog.load(f"otlp:{other}")
    with pytest.raises(DatasetError, match="no such file or folder"):
        TrafficLog.load(f"otlp:{tmp_path / 'missing.jsonl'}")
    with pytest.raises(DatasetError, match="no replayable request: 1 traces read, not replayed: "
                                           "1 failed"):
        TrafficLog.load(f"otlp:{tmp_path / 'exports' / 'a.jsonl'}?since=2026-11-30T00:53:22Z")


# ---------------------------------------------------------------- samples


def test_samples_are_reproducible_stratified_and_independent_of_order() -> None:
    log = TrafficLog.load(SHIPPED)
    days = Counter(r.timestamp.date() for r in log.records)
    sample = log.sample(40, stratify_by="day", seed=3)
    assert len(sample) == 40 and sample.provenance.loaded == 40
    got = Counter(r.timestamp.date() for r in sample.records)
    assert got == Counter({d: 40 * n // len(log) for d, n in days.items()})  # 64 a day → 8
    again = log.sample(40, stratify_by="day", seed=3)
    assert [r.request_id for r in again.records] == [r.request_id for r in sample.records]
    shuffled, _ = sample_records(list(reversed(log.records)), 40, "day", 3)
    assert [r.request_id for r in shuffled] == [r.request_id for r in sample.records]
    other = log.sample(40, stratify_by="day", seed=4)
    assert {r.request_id for r in other.records} != {r.request_id for r in sample.records}
    bigger = {r.request_id for r in log.sample(80, stratify_by="day", seed=3).records}
    assert {r.request_id for r in sample.records} <= bigger  # a larger sample nests
    by_language = log.sample(30, stratify_by="tag:language", seed=0)
    shares = Counter(r.slices["language"] for r in by_language.records)
    assert shares["en"] == round(30 * 228 / 320) and sum(shares.values()) == 30
    assert "sampled 40 of 320 requests, stratified by day (5 strata), seed 3" in \
        sample.describe()
    assert len(TrafficLog.load(SHIPPED, sample=25, seed=1)) == 25
    with pytest.raises(ConfigError, match="'route' is not a slice tag"):
        log.sample(5, stratify_by="tag:route")
    with pytest.raises(ConfigError, match="stratify_by='week'"):
        log.sample(5, stratify_by="week")
    with pytest.raises(ConfigError, match="sample size"):
        log.sample(0)


# ---------------------------------------------------------------- the shipped OTLP sample

SAMPLE = ROOT / "datasets" / "shadow" / "support_traffic.otlp.jsonl"


def test_the_shipped_otlp_sample_loads_redacted_and_regenerates_byte_for_byte(
        tmp_path: Path) -> None:
    log = TrafficLog.load(f"otlp:{SAMPLE}", slice_tags=["language"])
    assert len(log) == 40 and log.provenance.read == 46
    assert log.provenance.skipped == Counter({"tool_calls": 3, "failed": 2,
                                              "no_chat_request": 1})
    assert dict(log.redactions) == {"email": 6, "phone": 6}
    planted = [v for values in json.loads((SAMPLE.parent / "planted_pii.json").read_text())
               .values() for v in values]
    raw = SAMPLE.read_text(encoding="utf-8")
    assert len([v for v in planted if v in raw]) == 7
    kept = json.dumps([r.model_dump(mode="json") for r in log.records], ensure_ascii=False)
    assert [v for v in planted if v in kept] == []
    jsonl = {r.messages[-1].content: r for r in TrafficLog.load(SHIPPED).records}
    for record in log.records:  # the same requests as the JSONL log's
        same = jsonl[record.messages[-1].content]
        assert (record.response, record.prompt_tokens, record.latency_s) == (
            same.response, same.prompt_tokens, same.latency_s)
        assert record.timestamp == same.timestamp and record.slices == {
            "language": same.slices["language"]}
    import subprocess
    import sys

    subprocess.run([sys.executable, str(SAMPLE.parent / "make_otlp_sample.py"), "--out",
                    str(tmp_path / "again.jsonl")], check=True, capture_output=True, timeout=120)
    assert (tmp_path / "again.jsonl").read_bytes() == SAMPLE.read_bytes()
