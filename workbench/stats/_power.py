"""Sample sizes for paired comparisons: how many cases a decision needs, and what n can detect.

Pass/fail metrics use Connor's (1987) formula for paired proportions, generalised to a
non-inferiority margin; continuous metrics use statsmodels' ``TTestPower`` on the paired
differences.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

from scipy import optimize
from scipy import stats as sps
from statsmodels.stats.power import TTestPower

from workbench.errors import ConfigError

__all__ = ["SampleSize", "cases_to_clear", "minimum_detectable_effect", "plan_sample_size",
           "round_cases"]

CASES_CAP = 100_000
"""Beyond this many cases a count is no longer advice: say the difference is too close."""


def round_cases(n: float) -> int:
    """Round a case count up to two significant figures (``1432`` → ``1500``).

    Example:
        >>> round_cases(1432), round_cases(87), round_cases(3)
        (1500, 87, 3)
    """
    n = math.ceil(n)
    if n < 100:
        return int(n)
    step = 10 ** (len(str(n)) - 2)
    return int(math.ceil(n / step) * step)


def _t_cases(effect_size: float, alpha: float, power: float, alternative: str) -> int:
    """Cases for a paired t test, never fewer than 2.

    Uses the normal approximation where statsmodels cannot solve (very large effects).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            n = float(TTestPower().solve_power(effect_size=effect_size, alpha=alpha,
                                               power=power, alternative=alternative))
    except (ValueError, RuntimeError, ZeroDivisionError):
        n = float("nan")
    if not math.isfinite(n):
        z = _z_alpha(alpha, alternative != "two-sided") + float(sps.norm.ppf(power))
        n = (z / effect_size) ** 2 + 1
    return max(2, math.ceil(n))


@dataclass(frozen=True)
class SampleSize:
    """A planned number of paired cases and the assumptions behind it."""

    n: int
    effect: float
    """The true difference (candidate − incumbent) the plan assumes."""
    margin: float | None
    """Non-inferiority margin (one-sided test), or None for a two-sided difference test."""
    alpha: float
    power: float
    method: str
    discordance: float | None = None
    sd: float | None = None

    def __str__(self) -> str:
        goal = (f"non-inferiority within {self.margin:g} (one-sided α={self.alpha:g})"
                if self.margin is not None else f"a difference of {self.effect:+g} "
                f"(two-sided α={self.alpha:g})")
        spread = (f"discordance {self.discordance:.3g}" if self.discordance is not None
                  else f"sd of differences {self.sd:.3g}")
        return (f"{self.n} paired cases for {goal} at {self.power:.0%} power; {spread} "
                f"({self.method})")


def _default_discordance(baseline_rate: float | None, effect: float) -> float:
    if baseline_rate is None:
        raise ConfigError("a pass/fail plan needs discordance= or baseline_rate=",
                          fix="Give the expected share of cases where the two configurations "
                          "disagree (discordance=0.2), or the incumbent's pass rate.")
    p, q = baseline_rate, baseline_rate + effect
    if not (0 < p < 1 and 0 <= q <= 1):
        raise ConfigError(f"baseline_rate={p!r} with effect={effect!r} is not a valid pair of "
                          "pass rates", fix="Give a baseline rate in (0, 1).")
    return p * (1 - q) + q * (1 - p)  # independence: an upper bound for correlated outcomes


def _connor_n(psi: float, effect: float, null: float, z_alpha: float, power: float) -> float:
    """Connor's (1987) paired-proportion sample size, testing ``null`` against ``effect``.

    Variances ψ − d² under the null and under the alternative; ``z_alpha`` carries the
    sidedness (z of 1 − α for one-sided, of 1 − α/2 for two-sided).
    """
    gap = abs(effect - null)
    v0, v1 = psi - null * null, psi - effect * effect
    if v0 <= 0 or v1 < 0:
        raise ConfigError(f"discordance {psi:g} is too small for a difference of {gap:g}",
                          fix="Discordance must exceed the squared effect and margin.")
    zb = sps.norm.ppf(power)
    return float((z_alpha * math.sqrt(v0) + zb * math.sqrt(v1)) ** 2 / gap ** 2)


def _z_alpha(alpha: float, one_sided: bool) -> float:
    return float(sps.norm.ppf(1 - alpha if one_sided else 1 - alpha / 2))


def plan_sample_size(
    baseline_rate: float | None = None,
    *,
    effect: float = 0.0,
    margin: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    discordance: float | None = None,
    sd: float | None = None,
) -> SampleSize:
    """Paired cases needed to detect ``effect`` (two-sided) or show non-inferiority (``margin``).

    Pass/fail (default): Connor's formula with the discordance ψ = P(the two configurations
    disagree on a case); without ``discordance`` it assumes independent outcomes at
    ``baseline_rate`` and ``baseline_rate + effect`` (conservative: correlated models disagree
    less). Continuous (``sd=`` of the per-case differences): ``TTestPower``.

    Example:
        >>> plan_sample_size(effect=0.15, discordance=0.45).n   # Connor's worked example
        155
        >>> plan_sample_size(margin=0.05, discordance=0.2).n     # non-inferiority, no true change
        491
    """
    if not (0 < alpha < 0.5 and 0 < power < 1):
        raise ConfigError(f"alpha={alpha!r}, power={power!r}",
                          fix="Use 0 < alpha < 0.5 and 0 < power < 1.")
    if margin is None and effect == 0:
        raise ConfigError("plan_sample_size needs effect= (a difference to detect) or margin= "
                          "(a non-inferiority margin)", fix="e.g. effect=0.05 or margin=0.02.")
    if margin is not None and margin <= 0:
        raise ConfigError(f"margin={margin!r}", fix="A non-inferiority margin is > 0.")
    if sd is not None:
        if not (math.isfinite(sd) and sd > 0):
            raise ConfigError(f"sd={sd!r}", fix="The sd of the per-case differences is > 0.")
        gap = effect + (margin or 0.0)
        if gap <= 0:
            return SampleSize(2**31 - 1, effect, margin, alpha, power, "paired t (unreachable)",
                              sd=sd)
        cases = _t_cases(gap / sd, alpha, power,
                         "larger" if margin is not None else "two-sided")
        return SampleSize(cases, effect, margin, alpha, power, "paired t (statsmodels TTestPower)",
                          sd=sd)
    psi = discordance if discordance is not None else _default_discordance(baseline_rate,
                                                                             effect)
    if not 0 < psi <= 1:
        raise ConfigError(f"discordance={psi!r}", fix="Discordance is a share in (0, 1].")
    null = -(margin or 0.0)
    n = (_connor_n(psi, effect, null, _z_alpha(alpha, margin is not None), power)
         if effect > null else math.inf)
    return SampleSize(math.ceil(n) if math.isfinite(n) else 2**31 - 1, effect, margin, alpha,
                      power, "Connor 1987, paired proportions", discordance=psi)


def minimum_detectable_effect(
    n: int,
    *,
    discordance: float | None = None,
    sd: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
) -> float:
    """Smallest true difference that ``n`` paired cases detect (two-sided α, given power).

    Example:
        >>> round(minimum_detectable_effect(155, discordance=0.45), 3)
        0.15
    """
    if n < 2:
        raise ConfigError(f"n={n}", fix="Need at least 2 cases.")
    if sd is not None:
        es = TTestPower().solve_power(nobs=n, alpha=alpha, power=power, alternative="two-sided")
        return float(es) * sd
    if discordance is None:
        raise ConfigError("minimum_detectable_effect needs discordance= or sd=",
                          fix="e.g. discordance=0.2 for pass/fail metrics.")
    hi = math.sqrt(discordance) * (1 - 1e-9)
    za = _z_alpha(alpha, one_sided=False)
    if _connor_n(discordance, hi, 0.0, za, power) > n:
        return float("nan")  # even the largest possible effect needs more cases
    return float(optimize.brentq(
        lambda e: _connor_n(discordance, e, 0.0, za, power) - n, 1e-9, hi, xtol=1e-10))


def cases_to_clear(
    delta: float,
    target: float,
    *,
    discordance: float | None = None,
    sd: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int | None:
    """Paired cases for a one-sided bound to settle ``delta`` against ``target`` either way.

    With the observed difference ``delta`` and spread (``discordance`` for pass/fail, ``sd``
    otherwise) taken as the truth, the number of cases at which the one-sided ``alpha`` bound
    clears ``target`` (above it when delta > target, below it otherwise) with ``power``. None
    when no count can be estimated: delta sits on the target, the spread is unknown or zero
    (no variance to extrapolate from), or an input is not a number.

    Example:
        >>> cases_to_clear(0.0, -0.05, discordance=0.2)
        491
        >>> cases_to_clear(0.0, -0.05, sd=0.0) is None
        True
    """
    values = [delta, target] + [v for v in (discordance, sd) if v is not None]
    if not all(math.isfinite(v) for v in values):
        return None
    gap = abs(delta - target)
    if gap < 1e-12:
        return None
    if sd is not None:
        if sd <= 0:
            return None
        return _t_cases(gap / sd, alpha, power, "larger")
    if discordance is None or discordance <= 0:
        return None
    psi = max(discordance, gap * gap + 1e-6, target * target + 1e-6, delta * delta + 1e-6)
    n = _connor_n(psi, delta, target, _z_alpha(alpha, one_sided=True), power)
    return max(2, math.ceil(n)) if math.isfinite(n) else None
