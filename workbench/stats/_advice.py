"""How many cases would settle an inconclusive gate, and the advice in words.

The observed estimate and spread are taken as the truth. The HOLD advice and the migration
report's rollout plan both count cases with ``gate_cases``, so they agree.
"""

from __future__ import annotations

import math

from scipy import stats as sps

from ._delta import MetricDelta
from ._estimates import Estimate
from ._gate_config import Gates, MetricGate
from ._power import CASES_CAP, cases_to_clear, round_cases

__all__ = ["gate_cases", "pluralize", "rate_cases", "settle"]


def settle(estimate: float, target: float, higher_is_better: bool, n: int, informative: int,
           needed: int, *, what: str, discordance: float | None = None,
           sd: float | None = None, alpha: float = 0.05, power: float = 0.8,
           ) -> tuple[int | None, bool, str]:
    """Advice for an inconclusive gate: (cases that would likely settle it, hopeless, words).

    The observed estimate and spread are taken as the truth.
    """
    wrong_side = estimate <= target if higher_is_better else estimate >= target
    sign = "+" if what == "Δ" else ""
    if not math.isfinite(estimate) or n == 0:
        return None, False, f"no paired case to estimate {what} from"
    if wrong_side:
        side = "below" if higher_is_better else "above"
        return None, True, (f"observed {what} {estimate:{sign}.3f} is {side} the threshold "
                            f"{target:{sign}.3f}, so more cases would confirm a failure, "
                            "not a pass")
    notes: list[str] = []
    at_least = None
    if informative < needed:
        if informative == 0:
            return None, False, (f"not enough evidence: 0 informative cases, need {needed}; "
                                 f"the two sides agree on all {n} cases, so more cases of the "
                                 "same kind are unlikely to settle it (if agreement on every "
                                 "case is the pass you want, as for a format check, set "
                                 "min_informative: 0 on this gate)")
        at_least = math.ceil(needed * n / informative)
        notes.append(f"not enough evidence: {pluralize(informative, 'informative case')}, "
                     f"need {needed}")
    n_bound = cases_to_clear(estimate, target, discordance=discordance, sd=sd, alpha=alpha,
                             power=power)
    if n_bound is None:
        if at_least is not None:
            notes.append(f"at least {at_least - n:,} more cases ({at_least:,} in all) to reach "
                         f"{needed} informative ones, more if their differences vary")
        return None, False, "; ".join(notes) or "no spread to extrapolate a case count from"
    total = round_cases(max(n_bound, at_least or 0, n + 1))
    if total > CASES_CAP:  # no feasible amount of data: as good as the wrong side
        return None, True, "; ".join(notes + [
            f"the observed {what} {estimate:{sign}.3f} sits too close to the threshold "
            f"{target:{sign}.3f}: more than {CASES_CAP:,} cases would be needed"])
    notes.append(f"about {total - n:,} more cases ({total:,} in all) would likely settle it")
    return total, False, "; ".join(notes)


def pluralize(k: int, noun: str) -> str:
    """``1 informative case``, ``3 informative cases``."""
    return f"{k} {noun}" if k == 1 else f"{k} {noun}s"


def gate_cases(m: MetricDelta, gate: MetricGate, config: Gates) -> tuple[int | None, bool, str]:
    """Paired cases at which this quality gate would likely be settled.

    The observed Δ and spread are taken as the truth; the HOLD advice and the rollout plan
    both use this, so they agree. Returns (cases in all or None, whether more data is unlikely
    to pass, the reason in words).

    Example:
        >>> from workbench.stats import paired_delta
        >>> d = paired_delta([1.0] * 90 + [0.0] * 10, [1.0] * 85 + [0.0] * 15, bootstrap=False)
        >>> cases, hopeless, why = gate_cases(d, MetricGate(margin=0.1), Gates())
        >>> cases, hopeless   # 5 cases worse and none better: twice the cases for 10
        (200, False)
        >>> why.split("; ")[0]
        'not enough evidence: 5 informative cases, need 10'
    """
    target = 0.0 if gate.superiority else -gate.margin
    needed = config.min_informative if gate.min_informative is None else gate.min_informative
    return settle(m.delta, target, True, m.n, m.informative, needed, what="Δ",
                  discordance=m.discordant / m.n if m.kind == "pass/fail" and m.n else None,
                  sd=m.sd if m.kind != "pass/fail" else None, alpha=config.alpha,
                  power=config.power)


def rate_cases(est: Estimate, ceiling: float, alpha: float, power: float) -> int | None:
    """Cases that would likely bring an error-rate bound under its ceiling.

    The observed rate and calls per case are taken as the truth; no correlation is assumed,
    so this is a lower bound on the need.
    """
    if est.cases <= 0 or est.calls <= 0:
        return None
    per_case = est.calls / est.cases
    za, zb = float(sps.norm.ppf(1 - alpha)), float(sps.norm.ppf(power))
    rate = max(est.value, 0.0)
    gap = ceiling - rate
    if gap <= 0:
        return None
    # no errors at all: the bound is about z²/n (Wilson, Tango); otherwise normal power
    calls = max(za * za * (1 - ceiling) / ceiling,
                (za + zb) ** 2 * max(rate * (1 - rate), 1e-12) / gap ** 2)
    return max(est.cases + 1, math.ceil(calls / per_case))
