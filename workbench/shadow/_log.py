"""Production traffic logs for shadow tests: validated like golden sets, redacted on load.

One JSON object per line::

    {"request_id": "r-0001", "timestamp": "2026-11-02T09:14:03Z",
     "messages": [{"role": "user", "content": "..."}], "served_model": "openai/gpt-4o-mini",
     "response": "...", "latency_s": 0.84, "prompt_tokens": 212, "completion_tokens": 31,
     "slices": {"language": "en"}, "feedback": "thumbs_up"}

Every problem names the file and line. Personal data is redacted while loading (messages,
served responses, feedback), so nothing downstream ever sees it.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from workbench.datasets._io import read_rows
from workbench.errors import DatasetError, Problem

from ._redact import Redactor

__all__ = ["TrafficLog", "TrafficRecord"]


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


class TrafficLog:
    """A validated, redacted production traffic log (``TrafficLog.load``).

    Example:
        >>> log = TrafficLog.load("datasets/shadow/support_traffic.jsonl")  # doctest: +SKIP
        >>> log.redactions  # doctest: +SKIP
        Counter({'email': 41, 'phone': 17, 'card': 6})
    """

    def __init__(self, path: Path, records: list[TrafficRecord], redactions: Counter[str],
                 redacted: bool) -> None:
        self.path = path
        self.records = records
        self.redactions = redactions
        """What redaction replaced while loading, per kind."""
        self.redacted = redacted

    @classmethod
    def load(cls, path: str | Path, *, redact: bool = True,
             redactor: Redactor | None = None) -> TrafficLog:
        """Read and validate a JSONL traffic log, redacting personal data (on by default).

        Raises:
            DatasetError: naming the file and line of every invalid record, and the fix.
        """
        raw = read_rows(path)
        if raw.fmt != "jsonl":
            raise DatasetError(f"a traffic log is JSONL, not {raw.fmt}", where=str(raw.path),
                               fix="Write one JSON object per line (.jsonl).")
        scrub = (redactor or Redactor()) if redact else None
        problems: list[Problem] = []
        records: list[TrafficRecord] = []
        first_line: dict[str, int] = {}
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
            if scrub is not None:
                record = record.model_copy(update={
                    "messages": [Message(role=m.role, content=scrub(m.content))
                                 for m in record.messages],
                    "response": scrub(record.response),
                    "feedback": scrub.value(record.feedback)})
            records.append(record)
        if problems:
            raise DatasetError.from_problems(problems)
        if not records:
            raise DatasetError("the traffic log holds no request", where=str(raw.path),
                               fix="Log at least one served request.")
        return cls(raw.path, records, scrub.counts if scrub else Counter(), scrub is not None)

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
                "feedback": r.feedback, **{f"slice.{k}": v for k, v in r.slices.items()}})
        df = pd.DataFrame(rows)
        df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
        return df

    def describe(self) -> str:
        """Requests, period, served models, slices and what redaction replaced."""
        ts = [r.timestamp for r in self.records]
        red = (", ".join(f"{n} {k}" for k, n in sorted(self.redactions.items())) or "nothing"
               ) if self.redacted else "OFF (redact=False)"
        return (f"{self.path.name}: {len(self)} requests from {min(ts).isoformat()} to "
                f"{max(ts).isoformat()}; served by {', '.join(self.served_models)}; slices: "
                f"{', '.join(self.slices) or 'none'}; redacted: {red}")
