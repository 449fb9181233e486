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


def _texts(df: pd.DataFrame, columns: Sequence[str]) -> list[str]:
    parts = df[list(columns)].map(lambda v: "" if to_python(v) is None else str(to_python(v)))
    return parts.agg("\n".join, axis=1).tolist() if len(columns) else [""] * len(df)


def _other_texts(
    gs: GoldenSet, other: GoldenSet | pd.DataFrame
) -> tuple[str, list[str], list[str]]:
    from ._golden import GoldenSet

    if isinstance(other, GoldenSet):
        name, df, candidates = other.name, other.df, other.input_columns
    else:
        name, df = "the given DataFrame", other
        candidates = [c for c in df.columns if c not in ("id", "expected")]
    shared = [c for c in gs.input_columns if c in df.columns]
    columns = shared or candidates
    ids = (
        df["id"].astype(str).tolist()
        if "id" in df.columns
        else [f"row {i + 1}" for i in range(len(df))]
    )
    return name, ids, _texts(df, columns)


def _near_pairs(
    left: list[str], right: list[str] | None, threshold: float
) -> list[tuple[int, int, float]]:
    """Index pairs whose TF-IDF (character 3-5-gram) cosine is at least ``threshold``."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    corpus = left + (right or [])
    if not any(t.strip() for t in corpus):
        return []
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)
    matrix = vectorizer.fit_transform(corpus)
    a = matrix[: len(left)]
    b = matrix[len(left) :] if right is not None else a
    pairs: list[tuple[int, int, float]] = []
    for start in range(0, a.shape[0], 1000):
        block = (a[start : start + 1000] @ b.T).tocoo()
        for i, j, sim in zip(block.row, block.col, block.data, strict=True):
            i = int(i) + start
            if sim >= threshold - 1e-9 and (right is not None or i < j):
                pairs.append((i, int(j), min(float(sim), 1.0)))
    return pairs


def _preview(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def check_sets(
    gs: GoldenSet, other: GoldenSet | pd.DataFrame | None, threshold: float
) -> CheckReport:
    """Run the duplicate check on ``gs`` and, if ``other`` is given, the leakage check."""
    ids = gs.ids
    texts = _texts(gs._df, gs.input_columns)
    normalized = [normalize_text(t) for t in texts]
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
    for key_texts, match in ((texts, "exact"), (normalized, "normalized")):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(key_texts):
            groups[t].append(i)
        for members in groups.values():
            for j in members[1:]:
                if (members[0], j) not in found:
                    found.add((members[0], j))
                    add("duplicate", match, members[0], ids[j], 1.0)
    for i, j, sim in _near_pairs(normalized, None, threshold):
        if (i, j) not in found:
            found.add((i, j))
            add("duplicate", "near", i, ids[j], sim)
    n_dupes = len(rows)
    summary = (
        f"{gs.name}: {len(gs)} cases checked; {n_dupes} duplicate pair(s)"
        + (f" ({_counts(rows)})" if rows else "")
        + f" at similarity ≥ {threshold:.2f}."
    )

    if other is not None:
        other_name, other_ids, other_texts = _other_texts(gs, other)
        exact = {t: k for k, t in enumerate(other_texts)}
        other_norm = [normalize_text(t) for t in other_texts]
        norm = {t: k for k, t in enumerate(other_norm)}
        leaked: set[int] = set()
        for i in range(len(texts)):
            if texts[i] in exact:
                add("leakage", "exact", i, other_ids[exact[texts[i]]], 1.0)
                leaked.add(i)
            elif normalized[i] in norm:
                add("leakage", "normalized", i, other_ids[norm[normalized[i]]], 1.0)
                leaked.add(i)
        best: dict[int, tuple[int, float]] = {}
        for i, k, sim in _near_pairs(normalized, other_norm, threshold):
            if i not in leaked and sim > best.get(i, (-1, 0.0))[1]:
                best[i] = (k, sim)
        for i, (k, sim) in sorted(best.items()):
            add("leakage", "near", i, other_ids[k], sim)
        leaks = rows[n_dupes:]
        summary += f" Leakage against {other_name} ({len(other_texts)} rows): " + (
            f"{len(leaks)} case(s) ({_counts(leaks)})." if leaks else "none found."
        )
    findings = pd.DataFrame(rows, columns=COLUMNS)
    return CheckReport(findings=findings, summary=summary)


def _counts(rows: list[dict[str, Any]]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for row in rows:
        counts[row["match"]] += 1
    return ", ".join(f"{v} {k}" for k, v in counts.items())
