"""Generate ``support_traffic.otlp.jsonl``: a SIMULATED OTLP/JSON trace export for shadow tests.

The same support traffic as ``support_traffic.jsonl`` (every 8th request: 40, SIMULATED, served
by the offline ``sim/large``), as an application instrumented with OpenTelemetry would export
it: one trace per request, a ``handle_ticket`` span (tags ``language`` and ``channel``) around a
``chat sim/large`` span with the GenAI semantic conventions (``gen_ai.operation.name``,
``gen_ai.request.model`` / ``response.model``, ``gen_ai.usage.*``,
``gen_ai.system_instructions``, ``gen_ai.input.messages``, ``gen_ai.output.messages``), written
by the OpenTelemetry SDK's file exporter (``opentelemetry-exporter-otlp-json-file``, a dev
dependency). Like production, it also holds what cannot be replayed: 3 agent traces whose
model calls offer and call a tool, 2 calls that failed (rate limited), 1 retrieval without an
LLM call. Times come from the log (latency = span length); ids from a seeded generator, so the
same seed writes the same bytes. Run from the repository root:

    python datasets/shadow/make_otlp_sample.py [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, set_span_in_context

HERE = Path(__file__).resolve().parent
SEED = 20261122
EVERY = 8
TOOLS = [{"type": "function", "name": "lookup_order",
          "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}]


class SeededIds:
    """Trace and span ids from a seeded generator (the same file every run)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def generate_trace_id(self) -> int:
        """The next trace id."""
        return self.rng.getrandbits(128)

    def generate_span_id(self) -> int:
        """The next span id."""
        return self.rng.getrandbits(64)

    def is_trace_id_random(self) -> bool:
        """Trace ids are random (W3C trace flags)."""
        return True


def nanos(stamp: str) -> int:
    """An ISO timestamp of the log in nanoseconds since the epoch."""
    return int(datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()) * 10**9


def parts(messages: list[dict[str, Any]]) -> str:
    """Chat messages as GenAI ``gen_ai.input.messages`` JSON (role and parts)."""
    out = []
    for m in messages:
        if m["role"] == "tool":
            out.append({"role": "tool", "parts": [{"type": "tool_call_response",
                                                   "id": "call_1", "response": m["content"]}]})
        elif m.get("tool_calls"):
            out.append({"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1",
                                                        "name": "lookup_order",
                                                        "arguments": {"order_id": "55102"}}]})
        else:
            out.append({"role": m["role"], "parts": [{"type": "text", "content": m["content"]}]})
    return json.dumps(out, ensure_ascii=False)


def chat(tracer: Tracer, parent: Any, start: int, end: int, record: dict[str, Any],
         messages: list[dict[str, Any]], *, tools: bool = False, tool_call: bool = False,
         failed: str | None = None) -> None:
    """One ``chat sim/large`` span, as a GenAI instrumentation records it."""
    system = [m for m in messages if m["role"] == "system"]
    attributes: dict[str, Any] = {
        "gen_ai.operation.name": "chat", "gen_ai.provider.name": "sim",
        "gen_ai.request.model": record["served_model"],
        "gen_ai.input.messages": parts([m for m in messages if m["role"] != "system"])}
    if system:
        attributes["gen_ai.system_instructions"] = json.dumps(
            [{"type": "text", "content": system[0]["content"]}], ensure_ascii=False)
    if tools:
        attributes["gen_ai.tool.definitions"] = json.dumps(TOOLS)
    span = tracer.start_span(f"chat {record['served_model']}", context=parent,
                             kind=SpanKind.CLIENT, start_time=start, attributes=attributes)
    if failed:
        span.set_attribute("error.type", failed)
        span.set_status(Status(StatusCode.ERROR, failed))
    else:
        output = ([{"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1",
                                                    "name": "lookup_order"}],
                    "finish_reason": "tool_calls"}] if tool_call else
                  [{"role": "assistant", "parts": [{"type": "text", "content": record["response"]}],
                    "finish_reason": "stop"}])
        span.set_attributes({
            "gen_ai.response.model": record["served_model"],
            "gen_ai.response.finish_reasons": [output[0]["finish_reason"]],
            "gen_ai.usage.input_tokens": record["prompt_tokens"],
            "gen_ai.usage.output_tokens": record["completion_tokens"],
            "gen_ai.output.messages": json.dumps(output, ensure_ascii=False)})
    span.end(end_time=end)


def main(argv: list[str] | None = None) -> None:
    """Write the sample (default: support_traffic.otlp.jsonl beside this script)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "support_traffic.otlp.jsonl")
    args = parser.parse_args(argv)
    records = [json.loads(line) for line in
               (HERE / "support_traffic.jsonl").read_text(encoding="utf-8").splitlines()]
    chosen = records[::EVERY]
    extra = records[3::EVERY][:6]  # other requests, for the traces that cannot be replayed
    args.out.unlink(missing_ok=True)
    provider = TracerProvider(
        resource=Resource({"service.name": "support-app-SIMULATED",
                           "deployment.environment.name": "simulated",
                           "workbench.simulated": True}),
        id_generator=SeededIds(SEED))  # type: ignore[arg-type]
    provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(args.out)))
    tracer = provider.get_tracer("support-app")
    kinds = ["chat"] * len(chosen) + ["agent"] * 3 + ["failed"] * 2 + ["search"]
    stamped = sorted(zip([*chosen, *extra], kinds, strict=True),
                     key=lambda pair: (pair[0]["timestamp"], pair[1]))
    for record, kind in stamped:
        start = nanos(record["timestamp"])
        end = start + round(record["latency_s"] * 1e9)
        root = tracer.start_span("invoke_agent support_agent" if kind == "agent" else
                                 "search_kb" if kind == "search" else "handle_ticket",
                                 start_time=start - 2_000_000, attributes={
                                     "language": record["slices"]["language"],
                                     "channel": record["slices"]["channel"]})
        parent = set_span_in_context(root)
        messages = record["messages"]
        if kind == "chat":
            chat(tracer, parent, start, end, record, messages)
        elif kind == "failed":
            chat(tracer, parent, start, start + 80_000_000, record, messages,
                 failed="RateLimitError")
            root.set_status(Status(StatusCode.ERROR, "RateLimitError"))
        elif kind == "agent":
            half = (start + end) // 2
            chat(tracer, parent, start, half, record, messages, tools=True, tool_call=True)
            tool = tracer.start_span("execute_tool lookup_order", context=parent,
                                     start_time=half, attributes={
                                         "gen_ai.operation.name": "execute_tool",
                                         "gen_ai.tool.name": "lookup_order"})
            tool.end(end_time=half + 5_000_000)
            follow = [*messages, {"role": "assistant", "tool_calls": [{}]},
                      {"role": "tool", "content": "shipped on 2026-11-03"}]
            chat(tracer, parent, half + 6_000_000, end, record, follow, tools=True)
        root.end(end_time=end + 1_000_000)
    provider.shutdown()
    print(f"wrote {len(stamped)} traces ({len(chosen)} replayable chats, 3 agents with tool "
          f"calls, 2 failed, 1 retrieval) to {args.out}")


if __name__ == "__main__":
    main()
