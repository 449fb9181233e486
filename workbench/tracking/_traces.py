"""MLflow traces read page by page, as plain rows (production traffic for shadow tests).

``iter_traces`` pages through an experiment's traces with ``MlflowClient.search_traces`` and
its page tokens (never one query for everything), oldest first, and yields
:class:`TraceRow` values: plain frozen dataclasses holding what a traffic log needs (the
spans' inputs, outputs and attributes, the trace's state, tags and feedback). No MLflow object
outlives its page. Works on every tracking URI: a sqlite file, a PostgreSQL-backed
``mlflow server`` over HTTP, a file store.

Example:
    Not run as a doctest (it needs a store holding traces)::

        from workbench.tracking import iter_traces
        for row in iter_traces("prod-support", since=datetime(2026, 11, 1, tzinfo=UTC)):
            print(row.trace_id, row.state, len(row.spans))
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from workbench._home import default_tracking_uri, redact_uri
from workbench.errors import TrackingError, WorkbenchError

from ._client import client, mlflow, safe

__all__ = ["TRACE_PAGE_SIZE", "TraceExperiment", "TraceFeedback", "TraceRow", "TraceSpan",
           "iter_traces", "trace_experiment"]

TRACE_PAGE_SIZE = 200
"""Traces fetched per ``search_traces`` call (one page in memory at a time)."""

_DUPLICATED = frozenset({"mlflow.spanInputs", "mlflow.spanOutputs"})
"""Span attributes that repeat ``inputs`` / ``outputs`` (not copied twice)."""


@dataclass(frozen=True)
class TraceSpan:
    """One span of a trace: what it was, when, how it ended, its inputs and outputs."""

    span_id: str
    parent_id: str | None
    name: str
    span_type: str | None
    """MLflow's span type: ``LLM``, ``CHAT_MODEL``, ``AGENT``, ``CHAIN``, ``TOOL``, ..."""
    start_ns: int
    end_ns: int | None
    status: str
    """``OK``, ``ERROR`` or ``UNSET``."""
    inputs: Any = None
    outputs: Any = None
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TraceFeedback:
    """One feedback assessment of a trace (a user's thumbs or rating, a judge's verdict)."""

    name: str
    value: Any
    source_type: str
    """``HUMAN``, ``LLM_JUDGE``, ``CODE`` (MLflow's assessment source types)."""
    span_id: str | None = None
    created_ms: int | None = None


@dataclass(frozen=True)
class TraceRow:
    """One trace as a traffic log reads it (no MLflow object inside)."""

    trace_id: str
    experiment_id: str
    timestamp_ms: int
    duration_ms: int | None
    state: str
    """``OK``, ``ERROR``, ``IN_PROGRESS`` (MLflow's trace states)."""
    tags: Mapping[str, str]
    """The trace's own tags (MLflow's ``mlflow.*`` tags left out)."""
    spans: tuple[TraceSpan, ...]
    """In start order."""
    feedback: tuple[TraceFeedback, ...] = ()
    """Valid feedback assessments (overridden ones left out), oldest first."""


@dataclass(frozen=True)
class TraceExperiment:
    """The experiment traces are read from, and the store it lives in (password redacted)."""

    experiment_id: str
    name: str
    tracking_uri: str


def _missing_sqlite_file(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` URI when it does not exist (MLflow would create it)."""
    if not uri.startswith("sqlite:///"):
        return None
    path = urllib.parse.unquote(uri[len("sqlite:///"):].split("?", 1)[0])
    if path in ("", ":memory:"):
        return None
    file = Path(path)
    return None if file.exists() else file


def _unreachable(uri: str, exc: BaseException, doing: str) -> TrackingError:
    return TrackingError(
        f"{doing} failed: {type(exc).__name__}: {safe(str(exc), 300)}",
        where=f"MLflow at {safe(redact_uri(uri), 200)}",
        fix="Check that the store exists and the server is running and reachable; pass the "
            "store that holds the traces (tracking_uri= / --traces-uri, or "
            "$MLFLOW_TRACKING_URI).")


def trace_experiment(experiment: str, *, tracking_uri: str | None = None) -> TraceExperiment:
    """The experiment named (or numbered) ``experiment`` in the store at ``tracking_uri``.

    Raises:
        TrackingError: the store is missing or unreachable, or holds no such experiment (the
            message lists a few that exist).
    """
    uri = tracking_uri or default_tracking_uri()
    missing = _missing_sqlite_file(uri)
    if missing is not None:
        raise TrackingError(f"no MLflow store at {missing}", where=f"MLflow at {redact_uri(uri)}",
                            fix="Point tracking_uri (--traces-uri) at the store your application "
                                "writes its traces to.")
    try:
        mlc = client(uri)
        found = mlc.get_experiment_by_name(experiment)
        if found is None and experiment.isdigit():
            try:
                found = mlc.get_experiment(experiment)
            except mlflow().exceptions.MlflowException:
                found = None
        if found is not None and found.lifecycle_stage == "active":
            return TraceExperiment(str(found.experiment_id), str(found.name), redact_uri(uri))
        known = mlc.search_experiments(max_results=6)
    except WorkbenchError:
        raise
    except Exception as exc:  # MLflow, HTTP and database errors alike: the store is unusable
        raise _unreachable(uri, exc, f"finding experiment {experiment!r}") from exc
    names = [f"{e.name!r} (id {e.experiment_id})" for e in known[:5]]
    more = ", ..." if len(known) > 5 else ""
    raise TrackingError(
        f"no experiment {experiment!r} in this store",
        where=f"MLflow at {safe(redact_uri(uri), 200)}",
        fix=(f"Use one that exists: {', '.join(names)}{more}." if names
             else "The store holds no experiment yet.")
        + " Give the experiment's name or id after mlflow-traces:.")


def _millis(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise TrackingError(f"{value.isoformat()} has no time zone",
                            fix="Give since/until with a time zone, e.g. 2026-11-01T00:00:00Z.")
    return int(value.timestamp() * 1000)


def _filter(filter_string: str | None, since: datetime | None, until: datetime | None) -> str:
    """The user's filter and the time bounds, joined by ``AND`` (MLflow's only connective)."""
    clauses = [filter_string.strip()] if filter_string and filter_string.strip() else []
    start, end = _millis(since), _millis(until)
    if start is not None:
        clauses.append(f"timestamp_ms >= {start}")
    if end is not None:
        clauses.append(f"timestamp_ms < {end}")
    return " AND ".join(clauses)


def _span(span: Any) -> TraceSpan:
    status = getattr(span.status, "status_code", None)
    attributes = {k: v for k, v in (span.attributes or {}).items() if k not in _DUPLICATED}
    return TraceSpan(
        span_id=str(span.span_id), parent_id=span.parent_id, name=str(span.name),
        span_type=span.span_type, start_ns=int(span.start_time_ns),
        end_ns=int(span.end_time_ns) if span.end_time_ns is not None else None,
        status=str(getattr(status, "value", status) or "UNSET"), inputs=span.inputs,
        outputs=span.outputs, attributes=attributes)


def _feedback(assessments: Any) -> tuple[TraceFeedback, ...]:
    out = []
    for a in assessments or ():
        value = getattr(a, "feedback", None)
        if value is None or a.valid is False or getattr(value, "error", None) is not None:
            continue  # expectations, overridden feedback, failed judges
        source = getattr(a.source, "source_type", None)
        out.append(TraceFeedback(name=str(a.name), value=value.value,
                                 source_type=str(getattr(source, "value", source) or "HUMAN"),
                                 span_id=a.span_id, created_ms=a.create_time_ms))
    return tuple(sorted(out, key=lambda f: (f.created_ms or 0, f.name)))


def _row(trace: Any) -> TraceRow:
    info = trace.info
    state = getattr(info.state, "value", info.state)
    return TraceRow(
        trace_id=str(info.trace_id), experiment_id=str(info.experiment_id or ""),
        timestamp_ms=int(info.request_time),
        duration_ms=int(info.execution_duration) if info.execution_duration is not None
        else None,
        state=str(state), tags={k: str(v) for k, v in (info.tags or {}).items()
                                if not k.startswith("mlflow.")},
        spans=tuple(sorted((_span(s) for s in trace.data.spans),
                           key=lambda s: (s.start_ns, s.span_id))),
        feedback=_feedback(info.assessments))


def iter_traces(experiment: str, *, filter_string: str | None = None,
                since: datetime | None = None, until: datetime | None = None,
                max_traces: int | None = None, page_size: int = TRACE_PAGE_SIZE,
                tracking_uri: str | None = None) -> Iterator[TraceRow]:
    """The traces of ``experiment`` (name or id), oldest first, one page at a time.

    Args:
        experiment: the experiment's name, or its id.
        filter_string: an MLflow trace search filter (``tags.route = 'billing'``,
            ``status = 'OK'``, ...), joined with the time bounds by ``AND``.
        since: traces that started at or after this (time-zone aware) instant.
        until: traces that started before this instant.
        max_traces: stop after this many.
        page_size: traces per ``search_traces`` call.
        tracking_uri: the store (default ``$MLFLOW_TRACKING_URI``, else the project's).

    Raises:
        TrackingError: the store is unreachable, the experiment unknown, or MLflow refuses
            the filter (the message quotes MLflow's reason).
    """
    if page_size < 1:
        raise TrackingError(f"page_size {page_size}", fix="Give at least 1 trace per page.")
    uri = tracking_uri or default_tracking_uri()
    found = trace_experiment(experiment, tracking_uri=uri)
    query = _filter(filter_string, since, until) or None
    mlc = client(uri)
    token: str | None = None
    seen = 0
    while True:
        want = page_size if max_traces is None else min(page_size, max_traces - seen)
        if want <= 0:
            return
        try:
            page = mlc.search_traces(
                locations=[found.experiment_id], filter_string=query, max_results=want,
                order_by=["timestamp_ms ASC", "request_id ASC"], page_token=token,
                include_spans=True)
        except Exception as exc:
            if query and getattr(exc, "error_code", None) == "INVALID_PARAMETER_VALUE":
                raise TrackingError(
                    f"MLflow refused the trace filter {query!r}: {safe(str(exc), 300)}",
                    where=f"experiment {found.name!r}",
                    fix="Write an MLflow trace search filter, e.g. tags.route = 'billing' AND "
                        "status = 'OK' (see MLflow's search_traces documentation).") from exc
            raise _unreachable(uri, exc, f"reading traces of {found.name!r}") from exc
        rows = [_row(t) for t in page]
        token = page.token
        del page
        for row in rows:
            yield row
        seen += len(rows)
        if not token or not rows:
            return
