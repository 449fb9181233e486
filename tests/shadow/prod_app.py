"""A small instrumented "production app" whose traffic the shadow tests replay.

A support assistant answers tickets with litellm (the simulated ``sim/large``, offline). It is
instrumented twice, as real services are: MLflow Tracing (``mlflow.litellm.autolog()`` plus
``@mlflow.trace`` around the request handlers, route tags, users' thumbs and ratings logged as
feedback assessments with ``mlflow.log_feedback``) and OpenTelemetry GenAI spans written by the
SDK's OTLP/JSON file exporter (``gen_ai.*`` attributes, its own TracerProvider). Its traffic
has what production has: plain chats, a chain of two LLM calls, an agent that offers tools and
calls one, calls to a provider that is down (failed traces), and a retrieval with no LLM call.
Personal data is planted in requests, answers (the simulated model echoes the ticket), tags and
feedback (:data:`PLANTED`).

MLflow's fluent API keeps process-wide state (tracking URI, active experiment, autolog
patches, the tracer provider): :func:`traced_to` sets it for one block and restores all of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # mlflow imports litellm too

PLANTED = ["maria.lopez@example.com", "+1 415-555-0142", "4111 1111 1111 1111",
           "kenji.t@example.net", "+44 20 7946 0321", "pat@example.co.uk"]
"""Personal data the app's traffic carries (requests, answers, tags, feedback)."""

SYSTEM = "You are a support assistant. Answer in one short paragraph."
TOOLS = [{"type": "function", "function": {
    "name": "lookup_order", "description": "Find an order by id",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}}}}]


@dataclass
class Ticket:
    """One request the app serves."""

    kind: str
    """``chat``, ``bare`` (a chat with no handler span), ``chain``, ``agent``, ``fail``,
    ``search`` (retrieval only)."""
    text: str
    route: str = "general"
    account: str = "standard"
    thumbs: bool | None = None
    rating: int | None = None
    note: str | None = None
    """A user's free-text feedback (may hold personal data)."""


TICKETS = [
    Ticket("chat", "I was charged twice for invoice 4471, please refund. Mail "
           "maria.lopez@example.com", "billing", thumbs=True),
    Ticket("chat", "My parcel has not arrived after ten days.", "shipping", thumbs=False,
           note="call me back at +1 415-555-0142"),
    Ticket("chat", "How do I export my data to CSV?", "how_to", rating=4),
    Ticket("chat", "The app crashes when I log in on Android.", "bug"),
    Ticket("chat", "I paid with card 4111 1111 1111 1111, why was it declined?", "billing",
           account="owner kenji.t@example.net"),
    Ticket("chat", "Cancel my subscription at the end of the month.", "billing", thumbs=True),
    Ticket("chat", "Can I change the delivery address of order 88120?", "shipping"),
    Ticket("chat", "Where can I download my invoices?", "how_to", thumbs=True, rating=5),
    Ticket("bare", "Is there a student discount?", "billing"),
    Ticket("bare", "Reach me on +44 20 7946 0321 about the refund.", "billing"),
    Ticket("chain", "the login page say error 500 since yesterday what do", "bug"),
    Ticket("chain", "want to know if express shipping is available for Norway", "shipping"),
    Ticket("agent", "Where is my order 55102?", "shipping", thumbs=False),
    Ticket("agent", "Has order 55177 shipped yet? pat@example.co.uk", "shipping"),
    Ticket("fail", "Why is my account locked?", "account"),
    Ticket("fail", "Please reset my password.", "account"),
    Ticket("search", "refund policy for damaged items", "billing"),
]
"""17 traces: 12 replayable with the first LLM span (10 chats, 2 chains), 2 agents with tool
calls, 2 failed, 1 without an LLM call."""


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (a provider that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_CALLBACK_LISTS = ("success_callback", "failure_callback", "callbacks", "input_callback",
                   "_async_success_callback", "_async_failure_callback")


@contextlib.contextmanager
def traced_to(tracking_uri: str, experiment: str) -> Iterator[str]:
    """MLflow Tracing (litellm autolog) into ``experiment`` of ``tracking_uri`` for a block.

    Restores the tracking URI, active experiment, their environment variables, autolog,
    litellm's callback lists and the tracer provider afterwards, so that nothing else in the
    process is traced (and the next block traces again). Yields the experiment id.
    """
    import mlflow
    from mlflow.tracing.provider import reset as reset_tracing
    from mlflow.tracking import _tracking_service, fluent

    from workbench.models import litellm

    saved_env = {k: os.environ.get(k) for k in (
        "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_ID", "MLFLOW_ENABLE_ASYNC_TRACE_LOGGING")}
    saved_uri = _tracking_service.utils._tracking_uri
    saved_experiment = fluent._active_experiment_id
    lt = litellm()  # autolog leaves its logger in litellm's async callbacks: put them all back
    saved_callbacks = {name: list(getattr(lt, name)) for name in _CALLBACK_LISTS}
    os.environ["MLFLOW_ENABLE_ASYNC_TRACE_LOGGING"] = "false"  # feedback needs the trace stored
    try:
        mlflow.set_tracking_uri(tracking_uri)
        experiment_id = mlflow.set_experiment(experiment).experiment_id
        mlflow.litellm.autolog(silent=True)
        yield str(experiment_id)
        mlflow.flush_trace_async_logging()
    finally:
        mlflow.litellm.autolog(disable=True, silent=True)
        for name, value in saved_callbacks.items():
            setattr(lt, name, value)
        _tracking_service.utils._tracking_uri = saved_uri
        fluent._active_experiment_id = saved_experiment
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        reset_tracing()


class OtelGenAI:
    """The app's OpenTelemetry instrumentation: GenAI spans to an OTLP/JSON file."""

    def __init__(self, path: Path) -> None:
        from opentelemetry.exporter.otlp.json.file import FileSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor

        self.provider = TracerProvider(resource=Resource({"service.name": "support-app"}))
        self.provider.add_span_processor(SimpleSpanProcessor(FileSpanExporter(path)))
        self.tracer = self.provider.get_tracer("support-app")

    def close(self) -> None:
        self.provider.shutdown()


def parts(messages: list[dict[str, Any]]) -> str:
    """OpenAI messages as GenAI ``gen_ai.input.messages`` (role and parts), JSON."""
    out = []
    for m in messages:
        items: list[dict[str, Any]] = []
        if m.get("content"):
            items.append({"type": "text", "content": m["content"]})
        for call in m.get("tool_calls") or []:
            items.append({"type": "tool_call", "id": call["id"],
                          "name": call["function"]["name"]})
        if m["role"] == "tool":
            items = [{"type": "tool_call_response", "id": m["tool_call_id"],
                      "response": m["content"]}]
        out.append({"role": m["role"], "parts": items})
    return json.dumps(out)


@dataclass
class SupportApp:
    """The app: ``serve(ticket)`` answers one ticket, traced by MLflow and OpenTelemetry."""

    otel: OtelGenAI | None = None
    down: str = field(default_factory=lambda: f"http://127.0.0.1:{closed_port()}/v1")
    served: dict[str, list[str]] = field(default_factory=dict)
    """Trace ids (MLflow) per ticket kind."""

    def _span(self, name: str, **attributes: Any) -> Any:
        if self.otel is None:
            return contextlib.nullcontext()
        return self.otel.tracer.start_as_current_span(name, attributes=attributes)

    def complete(self, model: str, messages: list[dict[str, Any]], **kw: Any) -> Any:
        """One litellm call (MLflow autolog traces it; the app's own GenAI span too)."""
        from opentelemetry.trace import Status, StatusCode

        from workbench.models import litellm

        attributes = {"gen_ai.operation.name": "chat", "gen_ai.request.model": model,
                      "gen_ai.input.messages": parts(messages)}
        if kw.get("tools"):
            attributes["gen_ai.tool.definitions"] = json.dumps(kw["tools"])
            kw["_skip_mcp_handler"] = True  # litellm imports the optional `mcp` for tools
        with self._span(f"chat {model}", **attributes) as span:
            try:
                response = litellm().completion(model=model, messages=messages,
                                                num_retries=0, **kw)
            except Exception as exc:
                if span is not None:
                    span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                    span.set_attribute("error.type", type(exc).__name__)
                raise
            if span is not None:
                text = response.choices[0].message.content
                span.set_attributes({
                    "gen_ai.response.model": response.model,
                    "gen_ai.usage.input_tokens": response.usage.prompt_tokens,
                    "gen_ai.usage.output_tokens": response.usage.completion_tokens,
                    "gen_ai.usage.cost": float(response._hidden_params["response_cost"]),
                    "gen_ai.output.messages": json.dumps([{
                        "role": "assistant", "parts": [{"type": "text", "content": text}],
                        "finish_reason": "stop"}])})
            return response

    def serve(self, ticket: Ticket) -> str | None:
        """Answer a ticket; log the user's feedback; return the MLflow trace id."""
        import mlflow
        from mlflow.entities import AssessmentSource, SpanType

        user = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ticket.text}]
        tags = {"route": ticket.route, "account": ticket.account}

        @mlflow.trace(name="handle_ticket", span_type=SpanType.CHAIN)
        def chat() -> str:
            mlflow.update_current_trace(tags=tags)
            return str(self.complete("sim/large", user).choices[0].message.content)

        @mlflow.trace(name="rewrite_then_answer", span_type=SpanType.CHAIN)
        def chain() -> str:
            mlflow.update_current_trace(tags=tags)
            rewrite = [{"role": "system", "content": "Rewrite the ticket as one clear "
                        "sentence."}, {"role": "user", "content": ticket.text}]
            clear = self.complete("sim/large", rewrite).choices[0].message.content
            answer = [user[0], {"role": "user", "content": clear}]
            return str(self.complete("sim/large", answer).choices[0].message.content)

        @mlflow.trace(name="support_agent", span_type=SpanType.AGENT)
        def agent() -> str:
            mlflow.update_current_trace(tags=tags)
            self.complete("sim/large", user, tools=TOOLS)
            call = {"id": "call_1", "type": "function",
                    "function": {"name": "lookup_order", "arguments": '{"order_id": "1"}'}}
            with mlflow.start_span("lookup_order", span_type=SpanType.TOOL) as tool, \
                    self._span("execute_tool lookup_order",
                               **{"gen_ai.operation.name": "execute_tool"}):
                tool.set_inputs({"order_id": "1"})
                tool.set_outputs({"status": "shipped"})
            follow = [*user, {"role": "assistant", "content": "", "tool_calls": [call]},
                      {"role": "tool", "tool_call_id": "call_1", "content": "shipped"}]
            return str(self.complete("sim/large", follow).choices[0].message.content)

        @mlflow.trace(name="handle_ticket", span_type=SpanType.CHAIN)
        def fail() -> str:
            mlflow.update_current_trace(tags=tags)
            return str(self.complete("openai/support-v2", user, api_base=self.down,
                                     api_key="not-a-key", max_retries=0, timeout=5)
                       .choices[0].message.content)

        @mlflow.trace(name="search_kb", span_type=SpanType.RETRIEVER)
        def search() -> list[dict[str, str]]:
            mlflow.update_current_trace(tags=tags)
            return [{"doc": "refund-policy.md", "text": "Damaged items are refunded."}]

        def bare() -> str:
            return str(self.complete("sim/large", user).choices[0].message.content)

        handler = {"chat": chat, "chain": chain, "agent": agent, "fail": fail,
                   "search": search, "bare": bare}[ticket.kind]
        root = {"agent": "invoke_agent support_agent"}.get(ticket.kind, "handle_ticket")
        try:
            with self._span(root, route=ticket.route, account=ticket.account):
                handler()
        except Exception:  # the user got an error page; both traces say ERROR
            pass
        trace_id = mlflow.get_last_active_trace_id()
        if trace_id is None:
            return None
        mlflow.flush_trace_async_logging()  # stored before tags and feedback refer to it
        if ticket.kind == "bare":
            for key, value in tags.items():
                mlflow.set_trace_tag(trace_id, key, value)
        user_id = AssessmentSource(source_type="HUMAN", source_id="user-7")
        if ticket.thumbs is not None:
            mlflow.log_feedback(trace_id=trace_id, name="user_thumbs", value=ticket.thumbs,
                                source=user_id, rationale=ticket.note)
        if ticket.rating is not None:
            mlflow.log_feedback(trace_id=trace_id, name="rating", value=ticket.rating,
                                source=user_id)
        self.served.setdefault(ticket.kind, []).append(trace_id)
        return trace_id


def run_app(tracking_uri: str, experiment: str, otlp: Path | None = None,
            tickets: list[Ticket] | None = None) -> SupportApp:
    """Serve ``tickets`` (default :data:`TICKETS`) traced to MLflow and, with ``otlp``, OTLP."""
    otel = OtelGenAI(otlp) if otlp is not None else None
    app = SupportApp(otel=otel)
    try:
        with traced_to(tracking_uri, experiment):
            for ticket in tickets if tickets is not None else TICKETS:
                app.serve(ticket)
    finally:
        if otel is not None:
            otel.close()
    return app
