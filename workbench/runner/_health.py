"""How a run's calls failed, per configuration: what the CLI prints and gates its exit code on."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ._comparison import Comparison

__all__ = ["error_breakdown"]

_COLUMNS = ["model", "variant", "calls", "errors", "error_rate", "skipped", "top_error",
            "top_error_count", "top_error_message"]


def error_breakdown(cmp: Comparison) -> pd.DataFrame:
    """Per (model, variant): calls, failed calls, error rate and the most frequent error.

    ``errors`` counts every row without an answer, cells not called because fail fast
    stopped their configuration included (``skipped``); ``top_error`` is the most frequent
    ``error_type`` among the calls made (ties: the one seen first), with its count and first
    message. Configurations without errors have ``top_error`` None.

    Example:
        >>> error_breakdown(cmp)[["model", "variant", "calls", "errors", "top_error"]].head(2)
              model variant  calls  errors top_error
        0  sim/fast    json     12       0      None
        1  sim/fast   terse     12       0      None
    """
    from ._run import SKIPPED

    rows: list[dict[str, Any]] = []
    df = cmp.results
    for (model, variant), group in df.groupby(["model", "variant"], sort=False, observed=True):
        failed = group[group["error_type"].notna()]
        made = failed[failed["error_type"] != SKIPPED]
        row: dict[str, Any] = {
            "model": str(model), "variant": str(variant), "calls": len(group),
            "errors": len(failed), "error_rate": len(failed) / len(group) if len(group) else 0.0,
            "skipped": int((failed["error_type"] == SKIPPED).sum()), "top_error": None,
            "top_error_count": 0, "top_error_message": None,
        }
        if len(made):
            counts = made["error_type"].astype(str).value_counts(sort=False)
            top = str(counts.idxmax())
            first = made[made["error_type"] == top].iloc[0]
            row.update(top_error=top, top_error_count=int(counts[top]),
                       top_error_message=None if pd.isna(first["error"]) else str(first["error"]))
        rows.append(row)
    return pd.DataFrame(rows, columns=_COLUMNS)
