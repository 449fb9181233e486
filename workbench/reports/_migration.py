"""The migration report: summary, charts, gates, quality, cost, rollout, routing, repro, appendix.

``migration_report`` computes everything into a typed ``MigrationReport`` (pydantic); Jinja2
templates render it to one self-contained HTML file, to GitHub Markdown and (through Chromium)
to PDF. Every number comes from ``wb.compare_configs`` / ``wb.decide``; every piece of model or
dataset text is escaped. The sections both reports share are in ``_sections.py``, this
report's own in ``_migration_sections.py``, the executive summary in ``_summary.py``, and the
``Report`` base with its exports in ``_report.py``.
"""

from __future__ import annotations

from typing import Any

from workbench.runner import Comparison
from workbench.stats import Decision, Gates, decide

from ._migration_sections import (
    Example,
    examples_section,
    figures_section,
    judges_section,
    rollout_section,
    routing_section,
    worst_section,
)
from ._report import Report, json_safe, markdown_escape
from ._sections import (
    config_colors,
    cost_section,
    decision_fields,
    golden_set_of,
    latency_section,
    quality_rows,
    rates_section,
    repro_section,
)
from ._summary import migration_summary

__all__ = ["MigrationReport", "Report", "markdown_escape", "migration_report"]

DEFAULT_MONTHLY_REQUESTS = 100_000
DEFAULT_CANARY_SHARE = 0.05

class MigrationReport(Report):
    """Everything a lead needs to decide a migration (``wb.migration_report``).

    Export with ``to_html(path)`` (one self-contained file) and ``to_markdown(path)``.
    """

    judges: list[dict[str, str]]
    slices: list[dict[str, Any]]
    worst: list[dict[str, Any]]
    examples: list[Example]
    rollout: dict[str, Any]
    routing: list[dict[str, Any]]


def migration_report(
    comparison: Comparison,
    candidate: tuple[str, str] | None = None,
    incumbent: tuple[str, str] | None = None,
    gates: Gates | None = None,
    *,
    monthly_requests: int = DEFAULT_MONTHLY_REQUESTS,
    canary_share: float = DEFAULT_CANARY_SHARE,
    slice_mix: dict[str, dict[str, float]] | None = None,
    calibration: dict[str, Any] | None = None,
    examples: int = 5,
    title: str | None = None,
    rebuild_command: str | None = None,
    charts: bool = True,
    decision: Decision | None = None,
) -> MigrationReport:
    """Build the migration report of ``candidate`` against ``incumbent``.

    Args:
        comparison: a comparison holding both configurations (loaded from MLflow or fresh).
        candidate: (model, variant) of the candidate; default: the gates file's.
        incumbent: (model, variant) of the incumbent; default: the gates file's.
        gates: decision gates; ``None`` applies ``Gates.default`` (printed in the report).
        monthly_requests: the production volume for monthly cost and rollout duration.
        canary_share: the share of traffic the canary gets (default 5%).
        slice_mix: per routable slice, the production share of each value (default: the
            golden set's own mix, stated as such).
        calibration: per judge scorer name, a ``wb.calibrate`` result (or its table as logged
            to MLflow, ``calibration_<scorer>.json``) to show its agreement with humans
            (judges without one are marked "uncalibrated").
        examples: how many regressions and improvements to show side by side.
        title: the report's title (default names both configurations).
        charts: embed the charts in the HTML (forest, slices, cost vs quality, latency).
        rebuild_command: the command that rebuilds this report (shown under
            reproducibility; default from the MLflow run id when the comparison was logged).
        decision: a ``wb.decide`` result for these gates and roles, reused instead of deciding
            again (decided anew when its gates or roles differ).

    Example:
        A comparison built by hand (``wb.compare`` makes one from model calls, and
        ``wb.load_comparison`` loads a logged one): 100 cases on which the candidate fixes 12
        of the incumbent's 30 wrong answers, breaks 3 of its right ones and costs a quarter.

        >>> import tempfile
        >>> import pandas as pd
        >>> import workbench as wb
        >>> from workbench.records import GoldenSetRef, RunRecord
        >>> incumbent = ["right"] * 70 + ["wrong"] * 30
        >>> candidate = ["wrong"] * 3 + ["right"] * 79 + ["wrong"] * 18
        >>> answers, n = incumbent + candidate, len(incumbent)
        >>> results = pd.DataFrame({
        ...     "case_id": [f"c{i:03d}" for i in range(n)] * 2, "repeat": 0,
        ...     "model": ["large"] * n + ["small"] * n, "variant": "v1", "error_type": None,
        ...     "output": answers, "score.exact_match": [float(a == "right") for a in answers],
        ...     "cost_usd": [0.002] * n + [0.0005] * n, "latency_s": [0.9] * n + [0.4] * n,
        ...     "prompt_tokens": 400, "completion_tokens": 20, "billed_usd": 0.0,
        ...     "judge_cost_usd": 0.0, "cache_hit": True})
        >>> cmp = wb.Comparison(results, RunRecord(golden_set=GoldenSetRef(name="toy", digest="")))
        >>> report = migration_report(cmp, ("small", "v1"), ("large", "v1"), charts=False)
        >>> report.outcome, report.extra_cases, report.cost["ratio"]["value"]
        ('HOLD', 40, 0.25)
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     report.to_html(f"{tmp}/migration_report.html").name
        'migration_report.html'
    """
    if decision is not None:  # already decided (e.g. by `workbench run`): not computed twice
        gates = decision.config if gates is None else gates
    default = gates is None
    config = gates or Gates.default(list(comparison.scorers))
    if decision is None or decision.config != config or (
            candidate is not None and tuple(candidate) != decision.candidate) or (
            incumbent is not None and tuple(incumbent) != decision.incumbent):
        decision = decide(comparison, config, candidate=candidate, incumbent=incumbent)
    paired = decision.paired
    cand, inc = decision.candidate, decision.incumbent
    summary = comparison.summary(errors=config.errors)
    sims = set(comparison.simulated_models)
    simulated = cand[0] in sims or inc[0] in sims
    banner = []
    if not comparison.complete:
        banner.append(f"INCOMPLETE comparison ({comparison.status}: "
                      f"{comparison.stop_reason or 'stopped early'}): the decision can at most "
                      "HOLD")
    if simulated:
        banner.append("SIMULATED models: offline stand-ins computed from the prompt text, not "
                      "real LLMs. The numbers show the method, not real model quality.")
    if default:
        banner.append("default gates (no gates file given): every metric non-inferior within "
                      "0.02, error rate ≤ 5%, no significant slice regression")
    gs = golden_set_of(comparison)
    judges = judges_section(comparison, paired, calibration or {})
    quality = quality_rows(paired)
    cost = cost_section(summary, paired, cand, inc, monthly_requests)
    latency = latency_section(summary, paired, cand, inc)
    rollout = rollout_section(decision, canary_share, monthly_requests)
    volume = ("assumed: the default volume; give monthly_requests= your traffic"
              if monthly_requests == DEFAULT_MONTHLY_REQUESTS else "as given")
    report = MigrationReport(
        title=title or f"Migration report: {'/'.join(cand)} replacing {'/'.join(inc)}",
        **decision_fields(decision, default), banner=banner,
        summary=migration_summary(decision, quality, cost, latency, rollout, volume,
                                  comparison.complete),
        colors=config_colors(comparison), volume=volume,
        errors_rule=("failed calls and scorer failures (including unparsable verdicts) score 0 "
                     "and count as errors" if config.errors == "zero" else
                     "pairs with a failed call or a scorer failure are dropped and count as "
                     "errors"),
        quality=quality, judges=judges,
        slices=[json_safe(r) for r in paired.slices.to_dict("records")],
        worst=worst_section(paired), cost=cost, latency=latency,
        rates=rates_section(summary, comparison, paired, cand, inc),
        examples=examples_section(comparison, paired, gs, examples), rollout=rollout,
        routing=routing_section(comparison, paired, config, gs, summary, inc, slice_mix,
                                monthly_requests),
        reproducibility=repro_section(comparison, config, rebuild_command),
        figures=figures_section(paired, comparison, config, summary) if charts else [],
    )
    return report
