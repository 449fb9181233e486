"""Run names and descriptions a reviewer reads in the MLflow UI (issue #21).

A description is the run tag ``mlflow.note.content`` (Markdown). The parent run's names the
golden set, the configurations, the candidate and incumbent, what this run billed beside what
its answers cost, whether it reruns an earlier run, and (once decided) the decision with its key
evidence and a link to the report artifact; a child run's says its configuration; a judge's run
its calibration. Every value goes through :func:`safe` (secrets redacted); model outputs never
appear here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from workbench._version import __version__
from workbench.records import JudgeRecord, ModelRecord, VariantRecord
from workbench.runner import Comparison
from workbench.stats import PairedComparison

from ._client import safe, shorten

__all__ = ["DECISION_HEADING", "Rerun", "child_name", "child_note", "config_label",
           "decision_section", "judge_note", "parent_name", "parent_note", "started",
           "with_decision", "with_other_report"]

DECISION_HEADING = "#### Decision"
"""Starts the decision part of a parent run's description (replaced when a report is logged)."""
OTHER_REPORTS = "Other reports on this run:"
DECODING = ("temperature", "max_tokens", "top_p", "seed")
"""Decoding parameters every child run states (``provider default`` when not set)."""
NAME_LIMIT = 250


@dataclass(frozen=True)
class Rerun:
    """The earlier run of the same comparison that a new parent run repeats."""

    run_id: str
    name: str
    started: str
    status: str
    spent_usd: float | None
    link: str


def code(value: Any) -> str:
    """A value as inline code (backticks in it dropped), secrets redacted."""
    return f"`{safe(value, 300).replace('`', '')}`"


def money(value: float | None) -> str:
    """Dollars with four decimals, or ``unknown``."""
    return "unknown" if value is None or not math.isfinite(value) else f"${value:,.4f}"


def config_label(config: Sequence[str]) -> str:
    """``model · variant``, the way run names and descriptions show a configuration."""
    return f"{config[0]} · {config[1]}"


def started(cmp: Comparison) -> str:
    """When the comparison's run started, ``YYYY-MM-DD HH:MM`` (empty when unknown)."""
    return str(cmp.record.run.started_at or "")[:16].replace("T", " ")


def _suffix(cmp: Comparison, rerun: bool) -> str:
    flags = [] if cmp.complete else [cmp.status.replace("_", "-").upper()]
    return "".join(f" · {f}" for f in ([*flags, "rerun"] if rerun else flags))


def parent_name(cmp: Comparison, candidate: Sequence[str] | None,
                incumbent: Sequence[str] | None, rerun: bool = False) -> str:
    """The parent run's name: golden set, configurations, date, and rerun/incomplete flags.

    Example: ``support_triage · sim/small·guided vs sim/large·guided · 2026-12-01 17:45 ·
    rerun``, or ``support_triage · 3 models × 2 variants · 2026-12-01 17:45``.
    """
    if candidate is not None and incumbent is not None:
        configs = f"{candidate[0]}·{candidate[1]} vs {incumbent[0]}·{incumbent[1]}"
    else:
        models, variants = len(cmp.record.models), len(cmp.record.variants)
        configs = (f"{models} model{'s' * (models != 1)} × {variants} "
                   f"variant{'s' * (variants != 1)}")
    name = " · ".join(p for p in (cmp.record.golden_set.name, configs, started(cmp)) if p)
    return shorten(safe(name + _suffix(cmp, rerun), 10_000), limit=NAME_LIMIT)


def child_name(cmp: Comparison, config: Sequence[str], role: str) -> str:
    """A child run's name: ``model · variant``, its role if any, and the date."""
    who = config_label(config) + (f" ({role})" if role in ("candidate", "incumbent") else "")
    return shorten(safe(" · ".join(p for p in (who, started(cmp)) if p), 10_000),
                   limit=NAME_LIMIT)


def _evidence_lines(gate_rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines, passed = [], []
    for row in gate_rows:
        status = str(row.get("status", ""))
        if status == "pass":
            passed.append(safe(row.get("gate", ""), 120))
            continue
        evidence = safe(row.get("evidence", ""), 300)
        threshold = safe(row.get("threshold", ""), 80)
        lines.append(f"- **{status.upper()}** {safe(row.get('gate', ''), 120)}"
                     + (f" ({threshold})" if threshold else "")
                     + (f": {evidence}" if evidence else ""))
    if passed:
        lines.append(f"- passed: {', '.join(passed)}")
    return lines


def decision_section(outcome: str, candidate: Sequence[str], incumbent: Sequence[str],
                     gate_rows: Sequence[Mapping[str, Any]], *, advice: str = "",
                     report: str | None = None, report_link: str | None = None) -> str:
    """The decision part of a parent run's description: outcome, key evidence, the report.

    Gates that did not pass come first with their evidence (they are why the decision is not
    PROMOTE); passed gates are named on one line.

    Example:
        >>> print(decision_section("HOLD", ("s", "g"), ("l", "g"), [
        ...     {"gate": "intent", "status": "inconclusive", "evidence": "n too small"},
        ...     {"gate": "cost", "status": "pass"}], report="reports/r.html",
        ...     report_link="#/experiments/1/runs/9/artifacts/reports/r.html"))
        #### Decision
        **HOLD** for candidate `s · g` against incumbent `l · g`:
        - **INCONCLUSIVE** intent: n too small
        - passed: cost
        <BLANKLINE>
        Report: [reports/r.html](#/experiments/1/runs/9/artifacts/reports/r.html)
    """
    lines = [DECISION_HEADING,
             f"**{safe(outcome, 20)}** for candidate {code(config_label(candidate))} against "
             f"incumbent {code(config_label(incumbent))}:", *_evidence_lines(gate_rows)]
    if advice:
        lines.append(f"\n{safe(advice, 600)}")
    if report:
        shown = safe(report, 300).replace("]", "")
        lines.append(f"\nReport: [{shown}]({report_link})" if report_link
                     else f"\nReport: artifact {code(report)}")
    return "\n".join(lines)


def with_decision(note: str, section: str) -> str:
    """``note`` with its decision part replaced by ``section`` (added when it had none)."""
    head, _, _ = note.partition(DECISION_HEADING)
    other = note.partition(OTHER_REPORTS)[1:] if OTHER_REPORTS in note else ("", "")
    rest = "".join(other)
    return f"{head.rstrip()}\n\n{section}" + (f"\n\n{rest.strip()}" if rest else "")


def with_other_report(note: str, line: str) -> str:
    """``note`` listing one more report logged for other roles or gates (no duplicates)."""
    if line in note:
        return note
    if OTHER_REPORTS not in note:
        return f"{note.rstrip()}\n\n{OTHER_REPORTS}\n{line}"
    return f"{note.rstrip()}\n{line}"


def _spend(cmp: Comparison) -> str:
    results = cmp.results
    calls, hits = len(results), int(results["cache_hit"].sum()) if len(results) else 0
    cost = float(results["cost_usd"].fillna(0).sum() + results["judge_cost_usd"].fillna(0).sum())
    text = (f"This run billed {money(cmp.spent_usd)} for model and judge calls ({hits} of "
            f"{calls} answers from the cache); the recorded answers cost {money(cost)} when "
            "their calls were made")
    return text + (" (metric `cost_usd`)." if hits else ".")


def _paired_line(paired: PairedComparison | None) -> str:
    """The paired deltas in words: `` Candidate − incumbent (95% CI): intent −0.020 [...]``."""
    if paired is None:
        return ""
    parts = [f"{safe(m.metric, 80)} {m.delta:+.3f} [{m.low:+.3f}, {m.high:+.3f}]"
             for m in paired.metrics.values()]
    cost = paired.estimates.get("cost_ratio")
    if cost is not None and math.isfinite(cost.value):
        parts.append(f"cost ratio {cost.value:.3g} [{cost.low:.3g}, {cost.high:.3g}]")
    return f" Candidate − incumbent on {paired.n_cases} cases (95% CI): {'; '.join(parts)}." \
        if parts else ""


def parent_note(cmp: Comparison, *, candidate: Sequence[str] | None,
                incumbent: Sequence[str] | None, rerun: Rerun | None = None,
                decision: str | None = None, paired: PairedComparison | None = None) -> str:
    """The parent run's description (Markdown)."""
    gs, record = cmp.record.golden_set, cmp.record
    lines: list[str] = []
    if cmp.simulated_models or cmp.simulated_judges:
        lines.append("**SIMULATED models** (offline stand-ins, not real LLMs): " + ", ".join(
            dict.fromkeys([*cmp.simulated_models, *cmp.simulated_judges.values()])))
    if not cmp.complete:
        lines.append(f"**INCOMPLETE ({cmp.status})**: {safe(cmp.stop_reason or '', 500)}")
    scorers = ", ".join(s.name for s in record.scorers) or "none"
    lines.append(
        f"Comparison on golden set {code(gs.name)} ({gs.evaluated} cases evaluated, digest "
        f"{code(gs.digest[:19])}…): {len(record.models)} model(s) × {len(record.variants)} "
        f"prompt variant(s), scorers {safe(scorers, 500)}; logged by workbench {__version__}.")
    if candidate is not None and incumbent is not None:
        lines.append(f"Candidate {code(config_label(candidate))} against incumbent "
                     f"{code(config_label(incumbent))}: the candidate's run holds the paired "
                     "deltas as metrics `delta.<scorer>`." + _paired_line(paired))
    lines.append(_spend(cmp))
    if rerun is not None:
        lines.append(f"**Rerun** of [{safe(rerun.name, 200).replace(']', '')}]({rerun.link}) "
                     f"(logged {rerun.started} UTC, {rerun.status}), which billed "
                     f"{money(rerun.spent_usd)}: the same golden set, configurations, scorers "
                     "and settings.")
    lines.append("One child run per (model, variant): metrics with 95% CIs, per-case results "
                 "`cases.json` (`cases.parquet` above 20,000 cases), per-slice means "
                 "`slices.json`, every figure `figures.json`. "
                 "Here: the exact results under `comparison/`, the frozen golden set under "
                 "`golden_set/`, all charts in `charts.html`.")
    note = "\n\n".join(lines)
    return f"{note}\n\n{decision}" if decision else note


def _decoding(model: ModelRecord | None) -> str:
    params = model.params if model is not None else {}
    shown = [f"{k} {safe(params[k], 40)}" for k in DECODING if params.get(k) is not None]
    unset = [k for k in DECODING if params.get(k) is None]
    if unset:
        shown.append(f"{', '.join(unset)}: provider default")
    return "; ".join(shown)


def child_note(cmp: Comparison, config: Sequence[str], *, model: ModelRecord | None,
               variant: VariantRecord | None, role: str, other: Sequence[str] | None,
               other_link: str | None, metrics: int, figures: int,
               cases: str = "cases.json") -> str:
    """A child run's description: its configuration, role, prices and where its data is."""
    gs = cmp.record.golden_set
    sim = "SIMULATED; " if model is not None and model.simulated else ""
    about = ""
    if variant is not None:
        templates = "system + user" if variant.system else "user"
        about = (f" (version {code(variant.version)}, {templates} template, "
                 f"{len(variant.few_shot_ids)} few-shot example(s))")
    lines = [f"Model {code(config[0])} ({sim}{_decoding(model)}) with prompt variant "
             f"{code(config[1])}{about} on golden set {code(gs.name)}."]
    if role == "candidate" and other is not None:
        target = f"[{safe(config_label(other), 200)}]({other_link})" if other_link \
            else code(config_label(other))
        lines.append(f"**Candidate.** `delta.<scorer>` metrics: this run minus the incumbent "
                     f"{target} on the same cases, with 95% CIs (`delta.cost_ratio`: cost "
                     "ratio); the parent's `paired.json` has the whole paired table.")
    elif role == "incumbent" and other is not None:
        lines.append(f"**Incumbent**, against which the candidate {code(config_label(other))} "
                     "is compared.")
    pricing = model.pricing if model is not None else None
    if pricing is not None:
        source = safe(pricing.source, 100) or "source unknown"
        lines.append(f"Prices: {money(pricing.input_per_1m)} / {money(pricing.output_per_1m)} "
                     f"per 1M input / output tokens; source: {source}.")
    lines.append(f"{metrics} metrics; all {figures} figures in `figures.json`, per-case results "
                 f"in `{cases}`, per-slice means in `slices.json`.")
    return "\n\n".join(lines)


def judge_note(judge: JudgeRecord | None, scorer: str, figures: Mapping[str, Any],
               args: Mapping[str, Any] | None = None) -> str:
    """A judge's run description: the judge and its agreement with human labels."""
    label = judge.label if judge is not None else "unknown model"
    sim = " (SIMULATED)" if judge is not None and judge.simulated else ""
    rubric = (args or {}).get("rubric")

    def num(key: str, fmt: str = ".3f") -> str:
        value = figures.get(key)
        return "n/a" if value is None or (isinstance(value, float) and not math.isfinite(value)) \
            else format(float(value), fmt)

    lines = [f"Judge scorer {code(scorer)}: model {code(label)}{sim}"
             + (f", rubric {code(rubric)}" if rubric else "")
             + "; it scored the answers of every configuration of the parent comparison.",
             f"Calibrated against {num('labels_n', '.0f')} human labels "
             f"({safe(figures.get('kind', ''), 40)}): Cohen's kappa "
             f"({safe(figures.get('kappa_method', ''), 40)}) {num('kappa')} "
             f"[{num('kappa_ci_low')}, {num('kappa_ci_high')}] 95% CI, agreement "
             f"{num('agreement', '.1%')}, bias (judge − human) {num('bias', '+.3f')} "
             f"[{num('bias_ci_low', '+.3f')}, {num('bias_ci_high', '+.3f')}].",
             f"The whole table: {code(f'calibration_{scorer}.json')} on the parent run."]
    return "\n\n".join(lines)
