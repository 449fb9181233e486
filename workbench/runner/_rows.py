"""``RowStore``: a run's scored rows kept as typed column chunks, not one dict per row.

A scored row as a Python dict costs about 1.5 kB and its score details another 0.9 kB; at
100,000 cases × 4 configurations that alone is about 1 GB. The store keeps the rows of the
current chunk as dicts and turns every ``chunk_rows`` of them into a typed DataFrame chunk
(Arrow-backed strings, NumPy numbers: about 0.3 kB a row), so memory grows with the compact
table, not with Python objects. The final table is the chunks concatenated and sorted: the same
table, dtypes and order ``results_frame`` builds from all rows at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from ._comparison import details_frame, results_frame

__all__ = ["CHUNK_ROWS", "RowStore"]

CHUNK_ROWS = 4096
"""Rows kept as dicts before they become a typed chunk."""

CellId = tuple[str, str, str, int]


class RowStore:
    """The scored rows of a run by cell id, with their score details.

    Example:
        >>> store = RowStore(["score.ok"], chunk_rows=2)
        >>> for i in range(3):
        ...     store[(f"c{i}", "m", "v", 0)] = {"case_id": f"c{i}", "model": "m",
        ...         "variant": "v", "repeat": 0, "attempts": 1, "cache_hit": False,
        ...         "score.ok": 1.0}
        >>> len(store), ("c1", "m", "v", 0) in store, store.with_error(None)
        (3, True, 3)
        >>> store.frame()["case_id"].tolist()
        ['c0', 'c1', 'c2']
    """

    def __init__(self, extra: Sequence[str], *, chunk_rows: int | None = None) -> None:
        self.extra = list(extra)
        """The ``score.<name>`` and ``slice.<name>`` columns after the fixed ones."""
        self.chunk_rows = CHUNK_ROWS if chunk_rows is None else chunk_rows
        self._ids: set[CellId] = set()
        self._rows: list[dict[str, Any]] = []
        self._details: list[dict[str, Any]] = []
        self._chunks: list[pd.DataFrame] = []
        self._detail_chunks: list[pd.DataFrame] = []
        self._errors: dict[str | None, int] = {}
        """Rows per ``error_type`` (None: no error)."""

    def __setitem__(self, cell_id: CellId, row: dict[str, Any]) -> None:
        if cell_id in self._ids:
            raise RuntimeError(f"row {cell_id} recorded twice")
        self._ids.add(cell_id)
        self._rows.append(row)
        kind = row.get("error_type")
        self._errors[kind] = self._errors.get(kind, 0) + 1
        if len(self._rows) >= self.chunk_rows:
            self._chunks.append(results_frame(self._rows, self.extra))
            self._rows = []

    def __contains__(self, cell_id: object) -> bool:
        return cell_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add_details(self, details: Sequence[dict[str, Any]]) -> None:
        """Keep what scorers said beyond their values (``DETAIL_COLUMNS`` dicts)."""
        self._details.extend(details)
        if len(self._details) >= self.chunk_rows:
            self._detail_chunks.append(details_frame(self._details))
            self._details = []

    def with_error(self, error_type: str | None) -> int:
        """How many rows have this ``error_type`` (None: rows without an error)."""
        return self._errors.get(error_type, 0)

    def frame(self) -> pd.DataFrame:
        """The typed results table of every row (see ``RESULT_COLUMNS``), sorted."""
        return _concat([*self._chunks, results_frame(self._rows, self.extra)],
                       ["model", "variant", "repeat", "case_id"])

    def details_frame(self) -> pd.DataFrame:
        """The typed score-details table (see ``DETAIL_COLUMNS``), sorted."""
        return _concat([*self._detail_chunks, details_frame(self._details)],
                       ["model", "variant", "repeat", "case_id", "scorer"])


def _concat(chunks: list[pd.DataFrame], order: list[str]) -> pd.DataFrame:
    full = [c for c in chunks if len(c)]
    if len(full) <= 1:
        return full[0] if full else chunks[-1]
    chunks = full
    whole = pd.concat(chunks, ignore_index=True)
    return whole.sort_values(order, kind="stable").reset_index(drop=True)
