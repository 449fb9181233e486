"""Duplicate and leakage checks for golden sets (``GoldenSet.check``).

Exact and normalized copies are found by hashing. Near duplicates are pairs whose every input
column has a TF-IDF character 3-5-gram cosine at or above the threshold: computed for every
pair in small sets, and in large ones only for candidate pairs found by MinHash LSH (datasketch's
MinHash scheme, banded in numpy), which keeps ``dataset check`` sub-quadratic (100,000 rows in
well under a minute; ``benchmarks/dataset_check.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import DatasetError

from ._canonical import to_python
from ._view import GoldenSetView

__all__ = ["CheckReport", "check_sets", "normalize_for_matching"]

COLUMNS = ["check", "match", "id", "other_id", "similarity", "text"]
_PUNCT_OR_SPACE = re.compile(r"[\W_]+", re.UNICODE)


def normalize_for_matching(text: str) -> str:
    """Normalize text for duplicate detection.

    Unicode compatibility form without accents, case-folded, punctuation and runs of
    whitespace collapsed to one space.

    Example:
        >>> normalize_for_matching("  Café — CAN'T log in!! ")
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
    gs: GoldenSetView, other: GoldenSetView | pd.DataFrame
) -> tuple[str, list[str], list[list[str]], list[list[str]]]:
    """Name, ids and the comparable columns (ours, theirs) for a leakage check."""
    if isinstance(other, pd.DataFrame):
        name, df = "the given DataFrame", other
        candidates = [c for c in df.columns if c not in ("id", "expected")]
    else:  # a GoldenSet
        name, df, candidates = other.name, other.df, other.input_columns
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


# ---------------------------------------------------------------------- near duplicates
NUM_PERM = 252
"""MinHash permutations (``b × r`` of the LSH bands for the default threshold)."""
EXACT_PAIRS = 4_000_000
"""Up to this many row pairs, every pair's similarity is computed (exact); above, MinHash LSH
picks the candidates."""
_SEED = 1
_VERIFY_CHUNK = 50_000


def _vectorize(texts: list[str]) -> tuple[np.ndarray, Any]:
    """TF-IDF (character 3-5-grams within word bounds, sublinear tf, l2) of distinct texts.

    Returns each text's row in the matrix and the matrix, one row per distinct text. The
    weights equal ``TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)``
    fitted on all texts (duplicates count in the document frequencies), computed once per
    distinct text.
    """
    from scipy import sparse
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.preprocessing import normalize

    distinct: dict[str, int] = {}
    ids = np.fromiter((distinct.setdefault(t, len(distinct)) for t in texts), dtype=np.int64,
                      count=len(texts))
    counts = sparse.csr_matrix(
        CountVectorizer(analyzer="char_wb", ngram_range=(3, 5)).fit_transform(list(distinct)),
        dtype=np.float64,
    )
    multiplicity = np.bincount(ids, minlength=len(distinct)).astype(np.float64)
    present = counts.copy()
    present.data[:] = 1.0
    df = np.asarray(present.T @ multiplicity).ravel()
    idf = np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0
    counts.data = np.log(counts.data) + 1.0  # sublinear tf
    matrix = normalize(counts @ sparse.diags(idf), norm="l2", copy=False).tocsr()
    return ids, matrix


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (by sorting: numpy's hash-based ``unique`` is far slower here)."""
    ordered = np.sort(values, kind="stable" if values.dtype.kind == "V" else None)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]] if len(ordered) else ordered


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (the pre-mix datasketch's MinHash applies to tokens)."""
    h = values.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def _signatures(matrix: Any, num_perm: int, progress: _Progress) -> np.ndarray:
    """MinHash signatures of each row's set of n-grams, vectorized over rows.

    The values are those datasketch's ``MinHash`` computes (scheme "affine32", ``hashfunc`` =
    the n-gram's column number), without a Python call per n-gram.
    """
    from datasketch import MinHash  # type: ignore[import-untyped]

    a, b = MinHash(num_perm=num_perm, seed=_SEED).permutations
    n = matrix.shape[0]
    sig = np.full((n, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    lengths = np.diff(matrix.indptr)
    hashed = _fmix32(matrix.indices)
    progress.phase("MinHash", n)
    row = 0
    while row < n:  # chunks of about a million n-grams keep the arrays in cache
        end = int(np.searchsorted(matrix.indptr, matrix.indptr[row] + (1 << 20), "right"))
        end = min(max(end - 1, row + 1), n)
        rows = np.arange(row, end)[lengths[row:end] > 0]
        if len(rows):
            lo, hi = matrix.indptr[row], matrix.indptr[end]
            chunk = hashed[lo:hi]
            starts = matrix.indptr[rows] - lo
            block = np.empty((num_perm, len(rows)), dtype=np.uint32)
            with np.errstate(over="ignore"):
                for k in range(num_perm):
                    block[k] = np.minimum.reduceat(chunk * a[k] + b[k], starts)
            sig[rows] = block.T
        progress.update(end - row)
        row = end
    return sig


def _lsh_params(threshold: float) -> tuple[int, int, float]:
    """Bands b, rows per band r and the Jaccard floor for a cosine threshold.

    Near copies at TF-IDF cosine ≥ t have n-gram Jaccard similarity well above t² − 0.06 (on
    the shipped sets and the benchmark's planted copies it is ≥ 0.86 at t = 0.9); the bands are
    the most selective whose chance of catching a pair at that floor is ≥ 99%.
    """
    floor = max(0.05, threshold * threshold - 0.06)
    for r in range(NUM_PERM, 0, -1):
        b = NUM_PERM // r
        if 1.0 - (1.0 - floor**r) ** b >= 0.99:
            return b, r, floor
    return NUM_PERM, 1, floor


def _group_pairs(keys: np.ndarray, side: np.ndarray | None) -> np.ndarray:
    """Pairs of positions sharing a key, as an (m, 2) array.

    All pairs, or with ``side``, pairs of a side-0 and a side-1 position (in that order).
    """
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, len(keys)])
    group = np.repeat(np.arange(len(starts)), sizes)
    rank = np.arange(len(keys)) - np.repeat(starts, sizes)  # place within the group
    later = (sizes[group] - rank - 1).astype(np.int64)  # members after this one
    total = int(later.sum())
    if total == 0:
        return np.empty((0, 2), dtype=np.int64)
    first = np.repeat(np.arange(len(keys)), later)
    step = np.arange(total) - np.repeat(np.cumsum(later) - later, later) + 1
    a, b = order[first], order[first + step]
    if side is not None:
        differ = side[a] != side[b]
        a, b = a[differ], b[differ]
        swap = side[a] == 1
        a, b = np.where(swap, b, a), np.where(swap, a, b)
    return np.column_stack([a, b])


def _band_keys(block: np.ndarray) -> np.ndarray:
    """One 64-bit key per row of a band (r MinHash values).

    Equal bands give equal keys; different bands collide with probability about 2**-64 (and a
    collision only costs a needless check).
    """
    key = np.zeros(len(block), dtype=np.uint64)
    multipliers = np.random.default_rng(_SEED).integers(1, 2**63, block.shape[1], np.uint64) | 1
    with np.errstate(over="ignore"):
        for column, factor in zip(block.T, multipliers, strict=True):
            key = (key ^ column.astype(np.uint64)) * factor
            key ^= key >> np.uint64(29)
    return key


def _lsh_candidates(sig: np.ndarray, side: np.ndarray | None, bands: int, rows: int,
                    progress: _Progress) -> np.ndarray:
    """Signature positions that share a whole band in at least one of the LSH bands."""
    progress.phase("LSH bands", bands)
    found = []
    for band in range(bands):
        pairs = _group_pairs(_band_keys(sig[:, band * rows:(band + 1) * rows]), side)
        if len(pairs):
            found.append(pairs)
        progress.update(1)
    if not found:
        return np.empty((0, 2), dtype=np.int64)
    pairs = np.concatenate(found)
    span = np.int64(len(sig))
    codes = _unique(pairs[:, 0].astype(np.int64) * span + pairs[:, 1])
    return np.column_stack([codes // span, codes % span])


def _expand(value_pairs: np.ndarray, a_ids: np.ndarray, b_ids: np.ndarray,
            within: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row pairs (positions in a_ids, b_ids) whose values form the given value pairs."""
    def groups(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        order = np.argsort(ids, kind="stable")
        first = np.searchsorted(ids[order], np.arange(ids.max() + 1 if len(ids) else 0))
        count = np.bincount(ids, minlength=len(first))
        return order, first, count

    a_order, a_first, a_count = groups(a_ids)
    b_order, b_first, b_count = (a_order, a_first, a_count) if within else groups(b_ids)
    u, v = value_pairs[:, 0], value_pairs[:, 1]
    single = (a_count[u] == 1) & (b_count[v] == 1) & (u != v)
    rows_i = [a_order[a_first[u[single]]]]
    rows_j = [b_order[b_first[v[single]]]]
    for x, y in value_pairs[~single]:
        left = a_order[a_first[x]:a_first[x] + a_count[x]]
        right = b_order[b_first[y]:b_first[y] + b_count[y]]
        i, j = np.repeat(left, len(right)), np.tile(right, len(left))
        rows_i.append(i)
        rows_j.append(j)
    i, j = np.concatenate(rows_i), np.concatenate(rows_j)
    if within:
        keep = i != j
        i, j = np.minimum(i[keep], j[keep]), np.maximum(i[keep], j[keep])
        codes = _unique(i.astype(np.int64) * len(a_ids) + j)
        i, j = codes // len(a_ids), codes % len(a_ids)
    return i, j


def _cosines(matrix: Any, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Cosine similarity of rows u[k] and v[k] of an l2-normalized matrix."""
    out = np.empty(len(u))
    for start in range(0, len(u), _VERIFY_CHUNK):
        stop = start + _VERIFY_CHUNK
        rows = matrix[u[start:stop]].multiply(matrix[v[start:stop]])
        out[start:stop] = np.asarray(rows.sum(axis=1)).ravel()
    return out


def _near_pairs(
    left: list[list[str]],
    right: list[list[str]] | None,
    threshold: float,
    *,
    left_rows: Sequence[int] | None = None,
    right_rows: Sequence[int] | None = None,
    progress: _Progress | None = None,
    exact_pairs: int = EXACT_PAIRS,
) -> list[tuple[int, int, float]]:
    """Row pairs whose every column is similar (TF-IDF character 3-5-gram cosine >= threshold).

    A pair's similarity is its least similar column: two cases are near duplicates only when
    all their inputs are (two questions about one shared passage are not). Only ``left_rows``
    (and ``right_rows``) take part; all rows count in the TF-IDF weights. Within one set
    (``right`` None) pairs are (i, j) with i < j. Up to ``exact_pairs`` pairs every similarity
    is computed; above, candidates come from MinHash LSH over the most varied column and are
    then verified with the exact similarity, so reported values never differ, and a true pair
    is missed with a probability well under 1%.
    """
    progress = progress or _Progress(False)
    within = right is None
    n_left = len(left[0]) if left else 0
    la = np.asarray(range(n_left) if left_rows is None else left_rows, dtype=np.int64)
    rb = la if within else np.asarray(
        range(len(right[0])) if right_rows is None else right_rows,  # type: ignore[index]
        dtype=np.int64)
    if not len(la) or not len(rb):
        return []
    vectorized = []
    progress.phase("TF-IDF", len(left))
    for k, column in enumerate(left):
        corpus = column + (right[k] if right is not None else [])
        if any(corpus):  # an all-empty column is equal everywhere
            vectorized.append(_vectorize(corpus))
        progress.update(1)
    if not vectorized:
        return []
    # a row with an empty input has similarity 0 in that column: it is nobody's near duplicate
    for ids, matrix in vectorized:
        blank = np.diff(matrix.indptr) == 0
        la = la[~blank[ids[la]]]
        rb = la if within else rb[~blank[ids[n_left + rb]]]
    if not len(la) or not len(rb):
        return []
    columns = [(ids[la], ids[la] if within else ids[n_left + rb], matrix)
               for ids, matrix in vectorized]
    cutoff = threshold - 1e-9
    if len(la) * len(rb) <= exact_pairs:
        sims = None
        for a_ids, b_ids, matrix in columns:
            block = (matrix[a_ids] @ matrix[b_ids].T).toarray()
            sims = block if sims is None else np.minimum(sims, block)
        assert sims is not None
        i, j = np.nonzero(sims >= cutoff)
        if within:
            i, j = i[i < j], j[i < j]
        found = sims[i, j]
    else:
        # candidates from the column with the most distinct values among the rows taking part
        def spread(col: tuple[np.ndarray, np.ndarray, Any]) -> int:
            return len(_unique(np.concatenate([col[0], col[1]])))

        a_ids, b_ids, matrix = max(columns, key=spread)
        used = _unique(np.concatenate([a_ids, b_ids]))
        bands, rows, floor = _lsh_params(threshold)
        sig = _signatures(matrix[used], bands * rows, progress)
        position = np.full(matrix.shape[0], -1, dtype=np.int64)
        position[used] = np.arange(len(used))
        if within:
            value_pairs = _lsh_candidates(sig, None, bands, rows, progress)
            value_pairs = used[value_pairs]
            repeated = np.flatnonzero(np.bincount(a_ids) > 1)
            value_pairs = np.concatenate([value_pairs, np.column_stack([repeated, repeated])])
        else:
            a_vals, b_vals = _unique(a_ids), _unique(b_ids)
            entries = np.concatenate([position[a_vals], position[b_vals]])
            side = np.r_[np.zeros(len(a_vals), dtype=np.int64), np.ones(len(b_vals), np.int64)]
            picked = _lsh_candidates(sig[entries], side, bands, rows, progress)
            value_pairs = np.column_stack([a_vals[picked[:, 0]],
                                           b_vals[picked[:, 1] - len(a_vals)]])
        # drop candidates whose estimated Jaccard similarity is clearly below the floor
        margin = 4.0 * np.sqrt(floor * (1.0 - floor) / (bands * rows))
        keep = np.ones(len(value_pairs), dtype=bool)
        for start in range(0, len(value_pairs), _VERIFY_CHUNK):
            chunk = value_pairs[start:start + _VERIFY_CHUNK]
            estimate = (sig[position[chunk[:, 0]]] == sig[position[chunk[:, 1]]]).mean(axis=1)
            keep[start:start + _VERIFY_CHUNK] = estimate >= floor - margin
        i, j = _expand(value_pairs[keep], a_ids, b_ids, within)
        progress.phase("verifying", len(columns))
        found = np.ones(len(i))
        for col_a, col_b, col_matrix in columns:
            alive = found >= cutoff
            found[alive] = np.minimum(found[alive],
                                      _cosines(col_matrix, col_a[i[alive]], col_b[j[alive]]))
            progress.update(1)
        keep = found >= cutoff
        i, j, found = i[keep], j[keep], found[keep]
    order = np.lexsort((rb[j], la[i]))
    return [
        (int(la[x]), int(rb[y]), min(float(z), 1.0))
        for x, y, z in zip(i[order], j[order], found[order], strict=True)
    ]


class _Progress:
    """A tqdm bar over the phases of a check (off when not a terminal, or when asked)."""

    def __init__(self, enabled: bool | None) -> None:
        self._bar: Any = None
        if enabled is not False:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self._bar = tqdm(total=0, desc="dataset check", unit="step", leave=False,
                             disable=None if enabled is None else False)

    def phase(self, name: str, total: int) -> None:
        if self._bar is not None:
            self._bar.reset(total=total)
            self._bar.set_description(f"dataset check: {name}")

    def update(self, n: int) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _preview(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _keys(
    columns: list[list[str]],
) -> tuple[list[tuple[str, ...]], list[list[str]], list[tuple[str, ...]]]:
    """Per row: the raw inputs, and the normalized inputs by column and by row."""
    cache: dict[str, str] = {}

    def norm(text: str) -> str:
        found = cache.get(text)
        if found is None:
            found = cache[text] = normalize_for_matching(text)
        return found

    norm_columns = [[norm(t) for t in column] for column in columns]
    return (
        list(zip(*columns, strict=True)),
        norm_columns,
        list(zip(*norm_columns, strict=True)),
    )


def _first_of_each(keys: list[tuple[str, ...]]) -> tuple[list[int], list[int]]:
    """Rows that are the first with their key, and each row's first row with the same key."""
    first: dict[tuple[str, ...], int] = {}
    owner = [first.setdefault(key, i) for i, key in enumerate(keys)]
    return sorted(first.values()), owner


def check_sets(
    gs: GoldenSetView,
    other: GoldenSetView | pd.DataFrame | None,
    threshold: float,
    progress: bool | None = None,
) -> CheckReport:
    """Run the duplicate check on ``gs`` and, if ``other`` is given, the leakage check.

    Copies (exact or normalized) are reported against the first row with the same text; near
    duplicates are searched among those first rows only, so a group of copies is reported once.
    """
    if not 0 < threshold <= 1:
        raise DatasetError(
            f"threshold must be a similarity in (0, 1], got {threshold!r}",
            where=f"GoldenSet {gs.name!r}.check",
            fix="Pass e.g. threshold=0.9 (the default).",
        )
    bar = _Progress(progress)
    try:
        return _check_sets(gs, other, threshold, bar)
    finally:
        bar.close()


def _check_sets(
    gs: GoldenSetView, other: GoldenSetView | pd.DataFrame | None, threshold: float,
    bar: _Progress
) -> CheckReport:
    ids = gs.ids
    bar.phase("normalizing", len(gs.input_columns))
    raw_keys, norm_columns, norm_keys = _keys(_columns(gs._df, gs.input_columns))
    bar.update(len(gs.input_columns))
    rows: list[dict[str, Any]] = []
    found: set[tuple[int, int]] = set()

    def add(check: str, match: str, i: int, other_id: str, sim: float) -> None:
        text = " | ".join(t for t in raw_keys[i] if t)
        rows.append(
            {
                "check": check,
                "match": match,
                "id": ids[i],
                "other_id": other_id,
                "similarity": round(sim, 4),
                "text": _preview(text),
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
    firsts, _ = _first_of_each(norm_keys)
    for i, j, sim in _near_pairs(norm_columns, None, threshold, left_rows=firsts, progress=bar):
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
        other_name, other_ids, ours, theirs = _other_columns(gs, other)
        ours_raw, ours_norm_columns, ours_norm = _keys(ours)
        theirs_raw, theirs_norm_columns, theirs_norm = _keys(theirs)
        exact: dict[tuple[str, ...], int] = {}
        for k, key in enumerate(theirs_raw):
            exact.setdefault(key, k)
        norm: dict[tuple[str, ...], int] = {}
        for k, key in enumerate(theirs_norm):
            norm.setdefault(key, k)
        leaked: set[int] = set()
        for i in range(len(ids)):
            if ours_raw[i] in exact:
                add("leakage", "exact", i, other_ids[exact[ours_raw[i]]], 1.0)
                leaked.add(i)
            elif ours_norm[i] in norm:
                add("leakage", "normalized", i, other_ids[norm[ours_norm[i]]], 1.0)
                leaked.add(i)
        ours_first, ours_owner = _first_of_each(ours_norm)
        theirs_first, _ = _first_of_each(theirs_norm)
        best: dict[int, tuple[int, float]] = {}
        for i, k, sim in _near_pairs(ours_norm_columns, theirs_norm_columns, threshold,
                                     left_rows=[i for i in ours_first if i not in leaked],
                                     right_rows=theirs_first, progress=bar):
            if sim > best.get(i, (-1, 0.0))[1]:
                best[i] = (k, sim)
        for i in range(len(ids)):
            nearest = best.get(ours_owner[i])
            if nearest is not None and i not in leaked:
                add("leakage", "near", i, other_ids[nearest[0]], nearest[1])
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
