"""Duplicate and leakage checks for golden sets (``GoldenSet.check``)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._canonical import to_python

if TYPE_CHECKING:
    from ._golden import GoldenSet

__all__ = ["CheckReport", "check_sets", "normalize_text"]

COLUMNS = ["check", "match", "id", "other_id", "similarity", "text"]
_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Normalize text for duplicate detection.

    Unicode compatibility form without accents, case-folded, punctuation and runs of
    whitespace collapsed to one space.

    Example:
        >>> normalize_text("  Café — CAN'T log in!! ")
        'cafe can t log in'
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _PUNCT_OR_SPACE.sub(" ", stripped.casefold()).strip()


@dataclass
class CheckReport:
    """What ``GoldenSet.check`` found: a findings table and a one-paragraph summary.

    ``findings`` has one row per pair: ``check`` ("duplicate" within the set or "leakage"
    against the other set), ``match`` ("exact", "normalized" or "near"), ``id``, ``other_id``,
    ``similarity`` (1.0 for exact and normalized matches) and a preview of the text.
    """

    findings: pd.DataFrame
    summary: str

    @property
    def ok(self) -> bool:
        """True when nothing was found."""
        return self.findings.empty

    def __str__(self) -> str:
        """Summary followed by the findings table."""
        if self.findings.empty:
            return self.summary
        with pd.option_context("display.max_colwidth", 60, "display.width", 160):
            return f"{self.summary}\n{self.findings.to_string(index=False)}"

    def _repr_html_(self) -> str:
        import html

        table = "" if self.findings.empty else self.findings.to_html(index=False, escape=True)
        return f"<p>{html.escape(self.summary)}</p>{table}"


def _columns(df: pd.DataFrame, columns: Sequence[str]) -> list[list[str]]:
    """Each column's values as text ('' for missing)."""

    def text(v: Any) -> str:
        v = to_python(v)
        return "" if v is None else str(v)

    return [[text(v) for v in df[c]] for c in columns]


def _other_columns(
    gs: GoldenSet, other: GoldenSet | pd.DataFrame
) -> tuple[str, list[str], list[list[str]], list[list[str]]]:
    """Name, ids and the comparable columns (ours, theirs) for a leakage check."""
    from ._golden import GoldenSet

    if isinstance(other, GoldenSet):
        name, df, candidates = other.name, other.df, other.input_columns
    else:
        name, df = "the given DataFrame", other
        candidates = [c for c in df.columns if c not in ("id", "expected")]
    ids = (
        df["id"].astype(str).tolist()
        if "id" in df.columns
        else [f"row {i + 1}" for i in range(len(df))]
    )
    shared = [c for c in gs.input_columns if c in df.columns]
    if shared:
        return name, ids, _columns(gs._df, shared), _columns(df, shared)
    # no column in common: compare all inputs joined into one text
    ours = ["\n".join(t) for t in zip(*_columns(gs._df, gs.input_columns), strict=True)]
    theirs = ["\n".join(t) for t in zip(*_columns(df, candidates), strict=True)]
    return name, ids, [ours], [theirs]


def _near_pairs(
    left: list[list[str]], right: list[list[str]] | None, threshold: float
) -> list[tuple[int, int, float]]:
    """Row pairs whose every column is similar (TF-IDF character 3-5-gram cosine >= threshold).

    A pair's similarity is its least similar column: two cases are near duplicates only when
    all their inputs are (two questions about one shared passage are not).
    """
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    matrices = []
    for k, column in enumerate(left):
        corpus = column + (right[k] if right is not None else [])
        if not any(t.strip() for t in corpus):
            continue  # an all-empty column is equal everywhere
        vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
        matrix = vectorizer.fit_transform(corpus)
        n = len(column)
        matrices.append((matrix[:n], matrix[n:] if right is not None else matrix[:n]))
    if not matrices:
        return []
    # candidates from the first column, then every other column must agree
    a, b = matrices[0]
    rows: list[int] = []
    cols: list[int] = []
    for start in range(0, a.shape[0], 1000):
        block = (a[start : start + 1000] @ b.T).tocoo()
        keep = block.data >= threshold - 1e-9
        rows.extend((block.row[keep] + start).tolist())
        cols.extend(block.col[keep].tolist())
    i = np.asarray(rows, dtype=int)
    j = np.asarray(cols, dtype=int)
    if right is None:
        upper = i < j
        i, j = i[upper], j[upper]
    sims = np.ones(len(i))
    for a, b in matrices:
        if len(i):
            sims = np.minimum(sims, np.asarray(a[i].multiply(b[j]).sum(axis=1)).ravel())
    keep = sims >= threshold - 1e-9
    return [
        (int(x), int(y), min(float(z), 1.0))
        for x, y, z in zip(i[keep], j[keep], sims[keep], strict=True)
    ]


def _preview(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _keys(
    columns: list[list[str]],
) -> tuple[list[tuple[str, ...]], list[list[str]], list[tuple[str, ...]]]:
    """Per row: the raw inputs, and the normalized inputs by column and by row."""
    norm_columns = [[normalize_text(t) for t in column] for column in columns]
    return (
        list(zip(*columns, strict=True)),
        norm_columns,
        list(zip(*norm_columns, strict=True)),
    )


def check_sets(
    gs: GoldenSet, other: GoldenSet | pd.DataFrame | None, threshold: float
) -> CheckReport:
    """Run the duplicate check on ``gs`` and, if ``other`` is given, the leakage check."""
    ids = gs.ids
    raw_keys, norm_columns, norm_keys = _keys(_columns(gs._df, gs.input_columns))
    texts = [" | ".join(t for t in key if t) for key in raw_keys]
    rows: list[dict[str, Any]] = []
    found: set[tuple[int, int]] = set()

    def add(check: str, match: str, i: int, other_id: str, sim: float) -> None:
        rows.append(
            {
                "check": check,
                "match": match,
                "id": ids[i],
                "other_id": other_id,
                "similarity": round(sim, 4),
                "text": _preview(texts[i]),
            }
        )

    # within the set: exact, then normalized, then near
    for keys, match in ((raw_keys, "exact"), (norm_keys, "normalized")):
        groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for i, key in enumerate(keys):
            groups[key].append(i)
        for members in groups.values():
            for j in members[1:]:
                if (members[0], j) not in found:
                    found.add((members[0], j))
                    add("duplicate", match, members[0], ids[j], 1.0)
    for i, j, sim in _near_pairs(norm_columns, None, threshold):
        if (i, j) not in found and norm_keys[i] != norm_keys[j]:
            found.add((i, j))
            add("duplicate", "near", i, ids[j], sim)
    n_dupes = len(rows)
    summary = (
        f"{gs.name}: {len(gs)} cases checked; {n_dupes} duplicate pair(s)"
        + (f" ({_counts(rows)})" if rows else "")
        + f" at similarity ≥ {threshold:.2f}."
    )

    if other is not None:
        other_name, other_ids, ours, theirs = _other_columns(gs, other)
        ours_raw, ours_norm_columns, ours_norm = _keys(ours)
        theirs_raw, theirs_norm_columns, theirs_norm = _keys(theirs)
        exact = {key: k for k, key in enumerate(theirs_raw)}
        norm = {key: k for k, key in enumerate(theirs_norm)}
        leaked: set[int] = set()
        for i in range(len(ids)):
            if ours_raw[i] in exact:
                add("leakage", "exact", i, other_ids[exact[ours_raw[i]]], 1.0)
                leaked.add(i)
            elif ours_norm[i] in norm:
                add("leakage", "normalized", i, other_ids[norm[ours_norm[i]]], 1.0)
                leaked.add(i)
        best: dict[int, tuple[int, float]] = {}
        for i, k, sim in _near_pairs(ours_norm_columns, theirs_norm_columns, threshold):
            if i not in leaked and sim > best.get(i, (-1, 0.0))[1]:
                best[i] = (k, sim)
        for i, (k, sim) in sorted(best.items()):
            add("leakage", "near", i, other_ids[k], sim)
        leaks = rows[n_dupes:]
        summary += f" Leakage against {other_name} ({len(other_ids)} rows): " + (
            f"{len(leaks)} case(s) ({_counts(leaks)})." if leaks else "none found."
        )
    findings = pd.DataFrame(rows, columns=COLUMNS)
    return CheckReport(findings=findings, summary=summary)


def _counts(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["match"]] += 1
    return ", ".join(f"{v} {k}" for k, v in counts.items())
