"""Traffic logs from traces: ``TrafficLog.load("mlflow-traces:...")`` and ``("otlp:...")``.

Each trace is read (MLflow: one page at a time; OTLP: grouped by trace id), reduced to its
LLM calls, turned into records by the ``span`` rule, validated like a JSONL line and redacted
at once with the same detectors, so raw text never outlives the record it came from. What
cannot be replayed is counted by reason in :class:`Provenance`, never dropped silently.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from workbench._home import redact_uri
from workbench.errors import ConfigError, DatasetError
from workbench.runner import Comparison
from workbench.tracking import TRACE_PAGE_SIZE, trace_experiment

from ._log import TRAFFIC_SOURCES, TrafficLog, TrafficRecord, _hash_id, _salt, redact_record
from ._mlflow_traces import read_mlflow_traces
from ._otlp import otlp_files, read_otlp
from ._redact import Redactor
from ._sample import StratifiedSample, check_stratify_by
from ._sources import (
    SPAN_CHOICES,
    Provenance,
    Skip,
    SpanChoice,
    TraceCalls,
    parse_source,
    trace_outcomes,
)

__all__ = ["load_traces", "note_traffic"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]+")


def _stand_in(prefix: str, name: str) -> Path:
    """A file-name-safe name standing for a source (golden-set names derive from it)."""
    cleaned = _UNSAFE.sub("_", name).strip("_.") or "traces"
    return Path(f"{prefix}_{cleaned[:80]}")


def _files_text(files: Sequence[Path]) -> str:
    shown = ", ".join(str(f) for f in files[:5])
    return shown + (f", ... ({len(files)} files)" if len(files) > 5 else "")


def load_traces(source: str, *, redact: bool = True, redactor: Redactor | None = None,
                id_salt: str | bytes | None = None, tracking_uri: str | None = None,
                span: SpanChoice = "first", slice_tags: Sequence[str] = (),
                sample: int | None = None, stratify_by: str | None = None, seed: int = 0,
                page_size: int = TRACE_PAGE_SIZE) -> TrafficLog:
    """A traffic log from MLflow traces or OTLP/JSON exports (``TrafficLog.load`` calls it).

    Trace ids are the request ids (random ids the tracer made, kept so that a request can be
    found in MLflow or the export); ``id_salt`` turns them into salted hashes all the same.

    Raises:
        ConfigError: a bad source string or option.
        TrackingError: an unreachable store or an unknown experiment.
        DatasetError: an unreadable OTLP file (file, line, column), or no replayable request.
    """
    parsed = parse_source(source)
    if span not in SPAN_CHOICES:
        raise ConfigError(f"span={span!r}", fix="Use first, last or all (the LLM calls of a "
                          "trace that are replayed).")
    tags = tuple(dict.fromkeys(str(t).strip() for t in slice_tags))
    if any(not t for t in tags):
        raise ConfigError("an empty slice tag name", fix="Name the trace tags, e.g. route.")
    check_stratify_by(stratify_by, tags)
    scrub = (redactor or Redactor()) if redact else None
    salt = _salt(id_salt, Path(".")) if id_salt is not None else None
    quiet = Redactor(scrub.detectors) if scrub is not None else None  # uncounted
    shown = quiet(parsed.text) if quiet else parsed.text
    provenance = Provenance(parsed.kind, shown, span=span,
                            filter=quiet(parsed.filter) if quiet and parsed.filter
                            else parsed.filter)
    traces: Iterable[TraceCalls]
    if parsed.kind == "mlflow-traces":
        found = trace_experiment(parsed.target, tracking_uri=tracking_uri)
        provenance.where = redact_uri(found.tracking_uri)
        provenance.experiment, provenance.experiment_id = found.name, found.experiment_id
        path = _stand_in("mlflow-traces", found.name)
        traces = read_mlflow_traces(found.experiment_id, filter_string=parsed.filter,
                                    since=parsed.since, until=parsed.until,
                                    max_traces=parsed.max, page_size=page_size,
                                    tracking_uri=tracking_uri)
    else:
        if tracking_uri is not None:
            raise ConfigError("tracking_uri is for mlflow-traces:, not otlp:", where=shown,
                              fix="Leave it out.")
        files = otlp_files(parsed.target)
        provenance.where = _files_text(files)
        path = _stand_in("otlp", Path(parsed.target.split(",")[0].rstrip("/")).name
                         .split(".")[0])
        traces = read_otlp(files, since=parsed.since, until=parsed.until,
                           max_traces=parsed.max, slice_tags=tags)

    def ident(request_id: str) -> str:
        return request_id if salt is None else _hash_id(salt, request_id)

    sampler = StratifiedSample(sample, stratify_by, seed) if sample is not None else None
    records: list[TrafficRecord] = []
    seen: set[str] = set()
    for trace in traces:
        provenance.read += 1
        for outcome in trace_outcomes(trace, span, tags):
            if isinstance(outcome, Skip):
                provenance.skip(Skip(outcome.reason, ident(outcome.request_id), outcome.detail))
                continue
            record = _validated(outcome, provenance, ident)
            if record is None:
                continue
            if record.request_id in seen:
                provenance.skip(Skip("duplicate", record.request_id))
                continue
            seen.add(record.request_id)
            if scrub is not None:
                record = redact_record(record, scrub)
            if sampler is not None:
                sampler.add(record)
            else:
                records.append(record)
    if sampler is not None:
        records = sampler.result()
        provenance.sample = sampler.description
    provenance.loaded = len(records)
    if not records:
        raise DatasetError(
            f"no replayable request: {provenance.read} {provenance.unit} read, not replayed: "
            f"{provenance.skipped_text(examples=True)}", where=shown,
            fix="Widen the filter or period, or pick other LLM calls with span=first|last|all"
                if provenance.read else "Check the experiment, filter and period (or the "
                "export): nothing matched.")
    return TrafficLog(path, records, scrub.counts if scrub else Counter(), scrub is not None,
                      id_salt=salt, provenance=provenance)


def _validated(raw: dict[str, Any], provenance: Provenance, ident: Any) -> TrafficRecord | None:
    """The raw record validated (its id hashed when asked), or counted as ``invalid``."""
    try:
        record = TrafficRecord.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(record)"
        provenance.skip(Skip("invalid", ident(str(raw.get("request_id"))),
                             f"{where}: {first['msg']}"))  # never the value (personal data)
        return None
    new_id = ident(record.request_id)
    return record if new_id == record.request_id else record.model_copy(
        update={"request_id": new_id})


def note_traffic(comparison: Comparison, log: TrafficLog) -> dict[str, str]:
    """Name a shadow test's traffic source in its record, and the MLflow tags linking it.

    For traces, ``record.shadow.log`` becomes the source as written (with its filter) and
    production's ``recorded`` note says how many traces were read, kept and not replayed,
    and why; both travel with the comparison (saved, logged, rebuilt reports). Returns the
    ``workbench.traffic.*`` tags for the MLflow parent run (the source experiment's id, name
    and store; empty for a JSONL log).
    """
    prov = log.provenance
    record = comparison.record
    if prov.kind == "jsonl" or record.shadow is None:
        return {}
    record.shadow = record.shadow.model_copy(update={"log": log.name})
    served = record.model(record.roles.incumbent[0]) if record.roles.incumbent else None
    if served is not None:
        served.recorded = (f"{prov.summary()} Production's answers are the logged responses, "
                           "tokens and latency (never called).")
    return prov.tags()


TRAFFIC_SOURCES["mlflow-traces"] = load_traces
TRAFFIC_SOURCES["otlp"] = load_traces
