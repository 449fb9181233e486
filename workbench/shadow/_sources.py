"""Where production traffic comes from: a JSONL log, MLflow traces, or OTLP/JSON exports.

``TrafficLog.load`` takes one of three forms (:data:`SOURCE_FORMS`)::

    datasets/shadow/support_traffic.jsonl
    mlflow-traces:prod-support?filter=tags.route = 'billing'&since=2026-11-01&max=5000
    otlp:exports/traces.jsonl        (several: otlp:a.jsonl,b.jsonl; a folder: otlp:exports/)

This module parses those strings and turns a trace, whatever recorded it, into traffic records
by one rule set: :class:`TraceCalls` (a trace's LLM calls in start order) → the calls the
``span`` option picks → one record each, or a :class:`Skip` saying why it cannot be replayed
(:data:`SKIP_REASONS`). :class:`Provenance` keeps what was read, from where, with which filter,
and what was skipped, for ``describe()``, the report and the MLflow run.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from workbench.errors import ConfigError

__all__ = ["SKIP_REASONS", "SOURCE_FORMS", "SPAN_CHOICES", "LLMCall", "Provenance", "Skip",
           "SpanChoice", "TraceCalls", "TrafficSource", "chat_messages", "parse_source",
           "source_scheme", "trace_outcomes"]

SOURCE_FORMS: tuple[str, ...] = (
    "a JSONL traffic log: path/to/traffic.jsonl",
    "MLflow traces: mlflow-traces:<experiment name or id>[?filter=<MLflow trace filter>"
    "&since=<ISO date or time>&until=<ISO date or time>&max=<N>]",
    "OpenTelemetry OTLP/JSON exports: otlp:<file>[,<file>...] or otlp:<folder>"
    "[?since=...&until=...&max=<N>]",
)
"""The three forms ``TrafficLog.load`` and ``workbench shadow --traffic`` accept."""

SpanChoice = Literal["first", "last", "all"]
SPAN_CHOICES: tuple[str, ...] = ("first", "last", "all")
"""Which LLM calls of a trace become records: its first, its last, or every one."""

SKIP_REASONS: dict[str, str] = {
    "failed": "failed (state=ERROR)",
    "tool_calls": "tool calls the candidate cannot see",
    "no_chat_request": "no chat request (no LLM span with chat messages)",
    "unsupported_content": "non-text content (images, audio, files)",
    "no_response": "no text response recorded",
    "no_token_counts": "no token counts recorded",
    "unfinished": "still in progress",
    "invalid": "not a valid traffic record",
    "duplicate": "duplicate request id",
}
"""Why a trace (or one of its LLM calls) is not replayed, in the words ``describe()`` uses."""

_KEYS = {"mlflow-traces": ("filter", "since", "until", "max"),
         "otlp": ("since", "until", "max")}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]+):(?!//)")


@dataclass(frozen=True)
class TrafficSource:
    """A parsed source string (see :data:`SOURCE_FORMS`)."""

    kind: Literal["jsonl", "mlflow-traces", "otlp"]
    target: str
    """The file, the experiment (name or id), or the OTLP files / folder as given."""
    filter: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    max: int | None = None
    text: str = ""

    @property
    def query(self) -> str:
        """The options as written after ``?`` (empty when none)."""
        parts = [(k, v) for k, v in (("filter", self.filter), ("since", _iso(self.since)),
                                     ("until", _iso(self.until)),
                                     ("max", None if self.max is None else str(self.max)))
                 if v is not None]
        return "&".join(f"{k}={v}" for k, v in parts)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


def source_scheme(source: str | Path) -> str | None:
    """``mlflow-traces`` or ``otlp`` for those sources, None for a file path.

    Raises:
        ConfigError: a ``scheme:`` that is none of the three forms (and no such file).

    Example:
        >>> source_scheme("mlflow-traces:prod?since=2026-11-01"), source_scheme("t.jsonl")
        ('mlflow-traces', None)
    """
    if isinstance(source, Path):
        return None
    match = _SCHEME.match(source)
    if match is None or Path(source).exists():
        return None  # a path (C:\\... has a one-letter "scheme")
    scheme = match.group(1).lower()
    if scheme in _KEYS:
        return scheme
    raise ConfigError(f"unknown traffic source {match.group(1) + ':'!r}", where=source,
                      fix="Give one of: " + "; ".join(SOURCE_FORMS) + ".")


def _when(key: str, value: str, where: str) -> datetime:
    """An ISO date (UTC; ``until`` then means the whole day) or a time with its zone."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
            return day + timedelta(days=1) if key == "until" else day
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ConfigError(f"{key}={value!r} is not an ISO date or a time with a zone",
                          where=where, fix=f"Write {key}=2026-11-01 (a UTC day) or "
                          f"{key}=2026-11-01T09:00:00Z.")
    return moment.astimezone(UTC)


def parse_source(source: str | Path) -> TrafficSource:
    """Parse a traffic source string (see :data:`SOURCE_FORMS`).

    ``since`` and ``until`` take an ISO date (a UTC day: ``until=2026-11-07`` includes that
    day) or a time with its zone; ``since`` is inclusive, ``until`` exclusive. Percent-encode
    a ``&`` inside a filter as ``%26``.

    Raises:
        ConfigError: an unknown scheme or option, a bad date, a ``max`` that is not positive.

    Example:
        >>> s = parse_source("mlflow-traces:prod-support?since=2026-11-01&max=500")
        >>> s.kind, s.target, s.since.isoformat(), s.max
        ('mlflow-traces', 'prod-support', '2026-11-01T00:00:00+00:00', 500)
    """
    text = str(source)
    scheme = source_scheme(source)
    if scheme is None:
        return TrafficSource("jsonl", text, text=text)
    rest = text[len(scheme) + 1:]
    target, _, query = rest.partition("?")
    target = urllib.parse.unquote(target).strip()
    if not target:
        raise ConfigError(f"{scheme}: names nothing", where=text,
                          fix="Give one of: " + "; ".join(SOURCE_FORMS) + ".")
    options: dict[str, Any] = {}
    for part in filter(None, query.split("&")):
        key, eq, value = part.partition("=")
        key = key.strip().lower()
        if key not in _KEYS[scheme] or not eq:
            raise ConfigError(f"unknown option {part!r} for {scheme}:", where=text,
                              fix="Options: " + ", ".join(f"{k}=..." for k in _KEYS[scheme])
                              + " joined by &.")
        value = urllib.parse.unquote(value)
        if key in ("since", "until"):
            options[key] = _when(key, value, text)
        elif key == "max":
            if not value.strip().isdigit() or int(value) < 1:
                raise ConfigError(f"max={value!r}", where=text,
                                  fix="Give a positive number of traces, e.g. max=5000.")
            options[key] = int(value)
        else:
            options[key] = value.strip() or None
    if "since" in options and "until" in options and options["since"] >= options["until"]:
        raise ConfigError("since is not before until", where=text,
                          fix="Give a period that starts before it ends.")
    return TrafficSource(scheme, target, text=text, **options)  # type: ignore[arg-type]


# ---------------------------------------------------------------- one trace, whatever wrote it


@dataclass
class LLMCall:
    """One LLM call of a trace, as any recorder wrote it (fields None when not recorded)."""

    span_id: str
    start_ns: int
    end_ns: int | None
    messages: list[dict[str, Any]] | None
    """The request's messages in OpenAI's chat format (None: not a chat request)."""
    response: str | None
    model: str | None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    cost_usd: float | None = None
    failed: bool = False
    tools_offered: bool = False
    """The request offered tools (definitions the candidate would need)."""
    response_tool_calls: bool = False
    unsupported: bool = False
    """The request or response holds content that is not text."""
    tags: dict[str, str] = field(default_factory=dict)
    """Tags recorded on this call's span or its ancestors (over the trace's own)."""


@dataclass
class TraceCalls:
    """A trace reduced to what a replay needs: its LLM calls in start order and its outcome."""

    trace_id: str
    state: str
    """``OK``, ``ERROR`` or ``IN_PROGRESS``."""
    calls: list[LLMCall]
    tags: dict[str, str] = field(default_factory=dict)
    feedback: str | float | None = None


@dataclass(frozen=True)
class Skip:
    """A trace (or an LLM call of one) that is not replayed, and why."""

    reason: str
    request_id: str
    detail: str = ""


def _text(content: Any) -> tuple[str | None, bool]:
    """Message content as text, and whether it held anything else (images, audio, files)."""
    if content is None or isinstance(content, str):
        return content, False
    if isinstance(content, list):
        texts, other = [], False
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, Mapping) and part.get("type") in ("text", "input_text",
                                                                     "output_text"):
                texts.append(str(part.get("text", part.get("content", ""))))
            else:
                other = True
        return "\n".join(texts), other
    return json.dumps(content, ensure_ascii=False, sort_keys=True), False


def chat_messages(raw: Any) -> tuple[list[dict[str, str]] | None, str | None]:
    """OpenAI-format messages as ``{"role", "content"}`` text, or the reason they are not.

    ``developer`` counts as ``system``; tool results and assistant tool calls are
    ``tool_calls`` (the candidate cannot see the tools); images, audio and files are
    ``unsupported_content``; anything that is not a list of messages is ``no_chat_request``.

    Example:
        >>> chat_messages([{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
        ([{'role': 'user', 'content': 'Hi'}], None)
        >>> chat_messages([{"role": "tool", "content": "42"}])[1]
        'tool_calls'
    """
    if not isinstance(raw, list) or not raw or not all(isinstance(m, Mapping) for m in raw):
        return None, "no_chat_request"
    out: list[dict[str, str]] = []
    for message in raw:
        role = str(message.get("role", ""))
        role = "system" if role == "developer" else role
        if role in ("tool", "function", "ipython") or message.get("tool_calls") \
                or message.get("function_call"):
            return None, "tool_calls"
        if role not in ("system", "user", "assistant"):
            return None, "no_chat_request"
        text, other = _text(message.get("content"))
        if other:
            return None, "unsupported_content"
        out.append({"role": role, "content": text or ""})
    return out, None


def _stamp(ns: int) -> str:
    """A nanosecond timestamp as ISO text, exact to the microsecond (UTC)."""
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)
    return moment.isoformat().replace("+00:00", "Z")


def _check(call: LLMCall, request_id: str) -> Skip | None:
    messages, reason = chat_messages(call.messages) if call.messages is not None else (
        None, "no_chat_request")
    if call.failed:
        return Skip("failed", request_id, "the LLM call failed")
    if reason is not None or messages is None:
        return Skip(reason or "no_chat_request", request_id)
    if call.tools_offered or call.response_tool_calls:
        return Skip("tool_calls", request_id,
                    "the response is a tool call" if call.response_tool_calls
                    else "the request offered tools")
    if call.unsupported:
        return Skip("unsupported_content", request_id)
    if call.response is None:
        return Skip("no_response", request_id)
    if call.prompt_tokens is None or call.completion_tokens is None:
        return Skip("no_token_counts", request_id)
    return None


def trace_outcomes(trace: TraceCalls, span: SpanChoice = "first",
                   slice_tags: Sequence[str] = ()) -> list[dict[str, Any] | Skip]:
    """The raw traffic records of one trace (JSONL's fields), or why each is not replayed.

    ``span`` picks the LLM calls replayed: the ``first``, the ``last`` or ``all`` (request
    ids ``<trace id>/1``, ``/2``, ... then). A failed trace (``state=ERROR``) or an
    unfinished one is one skip; so is a trace without an LLM call. The user's feedback goes
    with the trace's last LLM call (the answer the user saw); ``slice_tags`` become slices.
    """
    if trace.state == "IN_PROGRESS":
        return [Skip("unfinished", trace.trace_id)]
    if trace.state == "ERROR":
        return [Skip("failed", trace.trace_id)]
    if not trace.calls:
        return [Skip("no_chat_request", trace.trace_id)]
    picked = {"first": [0], "last": [len(trace.calls) - 1],
              "all": list(range(len(trace.calls)))}[span]
    out: list[dict[str, Any] | Skip] = []
    for index in picked:
        call = trace.calls[index]
        request_id = trace.trace_id if span != "all" else f"{trace.trace_id}/{index + 1}"
        skip = _check(call, request_id)
        if skip is not None:
            out.append(skip)
            continue
        messages, _ = chat_messages(call.messages)
        tags = {**trace.tags, **call.tags}
        out.append({
            "request_id": request_id, "timestamp": _stamp(call.start_ns),
            "messages": messages, "served_model": call.model or "(unknown)",
            "response": call.response,
            "latency_s": max(0, (call.end_ns or call.start_ns) - call.start_ns) / 1e9,
            "prompt_tokens": call.prompt_tokens, "completion_tokens": call.completion_tokens,
            "cost_usd": call.cost_usd,
            "slices": {k: str(tags[k]) for k in slice_tags if tags.get(k) not in (None, "")},
            "feedback": trace.feedback if index == len(trace.calls) - 1 else None})
    return out


# ---------------------------------------------------------------- provenance


@dataclass
class Provenance:
    """Where a traffic log came from and what was left out (``TrafficLog.provenance``).

    Every text here is redacted like the records (a filter may name a user).
    """

    kind: str
    """``jsonl``, ``mlflow-traces`` or ``otlp``."""
    source: str
    """The source as a user writes it (``mlflow-traces:prod-support?since=2026-11-01``)."""
    where: str = ""
    """The file(s), or the MLflow store (password redacted)."""
    experiment: str | None = None
    experiment_id: str | None = None
    filter: str | None = None
    span: str | None = None
    read: int = 0
    """Traces read (lines for a JSONL log)."""
    loaded: int = 0
    """Records kept."""
    skipped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    """Up to three request ids per skip reason (to find them in MLflow or the export)."""
    sample: str | None = None

    @property
    def unit(self) -> str:
        """What ``read`` counts: ``traces`` or ``requests``."""
        return "requests" if self.kind == "jsonl" else "traces"

    def skip(self, skip: Skip) -> None:
        """Count one skipped trace or call (keeping its id as an example)."""
        self.skipped[skip.reason] += 1
        ids = self.examples.setdefault(skip.reason, [])
        if len(ids) < 3:
            ids.append(skip.request_id)

    def skipped_text(self, examples: bool = False) -> str:
        """``2 failed (state=ERROR), 1 tool calls the candidate cannot see`` (or ``none``)."""
        parts = []
        for reason, n in sorted(self.skipped.items(), key=lambda kv: (-kv[1], kv[0])):
            ids = self.examples.get(reason, [])
            more = f" (e.g. {', '.join(ids)})" if examples and ids else ""
            parts.append(f"{n} {SKIP_REASONS.get(reason, reason)}{more}")
        return ", ".join(parts) or "none"

    def summary(self) -> str:
        """One sentence: how many were read from where, kept, not replayed and why, sampled."""
        where = f" (experiment {self.experiment!r}, id {self.experiment_id})" \
            if self.experiment else ""
        span = f", LLM span {self.span}" if self.span and self.kind != "jsonl" else ""
        text = (f"{self.read} {self.unit} read from {self.source}{where}{span}: "
                f"{self.loaded} requests kept")
        if self.skipped:
            text += f"; not replayed: {self.skipped_text()}"
        if self.sample:
            text += f"; {self.sample}"
        return text + "."

    def tags(self) -> dict[str, str]:
        """Tags linking an MLflow run to this traffic (``workbench.traffic.*``)."""
        tags = {"workbench.traffic.kind": self.kind, "workbench.traffic.source": self.source,
                "workbench.traffic.read": str(self.read),
                "workbench.traffic.loaded": str(self.loaded)}
        if self.experiment_id is not None:
            tags["workbench.traffic.experiment_id"] = self.experiment_id
            tags["workbench.traffic.experiment"] = str(self.experiment)
        if self.kind == "mlflow-traces":
            tags["workbench.traffic.store"] = self.where
        if self.filter:
            tags["workbench.traffic.filter"] = self.filter
        if self.skipped:
            tags["workbench.traffic.skipped"] = self.skipped_text()
        if self.sample:
            tags["workbench.traffic.sample"] = self.sample
        return tags
