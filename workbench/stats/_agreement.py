"""Label agreement between two configurations: the reference-free check of a shadow test."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pandas as pd

from workbench.errors import ConfigError
from workbench.scorers import parse_json_object

from ._ci import mean_ci
from ._paired import ComparisonLike, ConfigRef

__all__ = ["label_agreement"]


def _labels(output: str | None) -> dict[str, str] | None:
    if output is None:
        return None
    obj = parse_json_object(output)
    if obj is None:
        return None
    return {str(k): str(v) for k, v in obj.items() if isinstance(v, (str, int, float, bool))}


def label_agreement(cmp: ComparisonLike, fields: Sequence[str] | None = None, *,
                    candidate: ConfigRef | None = None, incumbent: ConfigRef | None = None,
                    by: Sequence[str] | None = None) -> pd.DataFrame:
    """How often the candidate's labels equal the incumbent's, per JSON field (Wilson 95% CIs).

    A reference-free check for shadow tests (the incumbent is production's served answer).
    Roles default to those recorded with the comparison (``cmp.record.roles``). Fields
    default to the keys of at least half the incumbent's JSON answers (e.g. ``intent``).
    One row per field and slice value (``slice`` ``"(all)"`` first): ``n``, ``agree``,
    ``rate``, ``low``, ``high``; ``df.attrs["changes"]`` counts the most frequent label changes
    (``incumbent → candidate``). A candidate answer that fails or is not JSON disagrees. Empty
    when production does not answer in JSON.

    Example:
        Production's answers (``served:large``) and a candidate's on three requests, built by
        hand (``wb.shadow_test`` makes such a comparison and records the roles):

        >>> import pandas as pd
        >>> import workbench as wb
        >>> from workbench.records import GoldenSetRef, RunRecord
        >>> served = ['{"intent": "billing"}', '{"intent": "bug"}', '{"intent": "other"}']
        >>> replayed = ['{"intent": "billing"}', '{"intent": "bug"}', '{"intent": "billing"}']
        >>> results = pd.DataFrame({"case_id": ["r1", "r2", "r3"] * 2, "repeat": 0,
        ...     "model": ["served:large"] * 3 + ["small"] * 3, "variant": "production",
        ...     "error_type": None, "output": served + replayed})
        >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="log", digest="")))
        >>> agree = wb.label_agreement(cmp, candidate=("small", "production"),
        ...                            incumbent=("served:large", "production"))
        >>> agree[["field", "slice", "n", "agree"]].to_dict("records")
        [{'field': 'intent', 'slice': '(all)', 'n': 3, 'agree': 2}]
        >>> agree.attrs["changes"]
        [('intent: other → billing', 1)]
    """
    cand = candidate or cmp.record.roles.candidate
    inc = incumbent or cmp.record.roles.incumbent
    if cand is None or inc is None:
        raise ConfigError("label_agreement needs a candidate and an incumbent",
                          fix="Pass candidate=(model, variant) and incumbent=(model, variant).",
                          cli_fix="Pass --candidate MODEL:VARIANT and --incumbent MODEL:VARIANT.")
    df = cmp.results
    pick = {role: df[(df["model"] == m) & (df["variant"] == v) & (df["repeat"] == 0)]
            .set_index("case_id") for role, (m, v) in (("c", cand), ("s", inc))}
    shared = [c for c in pick["s"].index if c in pick["c"].index]
    served_labels = {c: _labels(_str(pick["s"].at[c, "output"])) for c in shared}
    if fields is None:
        counts = Counter(k for lab in served_labels.values() if lab for k in lab)
        fields = [k for k, n in counts.items() if n >= 0.5 * len(shared)]
    slice_cols = [c for c in df.columns if c.startswith("slice.")]
    groups = [None, *(by if by is not None else [c.removeprefix("slice.") for c in slice_cols])]
    rows: list[dict[str, Any]] = []
    changes: Counter[str] = Counter()
    for field in fields:
        agree: dict[str, float] = {}
        for c in shared:
            s_lab = served_labels[c]
            if not s_lab or field not in s_lab:
                continue
            err = pick["c"].at[c, "error_type"]
            c_lab = None if isinstance(err, str) else _labels(_str(pick["c"].at[c, "output"]))
            got = (c_lab or {}).get(field)
            agree[c] = float(got == s_lab[field])
            if got != s_lab[field]:
                changes[f"{field}: {s_lab[field]} → {got if got is not None else '(none)'}"] += 1
        for group in groups:
            col = f"slice.{group}" if group else None
            values = pick["s"].loc[list(agree), col] if col else pd.Series(
                "(all)", index=list(agree))
            for value in sorted({str(v) for v in values}):
                ids = [c for c in agree if str(values[c]) == value]
                ci = mean_ci([agree[c] for c in ids], method="wilson")
                rows.append({"field": field, "slice": group or "(all)", "value": value,
                             "n": ci.n, "agree": int(sum(agree[c] for c in ids)),
                             "rate": ci.mean, "low": ci.low, "high": ci.high})
    out = pd.DataFrame(rows, columns=["field", "slice", "value", "n", "agree", "rate", "low",
                                      "high"])
    out.attrs["changes"] = changes.most_common(10)
    return out


def _str(value: Any) -> str | None:
    """An output cell as text (None when missing)."""
    return None if value is None or value is pd.NA or (
        isinstance(value, float) and value != value) else str(value)
