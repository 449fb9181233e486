"""An OpenTelemetry span as an LLM call: GenAI semantic conventions and OpenInference.

Which span is an LLM call, and where its request, answer, model, tokens and cost are:

- OpenTelemetry GenAI conventions: ``gen_ai.operation.name`` (``chat``, ``text_completion``,
  ``generate_content``), ``gen_ai.request.model`` / ``gen_ai.response.model``,
  ``gen_ai.usage.input_tokens`` / ``output_tokens`` (older: ``prompt_tokens`` /
  ``completion_tokens``); messages as the attributes ``gen_ai.system_instructions``,
  ``gen_ai.input.messages`` and ``gen_ai.output.messages`` (role and ``parts``), as span events
  (``gen_ai.system.message``, ``gen_ai.user.message``, ``gen_ai.assistant.message``,
  ``gen_ai.tool.message``, ``gen_ai.choice``; older: ``gen_ai.content.prompt`` /
  ``gen_ai.content.completion``), or flattened (``gen_ai.prompt.0.role``, ...); tools offered
  as ``gen_ai.tool.definitions``.
- OpenInference: ``openinference.span.kind = LLM``, ``llm.model_name``,
  ``llm.token_count.prompt`` / ``completion``, ``llm.input_messages.<i>.message.role`` /
  ``.content`` (or ``.contents.<j>.message_content.text``), ``llm.output_messages.<i>...``,
  ``llm.tools.<i>...``, ``llm.cost.total``.
- MLflow spans exported over OTLP: ``mlflow.spanType`` ``LLM`` / ``CHAT_MODEL`` with
  ``mlflow.spanInputs`` / ``mlflow.spanOutputs``.

Cost when recorded: ``gen_ai.usage.cost`` (used by several instrumentations),
``llm.cost.total``, ``mlflow.llm.cost``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from workbench.tracking import TraceRow, TraceSpan

from ._mlflow_traces import (
    LLM_SPAN_TYPES,
    as_float,
    as_int,
    chat_response,
    mlflow_trace_calls,
)
from ._sources import LLMCall

__all__ = ["LLM_OPERATIONS", "llm_call"]

LLM_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "completion"})
"""``gen_ai.operation.name`` values that are one call to a model."""

_FLAT = re.compile(r"^(gen_ai\.prompt|gen_ai\.completion|llm\.input_messages|"
                   r"llm\.output_messages)\.(\d+)\.(.+)$")


def _json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _flattened(attributes: Mapping[str, Any]) -> dict[str, dict[int, dict[str, Any]]]:
    """``prefix.<i>.rest`` attributes as ``{prefix: {i: {rest: value}}}``."""
    out: dict[str, dict[int, dict[str, Any]]] = {}
    for key, value in attributes.items():
        match = _FLAT.match(key)
        if match:
            out.setdefault(match.group(1), {}).setdefault(int(match.group(2)), {})[
                match.group(3)] = value
    return out


def _parts_message(message: Mapping[str, Any]) -> dict[str, Any]:
    """A GenAI ``{"role", "parts"}`` message as OpenAI's ``{"role", "content", ...}``."""
    role = str(message.get("role", ""))
    parts = message.get("parts")
    if not isinstance(parts, list):
        return {"role": role, "content": message.get("content")}
    texts, other, tools = [], [], False
    for part in parts:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text":
            texts.append(str(part.get("content", part.get("text", ""))))
        elif kind in ("tool_call", "tool_call_response"):
            tools = True
        else:
            other.append({"type": str(kind)})
    out: dict[str, Any] = {"role": "tool" if role == "tool" else role,
                           "content": [{"type": "text", "text": t} for t in texts] + other}
    if tools:
        out["tool_calls"] = [{"type": "function"}]
    return out


def _system(value: Any) -> list[dict[str, Any]]:
    value = _json(value)
    if value in (None, "", []):
        return []
    if isinstance(value, list):
        return [_parts_message({"role": "system", "parts": value})]
    return [{"role": "system", "content": str(value)}]


def _semconv_messages(attributes: Mapping[str, Any]) -> tuple[Any, Any]:
    """Current conventions: ``gen_ai.input.messages`` / ``gen_ai.output.messages``."""
    raw_in = _json(attributes.get("gen_ai.input.messages"))
    raw_out = _json(attributes.get("gen_ai.output.messages"))
    messages = None
    if isinstance(raw_in, list):
        messages = _system(attributes.get("gen_ai.system_instructions")) + [
            _parts_message(m) if isinstance(m, Mapping) else {"role": "?"} for m in raw_in]
    output = None
    if isinstance(raw_out, list) and raw_out and isinstance(raw_out[0], Mapping):
        output = {"choices": [{"message": {**_parts_message(raw_out[0]), "role": "assistant"}}]}
    return messages, output


def _event_message(role: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    body = _json(attrs.get("message"))
    if isinstance(body, Mapping):
        attrs = {**attrs, **body}
    content = attrs.get("content", attrs.get("message.content"))
    out: dict[str, Any] = {"role": role, "content": _json(content)
                           if isinstance(content, str) and content[:1] == "[" else content}
    if attrs.get("tool_calls") or attrs.get("message.tool_calls"):
        out["tool_calls"] = [{"type": "function"}]
    return out


def _event_messages(events: Sequence[tuple[str, Mapping[str, Any]]]) -> tuple[Any, Any]:
    """Span events: per-message events, or the older prompt / completion events."""
    roles = {"gen_ai.system.message": "system", "gen_ai.user.message": "user",
             "gen_ai.assistant.message": "assistant", "gen_ai.tool.message": "tool"}
    messages: list[dict[str, Any]] | None = None
    output: Any = None
    for name, attrs in events:
        if name in roles:
            messages = (messages or []) + [_event_message(roles[name], attrs)]
        elif name == "gen_ai.choice" and output is None:
            output = {"choices": [{"message": _event_message("assistant", attrs)}]}
        elif name == "gen_ai.content.prompt":
            prompt = _json(attrs.get("gen_ai.prompt"))
            messages = prompt if isinstance(prompt, list) else (
                None if prompt is None else [{"role": "user", "content": str(prompt)}])
        elif name == "gen_ai.content.completion":
            done = _json(attrs.get("gen_ai.completion"))
            first = done[0] if isinstance(done, list) and done else done
            output = ({"choices": [{"message": first}]} if isinstance(first, Mapping)
                      else None if first is None else str(first))
    return messages, output


def _flat_message(fields: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """One flattened message (``role``, ``content``, ``contents.<j>...``, ``tool_calls...``)."""
    get = {k[len(prefix):]: v for k, v in fields.items() if k.startswith(prefix)}
    content: Any = get.get("content")
    parts = sorted({int(m.group(1)) for k in get
                    if (m := re.match(r"contents\.(\d+)\.", k))})
    if content is None and parts:
        content = [{"type": get.get(f"contents.{j}.message_content.type", "text"),
                    "text": get.get(f"contents.{j}.message_content.text", "")} for j in parts]
    out: dict[str, Any] = {"role": str(get.get("role", "")), "content": content}
    if any(k.startswith(("tool_calls", "function_call")) for k in get) or get.get(
            "tool_call_id"):
        out["tool_calls"] = [{"type": "function"}]
    return out


def _flat_messages(attributes: Mapping[str, Any]) -> tuple[Any, Any]:
    """OpenLLMetry's ``gen_ai.prompt.<i>.*`` and OpenInference's ``llm.*_messages.<i>.*``."""
    flat = _flattened(attributes)
    messages, output = None, None
    for key, prefix in (("llm.input_messages", "message."), ("gen_ai.prompt", "")):
        if key in flat:
            messages = [_flat_message(flat[key][i], prefix) for i in sorted(flat[key])]
            break
    for key, prefix in (("llm.output_messages", "message."), ("gen_ai.completion", "")):
        if key in flat and flat[key]:
            first = flat[key][min(flat[key])]
            output = {"choices": [{"message": {**_flat_message(first, prefix),
                                               "role": "assistant"}}]}
            break
    return messages, output


def _is_llm(attributes: Mapping[str, Any]) -> bool:
    operation = attributes.get("gen_ai.operation.name")
    if operation is not None:
        return str(operation) in LLM_OPERATIONS
    kind = attributes.get("openinference.span.kind")
    if kind is not None:
        return str(kind).upper() == "LLM"
    return any(k in attributes for k in ("gen_ai.request.model", "gen_ai.input.messages",
                                         "llm.model_name")) or any(
        k.startswith(("gen_ai.prompt.", "llm.input_messages.")) for k in attributes)


def _mlflow_span(span_id: str, start_ns: int, end_ns: int | None, status: str,
                 attributes: Mapping[str, Any]) -> LLMCall | None:
    """An MLflow span exported over OTLP (``mlflow.spanType`` and its inputs/outputs)."""
    kind = str(_json(attributes.get("mlflow.spanType")) or "").strip('"').upper()
    if kind not in LLM_SPAN_TYPES:
        return None
    decoded = {k: _json(v) for k, v in attributes.items()}
    span = TraceSpan(span_id=span_id, parent_id=None, name="", span_type=kind,
                     start_ns=start_ns, end_ns=end_ns, status=status,
                     inputs=decoded.pop("mlflow.spanInputs", None),
                     outputs=decoded.pop("mlflow.spanOutputs", None), attributes=decoded)
    row = TraceRow(trace_id="", experiment_id="", timestamp_ms=start_ns // 1_000_000,
                   duration_ms=None, state="OK", tags={}, spans=(span,))
    return mlflow_trace_calls(row).calls[0]


def llm_call(span_id: str, start_ns: int, end_ns: int | None, status: str,
             attributes: Mapping[str, Any],
             events: Sequence[tuple[str, Mapping[str, Any]]] = ()) -> LLMCall | None:
    """The LLM call an OpenTelemetry span records, or None when it is not one.

    Example:
        >>> call = llm_call("s1", 0, 2_000_000, "OK", {
        ...     "gen_ai.operation.name": "chat", "gen_ai.request.model": "gpt-4o-mini",
        ...     "gen_ai.usage.input_tokens": 12, "gen_ai.usage.output_tokens": 3,
        ...     "gen_ai.input.messages": '[{"role": "user", "parts": '
        ...                              '[{"type": "text", "content": "Hi"}]}]',
        ...     "gen_ai.output.messages": '[{"role": "assistant", "parts": '
        ...                               '[{"type": "text", "content": "Hello"}]}]'})
        >>> call.messages[0]["content"], call.response, call.model, call.prompt_tokens
        ([{'type': 'text', 'text': 'Hi'}], 'Hello', 'gpt-4o-mini', 12)
    """
    if "mlflow.spanType" in attributes:
        return _mlflow_span(span_id, start_ns, end_ns, status, attributes)
    if not _is_llm(attributes):
        return None
    messages, output = _semconv_messages(attributes)
    if messages is None:
        messages, output_from_events = _event_messages(events)
        output = output if output is not None else output_from_events
    if messages is None:
        messages, flat_output = _flat_messages(attributes)
        output = output if output is not None else flat_output
    elif output is None:
        output = _event_messages(events)[1] or _flat_messages(attributes)[1]
    if messages is None:  # OpenInference keeps the raw request too
        raw = _json(attributes.get("input.value"))
        messages = raw.get("messages") if isinstance(raw, Mapping) else None
        output = output if output is not None else _json(attributes.get("output.value"))
    text, tool_calls, other = chat_response(output)
    model = next((str(attributes[k]) for k in ("gen_ai.response.model", "gen_ai.request.model",
                                               "llm.model_name") if attributes.get(k)), None)
    prompt = as_int(attributes.get("gen_ai.usage.input_tokens",
                                 attributes.get("gen_ai.usage.prompt_tokens",
                                                attributes.get("llm.token_count.prompt"))))
    completion = as_int(attributes.get("gen_ai.usage.output_tokens",
                                     attributes.get("gen_ai.usage.completion_tokens",
                                                    attributes.get(
                                                        "llm.token_count.completion"))))
    cost = as_float(attributes.get("gen_ai.usage.cost", attributes.get("llm.cost.total")))
    tools = bool(_json(attributes.get("gen_ai.tool.definitions"))) or any(
        k.startswith("llm.tools.") for k in attributes)
    return LLMCall(span_id=span_id, start_ns=start_ns, end_ns=end_ns,
                   messages=messages if isinstance(messages, list) else None, response=text,
                   model=model, prompt_tokens=prompt, completion_tokens=completion,
                   cost_usd=cost, failed=status == "ERROR" or "error.type" in attributes,
                   tools_offered=tools, response_tool_calls=tool_calls, unsupported=other)
