"""Decision gates: PROMOTE, HOLD or REJECT a candidate against an incumbent, with evidence.

Every gate decides on a one-sided bound at level α (the two-sided 1 − 2α interval's bound,
Settled 15): it **passes** when the bound clears the threshold, **fails** when the opposite bound
proves the threshold missed, and is **inconclusive** otherwise. PROMOTE needs every gate to pass,
one failed gate REJECTs, anything else HOLDs, with the number of cases that would settle it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator

from workbench._yaml import load_model
from workbench.errors import ConfigError

from ._paired import ComparisonLike, ConfigRef, PairedComparison, compare_configs
from ._power import cases_to_clear
from ._winshare import pairwise_outcomes, win_share

__all__ = ["Decision", "GateResult", "Gates", "MetricGate", "decide"]

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
    error_rate_max: float | None = Field(None, ge=0, le=1)
    """Candidate's failed-call rate, upper bound (Wilson) at most this."""
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

    @classmethod
    def default(cls, metrics: list[str], **overrides: Any) -> Gates:
        """Every metric non-inferior within 2 points, error rate ≤ 5%, no slice regression."""
        base: dict[str, Any] = {"metrics": {m: MetricGate() for m in metrics},
                                "error_rate_max": 0.05, "max_slice_regressions": 0}
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
    """For an inconclusive metric gate: total paired cases that would settle it."""


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
        """For HOLD: the paired cases that would settle every inconclusive metric gate."""
        needs = [g.extra_cases for g in self.gates if g.status == "inconclusive"]
        known = [n for n in needs if n is not None]
        return max(known) if known else None

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
                "gates": [g.__dict__ for g in self.gates], "notes": self.notes,
                "config": self.config.model_dump(mode="json")}

    def headline(self) -> str:
        """``HOLD: sim/fast/guided vs sim/large/guided, 152 cases ...``."""
        text = (f"{self.outcome}: {self.candidate[0]}/{self.candidate[1]} (candidate) vs "
                f"{self.incumbent[0]}/{self.incumbent[1]} (incumbent), "
                f"{self.paired.n_cases} paired cases")
        if self.outcome == "HOLD":
            more = self.extra_cases
            text += (f"; about {more} more cases ({self.cases_needed} in all) would settle it"
                     if more is not None else "; more cases cannot settle it on this evidence")
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


def _verdict(bound_low: float, bound_high: float, target: float, higher_is_better: bool
             ) -> Status:
    if higher_is_better:
        return "pass" if bound_low > target else "fail" if bound_high < target else \
            "inconclusive"
    return "pass" if bound_high <= target else "fail" if bound_low > target else "inconclusive"


def _win_share_gate(comparison: ComparisonLike, pairwise: pd.DataFrame | None,
                    cand: ConfigRef, config: Gates, level: str) -> GateResult:
    margin = float(config.win_share_margin or 0.0)
    target = 0.5 - margin
    name = f"pairwise win share ≥ {target:g} (0.5 − margin {margin:g})"
    if pairwise is None:
        return GateResult(name, f"≥ {target:g}", float("nan"), float("nan"), "", "inconclusive",
                          "no pairwise verdicts: pass pairwise=wb.pairwise(...) to decide")
    outcomes = pairwise_outcomes(pairwise, comparison, cand, errors=config.errors)
    failed = len(outcomes) - int(pairwise["outcome"].notna().sum())
    ws = win_share(list(outcomes), alpha=config.alpha)
    status = _verdict(ws.bound_low, ws.bound_high, target, higher_is_better=True) \
        if ws.n else "inconclusive"
    bound = ws.bound_low if status != "fail" else ws.bound_high
    which = "lower" if status != "fail" else "upper"
    extra = cases_to_clear(ws.share - 0.5, -margin, alpha=config.alpha, power=config.power,
                           sd=ws.sd) if status == "inconclusive" and ws.n > 1 else None
    judge_errors = int(pairwise["outcome"].isna().sum())
    evidence = (f"{ws.share:.3f} = ({ws.wins} wins + ½·{ws.ties} ties) / {ws.n}, {level} "
                f"{which} bound {bound:.3f} ({ws.method}) vs {target:g}"
                + (f"; {failed} failed candidate call(s) counted as losses" if failed else "")
                + (f"; {judge_errors} case(s) without a verdict left out" if judge_errors
                   else ""))
    return GateResult(name, f"≥ {target:g}", ws.share, bound, f"{level} {which} bound, t",
                      status, evidence, extra)


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
    comparison was logged with (``cmp.meta["roles"]``). ``gates=None`` applies
    ``Gates.default`` over every scorer. A comparison that stopped early can at most HOLD.
    ``pairwise`` (the table from ``wb.pairwise``) feeds the ``win_share_margin`` gate; cases
    the candidate failed count as losses under ``errors: zero`` (Settled 8).

    Example:
        >>> d = wb.decide(cmp, wb.Gates.load("examples/triage-gates.yaml"))  # doctest: +SKIP
        >>> print(d)  # doctest: +SKIP
        HOLD: sim/fast/guided (candidate) vs sim/large/guided (incumbent), 152 paired cases; ...
    """
    config = gates or Gates.default(list(comparison.scorers))
    logged = comparison.meta.get("roles") or {}
    cand = candidate or (config.candidate.ref if config.candidate else None) or (
        tuple(logged["candidate"]) if "candidate" in logged else None)
    inc = incumbent or (config.incumbent.ref if config.incumbent else None) or (
        tuple(logged["incumbent"]) if "incumbent" in logged else None)
    if cand is None or inc is None:
        raise ConfigError("decide needs a candidate and an incumbent",
                          fix="Pass candidate=(model, variant) and incumbent=(model, variant), "
                          "or set candidate:/incumbent: in the gates file.")
    if not config.metrics and gates is not None and not any(
            getattr(config, k) is not None for k in ("cost_ratio_max", "latency_p95_max_s",
                                                      "latency_p95_increase_max_s",
                                                      "error_rate_max", "win_share_margin")):
        raise ConfigError("the gates file gates nothing",
                          fix="Add metrics: {<scorer>: {margin: 0.02}} or a cost/latency/error "
                          "ceiling.")
    paired = compare_configs(comparison, cand, inc, list(config.metrics) or None,
                             errors=config.errors, alpha=config.alpha,
                             correction=config.correction, seed=config.seed)
    level = f"one-sided {1 - config.alpha:.0%}"
    results: list[GateResult] = []
    for name, gate in config.metrics.items():
        m = paired.metrics[name]
        target = 0.0 if gate.superiority else -gate.margin
        status = _verdict(m.bound_low, m.bound_high, target, higher_is_better=True)
        bound = m.bound_low if status != "fail" else m.bound_high
        which = "lower" if status != "fail" else "upper"
        what = "better than the incumbent" if gate.superiority else \
            f"not worse than the incumbent by more than {gate.margin:g}"
        extra = None
        if status == "inconclusive":
            extra = cases_to_clear(
                m.delta, target, alpha=config.alpha, power=config.power,
                discordance=m.discordant / m.n if m.kind == "pass/fail" else None,
                sd=m.sd if m.kind != "pass/fail" else None)
        evidence = (f"Δ {m.delta:+.3f}, {level} {which} bound {bound:+.3f} ({m.method}) vs "
                    f"{target:+.3f}; {m.incumbent.mean:.3f} → {m.candidate.mean:.3f}, "
                    f"n={m.n}, p={m.p_value:.3g} ({m.test})")
        results.append(GateResult(f"{name}: {what}", f"> {target:+g}", m.delta, bound,
                                  f"{level} {which} bound, {m.method}", status, evidence,
                                  extra))
    ceilings = [("cost_ratio_max", "cost_ratio", "cost per case ÷ incumbent's", "×"),
                ("latency_p95_max_s", "latency_p95_s.candidate", "latency p95 (s)", "s"),
                ("latency_p95_increase_max_s", "latency_p95_s", "latency p95 increase (s)", "s"),
                ("error_rate_max", "error_rate", "error rate", "")]
    for key, est_name, label, unit in ceilings:
        ceiling = getattr(config, key)
        if ceiling is None:
            continue
        est = paired.estimates.get(est_name)
        if est is None:
            results.append(GateResult(f"{label} ≤ {ceiling:g}", f"≤ {ceiling:g}", float("nan"),
                                      float("nan"), "", "inconclusive",
                                      f"no {label} recorded for both configurations"))
            continue
        status = _verdict(est.bound_low, est.bound_high, ceiling, higher_is_better=False)
        bound = est.bound_high if status != "fail" else est.bound_low
        which = "upper" if status != "fail" else "lower"
        results.append(GateResult(
            f"{label} ≤ {ceiling:g}{unit}", f"≤ {ceiling:g}", est.value, bound,
            f"{level} {which} bound, {est.method}", status,
            f"{est.value:.4g}{unit}, {level} {which} bound {bound:.4g}{unit} ({est.method})"))
    if config.win_share_margin is not None:
        results.append(_win_share_gate(comparison, pairwise, cand, config, level))
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
        reason = comparison.meta.get("stop_reason") or comparison.meta.get("status")
        notes.append(f"the comparison is incomplete ({reason}): it can at most HOLD")
        if outcome == "PROMOTE":
            outcome = "HOLD"
    simulated = [m["label"] for m in comparison.meta.get("models", [])
                 if m.get("simulated") and m["label"] in (cand[0], inc[0])]
    if simulated:
        notes.append(f"SIMULATED models ({', '.join(simulated)}): this decision shows the "
                     "method, not the quality of real models")
    notes.append(f"errors counted as {'score 0' if config.errors == 'zero' else 'dropped pairs'}"
                 f"; bootstrap seed {config.seed}")
    return Decision(outcome, cand, inc, results, config, paired, notes)
