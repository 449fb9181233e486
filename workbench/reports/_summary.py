"""The executive summary both reports open with: the decision and its evidence in words.

Every number comes from the decision (``wb.decide``), the paired statistics and the cost and
latency sections already computed for the report: nothing is estimated again here, so the
summary, the gates table and the rollout plan cannot disagree.
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, Field

from workbench.stats import Decision, GateResult

__all__ = ["ExecutiveSummary", "SummaryPoint", "migration_summary", "shadow_summary"]


class SummaryPoint(BaseModel):
    """One line of the summary: a label (Quality, Cost, …) and its sentences."""

    label: str
    lines: list[str] = Field(default_factory=list)


class ExecutiveSummary(BaseModel):
    """The decision in plain words, then quality, cost, latency, next step, what would change."""

    verdict: str
    points: list[SummaryPoint] = Field(default_factory=list)

    def point(self, label: str) -> SummaryPoint | None:
        """The point with this label, if any."""
        return next((p for p in self.points if p.label == label), None)


def _short(gate: GateResult | str) -> str:
    name = gate.gate if isinstance(gate, GateResult) else gate
    return name.split(":")[0] if ":" in name else name


def _names(gates: list[GateResult]) -> str:
    return ", ".join(_short(g) for g in gates)


def _plural(k: int, noun: str) -> str:
    return f"{k:,} {noun}" if k == 1 else f"{k:,} {noun}s"


def _finite(*values: Any) -> bool:
    return all(isinstance(v, int | float) and math.isfinite(v) for v in values)


def _level(value: float, pass_fail: bool) -> str:
    return f"{value * 100:.1f}%" if pass_fail else f"{value:.3f}"


def _signed(value: float, pass_fail: bool) -> str:
    return f"{value * 100:+.1f}" if pass_fail else f"{value:+.3f}"


def _difference(value: float, pass_fail: bool) -> str:
    """``2.6 points lower`` / ``0.022 higher`` / ``no difference`` (at the shown precision)."""
    shown = abs(value) * 100 if pass_fail else abs(value)
    if round(shown, 1 if pass_fail else 3) == 0:
        return "no difference"
    amount = f"{shown:.1f} points" if pass_fail else f"{shown:.3f}"
    return f"{amount} {'higher' if value > 0 else 'lower'}"


def quality_line(row: dict[str, Any], gate: GateResult | None, margin: float | None,
                 superiority: bool, roles: tuple[str, str] = ("the candidate", "the incumbent")
                 ) -> str:
    """One metric in words: both levels, the difference with its 95% CI, the gate's verdict."""
    pf = row.get("kind") == "pass/fail"
    name = row["metric"]
    if not _finite(row.get("candidate"), row.get("incumbent"), row.get("delta")):
        return f"{name}: no paired case to compare"
    cand, inc, delta = float(row["candidate"]), float(row["incumbent"]), float(row["delta"])
    bounds = ((float(row["low"]), float(row["high"])) if _finite(row.get("low"), row.get("high"))
              else None)
    text = (f"{name}: {_level(cand, pf)} with {roles[0]} against {_level(inc, pf)} with "
            f"{roles[1]}, {_difference(delta, pf)}")
    if bounds is not None:
        text += (f" (95% CI {_signed(bounds[0], pf)} to {_signed(bounds[1], pf)}"
                 f"{' points' if pf else ''})")
    if gate is not None and margin is not None:
        allowed = (f"{margin * 100:g} point{'' if margin * 100 == 1 else 's'}" if pf
                   else f"{margin:g}")
        text += "; " + {
            "pass": "better, as the gate requires" if superiority else
            f"shown to be no more than {allowed} lower, as the gate requires",
            "fail": "shown not to be better" if superiority else
            f"shown to be more than {allowed} lower: the gate fails",
            "inconclusive": "not yet shown to be better" if superiority else
            f"not yet shown to be within the {allowed} the gate allows"}[gate.status]
    return text


def cost_line(cost: dict[str, Any], volume: str, roles: tuple[str, str]) -> str:
    """Monthly cost on both sides, the saving and the cost ratio's CI, with the volume's source."""
    inc, cand = cost["incumbent"]["per_month"], cost["candidate"]["per_month"]
    monthly = cost["monthly_requests"]
    if not _finite(inc, cand):
        return (f"unknown: a model's price is unknown, so the cost at {monthly:,} requests a "
                "month cannot be compared")
    diff = inc - cand
    text = f"${cand:,.2f} a month with {roles[0]} against ${inc:,.2f} with {roles[1]}"
    if inc > 0 and abs(diff) >= 0.005:
        share = abs(diff) / inc
        text += (f": ${abs(diff):,.2f} {'less' if diff > 0 else 'more'} "
                 f"({share:.0%} {'cheaper' if diff > 0 else 'dearer'})")
    elif abs(diff) < 0.005:
        text += ": the same"
    ratio = cost.get("ratio")
    if ratio and _finite(ratio.get("value"), ratio.get("low"), ratio.get("high")):
        text += (f"; cost ratio {ratio['value']:.3f} (95% CI {ratio['low']:.3f} to "
                 f"{ratio['high']:.3f})")
    return f"{text}, at {monthly:,} requests a month ({volume})"


def latency_line(latency: list[dict[str, Any]], roles: tuple[str, str]) -> str:
    """p95 and p50 on both sides, the paired p95 difference with its 95% CI."""
    rows = {r["quantile"]: r for r in latency}
    p95, p50 = rows.get("p95"), rows.get("p50")
    if p95 is None or not _finite(p95.get("candidate"), p95.get("incumbent")):
        return "no latency recorded for both sides"
    text = (f"p95 {p95['candidate']:.2f} s with {roles[0]} against "
            f"{p95['incumbent']:.2f} s with {roles[1]}")
    if _finite(p95.get("delta")):
        d = float(p95["delta"])
        text += f", {abs(d):.2f} s {'faster' if d < 0 else 'slower'}" if round(d, 2) \
            else ", no difference"
        if _finite(p95.get("low"), p95.get("high")):
            text += f" (95% CI {p95['low']:+.2f} to {p95['high']:+.2f} s)"
    if p50 is not None and _finite(p50.get("candidate"), p50.get("incumbent")):
        text += f"; p50 {p50['candidate']:.2f} s against {p50['incumbent']:.2f} s"
    return text


def _metric_lines(decision: Decision, quality: list[dict[str, Any]],
                  roles: tuple[str, str]) -> list[str]:
    gates = {_short(g): g for g in decision.gates}
    gated = [q for q in quality if q["metric"] in decision.config.metrics]
    rows = gated or quality[:3]
    out = []
    for q in rows:
        cfg = decision.config.metrics.get(q["metric"])
        out.append(quality_line(q, gates.get(q["metric"]), cfg.margin if cfg else None,
                                bool(cfg and cfg.superiority), roles))
    return out


def _open(decision: Decision) -> tuple[list[GateResult], list[GateResult], list[GateResult]]:
    """(inconclusive gates, the hopeless among them, failed gates)."""
    open_gates = [g for g in decision.gates if g.status == "inconclusive"]
    return open_gates, [g for g in open_gates if g.hopeless], \
        [g for g in decision.gates if g.status == "fail"]


def _change(decision: Decision, more: str) -> str:
    """What would change the decision, from the decision's own numbers."""
    open_gates, hopeless, failed = _open(decision)
    if decision.outcome == "REJECT":
        return ("More data would not: the evidence already shows " + "; ".join(
            f"{_short(g)} fails (bound {g.bound:+.3g} against {g.threshold})" for g in failed)
            + ". Only a better candidate would.")
    if decision.outcome == "PROMOTE":
        return "Live traffic breaking a gate during the rollout; the decision needs no more data."
    if hopeless:
        why = [g.advice[:1].upper() + g.advice[1:] if len(hopeless) == 1 else
               f"{_short(g)}: {g.advice}" for g in hopeless]
        return (f"Only a better candidate (or a gate loosened on purpose): more {more}s will "
                f"not rescue this one. {'; '.join(why)}.")
    extra, needed = decision.extra_cases, decision.cases_needed
    if extra is not None and needed is not None:
        each = [f"{_short(g)} {g.extra_cases:,}" for g in open_gates if g.extra_cases]
        return (f"About {extra:,} more {more}s ({needed:,} in all) would likely settle it, if "
                "the observed differences hold" + (f" (in all: {', '.join(each)})"
                                                   if len(each) > 1 else ""))
    return decision.advice[:1].upper() + decision.advice[1:] if decision.advice else ""


def migration_summary(decision: Decision, quality: list[dict[str, Any]], cost: dict[str, Any],
                      latency: list[dict[str, Any]], rollout: dict[str, Any], volume: str,
                      complete: bool) -> ExecutiveSummary:
    """The migration report's summary (see the module docstring for where numbers come from)."""
    cand, inc = "/".join(decision.candidate), "/".join(decision.incumbent)
    n = decision.paired.n_cases
    open_gates, hopeless, failed = _open(decision)
    if decision.outcome == "PROMOTE":
        verdict = f"Switch: {cand} can replace {inc}. Every gate passed on {n:,} paired cases."
        step = (f"Start a {rollout['share'] * 100:g}% canary: about {rollout['requests']:,} "
                f"requests (as many as this decision rests on), ≈ {rollout['days']} day(s) at "
                "the assumed traffic, and roll back if live traffic breaks a gate.")
    elif decision.outcome == "REJECT":
        verdict = (f"Keep {inc}: the candidate {cand} failed "
                   f"{_plural(len(failed), 'gate')} ({_names(failed)}).")
        step = (f"Keep {inc}. Fix what failed ({_names(failed)}) before testing a candidate "
                "again.")
    elif not complete:
        verdict = "Not decided: the comparison stopped before every case was run."
        step = "Finish the run (`workbench run EXPERIMENT.yaml --resume`), then decide again."
    elif hopeless:
        verdict = (f"Do not switch: {_names(hopeless)} cannot pass on this evidence, and more "
                   "cases will not change that.")
        step = (f"Keep {inc}. Improve the candidate (model or prompt) and test again, or "
                "revisit the gate if its margin is stricter than the product needs.")
    elif decision.extra_cases is not None:
        verdict = (f"Not decided yet: on {n:,} paired cases, {_plural(len(open_gates), 'gate')} "
                   f"cannot be settled ({_names(open_gates)}); none failed.")
        step = (f"Do not switch yet. Add about {decision.extra_cases:,} cases to the golden "
                f"set ({decision.cases_needed:,} in all) and decide again.")
    else:
        verdict = (f"Not decided yet: {_names(open_gates)} cannot be settled on {n:,} paired "
                   "cases.")
        step = f"Do not switch yet: {decision.advice}."
    roles = ("the candidate", "the incumbent")
    return _summary(verdict, step, _metric_lines(decision, quality, roles), decision, cost,
                    latency, volume, roles, "case")


def pairwise_line(pw: dict[str, Any], target: float | None) -> list[str]:
    """The judge's verdicts in words: who was preferred how often, and the win share's CI."""
    if not pw.get("judged"):
        return ["no pairwise judge was run, so quality against production is not known"]
    wins, losses, ties = pw["wins"], pw["losses"], pw["ties"]
    sim = " (SIMULATED)" if pw.get("simulated_judge") else ""
    text = (f"The judge {pw.get('judge')}{sim} preferred production on "
            f"{_plural(losses, 'request')} and the candidate on {wins:,}; {ties:,} were ties.")
    if losses > wins:
        lead = (f" The candidate is losing: production was preferred "
                f"{losses / wins:.1f}× as often." if wins else
                " The candidate is losing: it was never preferred.")
    elif wins > losses:
        lead = (f" The candidate is winning: it was preferred {wins / losses:.1f}× as often."
                if losses else " The candidate is winning: production was never preferred.")
    else:
        lead = " Neither side is ahead."
    share = (f"Win share {pw['share']:.3f} (95% CI {pw['low']:.3f} to {pw['high']:.3f})"
             if _finite(pw.get("share"), pw.get("low"), pw.get("high")) else "Win share n/a")
    if target is not None:
        share += f"; the gate needs it to be at least {target:g} with 95% confidence"
    return [text + lead, share + "."]


def shadow_summary(decision: Decision, pairwise: dict[str, Any], quality: list[dict[str, Any]],
                   cost: dict[str, Any], latency: list[dict[str, Any]], volume: str,
                   requests_per_day: float, complete: bool) -> ExecutiveSummary:
    """The shadow report's summary: the judge's verdicts first, then format, cost, latency."""
    cand, inc = "/".join(decision.candidate), decision.incumbent[0].removeprefix("served:")
    n = decision.paired.n_cases
    open_gates, hopeless, failed = _open(decision)
    losing = pairwise.get("judged") and pairwise["losses"] > pairwise["wins"]
    if decision.outcome == "PROMOTE":
        verdict = f"Switch: {cand} held up against production on {n:,} replayed requests."
        step = ("Start a canary of the candidate on a small share of live traffic, with these "
                "gates as its rollback triggers.")
    elif decision.outcome == "REJECT":
        verdict = (f"Keep production ({inc}): the candidate failed "
                   f"{_plural(len(failed), 'gate')} ({_names(failed)}).")
        step = f"Keep {inc}. Fix what failed ({_names(failed)}) before replaying again."
    elif not complete:
        verdict = "Not decided: the replay stopped before every request was run."
        step = "Finish the replay (rerun it; recorded calls come from the cache), then decide."
    elif hopeless:
        why = (f"the candidate is losing to production (the judge preferred production on "
               f"{pairwise['losses']:,} requests and the candidate on {pairwise['wins']:,})"
               if losing else f"{_names(hopeless)} cannot pass on this evidence")
        verdict = f"Do not switch: {why}, and more traffic will not change that."
        step = (f"Keep {inc}. Improve the candidate (model or prompt) and replay again; more "
                "traffic will not rescue this one.")
    elif decision.extra_cases is not None:
        days = math.ceil(decision.extra_cases / requests_per_day) if requests_per_day else None
        verdict = (f"Not decided yet: on {n:,} replayed requests, "
                   f"{_plural(len(open_gates), 'gate')} cannot be settled "
                   f"({_names(open_gates)}); none failed.")
        step = (f"Do not switch yet. Replay about {decision.extra_cases:,} more requests "
                f"({decision.cases_needed:,} in all)" + (
                    f": at the log's rate of {requests_per_day:,.0f} a day, about "
                    f"{_plural(days, 'more day')} of traffic" if days else "")
                + ", then decide again.")
    else:
        verdict = (f"Not decided yet: {_names(open_gates)} cannot be settled on {n:,} replayed "
                   "requests.")
        step = f"Do not switch yet: {decision.advice}."
    target = (0.5 - decision.config.win_share_margin
              if decision.config.win_share_margin is not None else None)
    roles = ("the candidate", "production")
    return _summary(verdict, step, pairwise_line(pairwise, target)
                    + _metric_lines(decision, quality, roles), decision, cost, latency, volume,
                    roles, "request")


def _summary(verdict: str, step: str, quality_lines: list[str], decision: Decision,
             cost: dict[str, Any], latency: list[dict[str, Any]], volume: str,
             roles: tuple[str, str], unit: str) -> ExecutiveSummary:
    """Both reports' summary points: quality, cost, latency, the next step, what would change."""
    points = [SummaryPoint(label="Quality", lines=quality_lines),
              SummaryPoint(label="Cost", lines=[cost_line(cost, volume, roles)]),
              SummaryPoint(label="Latency", lines=[latency_line(latency, roles)]),
              SummaryPoint(label="Next step", lines=[step]),
              SummaryPoint(label="What would change the decision",
                           lines=[_change(decision, unit)])]
    return ExecutiveSummary(verdict=verdict, points=points)
