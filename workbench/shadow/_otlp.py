"""OTLP/JSON trace exports as traffic: ``otlp:<file(s) or folder>`` → :class:`TraceCalls`.

Reads what the OpenTelemetry SDK's file exporter writes (one ``ExportTraceServiceRequest`` per
line, ``opentelemetry-exporter-otlp-json-file``) and single OTLP/JSON documents (a collector's
file exporter, ``curl`` of an OTLP endpoint), camelCase or snake_case keys, hex or base64 ids.
Plain JSON: no OpenTelemetry package is imported. Spans of one trace may be spread over lines
and files; they are grouped by trace id, then each trace's LLM calls are read by the GenAI
conventions (:mod:`._genai`). A file that is not OTLP/JSON is refused naming the file, line and
column.
"""

from __future__ import annotations

import base64
import binascii
import glob
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench.errors import DatasetError

from ._genai import llm_call
from ._sources import TraceCalls

__all__ = ["OTLP_SUFFIXES", "OtlpSpan", "otlp_files", "otlp_value", "read_otlp", "read_spans"]

OTLP_SUFFIXES = (".json", ".jsonl", ".ndjson")
"""Files of a folder that are read as OTLP/JSON exports."""

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_TRACE_TAG = "mlflow.traceTag."


@dataclass
class OtlpSpan:
    """One exported span, its attribute values decoded."""

    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    start_ns: int
    end_ns: int | None
    status: str
    """``OK``, ``ERROR`` or ``UNSET``."""
    attributes: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    resource: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""


def _get(data: Mapping[str, Any], camel: str, snake: str) -> Any:
    return data.get(camel, data.get(snake))


def otlp_value(value: Any) -> Any:
    """An OTLP ``AnyValue`` (``{"stringValue": ...}``, ``{"intValue": "3"}``, ...) as Python.

    Example:
        >>> otlp_value({"arrayValue": {"values": [{"intValue": "3"}, {"boolValue": True}]}})
        [3, True]
    """
    if not isinstance(value, Mapping):
        return value
    for key in ("stringValue", "string_value"):
        if key in value:
            return value[key]
    for key in ("intValue", "int_value"):
        if key in value:
            return int(value[key])
    for key in ("doubleValue", "double_value"):
        if key in value:
            return float(value[key])
    for key in ("boolValue", "bool_value"):
        if key in value:
            return bool(value[key])
    array = _get(value, "arrayValue", "array_value")
    if array is not None:
        return [otlp_value(v) for v in array.get("values", [])]
    kvlist = _get(value, "kvlistValue", "kvlist_value")
    if kvlist is not None:
        return _attributes(kvlist.get("values", []))
    raw = _get(value, "bytesValue", "bytes_value")
    return raw


def _attributes(items: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if isinstance(item, Mapping) and "key" in item:
            out[str(item["key"])] = otlp_value(item.get("value"))
    return out


def _id(raw: Any, size: int) -> str | None:
    """A trace or span id as lowercase hex (OTLP/JSON writes hex; proto3 JSON base64)."""
    if not raw:
        return None
    text = str(raw)
    if len(text) == 2 * size and _HEX.match(text):
        return text.lower()
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
    return decoded.hex() if len(decoded) == size else text


def _status(raw: Any) -> str:
    code = (raw or {}).get("code") if isinstance(raw, Mapping) else None
    if code in (2, "2", "STATUS_CODE_ERROR", "ERROR"):
        return "ERROR"
    if code in (1, "1", "STATUS_CODE_OK", "OK"):
        return "OK"
    return "UNSET"


def _nanos(raw: Any) -> int | None:
    try:
        return int(raw) if raw not in (None, "", 0, "0") else None
    except (TypeError, ValueError):
        return None


def _spans(document: Any, where: str) -> Iterator[OtlpSpan]:
    if not isinstance(document, Mapping):
        raise DatasetError("not an OTLP/JSON trace export (a JSON object with resourceSpans)",
                           where=where, fix="Export traces as OTLP/JSON (e.g. the OpenTelemetry "
                                            "SDK's file exporter).")
    resources = _get(document, "resourceSpans", "resource_spans")
    if not isinstance(resources, list):
        raise DatasetError("not an OTLP/JSON trace export: no resourceSpans", where=where,
                           fix="Export traces as OTLP/JSON (e.g. the OpenTelemetry SDK's file "
                               "exporter: one ExportTraceServiceRequest per line).")
    for block in resources:
        resource = _attributes((block.get("resource") or {}).get("attributes"))
        for scope in _get(block, "scopeSpans", "scope_spans") or []:
            for span in scope.get("spans") or []:
                trace_id = _id(_get(span, "traceId", "trace_id"), 16)
                span_id = _id(_get(span, "spanId", "span_id"), 8)
                start = _nanos(_get(span, "startTimeUnixNano", "start_time_unix_nano"))
                if trace_id is None or span_id is None or start is None:
                    raise DatasetError("a span without traceId, spanId or startTimeUnixNano",
                                       where=where, fix="Export complete spans (OTLP/JSON).")
                yield OtlpSpan(
                    trace_id=trace_id, span_id=span_id,
                    parent_id=_id(_get(span, "parentSpanId", "parent_span_id"), 8),
                    name=str(span.get("name", "")), start_ns=start,
                    end_ns=_nanos(_get(span, "endTimeUnixNano", "end_time_unix_nano")),
                    status=_status(span.get("status")),
                    attributes=_attributes(span.get("attributes")),
                    events=[(str(e.get("name", "")), _attributes(e.get("attributes")))
                            for e in span.get("events") or []],
                    resource=resource, where=where)


def read_spans(path: Path) -> Iterator[OtlpSpan]:
    """The spans of one OTLP/JSON file: JSON lines (the SDK's file exporter) or one document.

    Raises:
        DatasetError: naming the file, line and column of what is not OTLP/JSON.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read the OTLP export: {exc}", where=str(path),
                           fix="Give a readable UTF-8 OTLP/JSON file.") from exc
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return
    try:
        json.loads(lines[first])
        whole = False
    except ValueError:
        whole = True
    if whole:
        try:
            document = json.loads(text)
        except ValueError as exc:
            line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            raise DatasetError(f"not JSON: {getattr(exc, 'msg', exc)} (column {col})",
                               where=f"{path}, line {line}",
                               fix="Give OTLP/JSON: one export request per line, or one JSON "
                                   "document.") from exc
        yield from _spans(document, str(path))
        return
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            document = json.loads(line)
        except ValueError as exc:
            raise DatasetError(
                f"not JSON: {getattr(exc, 'msg', exc)} (column {getattr(exc, 'colno', 1)})",
                where=f"{path}, line {number}",
                fix="Each line of an OTLP/JSON lines file is one export request; remove or "
                    "repair this line (a file cut off while being written?).") from exc
        yield from _spans(document, f"{path}, line {number}")


def otlp_files(target: str) -> list[Path]:
    """The files an ``otlp:`` target names: files and folders, comma-separated, or a glob.

    Raises:
        DatasetError: a path that does not exist, or a folder without OTLP/JSON files.
    """
    files: list[Path] = []
    for part in (p.strip() for p in target.split(",")):
        if not part:
            continue
        path = Path(part).expanduser()
        if any(c in part for c in "*?["):
            matched = sorted(Path(p) for p in glob.glob(str(path), recursive=True)
                             if Path(p).is_file())
            if not matched:
                raise DatasetError(f"no file matches {part!r}", where=f"otlp:{target}",
                                   fix="Check the pattern (e.g. otlp:exports/*.jsonl).")
            files += matched
        elif path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file()
                           and p.name.endswith(OTLP_SUFFIXES))
            if not found:
                raise DatasetError(f"the folder {path} holds no OTLP/JSON file "
                                   f"({', '.join(OTLP_SUFFIXES)})", where=f"otlp:{target}",
                                   fix="Point otlp: at the exported files.")
            files += found
        elif path.is_file():
            files.append(path)
        else:
            raise DatasetError(f"no such file or folder: {path}", where=f"otlp:{target}",
                               fix="Check the path after otlp: (several files: otlp:a.jsonl,"
                                   "b.jsonl; a folder: otlp:exports/).")
    return list(dict.fromkeys(files))


def _tags(span: OtlpSpan, by_id: Mapping[str, OtlpSpan], names: Sequence[str]
          ) -> dict[str, str]:
    """``names`` looked up on the span, then its ancestors, then the resource."""
    out: dict[str, str] = {}
    chain: list[OtlpSpan] = []
    current: OtlpSpan | None = span
    while current is not None and len(chain) < 256:
        chain.append(current)
        current = by_id.get(current.parent_id) if current.parent_id else None
    for name in names:
        for holder in [*(s.attributes for s in chain), span.resource]:
            value = holder.get(name, holder.get(_TRACE_TAG + name))
            if value not in (None, ""):
                out[name] = value if isinstance(value, str) else json.dumps(value)
                break
    return out


def _trace(trace_id: str, spans: list[OtlpSpan], slice_tags: Sequence[str]) -> TraceCalls:
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if not s.parent_id or s.parent_id not in by_id]
    failed = any(s.status == "ERROR" for s in roots)
    calls = []
    for span in spans:
        call = llm_call(span.span_id, span.start_ns, span.end_ns, span.status, span.attributes,
                        span.events)
        if call is not None:
            call.tags = _tags(span, by_id, slice_tags)
            calls.append(call)
    return TraceCalls(trace_id=trace_id, state="ERROR" if failed else "OK", calls=calls,
                      tags=_tags(roots[0], by_id, slice_tags) if roots else {})


def read_otlp(files: Sequence[Path], *, since: datetime | None = None,
              until: datetime | None = None, max_traces: int | None = None,
              slice_tags: Sequence[str] = ()) -> Iterator[TraceCalls]:
    """The traces of OTLP/JSON files as :class:`TraceCalls`, oldest first.

    A trace's time is its earliest span's start; ``since`` is inclusive, ``until`` exclusive;
    ``max_traces`` keeps the oldest. A span exported twice counts once.
    """
    traces: dict[str, dict[str, OtlpSpan]] = {}
    for path in files:
        for span in read_spans(path):
            traces.setdefault(span.trace_id, {}).setdefault(span.span_id, span)
    start_ns = None if since is None else int(since.timestamp() * 1e9)
    end_ns = None if until is None else int(until.timestamp() * 1e9)
    ordered = sorted(((min(s.start_ns for s in spans.values()), trace_id)
                      for trace_id, spans in traces.items()))
    kept = 0
    for begun, trace_id in ordered:
        if (start_ns is not None and begun < start_ns) or (end_ns is not None and begun >= end_ns):
            continue
        if max_traces is not None and kept >= max_traces:
            return
        kept += 1
        spans = sorted(traces.pop(trace_id).values(), key=lambda s: (s.start_ns, s.span_id))
        yield _trace(trace_id, spans, slice_tags)
