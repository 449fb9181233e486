"""Reproducible stratified samples of traffic, streamed (production experiments are large).

Each request gets a priority from a hash of the seed and its request id, and a stratum
(its day, served model or tag values). A sample of ``n`` keeps, per stratum, a share of ``n``
proportional to the stratum's size (largest remainders), taking the lowest priorities. Only
the ``n`` lowest priorities of each stratum are held while streaming, so memory stays bounded
by ``n`` per stratum however many traces are read; and because the priority depends on the id
alone, the same traffic and seed give the same sample whatever the order it was read in, and
a larger ``n`` keeps every request a smaller one kept (per stratum).
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import UTC
from typing import Any, Protocol

from workbench.errors import ConfigError

__all__ = ["STRATA", "StratifiedSample", "check_stratify_by", "sample_records"]

STRATA: tuple[str, ...] = ("day", "model", "tag")
"""``stratify_by`` choices: the request's UTC day, its served model, or its tag values
(``tag`` = every slice tag together, ``tag:<name>`` = one of them)."""


class _Record(Protocol):
    request_id: str
    served_model: str
    slices: dict[str, str]

    @property
    def timestamp(self) -> Any: ...


def check_stratify_by(stratify_by: str | None, slice_names: Sequence[str] | None = None
                      ) -> str | None:
    """``stratify_by`` checked (None: no strata); ``slice_names`` are the tags asked for.

    Raises:
        ConfigError: an unknown choice, or a tag that is not among the slice tags.
    """
    if stratify_by is None:
        return None
    name = stratify_by.removeprefix("tag:")
    if stratify_by in STRATA and stratify_by != "tag":
        return stratify_by
    if stratify_by == "tag" or stratify_by.startswith("tag:"):
        if slice_names is not None and not slice_names:
            raise ConfigError(f"stratify_by={stratify_by!r} needs slice tags",
                              fix="Ask for the tags to slice by: slice_tags=(\"route\",) "
                                  "(--slice-tag route).")
        if stratify_by.startswith("tag:") and slice_names is not None and \
                name not in slice_names:
            raise ConfigError(f"stratify_by={stratify_by!r}: {name!r} is not a slice tag",
                              fix=f"Use one of {list(slice_names)} (or add --slice-tag {name}).")
        return stratify_by
    raise ConfigError(f"stratify_by={stratify_by!r}",
                      fix="Use day, model, tag (all slice tags) or tag:<name>.")


def _stratum(record: _Record, stratify_by: str | None) -> str:
    if stratify_by is None:
        return ""
    if stratify_by == "day":
        return str(record.timestamp.astimezone(UTC).date())
    if stratify_by == "model":
        return record.served_model
    if stratify_by == "tag":
        return "\x1f".join(f"{k}={v}" for k, v in sorted(record.slices.items()))
    return record.slices.get(stratify_by.removeprefix("tag:"), "(none)")


def _priority(seed: int, request_id: str) -> int:
    digest = hashlib.sha256(f"{seed}\x00{request_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


class StratifiedSample:
    """Streams records in, keeps a reproducible stratified sample of ``n`` (see module doc)."""

    def __init__(self, n: int, stratify_by: str | None = None, seed: int = 0) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConfigError(f"sample size {n!r}", fix="Give a positive number of requests.")
        self.n, self.stratify_by, self.seed = n, check_stratify_by(stratify_by), seed
        self.sizes: Counter[str] = Counter()
        self._heaps: dict[str, list[tuple[int, int, Any]]] = {}
        self._order = itertools.count()

    def add(self, record: _Record) -> None:
        """Offer one record (kept only while among its stratum's ``n`` lowest priorities)."""
        stratum = _stratum(record, self.stratify_by)
        self.sizes[stratum] += 1
        heap = self._heaps.setdefault(stratum, [])
        item = (-_priority(self.seed, record.request_id), next(self._order), record)
        if len(heap) < self.n:
            heapq.heappush(heap, item)
        elif item[0] > heap[0][0]:
            heapq.heapreplace(heap, item)

    def quotas(self) -> dict[str, int]:
        """Requests per stratum: proportional to its size, largest remainders rounded up."""
        total = sum(self.sizes.values())
        if total <= self.n:
            return dict(self.sizes)
        exact = {s: self.n * c / total for s, c in self.sizes.items()}
        out = {s: int(v) for s, v in exact.items()}
        rest = self.n - sum(out.values())
        for s in sorted(exact, key=lambda s: (-(exact[s] - out[s]), s))[:rest]:
            out[s] += 1
        return out

    def result(self) -> list[Any]:
        """The sample, oldest request first."""
        kept = []
        for stratum, quota in self.quotas().items():
            best = sorted(self._heaps.get(stratum, []), key=lambda i: -i[0])[:quota]
            kept += [item[2] for item in best]
        return sorted(kept, key=lambda r: (r.timestamp, r.request_id))

    @property
    def description(self) -> str:
        """``sampled 200 of 5000 requests, stratified by day (4 strata), seed 0``."""
        total = sum(self.sizes.values())
        count = len(self.sizes)
        by = (f", stratified by {self.stratify_by} ({count} strat{'um' if count == 1 else 'a'})"
              if self.stratify_by else "")
        return f"sampled {min(self.n, total)} of {total} requests{by}, seed {self.seed}"


def sample_records(records: Iterable[Any], n: int, stratify_by: str | None = None,
                   seed: int = 0) -> tuple[list[Any], str]:
    """A reproducible stratified sample of ``n`` records, and its description.

    Example:
        >>> from types import SimpleNamespace as R
        >>> from datetime import datetime, UTC
        >>> rs = [R(request_id=f"r{i}", served_model="m", slices={},
        ...         timestamp=datetime(2026, 11, 1 + i % 2, tzinfo=UTC)) for i in range(10)]
        >>> kept, text = sample_records(rs, 4, "day")
        >>> len(kept), text
        (4, 'sampled 4 of 10 requests, stratified by day (2 strata), seed 0')
    """
    sampler = StratifiedSample(n, stratify_by, seed)
    for record in records:
        sampler.add(record)
    return sampler.result(), sampler.description
