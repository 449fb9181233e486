"""Win share of pairwise verdicts: (wins + ½ ties) / n, with an interval honest at extremes.

Each judged case scores 1 (win), ½ (tie) or 0 (loss) for the candidate; the win share is the
mean. Its interval is the one the paired continuous metrics use (``_bounds.mean_interval``):
the Hall-transformed t interval, or the exact sign bound when fewer than 10 verdicts are
decided (won or lost) or every verdict is the same, so two wins never give a bound of 1.0. A
one-sided α bound is the two-sided (1 − 2α) interval's bound (Settled 15).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError

from ._bounds import mean_interval
from ._paired import ComparisonLike, ConfigRef

__all__ = ["WinShare", "pairwise_outcomes", "win_share"]

_POINTS = {"win": 1.0, "tie": 0.5, "loss": 0.0}


@dataclass(frozen=True)
class WinShare:
    """The candidate's share of pairwise verdicts and its bounds."""

    share: float
    """(wins + ½ ties) / n."""
    low: float
    """Two-sided 95% interval."""
    high: float
    bound_low: float
    """One-sided (1 − α) lower bound."""
    bound_high: float
    """One-sided (1 − α) upper bound."""
    n: int
    wins: int
    ties: int
    losses: int
    sd: float
    """Standard deviation of the per-case points (1, ½, 0)."""
    alpha: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON, MLflow and reports."""
        return asdict(self)


def win_share(outcomes: Sequence[str], *, alpha: float = 0.05) -> WinShare:
    """Win share of the candidate over ``outcomes`` (``"win"``, ``"tie"``, ``"loss"`` each).

    Example:
        >>> ws = win_share(["win"] * 30 + ["tie"] * 40 + ["loss"] * 30)
        >>> ws.share, round(ws.bound_low, 3)
        (0.5, 0.435)
        >>> win_share(["win", "win"]).bound_low < 0.5    # two wins prove little
        True
    """
    unknown = sorted(set(outcomes) - set(_POINTS))
    if unknown:
        raise ConfigError(f"unknown pairwise outcomes {unknown}",
                          fix="Each outcome is 'win', 'tie' or 'loss' (as wb.pairwise gives).")
    points = np.array([_POINTS[o] for o in outcomes], dtype=float)
    n = len(points)
    counts = {k: int(sum(1 for o in outcomes if o == k)) for k in _POINTS}
    if n == 0:
        nan = float("nan")
        return WinShare(nan, 0.0, 1.0, 0.0, 1.0, 0, 0, 0, 0, nan, alpha, "no verdicts")
    share = float(points.mean())
    sd = float(points.std(ddof=1)) if n > 1 else float("nan")
    iv = mean_interval(points, confidence=0.95, alpha=alpha, span=(0.0, 1.0),
                       informative=counts["win"] + counts["loss"])
    return WinShare(share, iv.low, iv.high, iv.bound_low, iv.bound_high, n, counts["win"],
                    counts["tie"], counts["loss"], sd, alpha,
                    iv.method + " of per-case points (win 1, tie ½, loss 0)")


def pairwise_outcomes(pairwise: pd.DataFrame, comparison: ComparisonLike | None = None,
                      candidate: ConfigRef | None = None, *, errors: str = "zero"
                      ) -> pd.Series:
    """Each judged case's outcome for the candidate (``win``/``tie``/``loss``), by case id.

    Cases without a verdict (the judge failed) are left out. With ``errors="zero"`` and the
    comparison given, cases where the candidate's call failed count as losses: a candidate
    never looks better by failing (Settled 8).
    """
    judged = pairwise[pairwise["outcome"].notna()]
    out = pd.Series(judged["outcome"].astype(str).to_numpy(),
                    index=judged["case_id"].astype(str).to_numpy(), name="outcome")
    if errors == "zero" and comparison is not None and candidate is not None:
        df = comparison.results
        rows = df[(df["model"] == candidate[0]) & (df["variant"] == candidate[1])]
        failed = sorted(set(rows.loc[rows["error_type"].notna(), "case_id"].astype(str))
                        - set(out.index))
        out = pd.concat([out, pd.Series("loss", index=failed, name="outcome")])
    return out
