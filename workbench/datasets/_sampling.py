"""Reproducible draws of cases: a plain or stratified sample (largest-remainder quotas)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.errors import DatasetError

from ._canonical import canonical_value

__all__ = ["allocate", "draw"]


def allocate(sizes: pd.Series, n: int) -> pd.Series:
    """Split n over strata in proportion to their sizes (largest-remainder rounding)."""
    quotas = sizes / sizes.sum() * n
    counts: pd.Series = np.floor(quotas).astype(int)
    short = n - int(counts.sum())
    order = (quotas - counts).sort_values(ascending=False, kind="stable").index[:short]
    counts.loc[order] += 1
    return counts


def draw(df: pd.DataFrame, n: int, stratify: Sequence[str] | None, seed: int, *, where: str,
         slices: Sequence[str] = ()) -> list[int]:
    """Index labels of ``n`` rows of ``df``, drawn with ``seed``, optionally stratified.

    The draw depends only on the rows, not on their order: rows are sorted by ``id`` first.
    ``where`` names the call in errors; ``slices`` are suggested as stratify columns.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or not 1 <= n <= len(df):
        raise DatasetError(
            f"cannot draw {n!r} cases from {len(df)}",
            where=where,
            fix=f"Pass an integer between 1 and {len(df)}.",
        )
    strata = list(stratify or [])
    unknown = [c for c in strata if c not in df.columns]
    if unknown:
        raise DatasetError(
            f"unknown stratify column(s) {unknown}; the columns are {list(df.columns)}",
            where=where,
            fix="Stratify by slice columns such as " + (", ".join(slices) or "'label'"),
        )
    rng = np.random.default_rng(seed)
    ordered = df.sort_values("id", kind="stable")
    if not strata:
        return [int(i) for i in rng.permutation(ordered.index.to_numpy())[:n]]
    keys = ordered[strata].map(lambda v: canonical_value(v) or "").agg("\x1f".join, axis=1)
    counts = allocate(keys.value_counts().sort_index(), n)
    chosen: list[int] = []
    for key, k in counts.items():
        members = keys.index[keys == key].to_numpy()
        chosen.extend(int(i) for i in rng.permutation(members)[: int(k)])
    return chosen
