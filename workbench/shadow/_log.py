"""Production traffic logs for shadow tests: validated like golden sets, redacted on load.

One JSON object per line::

    {"request_id": "r-0001", "timestamp": "2026-11-02T09:14:03Z",
     "messages": [{"role": "user", "content": "..."}], "served_model": "openai/gpt-4o-mini",
     "response": "...", "latency_s": 0.84, "prompt_tokens": 212, "completion_tokens": 31,
     "slices": {"language": "en"}, "feedback": "thumbs_up"}

Every problem names the file and line. Personal data is redacted while loading (every free-text
field: messages, served responses, feedback and slice values) and request ids become salted
hashes, so nothing downstream ever sees either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.datasets import read_rows
from workbench.errors import ConfigError, DatasetError, Problem

from ._redact import Redactor
from ._sample import check_stratify_by, sample_records
from ._sources import Provenance, SpanChoice, source_scheme

__all__ = ["TRAFFIC_SOURCES", "TrafficLog", "TrafficRecord", "redact_record"]


class Message(BaseModel):
    """One chat message of a logged request."""

    model_config = ConfigDict(extra="forbid")
    role: Literal["system", "user", "assistant"]
    content: str


class TrafficRecord(BaseModel):
    """One served request, as logged in production."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1)
    timestamp: datetime
    messages: list[Message] = Field(min_length=1)
    served_model: str = Field(min_length=1)
    response: str
    latency_s: float = Field(ge=0)
    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    cost_usd: float | None = Field(default=None, ge=0)
    """What the call cost, when the application recorded it (traces often do)."""
    slices: dict[str, str] = Field(default_factory=dict)
    feedback: str | float | None = None

    @field_validator("timestamp")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("needs a time zone (e.g. 2026-11-02T09:14:03Z)")
        return value

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, value: list[Message]) -> list[Message]:
        if value[-1].role != "user":
            raise ValueError("the last message must be the user's (the request served)")
        return value


ID_PREFIX = "h-"
"""Prefix of a hashed request id (``h-`` and 16 hex digits of an HMAC-SHA256)."""


def _salt(value: str | bytes | None, path: Path) -> bytes:
    if value is None:  # the log's own content: the same file gives the same ids (resume)
        return hashlib.sha256(path.read_bytes()).digest()
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes) or not value:
        raise ConfigError("id_salt must be a non-empty str or bytes", where="TrafficLog.load",
                          fix="Pass a secret string, or leave id_salt out to derive it from the "
                              "log's content.")
    return value


def _hash_id(salt: bytes, request_id: str) -> str:
    digest = hmac.new(salt, request_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return ID_PREFIX + digest[:16]


def redact_record(record: TrafficRecord, scrub: Redactor) -> TrafficRecord:
    """The record with every free-text field redacted: messages, response, slices, feedback."""
    return record.model_copy(update={
        "messages": [Message(role=m.role, content=scrub(m.content)) for m in record.messages],
        "response": scrub(record.response),
        "slices": {k: scrub(v) for k, v in record.slices.items()},
        "feedback": scrub.value(record.feedback)})


TRAFFIC_SOURCES: dict[str, Callable[..., TrafficLog]] = {}
"""Loaders of the trace sources by scheme (``mlflow-traces``, ``otlp``), registered by
``workbench.shadow`` on import (``_trace_log``); ``TrafficLog.load`` dispatches to them."""


class TrafficLog:
    """A validated, redacted production traffic log (``TrafficLog.load``).

    Example:
        >>> log = TrafficLog.load("datasets/shadow/support_traffic.jsonl")
        >>> log.redactions
        Counter({'email': 44, 'phone': 40, 'card': 11})
    """

    def __init__(self, path: Path, records: list[TrafficRecord], redactions: Counter[str],
                 redacted: bool, *, id_salt: bytes | None = None,
                 provenance: Provenance | None = None) -> None:
        self.path = path
        """The JSONL file (for traces: a name standing for the source, see ``provenance``)."""
        self.records = records
        self.redactions = redactions
        """What redaction replaced while loading, per detector (``email``, ``phone``, ...)."""
        self.redacted = redacted
        self._salt = id_salt
        self.provenance = provenance or Provenance(
            "jsonl", path.name, where=str(path), read=len(records), loaded=len(records))
        """Where the traffic came from, the filter, how much was read, kept and skipped."""

    @property
    def name(self) -> str:
        """The source as written (``support_traffic.jsonl``, ``mlflow-traces:prod?since=...``)."""
        return self.provenance.source

    @property
    def ids_hashed(self) -> bool:
        """Whether request ids were replaced by salted hashes while loading."""
        return self._salt is not None

    def id_of(self, request_id: str) -> str:
        """The id a logged request carries here: its salted hash (or itself, when not hashed).

        Use it to find a request you know in results, reports or MLflow tables.

        Example:
            >>> log = TrafficLog.load("datasets/shadow/support_traffic.jsonl")
            >>> log.id_of("req-0037")   # salted from the log's content unless id_salt is given
            'h-02e69a1e349a55f0'
        """
        return request_id if self._salt is None else _hash_id(self._salt, request_id)

    @classmethod
    def load(cls, path: str | Path, *, redact: bool = True, redactor: Redactor | None = None,
             id_salt: str | bytes | None = None, tracking_uri: str | None = None,
             span: SpanChoice = "first", slice_tags: Sequence[str] = (),
             sample: int | None = None, stratify_by: str | None = None,
             seed: int = 0) -> TrafficLog:
        """Read and validate traffic, redacting personal data (on by default).

        ``path`` is a JSONL log, ``mlflow-traces:<experiment>[?filter=...&since=...&until=...
        &max=N]`` (read page by page from ``tracking_uri``, default ``$MLFLOW_TRACKING_URI``
        or the project's store) or ``otlp:<files or folder>`` (OTLP/JSON exports); see
        ``workbench.shadow.SOURCE_FORMS``. For traces, ``span`` picks the LLM calls replayed
        (``first``, ``last``, ``all``), ``slice_tags`` names the trace tags that become slices,
        and what cannot be replayed is counted by reason (:attr:`provenance`, ``describe()``).
        ``sample=N`` keeps a reproducible sample of N requests, ``stratify_by`` ``day``,
        ``model``, ``tag`` or ``tag:<name>`` (see :meth:`sample`).

        With ``redact`` (the default), every free-text field of every record goes through the
        ``redactor`` (default :class:`Redactor`: e-mail, IBAN, card, US SSN and phone numbers
        become ``[EMAIL]``, ``[IBAN]``, ...): the messages, the served response, the feedback
        and the slice values; :attr:`redactions` counts the replacements per detector. Request
        ids, which may hold personal data too (a user's e-mail in a session id), become salted
        hashes (``h-`` + 16 hex digits): the same log and salt always give the same ids, so
        replays pair up and resume. The salt is derived from the log's content unless
        ``id_salt`` gives one (e.g. a secret shared by several daily logs; given with
        ``redact=False``, ids are hashed all the same). :meth:`id_of` maps a known request id
        to its hash.

        Raises:
            DatasetError: naming the file and line of every invalid record, and the fix.
            ConfigError: for an empty or non-text ``id_salt``, an unknown source or option.
            TrackingError: an unreachable MLflow store or unknown experiment.
        """
        scheme = source_scheme(path)
        if scheme is not None:
            return TRAFFIC_SOURCES[scheme](
                str(path), redact=redact, redactor=redactor, id_salt=id_salt,
                tracking_uri=tracking_uri, span=span, slice_tags=slice_tags, sample=sample,
                stratify_by=stratify_by, seed=seed)
        if tracking_uri is not None or span != "first" or slice_tags:
            raise ConfigError("tracking_uri, span and slice_tags are for traces, not a JSONL log",
                              where=str(path), fix="Leave them out (a JSONL log's slices are "
                              "its records' own).")
        raw = read_rows(path)
        if raw.fmt != "jsonl":
            raise DatasetError(f"a traffic log is JSONL, not {raw.fmt}", where=str(raw.path),
                               fix="Write one JSON object per line (.jsonl).")
        scrub = (redactor or Redactor()) if redact else None
        salt = _salt(id_salt, raw.path) if redact or id_salt is not None else None
        problems: list[Problem] = []
        records: list[TrafficRecord] = []
        first_line: dict[str, int] = {}
        by_hash: dict[str, int] = {}
        for i, data in enumerate(raw.records):
            where = raw.where(i)
            try:
                record = TrafficRecord.model_validate(data)
            except ValidationError as exc:
                for err in exc.errors():
                    key = ".".join(str(p) for p in err["loc"]) or "(record)"
                    fix = ("Remove or rename the key; a record holds "
                           + ", ".join(TrafficRecord.model_fields) + "."
                           if err["type"] == "extra_forbidden" else "Fix the value.")
                    problems.append(Problem(where, f"{key}: {err['msg']}", fix))
                continue
            if record.request_id in first_line:
                problems.append(Problem(
                    where, f"duplicate request_id {record.request_id!r} (first on line "
                    f"{first_line[record.request_id]})", "Give every request its own id."))
                continue
            first_line[record.request_id] = raw.lines[i]
            if salt is not None:
                new_id = _hash_id(salt, record.request_id)
                if new_id in by_hash:  # 2**-64 per pair: practically never, but never silent
                    problems.append(Problem(
                        where, f"request id hashes to the same value as line {by_hash[new_id]}",
                        "Pass another id_salt to TrafficLog.load."))
                    continue
                by_hash[new_id] = raw.lines[i]
                record = record.model_copy(update={"request_id": new_id})
            if scrub is not None:
                record = redact_record(record, scrub)
            records.append(record)
        if problems:
            raise DatasetError.from_problems(problems)
        if not records:
            raise DatasetError("the traffic log holds no request", where=str(raw.path),
                               fix="Log at least one served request.")
        log = cls(raw.path, records, scrub.counts if scrub else Counter(), scrub is not None,
                  id_salt=salt)
        return log if sample is None else log.sample(sample, stratify_by=stratify_by, seed=seed)

    def sample(self, n: int, *, stratify_by: str | None = None, seed: int = 0) -> TrafficLog:
        """A reproducible sample of ``n`` requests (all of them when there are fewer).

        ``stratify_by``: ``day`` (UTC), ``model`` (served), ``tag`` (every slice together) or
        ``tag:<name>``; each stratum keeps a share proportional to its size. The same log and
        seed give the same sample (priorities are hashes of seed and request id).

        Example:
            >>> log = TrafficLog.load("datasets/shadow/support_traffic.jsonl")
            >>> len(log.sample(50, stratify_by="day", seed=1))
            50
        """
        check_stratify_by(stratify_by, self.slices)
        kept, text = sample_records(self.records, n, stratify_by, seed)
        prov = self.provenance
        provenance = Provenance(
            prov.kind, prov.source, where=prov.where, experiment=prov.experiment,
            experiment_id=prov.experiment_id, filter=prov.filter, span=prov.span,
            read=prov.read, loaded=len(kept), skipped=Counter(prov.skipped),
            examples=dict(prov.examples), sample=text)
        return type(self)(self.path, kept, self.redactions, self.redacted, id_salt=self._salt,
                          provenance=provenance)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def served_models(self) -> list[str]:
        """The models that served the logged requests, most frequent first."""
        return [m for m, _ in Counter(r.served_model for r in self.records).most_common()]

    @property
    def slices(self) -> list[str]:
        """Slice names present in the log."""
        return sorted({k for r in self.records for k in r.slices})

    @property
    def df(self) -> pd.DataFrame:
        """One row per request (timestamps in UTC, messages as JSON, ``slice.<name>``)."""
        rows: list[dict[str, Any]] = []
        for r in self.records:
            rows.append({
                "request_id": r.request_id, "timestamp": r.timestamp,
                "served_model": r.served_model,
                "messages": json.dumps([m.model_dump() for m in r.messages],
                                       ensure_ascii=False),
                "response": r.response, "latency_s": r.latency_s,
                "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
                "cost_usd": r.cost_usd, "feedback": r.feedback,
                **{f"slice.{k}": v for k, v in r.slices.items()}})
        df = pd.DataFrame(rows)
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
        return df

    def describe(self) -> str:
        """Requests, period, served models, slices, what redaction replaced (per detector)."""
        ts = [r.timestamp for r in self.records]
        red = (", ".join(f"{n} {k}" for k, n in sorted(self.redactions.items())) or "nothing"
               ) if self.redacted else "OFF (redact=False)"
        ids = "; request ids: salted hashes" if self.ids_hashed else ""
        prov = self.provenance
        read = (f" ({prov.read} {prov.unit} read; not replayed: "
                f"{prov.skipped_text(examples=True)})" if prov.skipped else "")
        sample = f"; {prov.sample}" if prov.sample else ""
        return (f"{self.name}: {len(self)} requests{read} from {min(ts).isoformat()} to "
                f"{max(ts).isoformat()}; served by {', '.join(self.served_models)}; slices: "
                f"{', '.join(self.slices) or 'none'}; redacted: {red}{ids}{sample}")
