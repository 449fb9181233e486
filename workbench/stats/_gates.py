"""Decision gates: PROMOTE, HOLD or REJECT a candidate against an incumbent, with evidence.

Every gate decides on a one-sided bound at level α (the two-sided 1 − 2α interval's bound,
Settled 15): it **passes** when the bound clears the threshold, **fails** when the opposite bound
proves the threshold missed, and is **inconclusive** otherwise. PROMOTE needs every gate to pass,
one failed gate REJECTs, anything else HOLDs, with advice that means what it says: how many
cases would likely settle it, or that more data is unlikely to help.

No gate passes on degenerate evidence (Settled R1): a quality gate needs ``min_informative``
informative cases (discordant pairs for pass/fail, non-zero differences for continuous scores,
decided — won or lost — pairwise verdicts for the win share), and the error-rate gates (failed
calls and scorer failures, clustered by case) are always on.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator
from scipy import stats as sps

from workbench._yaml import load_model
from workbench.errors import ConfigError

from ._paired import (
    ComparisonLike,
    ConfigRef,
    Estimate,
    MetricDelta,
    PairedComparison,
    compare_configs,
)
from ._power import CASES_CAP, cases_to_clear, round_cases
from ._winshare import WinShare, pairwise_outcomes, win_share

__all__ = ["Decision", "GateResult", "Gates", "MetricGate", "decide", "gate_cases", "metric_gate",
           "win_share_gate"]

Outcome = Literal["PROMOTE", "HOLD", "REJECT"]
Status = Literal["pass", "fail", "inconclusive"]
EXIT_CODES: dict[str, int] = {"PROMOTE": 0, "HOLD": 10, "REJECT": 11}  # Settled 17


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    """A configuration: model label and variant name."""

    model: str
    variant: str

    @staticmethod
    def parse(value: Any) -> Any:
        """Accept ``[model, variant]`` and ``"model:variant"`` as well as a mapping."""
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"model": value[0], "variant": value[1]}
        if isinstance(value, str) and ":" in value:
            model, variant = value.rsplit(":", 1)
            return {"model": model, "variant": variant}
        return value

    @property
    def ref(self) -> ConfigRef:
        return (self.model, self.variant)


class MetricGate(_Strict):
    """A quality gate on one scorer: non-inferiority within ``margin`` (or superiority)."""

    margin: float = Field(0.02, ge=0, le=1)
    """Largest acceptable drop of the candidate's mean (in score units: 0.02 = 2 points)."""
    superiority: bool = False
    """Require the candidate to be better (lower bound above 0) instead of not worse."""
    min_informative: int | None = Field(None, ge=0)
    """This gate's minimum of informative cases (default: the gates' ``min_informative``).
    0 suits a format check (``json_valid``) where both sides passing every case is the pass
    you want: Tango's bound alone then decides, and it is never of zero width."""


class Gates(_Strict):
    """What a candidate must show to replace the incumbent (load from YAML with ``Gates.load``).

    Example:
        >>> g = Gates(metrics={"exact_match": MetricGate(margin=0.02)}, cost_ratio_max=1.0)
        >>> g.alpha, g.metrics["exact_match"].margin
        (0.05, 0.02)
    """

    candidate: Role | None = None
    incumbent: Role | None = None
    metrics: dict[str, MetricGate] = Field(default_factory=dict)
    cost_ratio_max: float | None = Field(None, gt=0)
    """Candidate mean cost per case ÷ incumbent's, upper bound at most this."""
    latency_p95_max_s: float | None = Field(None, gt=0)
    """Candidate's p95 latency (seconds), upper bound at most this."""
    latency_p95_increase_max_s: float | None = Field(None, ge=0)
    """Candidate p95 − incumbent p95 (seconds), upper bound at most this."""
    cost_increase_max_per_1k_usd: float | None = Field(None, ge=0)
    """Candidate − incumbent cost per 1,000 requests (dollars), upper bound at most this (the
    cost gate for a free incumbent, where no ratio exists)."""
    error_rate_max: float = Field(0.05, ge=0, le=1)
    """Candidate's error rate (failed calls and scorer failures, clustered by case), upper
    bound at most this. Always on (Settled R1); 1.0 allows any rate."""
    error_rate_increase_max: float = Field(0.02, ge=0, le=1)
    """Candidate's error rate minus the incumbent's, paired by case, upper bound at most this
    (absolute points: 0.02 = 2 points). Always on; 1.0 allows any increase."""
    min_informative: int = Field(10, ge=0)
    """Informative cases a quality gate needs before it can pass: discordant pairs
    (pass/fail), non-zero differences (continuous), won or lost verdicts (win share)."""
    win_share_margin: float | None = Field(None, ge=0, le=0.5)
    """Pairwise judge (``wb.pairwise``): the win share (wins + ½ ties) / n must have its lower
    bound at least 0.5 − this margin (a shadow test's main gate)."""
    max_slice_regressions: int | None = Field(None, ge=0)
    """Slice values with a significant drop (adjusted p < alpha) allowed, over gated metrics."""
    alpha: float = Field(0.05, gt=0, lt=0.5)
    correction: Literal["holm", "fdr_bh"] = "holm"
    errors: Literal["zero", "drop"] = "zero"
    power: float = Field(0.8, gt=0, lt=1)
    """Power used to say how many cases would settle a HOLD."""
    seed: int = 0
    """Bootstrap seed (recorded so a rebuilt decision is identical)."""

    @field_validator("candidate", "incumbent", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return Role.parse(value)

    @field_validator("error_rate_max", "error_rate_increase_max", mode="before")
    @classmethod
    def _always_on(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("the error-rate gates are always on; set 1.0 to allow any rate")
        return value

    @classmethod
    def default(cls, metrics: list[str], **overrides: Any) -> Gates:
        """Every metric non-inferior within 2 points, no slice regression, errors bounded.

        The error-rate gates are on in every ``Gates``: at most 5%, and at most 2 points above
        the incumbent's rate.
        """
        base: dict[str, Any] = {"metrics": {m: MetricGate() for m in metrics},
                                "max_slice_regressions": 0}
        return cls(**{**base, **overrides})

    @classmethod
    def load(cls, path: str | Path) -> Gates:
        """Read a gates YAML file (see examples/triage_gates.yaml).

        Raises:
            ConfigError: naming the file, key and line of each problem.
        """
        return load_model(Path(path), cls, what="gates file",
                          example="examples/triage_gates.yaml")[0]


@dataclass(frozen=True)
class GateResult:
    """One gate: its threshold, the estimate, the deciding bound, and the verdict."""

    gate: str
    threshold: str
    estimate: float
    bound: float
    bound_label: str
    status: Status
    evidence: str
    extra_cases: int | None = None
    """For an inconclusive gate: total paired cases that would likely settle it (rounded)."""
    advice: str = ""
    """For an inconclusive gate: what more data would do, in words."""
    hopeless: bool = False
    """The estimate sits on the wrong side of the threshold: more data is unlikely to pass."""


@dataclass
class Decision:
    """PROMOTE / HOLD / REJECT with every gate's evidence (``wb.decide``)."""

    outcome: Outcome
    candidate: ConfigRef
    incumbent: ConfigRef
    gates: list[GateResult]
    config: Gates
    paired: PairedComparison
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 PROMOTE, 10 HOLD, 11 REJECT (``workbench gate``)."""
        return EXIT_CODES[self.outcome]

    @property
    def cases_needed(self) -> int | None:
        """For HOLD: the paired cases that would likely settle every inconclusive gate.

        None when some inconclusive gate gives no count (more data is unlikely to pass, or
        there is no spread to extrapolate from): then ``advice`` says why.
        """
        open_gates = [g for g in self.gates if g.status == "inconclusive"]
        counts = [g.extra_cases for g in open_gates]
        if not counts or any(g.hopeless for g in open_gates):
            return None
        known = [n for n in counts if n is not None]
        return max(known) if len(known) == len(counts) else None

    @property
    def extra_cases(self) -> int | None:
        """For HOLD: how many more cases than now (``cases_needed − n``)."""
        need = self.cases_needed
        return None if need is None else max(0, need - self.paired.n_cases)

    def table(self) -> pd.DataFrame:
        """One row per gate."""
        return pd.DataFrame([g.__dict__ for g in self.gates])

    def to_dict(self) -> dict[str, Any]:
        """Plain data for MLflow, JSON and reports."""
        return {"outcome": self.outcome, "candidate": list(self.candidate),
                "incumbent": list(self.incumbent), "n_cases": self.paired.n_cases,
                "cases_needed": self.cases_needed, "extra_cases": self.extra_cases,
                "advice": self.advice,
                "gates": [g.__dict__ for g in self.gates], "notes": self.notes,
                "config": self.config.model_dump(mode="json")}

    @property
    def advice(self) -> str:
        """For HOLD: what more data would do, in words a reader acts on correctly."""
        if self.outcome != "HOLD":
            return ""
        open_gates = [g for g in self.gates if g.status == "inconclusive"]
        hopeless = [g for g in open_gates if g.hopeless]
        if hopeless:
            return "unlikely to pass with more data: " + "; ".join(
                f"{_short(g.gate)}: {g.advice}" for g in hopeless)
        if not open_gates:
            return "the comparison is incomplete: finish the run, then decide again"
        more, needed = self.extra_cases, self.cases_needed
        if more is not None and needed is not None:
            head = (f"about {more:,} more cases ({needed:,} in all) would likely settle it, "
                    "if the observed differences hold")
            each = [f"{_short(g.gate)} {g.extra_cases:,}" for g in open_gates
                    if g.extra_cases is not None]
            return head if len(open_gates) == 1 else f"{head} (in all: {', '.join(each)})"
        parts = [f"{_short(g.gate)}: {g.advice}" for g in open_gates if g.advice]
        return "; ".join(parts) or "more cases cannot settle it on this evidence"

    def headline(self) -> str:
        """``HOLD: sim/fast/guided vs sim/large/guided, 152 cases ...``."""
        text = (f"{self.outcome}: {self.candidate[0]}/{self.candidate[1]} (candidate) vs "
                f"{self.incumbent[0]}/{self.incumbent[1]} (incumbent), "
                f"{self.paired.n_cases} paired cases")
        if self.outcome == "HOLD":
            text += f"; {self.advice}"
        return text

    def __str__(self) -> str:
        width = max(len(g.gate) for g in self.gates) if self.gates else 10
        lines = [self.headline()]
        for g in self.gates:
            lines.append(f"  {g.status.upper():<12} {g.gate:<{width}}  {g.evidence}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"PROMOTE": "#1a7f37", "HOLD": "#9a6700", "REJECT": "#cf222e"}[self.outcome]
        rows = "".join(
            f"<tr><td>{html.escape(g.status.upper())}</td><td>{html.escape(g.gate)}</td>"
            f"<td>{html.escape(g.evidence)}</td></tr>" for g in self.gates)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div><p><b style='color:{colour}'>{html.escape(self.outcome)}</b> "
                f"{html.escape(self.headline().split(': ', 1)[1])}</p>"
                f"<table><tr><th>status</th><th>gate</th><th>evidence</th></tr>{rows}</table>"
                f"<ul>{notes}</ul></div>")


def _short(gate: str) -> str:
    """A gate's name without its threshold text (``intent: not worse …`` → ``intent``)."""
    return gate.split(":")[0] if ":" in gate else gate


def _verdict(bound_low: float, bound_high: float, target: float, higher_is_better: bool
             ) -> Status:
    if higher_is_better:
        return "pass" if bound_low > target else "fail" if bound_high < target else \
            "inconclusive"
    return "pass" if bound_high <= target else "fail" if bound_low > target else "inconclusive"


def _settle(estimate: float, target: float, higher_is_better: bool, n: int, informative: int,
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
        notes.append(f"not enough evidence: {_cases(informative, 'informative case')}, "
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


def _cases(k: int, noun: str) -> str:
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
    return _settle(m.delta, target, True, m.n, m.informative, needed, what="Δ",
                   discordance=m.discordant / m.n if m.kind == "pass/fail" and m.n else None,
                   sd=m.sd if m.kind != "pass/fail" else None, alpha=config.alpha,
                   power=config.power)


def metric_gate(m: MetricDelta, gate: MetricGate, config: Gates, name: str | None = None,
                ) -> GateResult:
    """One quality gate on a paired metric: bound, minimum of informative cases, advice.

    Used by ``decide`` and by the calibration scenarios, so both measure the same rule.
    """
    name = name or m.metric
    level = f"one-sided {1 - config.alpha:.0%}"
    target = 0.0 if gate.superiority else -gate.margin
    needed = config.min_informative if gate.min_informative is None else gate.min_informative
    status = _verdict(m.bound_low, m.bound_high, target, higher_is_better=True)
    short = status == "pass" and m.informative < needed
    if short:
        status = "inconclusive"
    bound = m.bound_low if status != "fail" else m.bound_high
    which = "lower" if status != "fail" else "upper"
    what = "better than the incumbent" if gate.superiority else \
        f"not worse than the incumbent by more than {gate.margin:g}"
    errors = ""
    lost = {"incumbent": m.errors_incumbent + m.scorer_failures_incumbent,
            "candidate": m.errors_candidate + m.scorer_failures_candidate}
    if any(lost.values()):
        errors = (f"; errors {m.errors_incumbent}+{m.scorer_failures_incumbent} / "
                  f"{m.errors_candidate}+{m.scorer_failures_candidate} (calls+scorer, "
                  f"incumbent / candidate, counted as {'0' if m.errors == 'zero' else 'dropped'})")
    evidence = (f"Δ {m.delta:+.3f}, {level} {which} bound {bound:+.3f} ({m.method}) vs "
                f"{target:+.3f}; {m.incumbent.mean:.3f} → {m.candidate.mean:.3f}, "
                f"n={m.n}, {m.informative} informative, p={m.p_value:.3g} ({m.test}){errors}")
    extra, hopeless, advice = None, False, ""
    if status == "inconclusive":
        extra, hopeless, advice = gate_cases(m, gate, config)
        if m.informative < needed:
            evidence = (f"not enough evidence: {_cases(m.informative, 'informative case')}, "
                        f"need {needed}; " + evidence)
    return GateResult(f"{name}: {what}", f"> {target:+g}", m.delta, bound,
                      f"{level} {which} bound, {m.method}", status, evidence, extra, advice,
                      hopeless)


def _win_share_gate(comparison: ComparisonLike, pairwise: pd.DataFrame | None,
                    cand: ConfigRef, config: Gates, level: str) -> GateResult:
    margin = float(config.win_share_margin or 0.0)
    target = 0.5 - margin
    name = f"pairwise win share ≥ {target:g} (0.5 − margin {margin:g})"
    if pairwise is None:
        return GateResult(name, f"≥ {target:g}", float("nan"), float("nan"), "", "inconclusive",
                          "no pairwise verdicts: pass pairwise=wb.pairwise(...) to decide",
                          advice="no pairwise verdicts were given")
    outcomes = pairwise_outcomes(pairwise, comparison, cand, errors=config.errors)
    failed = len(outcomes) - int(pairwise["outcome"].notna().sum())
    ws = win_share(list(outcomes), alpha=config.alpha)
    judge_errors = int(pairwise["outcome"].isna().sum())
    return win_share_gate(ws, config, name=name, failed=failed, judge_errors=judge_errors)


def win_share_gate(ws: WinShare, config: Gates, *, name: str | None = None, failed: int = 0,
                   judge_errors: int = 0) -> GateResult:
    """The win-share gate on a ``WinShare``: bound, minimum of decided verdicts, advice."""
    margin = float(config.win_share_margin or 0.0)
    target = 0.5 - margin
    level = f"one-sided {1 - config.alpha:.0%}"
    name = name or f"pairwise win share ≥ {target:g} (0.5 − margin {margin:g})"
    decided = ws.wins + ws.losses
    needed = config.min_informative
    status = _verdict(ws.bound_low, ws.bound_high, target, higher_is_better=True) \
        if ws.n else "inconclusive"
    short = status == "pass" and decided < needed
    if short:
        status = "inconclusive"
    bound = ws.bound_low if status != "fail" else ws.bound_high
    which = "lower" if status != "fail" else "upper"
    evidence = (f"{ws.share:.3f} = ({ws.wins} wins + ½·{ws.ties} ties) / {ws.n}, {level} "
                f"{which} bound {bound:.3f} ({ws.method}) vs {target:g}"
                + (f"; {failed} failed candidate call(s) counted as losses" if failed else "")
                + (f"; {judge_errors} case(s) without a verdict left out" if judge_errors
                   else ""))
    extra, hopeless, advice = None, False, ""
    if status == "inconclusive":
        extra, hopeless, advice = _settle(
            ws.share, target, True, ws.n, decided, needed, what="win share",
            sd=ws.sd if ws.sd and ws.sd > 0 else None, alpha=config.alpha, power=config.power)
        if hopeless and ws.losses > ws.wins:
            advice += f" (the candidate lost {ws.losses} and won {ws.wins})"
        if decided < needed:
            evidence = (f"not enough evidence: {_cases(decided, 'decided verdict')} (wins + "
                        f"losses), need {needed}; " + evidence)
    return GateResult(name, f"≥ {target:g}", ws.share, bound, f"{level} {which} bound",
                      status, evidence, extra, advice, hopeless)


def _rate_cases(est: Estimate, ceiling: float, alpha: float, power: float) -> int | None:
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


def _ceiling(est: Estimate | None, ceiling: float, label: str, unit: str, level: str,
             *, what: str, config: Gates | None = None) -> GateResult:
    """A gate on an upper bound: cost ratio, latency, error rates."""
    gate = f"{label} ≤ {ceiling:g}{unit}"
    if est is None:
        return GateResult(gate, f"≤ {ceiling:g}", float("nan"), float("nan"), "",
                          "inconclusive", f"no {what} recorded for both configurations",
                          advice=f"no {what} recorded for both configurations")
    rate = what.startswith("error")

    def fmt(x: float) -> str:
        return f"{x:+.2%}" if what == "error-rate increase" else f"{x:.2%}" if rate else \
            f"{x:.4g}{unit}"

    status = _verdict(est.bound_low, est.bound_high, ceiling, higher_is_better=False)
    bound = est.bound_high if status != "fail" else est.bound_low
    which = "upper" if status != "fail" else "lower"
    evidence = f"{fmt(est.value)}, {level} {which} bound {fmt(bound)} ({est.method})"
    if rate and est.calls:
        evidence += f"; {est.informative} of {est.cases} cases hold an error"
    advice, hopeless, extra = "", False, None
    if status == "inconclusive":
        if est.value >= ceiling:
            hopeless = True
            advice = (f"observed {what} {fmt(est.value)} is at or above the ceiling "
                      f"{fmt(ceiling)}, so more cases would confirm a failure, not a pass")
        elif rate and config is not None:
            extra = _rate_cases(est, ceiling, config.alpha, config.power)
            if extra is not None and extra > CASES_CAP:
                extra = None
            advice = (f"about {round_cases(extra):,} cases in all would likely bring the bound "
                      f"under {fmt(ceiling)} (bound {fmt(bound)} now)" if extra is not None
                      else f"more cases would narrow the {what} bound ({fmt(bound)} now)")
            extra = round_cases(extra) if extra is not None else None
        else:
            advice = f"more cases would narrow the {what} bound ({fmt(bound)} now)"
    return GateResult(gate, f"≤ {ceiling:g}", est.value, bound, f"{level} {which} bound, "
                      f"{est.method}", status, evidence, extra, advice, hopeless)


def _cost_gate(paired: PairedComparison, ceiling: float, level: str) -> GateResult:
    """Cost ratio ceiling; with a free incumbent, the difference per 1k requests decides."""
    ratio = paired.estimates.get("cost_ratio")
    diff = paired.estimates.get("cost_per_1k_diff")
    if ratio is not None or diff is None:
        return _ceiling(ratio, ceiling, "cost per case ÷ incumbent's", "×", level,
                        what="cost")
    gate = f"cost per case ÷ incumbent's ≤ {ceiling:g}×"
    if diff.candidate == 0:
        return GateResult(gate, f"≤ {ceiling:g}", 0.0, 0.0, "both free", "pass",
                          "both configurations recorded $0 per request: no cost change")
    return GateResult(
        gate, f"≤ {ceiling:g}", float("inf"), float("inf"), "no ratio (free incumbent)", "fail",
        f"the incumbent recorded $0 per request (self-hosted or price 0), so no ratio exists; "
        f"the candidate adds ${diff.value:.4f} per 1k requests [{diff.low:.4f}, {diff.high:.4f}]"
        f" ({diff.method}); gate it with cost_increase_max_per_1k_usd instead")


def decide(
    comparison: ComparisonLike,
    gates: Gates | None = None,
    *,
    candidate: ConfigRef | None = None,
    incumbent: ConfigRef | None = None,
    pairwise: pd.DataFrame | None = None,
) -> Decision:
    """Apply gates to a comparison: PROMOTE, HOLD or REJECT, with each gate's evidence.

    Roles come from the arguments, else from the gates file, else from the roles the
    comparison was logged with (``cmp.record.roles``). ``gates=None`` applies
    ``Gates.default`` over every scorer. A comparison that stopped early can at most HOLD.
    ``pairwise`` (the table from ``wb.pairwise``) feeds the ``win_share_margin`` gate; cases
    the candidate failed count as losses under ``errors: zero`` (Settled 8). The error-rate
    gates (failed calls and scorer failures, clustered by case) are always on, and no quality
    gate passes on fewer than ``min_informative`` informative cases.

    Example:
        >>> d = wb.decide(cmp, wb.Gates.load("examples/triage-gates.yaml"))  # doctest: +SKIP
        >>> print(d)  # doctest: +SKIP
        HOLD: sim/fast/guided (candidate) vs sim/large/guided (incumbent), 152 paired cases; ...
    """
    config = gates or Gates.default(list(comparison.scorers))
    logged = comparison.record.roles
    cand = candidate or (config.candidate.ref if config.candidate else None) or logged.candidate
    inc = incumbent or (config.incumbent.ref if config.incumbent else None) or logged.incumbent
    if cand is None or inc is None:
        raise ConfigError("decide needs a candidate and an incumbent",
                          fix="Pass candidate=(model, variant) and incumbent=(model, variant), "
                          "or set candidate:/incumbent: in the gates file.")
    unknown = [m for m in config.metrics if m not in comparison.scorers]
    if unknown:
        raise ConfigError(f"the gates name metric(s) {unknown} that this comparison has no "
                          "scorer for", fix="Use scorer names of this comparison: "
                          f"{', '.join(comparison.scorers) or '(none)'}.")
    paired = compare_configs(comparison, cand, inc, list(config.metrics) or None,
                             errors=config.errors, alpha=config.alpha,
                             correction=config.correction, seed=config.seed)
    level = f"one-sided {1 - config.alpha:.0%}"
    results: list[GateResult] = [metric_gate(paired.metrics[name], gate, config, name)
                                 for name, gate in config.metrics.items()]
    if config.win_share_margin is not None:
        results.append(_win_share_gate(comparison, pairwise, cand, config, level))
    if config.cost_ratio_max is not None:
        results.append(_cost_gate(paired, config.cost_ratio_max, level))
    if config.cost_increase_max_per_1k_usd is not None:
        results.append(_ceiling(paired.estimates.get("cost_per_1k_diff"),
                                config.cost_increase_max_per_1k_usd,
                                "cost increase per 1k requests ($)", "", level, what="cost"))
    if config.latency_p95_max_s is not None:
        results.append(_ceiling(paired.estimates.get("latency_p95_s.candidate"),
                                config.latency_p95_max_s, "latency p95 (s)", "s", level,
                                what="latency"))
    if config.latency_p95_increase_max_s is not None:
        results.append(_ceiling(paired.estimates.get("latency_p95_s"),
                                config.latency_p95_increase_max_s, "latency p95 increase (s)",
                                "s", level, what="latency"))
    results.append(_ceiling(paired.estimates.get("error_rate"), config.error_rate_max,
                            "error rate (calls + scorer failures)", "", level,
                            what="error rate", config=config))
    results.append(_ceiling(paired.estimates.get("error_rate_increase"),
                            config.error_rate_increase_max,
                            "error rate increase over the incumbent", "", level,
                            what="error-rate increase", config=config))
    if config.max_slice_regressions is not None:
        reg = paired.regressions()
        reg = reg[reg["metric"].isin(list(config.metrics) or list(paired.metrics))]
        listed = ", ".join(f"{r.metric} on {r.slice}={r.value} (Δ {r.delta:+.3f}, adj. p "
                           f"{r.p_adjusted:.3g})" for r in reg.itertuples())
        ok = len(reg) <= config.max_slice_regressions
        method = "Holm" if config.correction == "holm" else "Benjamini–Hochberg"
        results.append(GateResult(
            f"significant slice regressions ≤ {config.max_slice_regressions}",
            f"≤ {config.max_slice_regressions}", float(len(reg)), float(len(reg)),
            f"{method}-adjusted p < {config.alpha:g}", "pass" if ok else "fail",
            f"{len(reg)} slice value(s) regress significantly ({method}-adjusted p < "
            f"{config.alpha:g})" + (f": {listed}" if listed else "")))
    statuses = {g.status for g in results}
    outcome: Outcome = "REJECT" if "fail" in statuses else \
        "PROMOTE" if statuses == {"pass"} else "HOLD"
    notes = list(paired.notes)
    if not comparison.complete:
        reason = comparison.record.run.stop_reason or comparison.record.run.status
        notes.append(f"the comparison is incomplete ({reason}): it can at most HOLD")
        if outcome == "PROMOTE":
            outcome = "HOLD"
    simulated = [m.label for m in comparison.record.models
                 if m.simulated and m.label in (cand[0], inc[0])]
    if simulated:
        notes.append(f"SIMULATED models ({', '.join(simulated)}): this decision shows the "
                     "method, not the quality of real models")
    counted = "score 0" if config.errors == "zero" else "dropped pairs"
    notes.append(f"failed calls and scorer failures counted as {counted} and as errors; "
                 f"bootstrap seed {config.seed}")
    return Decision(outcome, cand, inc, results, config, paired, notes)
