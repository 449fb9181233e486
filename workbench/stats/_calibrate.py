"""Judge calibration against human labels: agreement, kappa with CIs, bias, staleness.

Human labels are keyed by (case_id, model, variant, repeat, scorer, output_sha256, reviewer)
(DESIGN.md, Settled 13): a label whose output hash no longer matches the output being judged
is stale — the model's answer changed since a person looked at it — and is reported, not used.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.inter_rater import cohens_kappa

from workbench.errors import ConfigError
from workbench.records import RunRecord

__all__ = ["LABEL_COLUMNS", "Calibration", "calibrate", "judge_scale", "load_human_labels",
           "output_sha256"]

LABEL_COLUMNS = ["case_id", "model", "variant", "repeat", "scorer", "output_sha256", "reviewer",
                 "label"]
"""Columns of a human-label table (DESIGN.md, Settled 13); a ``note`` column may follow."""
KEY = ["case_id", "model", "variant", "repeat"]
Kind = Literal["auto", "ordinal", "binary", "categorical"]


def output_sha256(text: str) -> str:
    """The hash that ties a human label to the exact output it judged.

    Example:
        >>> output_sha256("about 2 hours")[:12]
        '78c7ee88c17a'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_human_labels(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """Read and check a human-label table (CSV path or DataFrame), see ``LABEL_COLUMNS``.

    Raises:
        ConfigError: naming missing columns or the row of a bad value.
    """
    where = str(source) if not isinstance(source, pd.DataFrame) else "human labels"
    df = pd.read_csv(source, dtype={"case_id": str, "output_sha256": str}) if not isinstance(
        source, pd.DataFrame) else source.copy()
    missing = [c for c in LABEL_COLUMNS if c not in df.columns]
    if missing:
        raise ConfigError(f"the human-label table lacks columns {missing}", where=where,
                          fix=f"Columns needed: {', '.join(LABEL_COLUMNS)}.")
    labels = pd.to_numeric(df["label"], errors="coerce")
    if labels.isna().any():
        row = int(np.flatnonzero(labels.isna().to_numpy())[0])
        raise ConfigError(f"label {df['label'].iloc[row]!r} is not a number",
                          where=f"{where}, row {row + 2}", fix="Labels are numbers on the scale.")
    df["label"] = labels.astype(float)
    df["repeat"] = pd.to_numeric(df["repeat"]).astype(int)
    dupes = df.duplicated(KEY + ["scorer", "reviewer"])
    if dupes.any():
        row = int(np.flatnonzero(dupes.to_numpy())[0])
        raise ConfigError("a reviewer labelled the same output twice",
                          where=f"{where}, row {row + 2}", fix="Keep one label per reviewer.")
    return df


@dataclass
class Calibration:
    """How well a judge agrees with people, on the judge's own scale."""

    scorer: str
    kind: str
    n: int
    """Outputs with a current human label and a judge score."""
    agreement: float
    """Share of outputs where judge and people give the same label."""
    kappa: float
    """Cohen's kappa (quadratic-weighted for ordinal labels)."""
    kappa_low: float
    kappa_high: float
    kappa_method: str
    bias: float
    """Mean of judge − human on the scale (> 0: the judge over-scores)."""
    bias_low: float
    bias_high: float
    confusion: pd.DataFrame
    """Rows: human label, columns: judge label."""
    within_one: float | None = None
    """Ordinal scales: share within one point."""
    spearman: float | None = None
    spearman_p: float | None = None
    stale: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Labels whose output changed since they were given (not used)."""
    unmatched: int = 0
    """Labels of outputs that are not in the comparison."""
    human: dict[str, Any] | None = None
    """Agreement between reviewers on the outputs two of them labelled (the ceiling)."""

    def to_frame(self) -> pd.DataFrame:
        """The figures as a one-column table (for reports and MLflow)."""
        rows: dict[str, Any] = {
            "n": self.n, "agreement": self.agreement,
            f"kappa ({self.kappa_method})": self.kappa,
            "kappa 95% CI": f"[{self.kappa_low:.3f}, {self.kappa_high:.3f}]",
            "bias (judge − human)": self.bias,
            "bias 95% CI": f"[{self.bias_low:.3f}, {self.bias_high:.3f}]",
        }
        if self.within_one is not None:
            rows["within one point"] = self.within_one
        if self.spearman is not None:
            rows["Spearman rho"] = self.spearman
        rows["stale labels"] = len(self.stale)
        if self.human:
            rows["reviewers' kappa (ceiling)"] = self.human["kappa"]
            rows["reviewers' shared outputs"] = self.human["n"]
        return pd.DataFrame({"value": rows})

    def __str__(self) -> str:
        """A short text report."""
        lines = [
            f"Calibration of {self.scorer!r} against human labels ({self.kind}, n={self.n})",
            f"  agreement {self.agreement:.1%}"
            + (f", within one point {self.within_one:.1%}" if self.within_one is not None
               else ""),
            f"  Cohen's kappa ({self.kappa_method}) "
            f"{_kappa_text(self.kappa, self.kappa_low, self.kappa_high)}",
            (f"  bias (judge − human) {self.bias:+.3f} [{self.bias_low:+.3f}, "
             f"{self.bias_high:+.3f}] 95% t CI: the judge "
             + ("over-scores" if self.bias_low > 0 else "under-scores" if self.bias_high < 0
                else "shows no clear bias"))
            if self.bias_high != self.bias_low else
            f"  bias (judge − human) {self.bias:+.3f} on every output (no spread, so no "
            "interval)",
        ]
        if self.spearman is not None:
            lines.append(f"  Spearman rho {self.spearman:.3f} (p={self.spearman_p:.2g})")
        if self.human:
            shared = self.human
            kappa = _kappa_text(shared["kappa"], shared["kappa_low"], shared["kappa_high"])
            lines.append(f"  reviewers agree with each other: kappa {kappa} on {shared['n']} "
                         "shared outputs")
        if len(self.stale):
            lines.append(f"  {len(self.stale)} stale label(s) ignored: the output changed "
                         "since it was labelled")
        if self.unmatched:
            lines.append(f"  {self.unmatched} label(s) refer to outputs not in this comparison")
        return "\n".join(lines)


def judge_scale(judge_scores: Any, scorer: str, scale: tuple[int, int] | None = None
                ) -> tuple[int, int]:
    """A judge's scale: ``scale`` when given, else the one its ``wb.judge`` recorded, else 0–1.

    ``judge_scores`` is a ``Comparison`` (its record names each judge's scale) or any table.

    Example:
        >>> judge_scale(None, "judge_correctness"), judge_scale(None, "j", (1, 5))
        ((0, 1), (1, 5))
    """
    if scale is not None:
        return scale
    record = getattr(judge_scores, "record", None)
    for s in (record.scorers if isinstance(record, RunRecord) else []):
        if s.name == scorer and isinstance(s.args.get("scale"), list | tuple):
            low, high = s.args["scale"]
            return int(low), int(high)
    return (0, 1)


_scale_of = judge_scale
"""Kept under its old name: ``workbench.ui`` imports it from here (a private name; see R5)."""


def _kappa(human: np.ndarray[Any, Any], judge: np.ndarray[Any, Any], cats: list[float],
           weighted: bool) -> tuple[float, float, float]:
    table = pd.crosstab(pd.Categorical(human, cats), pd.Categorical(judge, cats),
                        dropna=False).to_numpy()
    # kappa is undefined (0/0) when both raters used a single category: NaN, said in words
    with np.errstate(divide="ignore", invalid="ignore"):
        result = cohens_kappa(table, wt="quadratic" if weighted else None)
    return float(result.kappa), float(result.kappa_low), float(result.kappa_upp)


def _kappa_text(kappa: float, low: float, high: float) -> str:
    if not np.isfinite(kappa):
        return "undefined (every label and score in one category: chance agreement is 100%)"
    return f"{kappa:.3f} [{low:.3f}, {high:.3f}] 95% CI"


def calibrate(
    judge_scores: Any,
    human_labels: str | Path | pd.DataFrame,
    *,
    scorer: str | None = None,
    scale: tuple[int, int] | None = None,
    kind: Kind = "auto",
    threshold: float | None = None,
) -> Calibration:
    """Agreement between a judge scorer and human labels of the same outputs.

    Args:
        judge_scores: a ``Comparison`` (or its ``results`` table) that holds the judge's
            ``score.<scorer>`` column and the outputs.
        human_labels: the label table (see ``LABEL_COLUMNS``) or a CSV path.
        scorer: which judge (default: the only scorer named in the labels).
        scale: the judge's scale, e.g. ``(1, 5)`` (read from the comparison when it used
            ``wb.judge``); scores stored as 0–1 are mapped back onto it.
        kind: ``"ordinal"`` (quadratic-weighted kappa, Spearman, within-one), ``"binary"``
            (pass when ≥ ``threshold``) or ``"categorical"``; ``"auto"`` is ordinal for
            scales wider than 0–1.
        threshold: pass mark for ``"binary"`` (default: the scale's midpoint, rounded up).

    Several reviewers of one output are combined by their median (rounded half up); their
    agreement with each other on shared outputs is reported as the ceiling to compare against.

    Example:
        A 1–5 judge (its scores stored as 0–1) on six outputs, and one reviewer's labels; the
        last label was given to an earlier answer, so it is stale and not used. With a
        comparison and a label file: ``wb.calibrate(cmp, "datasets/grounded_qa/human_labels.csv")``.

        >>> import pandas as pd
        >>> import workbench as wb
        >>> outputs = ["about 2 hours", "PDF and CSV", "not in the page", "Paris", "3 seats", "yes"]
        >>> results = pd.DataFrame({"case_id": ["q1", "q2", "q3", "q4", "q5", "q6"],
        ...     "model": "m", "variant": "v", "repeat": 0, "output": outputs,
        ...     "score.judge": [1.0, 0.75, 0.0, 1.0, 0.5, 0.25]})
        >>> labels = results[["case_id", "model", "variant", "repeat"]].assign(
        ...     scorer="judge", reviewer="ana", label=[5, 4, 2, 5, 3, 2],
        ...     output_sha256=[output_sha256(o) for o in outputs[:5] + ["no"]])
        >>> cal = wb.calibrate(results, labels, scale=(1, 5))
        >>> cal.kind, cal.n, cal.agreement, cal.within_one, round(cal.bias, 2), len(cal.stale)
        ('ordinal', 5, 0.8, 1.0, -0.2, 1)
    """
    labels = load_human_labels(human_labels)
    if scorer is None:
        names = sorted(set(labels["scorer"]))
        if len(names) != 1:
            raise ConfigError(f"the labels cover several scorers {names}",
                              fix="Pass scorer=... to pick one.")
        scorer = names[0]
    labels = labels[labels["scorer"] == scorer]
    results = judge_scores.results if hasattr(judge_scores, "results") else judge_scores
    column = f"score.{scorer}"
    if column not in results.columns:
        known = [c.removeprefix("score.") for c in results.columns if c.startswith("score.")]
        raise ConfigError(f"the comparison has no scorer {scorer!r}",
                          fix=f"Its scorers: {known}.")
    low, high = judge_scale(judge_scores, scorer, scale)
    scored = results[KEY + ["output", column]].copy()
    scored["output_now"] = scored["output"].fillna("").map(output_sha256)
    merged = labels.merge(scored, on=KEY, how="left")
    unmatched = int(merged["output_now"].isna().sum())
    merged = merged[merged["output_now"].notna()]
    stale_mask = merged["output_sha256"] != merged["output_now"]
    stale = merged.loc[stale_mask, KEY + ["reviewer", "output_sha256"]].reset_index(drop=True)
    current = merged[~stale_mask & merged[column].notna()].copy()
    current["judge"] = (low + current[column].astype(float) * (high - low)).round().astype(int)
    if current.empty:
        raise ConfigError(f"no current human label matches a judged output of {scorer!r}",
                          fix="Labels must be of these outputs (same case, model, variant, "
                          "repeat and output hash); relabel if the outputs changed.")
    per_item = current.groupby(KEY, observed=True).agg(
        human=("label", lambda s: math.floor(float(np.median(s)) + 0.5)), judge=("judge", "first"))
    resolved: str = kind if kind != "auto" else ("ordinal" if high - low > 1 else "binary")
    human = per_item["human"].to_numpy(dtype=float)
    judged = per_item["judge"].to_numpy(dtype=float)
    if resolved == "binary":
        mark = threshold if threshold is not None else math.ceil((low + high) / 2)
        human, judged = (human >= mark).astype(float), (judged >= mark).astype(float)
        cats = [0.0, 1.0]
    else:
        cats = [float(c) for c in range(low, high + 1)]
    weighted = resolved == "ordinal"
    kappa, k_low, k_high = _kappa(human, judged, cats, weighted)
    diff = judged - human
    if len(diff) > 1 and float(np.std(diff)) > 0:
        b_low, b_high = sps.t.interval(0.95, len(diff) - 1, loc=diff.mean(),
                                       scale=sps.sem(diff))
    else:
        b_low = b_high = float(diff.mean())
    confusion = pd.crosstab(pd.Series(human, name="human"), pd.Series(judged, name="judge"))
    cal = Calibration(
        scorer=scorer, kind=resolved, n=len(per_item), agreement=float((human == judged).mean()),
        kappa=kappa, kappa_low=k_low, kappa_high=k_high,
        kappa_method="quadratic-weighted" if weighted else "unweighted",
        bias=float(diff.mean()), bias_low=float(b_low), bias_high=float(b_high),
        confusion=confusion, stale=stale, unmatched=unmatched,
    )
    if resolved == "ordinal":
        cal.within_one = float((np.abs(diff) <= 1).mean())
        if np.ptp(human) > 0 and np.ptp(judged) > 0:  # undefined for a constant rater
            rho = sps.spearmanr(human, judged)
            cal.spearman, cal.spearman_p = float(rho.statistic), float(rho.pvalue)
    cal.human = _between_reviewers(current, cats, weighted, resolved, threshold, low, high)
    return cal


def _between_reviewers(current: pd.DataFrame, cats: list[float], weighted: bool, kind: str,
                       threshold: float | None, low: int, high: int) -> dict[str, Any] | None:
    shared = current.groupby(KEY, observed=True).filter(lambda g: g["reviewer"].nunique() >= 2)
    if shared.empty:
        return None
    firsts = shared.sort_values("reviewer").groupby(KEY, observed=True)["label"].agg(
        ["first", "last"])
    a, b = firsts["first"].to_numpy(dtype=float), firsts["last"].to_numpy(dtype=float)
    if kind == "binary":
        mark = threshold if threshold is not None else math.ceil((low + high) / 2)
        a, b = (a >= mark).astype(float), (b >= mark).astype(float)
    kappa, k_low, k_high = _kappa(a, b, cats, weighted)
    return {"n": len(firsts), "kappa": kappa, "kappa_low": k_low, "kappa_high": k_high,
            "agreement": float((a == b).mean()), "reviewers": sorted(set(shared["reviewer"]))}
