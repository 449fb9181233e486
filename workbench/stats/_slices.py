"""Per-slice deltas of each metric, adjusted across the slice values (Holm or BH)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

from ._delta import Test, paired_delta

__all__ = ["Correction", "slice_deltas"]

Correction = Literal["holm", "fdr_bh"]


def slice_deltas(pairs: pd.DataFrame, names: list[str], slice_cols: list[str],
                 confidence: float, alpha: float, correction: Correction, test: Test
                 ) -> pd.DataFrame:
    """One row per metric × slice value: paired delta, test, adjusted p, regression flag.

    ``pairs`` is ``PairedComparison.pairs`` (``<metric>.incumbent``/``.candidate`` and
    ``slice.<name>`` per case). The p-values of each metric's slice values form one family,
    adjusted with Holm (``"holm"``) or Benjamini–Hochberg (``"fdr_bh"``); a slice value is a
    regression when its adjusted p < ``alpha`` and its delta is negative.
    """
    records: list[dict[str, Any]] = []
    for name in names:
        family: list[dict[str, Any]] = []
        for col in slice_cols:
            for value, group in pairs.groupby(col, dropna=True, observed=True, sort=True):
                d = paired_delta(group[f"{name}.incumbent"].to_numpy(float),
                                 group[f"{name}.candidate"].to_numpy(float),
                                 metric=name, confidence=confidence, alpha=alpha, test=test,
                                 bootstrap=False)
                family.append({"metric": name, "slice": col.removeprefix("slice."),
                               "value": str(value), "n": d.n, "incumbent": d.incumbent.mean,
                               "candidate": d.candidate.mean, "delta": d.delta, "low": d.low,
                               "high": d.high, "method": d.method, "p_value": d.p_value,
                               "test": d.test})
        if family:
            p = np.array([f["p_value"] for f in family], dtype=float)
            adjusted = multipletests(np.nan_to_num(p, nan=1.0), alpha=alpha,
                                     method=correction)[1]
            for f, adj in zip(family, adjusted, strict=True):
                f["p_adjusted"] = float(adj)
                f["correction"] = "Holm" if correction == "holm" else "Benjamini–Hochberg"
                f["regression"] = bool(adj < alpha and f["delta"] < 0)
            records.extend(family)
    columns = ["metric", "slice", "value", "n", "incumbent", "candidate", "delta", "low",
               "high", "method", "p_value", "test", "p_adjusted", "correction", "regression"]
    return pd.DataFrame(records, columns=columns)
