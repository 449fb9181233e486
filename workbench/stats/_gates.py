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

import pandas as pd

from workbench.errors import ConfigError

from ._advice import gate_cases, pluralize, rate_cases, settle
from ._decision import EXIT_CODES as EXIT_CODES
from ._decision import Decision, GateResult, Outcome, Status
from ._estimates import Estimate
from ._gate_config import Gates, MetricGate
from ._gate_config import Role as Role
from ._paired import (
    ComparisonLike,
    ConfigRef,
    MetricDelta,
    PairedComparison,
    compare_configs,
)
from ._power import CASES_CAP, round_cases
from ._winshare import WinShare, pairwise_outcomes, win_share

__all__ = ["Decision", "GateResult", "Gates", "MetricGate", "decide", "gate_cases", "metric_gate",
           "win_share_gate"]


def _verdict(bound_low: float, bound_high: float, target: float, higher_is_better: bool
             ) -> Status:
    if higher_is_better:
        return "pass" if bound_low > target else "fail" if bound_high < target else \
            "inconclusive"
    return "pass" if bound_high <= target else "fail" if bound_low > target else "inconclusive"


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
            evidence = (f"not enough evidence: {pluralize(m.informative, 'informative case')}, "
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
        extra, hopeless, advice = settle(
            ws.share, target, True, ws.n, decided, needed, what="win share",
            sd=ws.sd if ws.sd and ws.sd > 0 else None, alpha=config.alpha, power=config.power)
        if hopeless and ws.losses > ws.wins:
            advice += f" (the candidate lost {ws.losses} and won {ws.wins})"
        if decided < needed:
            evidence = (f"not enough evidence: {pluralize(decided, 'decided verdict')} (wins + "
                        f"losses), need {needed}; " + evidence)
    return GateResult(name, f"≥ {target:g}", ws.share, bound, f"{level} {which} bound",
                      status, evidence, extra, advice, hopeless)

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
            extra = rate_cases(est, ceiling, config.alpha, config.power)
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
        A comparison built by hand (``wb.compare`` makes one from model calls): 100 cases on
        which the candidate fixes 12 of the incumbent's 30 misses, breaks 3, and costs a
        quarter as much.

        >>> import pandas as pd
        >>> import workbench as wb
        >>> from workbench.records import GoldenSetRef, RunRecord
        >>> n = 100
        >>> results = pd.DataFrame({
        ...     "case_id": [f"c{i:03d}" for i in range(n)] * 2, "repeat": 0,
        ...     "model": ["large"] * n + ["small"] * n, "variant": "v1", "error_type": None,
        ...     "score.exact_match": [1.0] * 70 + [0.0] * 30 + [0.0] * 3 + [1.0] * 79 + [0.0] * 18,
        ...     "cost_usd": [0.002] * n + [0.0005] * n, "latency_s": [0.9] * n + [0.4] * n})
        >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest="")))
        >>> gates = wb.Gates(metrics={"exact_match": wb.MetricGate(margin=0.02)},
        ...                  cost_ratio_max=1.0)
        >>> d = wb.decide(cmp, gates, candidate=("small", "v1"), incumbent=("large", "v1"))
        >>> for g in d.gates:
        ...     print(f"{g.status:<12} {g.gate}")
        pass         exact_match: not worse than the incumbent by more than 0.02
        pass         cost per case ÷ incumbent's ≤ 1×
        pass         error rate (calls + scorer failures) ≤ 0.05
        inconclusive error rate increase over the incumbent ≤ 0.02

        No error in 100 cases cannot yet bound the error-rate increase under 2 points:

        >>> d.outcome, d.extra_cases, d.cases_needed
        ('HOLD', 40, 140)
    """
    config = gates or Gates.default(list(comparison.scorers))
    logged = comparison.record.roles
    cand = candidate or (config.candidate.ref if config.candidate else None) or logged.candidate
    inc = incumbent or (config.incumbent.ref if config.incumbent else None) or logged.incumbent
    if cand is None or inc is None:
        raise ConfigError("decide needs a candidate and an incumbent",
                          fix="Pass candidate=(model, variant) and incumbent=(model, variant), "
                          "or set candidate:/incumbent: in the gates file.",
                          cli_fix="Pass --candidate MODEL:VARIANT and --incumbent MODEL:VARIANT, "
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
