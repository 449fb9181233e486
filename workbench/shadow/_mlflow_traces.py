"""MLflow traces as traffic: ``mlflow-traces:<experiment>`` rows → :class:`TraceCalls`.

What MLflow Tracing records (``mlflow.litellm.autolog()``, ``mlflow.openai.autolog()``,
``@mlflow.trace``, an OpenTelemetry exporter pointed at an MLflow server) is read through
``workbench.tracking.iter_traces`` (the only mlflow importer), page by page. An LLM call is a
span of type ``LLM`` or ``CHAT_MODEL``: its inputs hold the chat request (``{"messages":
[...]}``), its outputs the completion (OpenAI's or Anthropic's shape, or plain text); the model,
token counts and cost come from MLflow's span attributes (``mlflow.llm.model``,
``mlflow.chat.tokenUsage``, ``mlflow.llm.cost``) or the completion itself. Users' feedback is
the trace's valid ``HUMAN`` feedback assessments (thumbs become ``thumbs_up`` /
``thumbs_down``, ratings numbers).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from workbench.tracking import TraceFeedback, TraceRow, TraceSpan, iter_traces

from ._sources import LLMCall, TraceCalls, chat_messages

__all__ = ["LLM_SPAN_TYPES", "as_float", "as_int", "chat_response", "feedback_value",
           "mlflow_trace_calls", "read_mlflow_traces"]

LLM_SPAN_TYPES = frozenset({"LLM", "CHAT_MODEL"})
"""MLflow span types that are one call to a model."""


def _decoded(value: Any) -> Any:
    """A span attribute MLflow stored as JSON text, decoded (left alone when it is not JSON)."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def as_int(value: Any) -> int | None:
    """An attribute as an int, or None when absent or not a number."""
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def as_float(value: Any) -> float | None:
    """An attribute as a float, or None when absent or not a number."""
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def chat_response(outputs: Any) -> tuple[str | None, bool, bool]:
    """The answer's text, whether it called tools, whether it held non-text content.

    Reads OpenAI chat completions (``choices[0].message``), text completions
    (``choices[0].text``), Anthropic messages (``content`` blocks) and plain strings.

    Example:
        >>> chat_response({"choices": [{"message": {"role": "assistant", "content": "Hi"}}]})
        ('Hi', False, False)
    """
    if isinstance(outputs, str):
        return outputs, False, False
    if not isinstance(outputs, Mapping):
        return None, False, False
    choices = outputs.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        first = choices[0]
        message = first.get("message")
        if isinstance(message, Mapping):
            tools = bool(message.get("tool_calls") or message.get("function_call"))
            content = message.get("content")
            if isinstance(content, list):
                got, _ = chat_messages([{"role": "assistant", "content": content}])
                return (got[0]["content"] if got else None), tools, got is None
            return (None if content is None else str(content)), tools, False
        if "text" in first:
            return str(first["text"]), False, False
    blocks = outputs.get("content")
    if outputs.get("type") == "message" and isinstance(blocks, list):
        texts = [str(b.get("text", "")) for b in blocks
                 if isinstance(b, Mapping) and b.get("type") == "text"]
        tools = any(isinstance(b, Mapping) and b.get("type") == "tool_use" for b in blocks)
        other = any(isinstance(b, Mapping) and b.get("type") not in ("text", "tool_use")
                    for b in blocks)
        return ("\n".join(texts) if texts else None), tools, other
    return None, False, False


def _usage(span: TraceSpan) -> tuple[int | None, int | None]:
    usage = _decoded(span.attributes.get("mlflow.chat.tokenUsage"))
    if isinstance(usage, Mapping) and usage.get("input_tokens") is not None:
        return as_int(usage.get("input_tokens")), as_int(usage.get("output_tokens"))
    outputs = span.outputs if isinstance(span.outputs, Mapping) else {}
    raw = outputs.get("usage")
    if isinstance(raw, Mapping):
        if raw.get("prompt_tokens") is not None:
            return as_int(raw.get("prompt_tokens")), as_int(raw.get("completion_tokens"))
        return as_int(raw.get("input_tokens")), as_int(raw.get("output_tokens"))
    return None, None


def _cost(span: TraceSpan) -> float | None:
    cost = _decoded(span.attributes.get("mlflow.llm.cost"))
    if isinstance(cost, Mapping) and cost.get("total_cost") is not None:
        return as_float(cost.get("total_cost"))
    return as_float(_decoded(span.attributes.get("response_cost")))


def _model(span: TraceSpan) -> str | None:
    outputs = span.outputs if isinstance(span.outputs, Mapping) else {}
    inputs = span.inputs if isinstance(span.inputs, Mapping) else {}
    for value in (_decoded(span.attributes.get("mlflow.llm.model")), outputs.get("model"),
                  inputs.get("model"), _decoded(span.attributes.get("model"))):
        if isinstance(value, str) and value:
            return value
    return None


def _call(span: TraceSpan) -> LLMCall:
    inputs = span.inputs
    messages: Any = None
    tools = bool(_decoded(span.attributes.get("mlflow.chat.tools")))
    if isinstance(inputs, Mapping):
        messages = inputs.get("messages")
        tools = tools or bool(inputs.get("tools") or inputs.get("functions"))
    elif isinstance(inputs, list):
        messages = inputs
    text, tool_calls, other = chat_response(span.outputs)
    prompt, completion = _usage(span)
    return LLMCall(span_id=span.span_id, start_ns=span.start_ns, end_ns=span.end_ns,
                   messages=messages if isinstance(messages, list) else None, response=text,
                   model=_model(span), prompt_tokens=prompt, completion_tokens=completion,
                   cost_usd=_cost(span), failed=span.status == "ERROR", tools_offered=tools,
                   response_tool_calls=tool_calls, unsupported=other)


def feedback_value(feedback: tuple[TraceFeedback, ...]) -> str | float | None:
    """Users' feedback on a trace: ``HUMAN`` assessments only (judges' verdicts are not users').

    One assessment gives its value (``True``/``False`` → ``thumbs_up``/``thumbs_down``,
    numbers as numbers, text as text); several give ``name=value`` pairs joined by ``; ``.

    Example:
        >>> feedback_value((TraceFeedback("thumbs", True, "HUMAN"),))
        'thumbs_up'
    """
    human = [f for f in feedback if f.source_type == "HUMAN" and f.value is not None]

    def one(value: Any) -> str | float:
        if isinstance(value, bool):
            return "thumbs_up" if value else "thumbs_down"
        if isinstance(value, int | float):
            return float(value)
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    if not human:
        return None
    if len(human) == 1:
        return one(human[0].value)
    return "; ".join(f"{f.name}={one(f.value)}" for f in sorted(human, key=lambda f: f.name))


def mlflow_trace_calls(row: TraceRow) -> TraceCalls:
    """One MLflow trace as its LLM calls (in start order), state, tags and users' feedback."""
    calls = [_call(s) for s in row.spans if (s.span_type or "").upper() in LLM_SPAN_TYPES]
    state = row.state if row.state in ("OK", "ERROR", "IN_PROGRESS") else "OK"
    return TraceCalls(trace_id=row.trace_id, state=state, calls=calls, tags=dict(row.tags),
                      feedback=feedback_value(row.feedback))


def read_mlflow_traces(experiment: str, *, filter_string: str | None, since: datetime | None,
                       until: datetime | None, max_traces: int | None, page_size: int,
                       tracking_uri: str | None) -> Iterator[TraceCalls]:
    """The traces of an experiment as :class:`TraceCalls`, page by page (oldest first)."""
    for row in iter_traces(experiment, filter_string=filter_string, since=since, until=until,
                           max_traces=max_traces, page_size=page_size,
                           tracking_uri=tracking_uri):
        yield mlflow_trace_calls(row)
