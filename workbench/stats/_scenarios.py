"""The calibration grid: scenarios with known truth for the decision statistics.

Every cell draws paired data whose true difference sits exactly on the gate's threshold (the
hardest case for a gate), runs the same code ``wb.decide`` runs (``paired_delta`` and
``metric_gate``, ``win_share_gate``, the error-rate estimates, the slice family), and measures

- **false PROMOTE**: how often the gate passes although the truth is on the threshold (must stay
  ≤ 5% allowing two Monte Carlo standard errors), and
- **coverage**: how often the two-sided 95% interval holds the truth (within 93–97% wherever
  the data are not sparse; sparse cells use the conservative sign bound and may cover more).

Pass/fail cells are enumerated exactly (every 2×2 table weighted by its multinomial
probability); the others are simulated (≥ 2,000 draws in the benchmark). The grid (issue #18):
n ∈ {30, 100, 400, 1000}; pass/fail 0.90 vs 0.90 (superiority), 0.75 vs 0.70 (margin 0.05),
0.97 vs 0.95 (margin 0.02); one-way regressions (worse on a few cases, never better);
continuous Beta-shaped scores, scores with mass at 1, identical except rare drops, a 0–4 rubric;
pairwise win share; error rates clustered by case (5 repeats); slices under the global null;
and degenerate inputs (all-NaN and partly-NaN scorers, zero spread, a free incumbent), which
must give an explicit HOLD or REJECT, never PROMOTE and never a traceback.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize
from scipy import stats as sps
from scipy.special import beta as beta_fn

from ._bounds import SPARSE_BELOW, clustered_rate, clustered_rate_difference, tango_z
from ._delta import paired_delta
from ._gate_config import Gates, MetricGate
from ._gates import metric_gate, win_share_gate
from ._slices import slice_deltas
from ._winshare import win_share

__all__ = ["GRID_N", "Cell", "cells", "degenerate_checks", "measure"]

GRID_N = (30, 100, 400, 1000)
Draw = Callable[[np.random.Generator, int], tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]]


@dataclass(frozen=True)
class Cell:
    """One scenario at one n: how to draw it, the truth, the threshold, and its family."""

    name: str
    family: str
    """``pass/fail``, ``continuous``, ``win share``, ``error rate``, ``slices``."""
    n: int
    truth: float
    margin: float | None
    """Non-inferiority margin (None: superiority, threshold 0)."""
    expected_informative: float
    """Expected informative cases; below 2 × 10 the cell is *sparse* (coverage may exceed 97%
    because the honest interval there is the conservative sign bound)."""
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def sparse(self) -> bool:
        return self.expected_informative < 2 * SPARSE_BELOW


def _pass_fail(name: str, n: int, p10: float, p01: float, margin: float | None) -> Cell:
    return Cell(name, "pass/fail", n, p01 - p10, margin, n * (p10 + p01),
                {"p10": p10, "p01": p01})


def _power_beta(a: float, b: float, margin: float) -> tuple[Draw, float]:
    """Incumbent U ~ Beta(a, b), candidate U**k with k set so the truth is −margin."""
    mean = a / (a + b)
    k = optimize.brentq(lambda k: beta_fn(a + k, b) / beta_fn(a, b) - mean + margin, 1.0, 50)

    def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray[Any, Any],
                                                         np.ndarray[Any, Any]]:
        u = rng.beta(a, b, n)
        return u, u ** k
    p_diff = 1.0  # every case moves
    return draw, p_diff


def _mass_at_one(margin: float) -> tuple[Draw, float]:
    """60% of incumbent scores are exactly 1 (else Beta(2, 2)); the candidate loses 1s."""
    p_a, p_b = 0.6, 0.6 - 2 * margin

    def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray[Any, Any],
                                                         np.ndarray[Any, Any]]:
        u, v = rng.random(n), rng.beta(2, 2, n)
        return np.where(u < p_a, 1.0, v), np.where(u < p_b, 1.0, v)
    return draw, p_a - p_b


def _rare_drops(p: float, size: float | None) -> tuple[Draw, float]:
    """Identical scores except that a share p of cases drops by ``size`` (None: to 0)."""
    def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray[Any, Any],
                                                         np.ndarray[Any, Any]]:
        a = rng.beta(5, 2, n)
        if size is not None:
            a = np.maximum(a, size)
        drop = rng.random(n) < p
        return a, np.where(drop, 0.0 if size is None else a - size, a)
    return draw, p


def _rubric(margin: float) -> tuple[Draw, float]:
    """0–4 rubric scaled to [0, 1]; the candidate moves −1/0/+1 steps, worse by ``margin``."""
    base = np.array([0.1, 0.2, 0.4, 0.2, 0.1])
    up = 0.15
    levels = np.arange(5)
    gain = float((base * (np.minimum(levels + 1, 4) - levels)).sum()) / 4
    loss = float((base * (levels - np.maximum(levels - 1, 0))).sum()) / 4
    down = (up * gain + margin) / loss  # the probability of a step down: truth = −margin

    def draw(rng: np.random.Generator, n: int) -> tuple[np.ndarray[Any, Any],
                                                         np.ndarray[Any, Any]]:
        lvl = rng.choice(5, size=n, p=base)
        u = rng.random(n)
        move = np.where(u < up, 1, np.where(u < up + down, -1, 0))
        return lvl / 4, np.clip(lvl + move, 0, 4) / 4
    return draw, up * 0.9 + down * 0.9


CONTINUOUS: dict[str, Callable[[float], tuple[Draw, float]]] = {
    "Beta(2,2) scores, candidate U^k": lambda m: _power_beta(2, 2, m),
    "Beta(5,1) scores, candidate U^k": lambda m: _power_beta(5, 1, m),
    "scores with mass at 1": _mass_at_one,
    "identical except rare drops (4% by 0.5)": lambda m: _rare_drops(2 * m, 0.5),
    "identical except rare drops (2.8% to 0)": lambda m: _rare_drops(m / (5 / 7), None),
    "0–4 rubric": _rubric,
}


def _p_any(p: float, rho: float, repeats: int) -> float:
    """P(a case holds at least one failure among its repeats), per-case rates ~ Beta."""
    if rho <= 0:
        return 1 - (1 - p) ** repeats
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    return float(1 - beta_fn(a, b + repeats) / beta_fn(a, b))


def cells(ns: tuple[int, ...] = GRID_N) -> Iterator[Cell]:
    """Every cell of the grid (degenerate inputs are in ``degenerate_checks``)."""
    for n in ns:
        yield _pass_fail("pass/fail 0.90 vs 0.90, superiority", n, 0.05, 0.05, None)
        yield _pass_fail("pass/fail 0.75 vs 0.70, margin 0.05", n, 0.10, 0.05, 0.05)
        yield _pass_fail("pass/fail 0.97 vs 0.95, margin 0.02", n, 0.03, 0.01, 0.02)
        yield _pass_fail("one-way regression 2%, margin 0.02", n, 0.02, 0.0, 0.02)
        yield _pass_fail("one-way regression 5%, margin 0.05", n, 0.05, 0.0, 0.05)
        for name, make in CONTINUOUS.items():
            p_diff = make(0.02)[1]
            yield Cell(f"continuous: {name}, margin 0.02", "continuous", n, -0.02, 0.02,
                       n * p_diff, {"shape": name})
        for win, tie, loss in ((0.30, 0.30, 0.40), (0.10, 0.70, 0.20)):
            yield Cell(f"win share {win:.2f}/{tie:.2f}/{loss:.2f} (= 0.45), margin 0.05",
                       "win share", n, win + tie / 2, 0.05, n * (win + loss),
                       {"p": (win, tie, loss)})
        for repeats, rho in ((1, 0.0), (5, 0.3)):
            yield Cell(f"error rate 5% at the 5% ceiling, {repeats} repeat(s), ICC {rho:g}",
                       "error rate", n, 0.05, None, n * _p_any(0.05, rho, repeats),
                       {"repeats": repeats, "rho": rho, "ceiling": 0.05})
        yield Cell("error rate +2 points at the +0.02 ceiling, 5 repeats, ICC 0.3",
                   "error increase", n, 0.02, None, n * _p_any(0.02 / 0.98, 0.3, 5),
                   {"repeats": 5, "rho": 0.3, "ceiling": 0.02, "base": 0.02})
        if n >= 100:
            yield Cell("5 slices under the global null (Holm)", "slices", n, 0.0, None,
                       n * 0.2, {"slices": 5})


def _exact_pass_fail(cell: Cell, alpha: float, min_informative: int) -> dict[str, Any]:
    """Exact false-PROMOTE and coverage of Tango's interval + the minimum of informative pairs.

    ``metric_gate`` passes when Tango's one-sided lower bound exceeds the threshold and there
    are at least ``min_informative`` discordant pairs; the bound exceeds the threshold exactly
    when Tango's statistic at the threshold exceeds z₁₋α (the statistic decreases in δ), so the
    enumeration evaluates the statistic over all tables at once.
    """
    n, p10, p01 = cell.n, cell.params["p10"], cell.params["p01"]
    target = 0.0 if cell.margin is None else -cell.margin
    pb = sps.binom.pmf(np.arange(n + 1), n, p10)
    q = p01 / (1 - p10) if p10 < 1 else 0.0
    z1, z2 = sps.norm.ppf(1 - alpha), sps.norm.ppf(0.975)
    promote = covered = 0.0
    for b in np.nonzero(pb > 1e-16)[0]:
        c = np.arange(n - b + 1)
        w = pb[b] * sps.binom.pmf(c, n - b, q)
        keep = w > 1e-18
        c, w = c[keep], w[keep]
        passes = (tango_z(b, c, n, target) > z1) & (b + c >= min_informative)
        promote += float(w[passes].sum())
        covered += float(w[np.abs(tango_z(b, c, n, cell.truth)) <= z2].sum())
    return {"false_promote": promote, "coverage": covered, "sims": "exact", "se": 0.0,
            "method": "Tango score"}


def _simulate(cell: Cell, sims: int, seed: int, alpha: float,
              min_informative: int) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    promoted = covered = 0
    method = ""
    config = Gates(alpha=alpha, min_informative=min_informative,
                   win_share_margin=cell.margin if cell.family == "win share" else None)
    for _ in range(sims):
        if cell.family == "continuous":
            a, b = CONTINUOUS[cell.params["shape"]](0.02)[0](rng, cell.n)
            d = paired_delta(a, b, alpha=alpha, bootstrap=False)
            g = metric_gate(d, MetricGate(margin=cell.margin or 0.0), config)
            low, high, method = d.low, d.high, d.method
            promoted += g.status == "pass"
        elif cell.family == "win share":
            k = rng.choice(3, size=cell.n, p=cell.params["p"])
            ws = win_share([("win", "tie", "loss")[i] for i in k], alpha=alpha)
            promoted += win_share_gate(ws, config).status == "pass"
            low, high, method = ws.low, ws.high, ws.method
        elif cell.family in ("error rate", "error increase"):
            low, high, passed, method = _draw_errors(cell, rng, alpha)
            promoted += passed
        else:
            flagged, method = _draw_slices(cell, rng, alpha)
            promoted += flagged
            continue
        covered += low <= cell.truth <= high
    se = math.sqrt(max(promoted / sims * (1 - promoted / sims), 1e-12) / sims)
    return {"false_promote": promoted / sims, "coverage": covered / sims
            if cell.family != "slices" else float("nan"), "sims": sims, "se": se,
            "method": method}


def _case_rates(rng: np.random.Generator, n: int, p: float, rho: float
                ) -> np.ndarray[Any, Any]:
    """Per-case error probabilities with mean p and intra-case correlation rho (Beta)."""
    if rho <= 0:
        return np.full(n, p)
    return rng.beta(p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho, n)


def _clustered_counts(rng: np.random.Generator, n: int, m: int, p: float, rho: float
                      ) -> np.ndarray[Any, Any]:
    return rng.binomial(m, _case_rates(rng, n, p, rho))


def _draw_errors(cell: Cell, rng: np.random.Generator, alpha: float
                 ) -> tuple[float, float, bool, str]:
    m, rho, ceiling = cell.params["repeats"], cell.params["rho"], cell.params["ceiling"]
    calls = np.full(cell.n, m)
    if cell.family == "error rate":
        f = _clustered_counts(rng, cell.n, m, cell.truth, rho)
        iv = clustered_rate(f, calls, alpha=alpha)
    else:  # the candidate fails wherever the incumbent does, and on 2 more points of calls
        base = cell.params["base"]
        p_inc = _case_rates(rng, cell.n, base, rho)
        p_more = _case_rates(rng, cell.n, cell.truth / (1 - base), rho)
        inc_calls = rng.random((cell.n, m)) < p_inc[:, None]
        cand_calls = inc_calls | (rng.random((cell.n, m)) < p_more[:, None])
        iv = clustered_rate_difference(inc_calls.sum(1), cand_calls.sum(1), calls, alpha=alpha)
    return iv.low, iv.high, bool(iv.bound_high <= ceiling), iv.method


def _draw_slices(cell: Cell, rng: np.random.Generator, alpha: float) -> tuple[bool, str]:
    k = cell.params["slices"]
    n = cell.n
    a = (rng.random(n) < 0.8).astype(float)
    u = rng.random(n)  # p10 = p01 = 0.05: no true difference in any slice
    b = np.where(a == 1, (u >= 0.05 / 0.8).astype(float), (u < 0.05 / 0.2).astype(float))
    pairs = pd.DataFrame({"case_id": np.arange(n).astype(str), "m.incumbent": a,
                          "m.candidate": b, "slice.s": rng.integers(0, k, n).astype(str)})
    table = slice_deltas(pairs, ["m"], ["slice.s"], 0.95, alpha, "holm", "auto")
    return bool(table["regression"].any()), "mid-p McNemar per slice, Holm"


def measure(cell: Cell, *, sims: int = 2000, seed: int = 0, alpha: float = 0.05,
            min_informative: int = SPARSE_BELOW) -> dict[str, Any]:
    """False PROMOTE (with its Monte Carlo SE) and coverage of one cell.

    For slices the rate is of any slice wrongly flagged as a regression (a false REJECT of the
    slice gate), which Holm keeps at most α.

    Example:
        >>> cell = next(c for c in cells((100,)) if c.name.startswith("one-way regression 2%"))
        >>> r = measure(cell)
        >>> r["false_promote"] <= 0.05, r["sims"]
        (True, 'exact')
    """
    if cell.family == "pass/fail":
        result = _exact_pass_fail(cell, alpha, min_informative)
    else:
        # statsmodels' Holm correction runs gc.collect() on every call; freezing the objects
        # that exist now keeps that collection cheap during the simulation
        gc.freeze()
        try:
            result = _simulate(cell, sims, seed, alpha, min_informative)
        finally:
            gc.unfreeze()
    return {"cell": cell.name, "family": cell.family, "n": cell.n, "truth": cell.truth,
            "sparse": cell.sparse, **result}


def degenerate_checks() -> list[dict[str, Any]]:
    """Degenerate inputs: each must give HOLD or REJECT with a clear reason, never PROMOTE.

    Example:
        >>> all(c["ok"] for c in degenerate_checks())
        True
    """
    from workbench.records import GoldenSetRef, RunRecord

    from ._gates import decide

    class Fake:
        def __init__(self, results: pd.DataFrame, scorers: list[str]) -> None:
            self.results, self._scorers = results, scorers
            self.record = RunRecord(golden_set=GoldenSetRef(name="scenario", digest=""))
            self.complete = True

        @property
        def scorers(self) -> list[str]:
            return self._scorers

    def frame(a: list[float], b: list[float], **extra: Any) -> pd.DataFrame:
        n = len(a)
        rows = pd.DataFrame({
            "case_id": [f"c{i}" for i in range(n)] * 2, "model": ["inc"] * n + ["cand"] * n,
            "variant": "v", "error_type": None, "scorer_errors": None,
            "cost_usd": 0.001, "latency_s": 0.5, "score.m": a + b})
        for k, v in extra.items():
            rows[k] = v
        return rows

    nan = float("nan")
    checks: list[tuple[str, pd.DataFrame, Gates]] = []
    g = Gates(metrics={"m": MetricGate(margin=0.02)})
    checks.append(("zero spread: one case 0.70 → 0.69", frame([0.7], [0.69]), g))
    checks.append(("zero spread: two cases with equal deltas", frame([0.7, 0.5], [0.69, 0.49]),
                   g))
    rng = np.random.default_rng(1)
    base = list(rng.integers(0, 2, 200).astype(float))
    all_nan = frame(base, [nan] * 200)
    all_nan["scorer_errors"] = [None] * 200 + ["m: ValueError: bad"] * 200
    checks.append(("all-NaN scorer on the candidate", all_nan, g))
    both_nan = frame([nan] * 200, [nan] * 200)
    both_nan["scorer_errors"] = "m: ValueError: bad"
    checks.append(("a scorer that fails on every output", both_nan, g))
    part = frame(base, [nan if i % 10 == 0 else v for i, v in enumerate(base)])
    part["scorer_errors"] = [None] * 200 + ["m: KeyError: x" if i % 10 == 0 else None
                                            for i in range(200)]
    checks.append(("partly-NaN scorer (10% of the candidate's outputs)", part, g))
    failed = frame(base, [nan] * 200)
    failed["error_type"] = [None] * 200 + ["AuthenticationError"] * 200
    checks.append(("a candidate whose every call failed (no error_rate_max in the file)",
                   failed, Gates(metrics={}, cost_ratio_max=2.0)))
    free = frame(base, base)
    free["cost_usd"] = [0.0] * 200 + [0.002] * 200
    checks.append(("a free incumbent (price 0)", free, Gates(metrics={"m": MetricGate(
        margin=0.5)}, cost_ratio_max=1.0)))
    out = []
    for name, rows, gates in checks:
        try:
            d = decide(Fake(rows, ["m"]), gates, candidate=("cand", "v"),
                       incumbent=("inc", "v"))
            outcome: str = d.outcome
            reason = d.advice or "; ".join(
                g.evidence for g in d.gates if g.status != "pass")[:300]
            ok = outcome != "PROMOTE"
        except Exception as exc:  # a traceback is a failed check, reported as such
            outcome, reason, ok = "ERROR", f"{type(exc).__name__}: {exc}", False
        out.append({"check": name, "outcome": outcome, "ok": ok, "reason": reason})
    return out
