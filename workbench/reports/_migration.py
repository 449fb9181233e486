"""The migration report: decision, quality, cost and latency, examples, rollout, routing, repro.

``migration_report`` computes everything into a typed ``MigrationReport`` (pydantic); Jinja2
templates render it to one self-contained HTML file and to GitHub Markdown. Every number comes
from ``wb.compare_configs`` / ``wb.decide``; every piece of model or dataset text is escaped.
"""

from __future__ import annotations

import difflib
import html
import json
import math
import re
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import BaseModel, ConfigDict, Field
from statsmodels.stats.multitest import multipletests

from workbench._atomic import write_text
from workbench._version import __version__
from workbench.errors import ConfigError
from workbench.runner import Comparison
from workbench.stats import (
    Decision,
    Gates,
    PairedComparison,
    decide,
    gate_cases,
    noninferiority_pvalue,
    score_status,
)

__all__ = ["MigrationReport", "Report", "markdown_escape", "migration_report"]

DEFAULT_MONTHLY_REQUESTS = 100_000
DEFAULT_CANARY_SHARE = 0.05
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def markdown_escape(value: Any) -> str:
    r"""Text safe inside GitHub Markdown (and its tables): no markup, links, images or HTML.

    Example:
        >>> markdown_escape("a|b ![x](http://e/i.png) <img src=x>\nnext")
        'a\\|b \\!\\[x\\]\\(http://e/i\\.png\\) &lt;img src=x&gt; ⏎ next'
    """
    text = "" if value is None else str(value)
    text = re.sub(r"\r\n|\r|\n", " ⏎ ", text)
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff as (op, text) with op in ``=``, ``-``, ``+``.

    Example:
        >>> word_diff("the cat sat", "the dog sat")
        [('=', 'the'), ('-', 'cat'), ('+', 'dog'), ('=', 'sat')]
    """
    a, b = (old or "").split(), (new or "").split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(("-", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", " ".join(b[j1:j2])))
    return out


class Example(BaseModel):
    """One case side by side: inputs, both outputs, expected, scores, judge reasons, diff."""

    case_id: str
    kind: str
    """``regression`` or ``improvement``."""
    metric: str
    delta: float
    inputs: dict[str, str]
    expected: str
    incumbent_output: str
    candidate_output: str
    incumbent_scores: dict[str, float | None]
    candidate_scores: dict[str, float | None]
    reasons: dict[str, str] = Field(default_factory=dict)
    diff: list[tuple[str, str]] = Field(default_factory=list)


class Report(BaseModel):
    """What the HTML and Markdown reports share: a decision with its gates, and figures.

    Subclasses name their templates (``<stem>.html.j2`` and ``<stem>.md.j2``).
    """

    model_config = ConfigDict(frozen=True)
    template: ClassVar[str] = "migration"

    title: str
    created_at: str
    candidate: tuple[str, str]
    incumbent: tuple[str, str]
    outcome: str
    headline: str
    banner: list[str]
    gates: list[dict[str, Any]]
    gates_config: dict[str, Any]
    default_gates: bool
    cases_needed: int | None
    extra_cases: int | None
    advice: str = ""
    """For HOLD: what more data would do (``Decision.advice``)."""
    n_cases: int
    errors_rule: str
    quality: list[dict[str, Any]]
    """Paired metrics, one row each (``MetricDelta.row()`` plus the metric's name)."""
    cost: dict[str, Any]
    latency: list[dict[str, Any]]
    rates: list[dict[str, Any]]
    reproducibility: dict[str, Any]
    figures: list[dict[str, Any]] = Field(default_factory=list, repr=False)
    """Plotly figures as JSON-ready dicts."""

    def html(self) -> str:
        """The report as one HTML page (plotly.js embedded once; nothing from the network)."""
        import plotly.io as pio

        charts = [pio.from_json(json.dumps(fig)).to_html(
            full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
            for i, fig in enumerate(self.figures)]
        return _env().get_template(f"{self.template}.html.j2").render(r=self, charts=charts)

    def markdown(self) -> str:
        """The report as GitHub Markdown (tables, no raw HTML; charts are in the HTML)."""
        return _env().get_template(f"{self.template}.md.j2").render(r=self)

    def to_html(self, path: str | Path) -> Path:
        """Write the HTML report; returns the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, self.html())  # atomic: a kill never leaves half a report
        return out

    def to_markdown(self, path: str | Path) -> Path:
        """Write the Markdown report; returns the path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        write_text(out, self.markdown())
        return out

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(g['status'].upper())}</td>"
                       f"<td>{html.escape(g['gate'])}</td><td>{html.escape(g['evidence'])}</td>"
                       "</tr>" for g in self.gates)
        notes = "".join(f"<li>{html.escape(b)}</li>" for b in self.banner)
        return (f"<div><h3>{html.escape(self.title)}</h3><p><b>{html.escape(self.outcome)}"
                f"</b> {html.escape(self.headline)}</p><ul>{notes}</ul><table>{rows}</table>"
                "<p>Full report: <code>.to_html(path)</code>, <code>.to_markdown(path)"
                "</code></p></div>")


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


def _env() -> Environment:
    """The report templates' Jinja2 environment: HTML autoescaped, ``md`` and ``num`` filters."""
    env = Environment(loader=PackageLoader("workbench.reports", "templates"),
                      autoescape=select_autoescape(["html.j2"]), trim_blocks=True,
                      lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["md"] = markdown_escape
    env.filters["num"] = _num
    return env


def _num(value: Any, digits: int = 3, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def _clean(value: Any) -> Any:
    """JSON-safe plain Python values (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


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
        >>> report = wb.migration_report(cmp, ("sim/b", "g"), ("sim/a", "g"))  # doctest: +SKIP
        >>> report.to_html("reports/migration_report.html")  # doctest: +SKIP
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
    gs = _golden_set(comparison)
    judges = _judges(comparison, paired, calibration or {})
    report = MigrationReport(
        title=title or f"Migration report: {'/'.join(cand)} replacing {'/'.join(inc)}",
        **decision_fields(decision, default), banner=banner,
        errors_rule=("failed calls and scorer failures (including unparsable verdicts) score 0 "
                     "and count as errors" if config.errors == "zero" else
                     "pairs with a failed call or a scorer failure are dropped and count as "
                     "errors"),
        quality=quality_rows(paired), judges=judges,
        slices=[_clean(r) for r in paired.slices.to_dict("records")],
        worst=_worst(paired),
        cost=_cost(summary, paired, cand, inc, monthly_requests),
        latency=_latency(summary, paired, cand, inc),
        rates=_rates(summary, comparison, paired, cand, inc),
        examples=_examples(comparison, paired, gs, examples),
        rollout=_rollout(decision, canary_share, monthly_requests),
        routing=_routing(comparison, paired, config, gs, summary, inc, slice_mix,
                         monthly_requests),
        reproducibility=_repro(comparison, config, rebuild_command),
        figures=_figures(paired, comparison, config) if charts else [],
    )
    return report


def decision_fields(decision: Decision, default_gates: bool) -> dict[str, Any]:
    """The ``Report`` fields that come from a decision (roles, outcome, gates, cases)."""
    return {"created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "candidate": decision.candidate, "incumbent": decision.incumbent,
            "outcome": decision.outcome, "headline": decision.headline(),
            "gates": [_clean(g.__dict__) for g in decision.gates],
            "gates_config": decision.config.model_dump(mode="json"),
            "default_gates": default_gates, "cases_needed": decision.cases_needed,
            "extra_cases": decision.extra_cases, "advice": decision.advice,
            "n_cases": decision.paired.n_cases}


def quality_rows(paired: PairedComparison) -> list[dict[str, Any]]:
    """One JSON-safe row per paired metric (``MetricDelta.row()`` plus its name)."""
    return [_clean({**m.row(), "metric": name}) for name, m in paired.metrics.items()]


def _golden_set(comparison: Comparison) -> Any:
    try:
        return comparison.golden_set()
    except ConfigError:
        return None


def _judges(comparison: Comparison, paired: PairedComparison, calibration: dict[str, Any]
            ) -> list[dict[str, str]]:
    out = []
    judged = {j.scorer: j for j in comparison.record.judges}
    for name in paired.metrics:
        if name not in judged:
            continue
        cal = calibration.get(name)
        if cal is None:
            text = "uncalibrated: no human labels were given for this judge"
        else:
            # a wb.calibrate result, or its table as logged to MLflow (figure, value)
            frame = (cal.to_frame() if hasattr(cal, "to_frame")
                     else cal.set_index("figure"))["value"]
            text = "; ".join(f"{k} {frame[k]}" for k in frame.index
                             if str(k).startswith(("kappa", "n ")) or "agreement" in str(k))
        sim = " (SIMULATED judge)" if judged[name].simulated else ""
        out.append({"metric": name, "judge": f"{judged[name].label}{sim}", "agreement": text})
    return out


def _worst(paired: PairedComparison) -> list[dict[str, Any]]:
    metric = next(iter(paired.metrics))
    worst = paired.worst(metric)
    cols = ["case_id", f"{metric}.incumbent", f"{metric}.candidate", f"{metric}.delta",
            *[c for c in worst.columns if c.startswith("slice.")]]
    rows = worst[cols].rename(columns=lambda c: c.removeprefix(f"{metric}."))
    return [_clean({**r, "metric": metric}) for r in rows.to_dict("records")]


def _per(summary: pd.DataFrame, config: tuple[str, str], key: str) -> float:
    if config not in summary.index:
        return float("nan")
    return float(np.asarray(summary.loc[config, key], dtype=float))


def _cost(summary: pd.DataFrame, paired: PairedComparison, cand: tuple[str, str],
          inc: tuple[str, str], monthly: int) -> dict[str, Any]:
    sides = {}
    for role, cfg in (("incumbent", inc), ("candidate", cand)):
        per_case = _per(summary, cfg, "cost_per_case_usd")
        judge = _per(summary, cfg, "judge_cost_usd") / max(1.0, _per(summary, cfg, "n_cases"))
        sides[role] = {"per_case": per_case, "per_1k": per_case * 1000,
                       "per_month": per_case * monthly, "judge_per_case": judge}
    ratio = paired.estimates.get("cost_ratio")
    out: dict[str, Any] = _clean({**sides, "monthly_requests": monthly,
                   "ratio": None if ratio is None else {
                       "value": ratio.value, "low": ratio.low, "high": ratio.high,
                       "method": ratio.method},
                   "monthly_saving": sides["incumbent"]["per_month"]
                   - sides["candidate"]["per_month"]})
    return out


def _latency(summary: pd.DataFrame, paired: PairedComparison, cand: tuple[str, str],
             inc: tuple[str, str]) -> list[dict[str, Any]]:
    rows = []
    for q in (50, 95, 99):
        est = paired.estimates.get(f"latency_p{q}_s")
        rows.append(_clean({
            "quantile": f"p{q}", "incumbent": _per(summary, inc, f"latency_p{q}_s"),
            "candidate": _per(summary, cand, f"latency_p{q}_s"),
            "delta": None if est is None else est.value,
            "low": None if est is None else est.low, "high": None if est is None else est.high,
            "method": "" if est is None else est.method}))
    return rows


def _rates(summary: pd.DataFrame, comparison: Comparison, paired: PairedComparison,
           cand: tuple[str, str], inc: tuple[str, str]) -> list[dict[str, Any]]:
    err = paired.estimates["error_rate"]
    inc_err = paired.estimates.get("error_rate_increase")
    rows = [_clean({"rate": "error rate (failed calls + scorer failures)",
                    "incumbent": err.incumbent, "candidate": err.candidate, "low": err.low,
                    "high": err.high, "method": f"{err.method}, candidate"})]
    if inc_err is not None:
        rows.append(_clean({"rate": "error-rate increase (candidate − incumbent, by case)",
                            "incumbent": None, "candidate": inc_err.value,
                            "low": inc_err.low, "high": inc_err.high,
                            "method": inc_err.method}))
    refusal = [s for s in comparison.scorers if "refusal" in s]
    for name in refusal:
        col = f"score.{name}"
        res = comparison.results
        values = {role: res[(res.model == cfg[0]) & (res.variant == cfg[1])][col]
                  for role, cfg in (("incumbent", inc), ("candidate", cand))}
        rows.append(_clean({"rate": f"{name} (mean score)",
                            "incumbent": float(values["incumbent"].mean()),
                            "candidate": float(values["candidate"].mean()),
                            "low": None, "high": None, "method": "mean"}))
    return rows


def _examples(comparison: Comparison, paired: PairedComparison, gs: Any, k: int
              ) -> list[Example]:
    # the first metric on which some case differs (a metric with no difference has no example)
    metric = next((m for m in paired.metrics if (paired.pairs[f"{m}.delta"] != 0).any()),
                  next(iter(paired.metrics)))
    pairs = paired.pairs.sort_values([f"{metric}.delta", "case_id"])
    chosen = [("regression", r) for r in pairs[pairs[f"{metric}.delta"] < 0].head(k)
              .to_dict("records")]
    ups = pairs[pairs[f"{metric}.delta"] > 0].sort_values(
        [f"{metric}.delta", "case_id"], ascending=[False, True]).head(k)
    chosen += [("improvement", r) for r in ups.to_dict("records")]
    res = comparison.results
    first = res[res["repeat"] == res["repeat"].min()] if "repeat" in res else res
    details = comparison.score_details
    rows_by_id = {str(r["id"]): r for r in gs.records()} if gs is not None else {}
    input_cols = list(gs.input_columns) if gs is not None else []
    out = []
    for kind, row in chosen:
        case = str(row["case_id"])
        data = rows_by_id.get(case, {})
        sides = {}
        for role, cfg in (("incumbent", paired.incumbent), ("candidate", paired.candidate)):
            sel = first[(first.model == cfg[0]) & (first.variant == cfg[1])
                        & (first.case_id.astype(str) == case)]
            sides[role] = sel.iloc[0] if len(sel) else None
        reasons = {}
        if len(details):
            d = details[(details.case_id.astype(str) == case) & details.explanation.notna()]
            for rec in d.itertuples(index=False):
                if (rec.model, rec.variant) in (paired.incumbent, paired.candidate):
                    role = "candidate" if (rec.model, rec.variant) == paired.candidate \
                        else "incumbent"
                    reasons[f"{rec.scorer} ({role})"] = str(rec.explanation)

        def scores(side: Any) -> dict[str, float | None]:
            if side is None:
                return {}
            return {m: _clean(float(side[f"score.{m}"])) for m in paired.metrics}

        inc_out = _text(sides["incumbent"]["output"]) if sides["incumbent"] is not None else ""
        cand_out = _text(sides["candidate"]["output"]) if sides["candidate"] is not None else ""
        out.append(Example(
            case_id=case, kind=kind, metric=metric,
            delta=float(row[f"{metric}.delta"]),
            inputs={c: _text(data.get(c)) for c in input_cols},
            expected=_text(data.get("expected")), incumbent_output=inc_out,
            candidate_output=cand_out, incumbent_scores=scores(sides["incumbent"]),
            candidate_scores=scores(sides["candidate"]), reasons=reasons,
            diff=word_diff(inc_out, cand_out)))
    return out


def _rollout(decision: Decision, share: float, monthly: int) -> dict[str, Any]:
    """The canary: as many live requests as the decision's own numbers need per gate.

    Each quality gate's count comes from ``gate_cases`` (the observed Δ and spread, the
    minimum of informative cases), the same function that states how many cases would settle
    a HOLD, so the rollout plan and the decision cannot disagree.
    """
    if not 0 < share <= 1:
        raise ConfigError(f"canary_share={share!r}", fix="Give a share in (0, 1], e.g. 0.05.")
    needs: list[dict[str, Any]] = []
    for name, gate in decision.config.metrics.items():
        m = decision.paired.metrics.get(name)
        if m is None:
            continue
        n, hopeless, why = gate_cases(m, gate, decision.config)
        needs.append({"metric": name, "margin": gate.margin, "n": n,
                      "method": why if n is None else
                      "from the observed Δ and spread, as the decision"})
    known = [x["n"] for x in needs if x["n"] is not None]
    n_all = max(known) if known and len(known) == len(needs) else None
    per_day = share * monthly / 30
    note = ("" if n_all is not None else
            "no estimate: " + "; ".join(f"{x['metric']}: {x['method']}" for x in needs
                                         if x["n"] is None) if needs else
            "no estimate: the gates have no quality metric")
    triggers = [{"gate": g.gate, "threshold": g.threshold} for g in decision.gates]
    out: dict[str, Any] = _clean({
        "share": share, "monthly_requests": monthly, "requests_per_day": per_day,
        "cases_needed": n_all, "days": math.ceil(n_all / per_day) if n_all and per_day else None,
        "needs": needs, "triggers": triggers, "note": note})
    return out


def _routing(comparison: Comparison, paired: PairedComparison, config: Gates, gs: Any,
             summary: pd.DataFrame, inc: tuple[str, str],
             mix: dict[str, dict[str, float]] | None, monthly: int) -> list[dict[str, Any]]:
    """Exploratory: per routable slice value, the cheapest config non-inferior to the incumbent."""
    if gs is None or not gs.routable:
        return []
    metric = next(iter(config.metrics), None) or next(iter(paired.metrics))
    margin = config.metrics[metric].margin if metric in config.metrics else 0.02
    res = comparison.results
    configs: list[tuple[str, str]] = [(str(c[0]), str(c[1])) for c in summary.index
                                      if (str(c[0]), str(c[1])) != inc]
    cost = {tuple(map(str, c)): float(summary.loc[c, "cost_per_case_usd"])
            for c in summary.index}
    def per_case(cfg: tuple[str, str]) -> pd.Series:  # the gates' missing-score rule
        rows = res[(res.model == cfg[0]) & (res.variant == cfg[1])]
        values = status.value.loc[rows.index]
        return values.groupby(rows.case_id.astype(str)).mean()

    status = score_status(res, metric, config.errors)

    base_scores = per_case(inc)
    scores_of = {cfg: per_case(cfg) for cfg in configs}  # once, not per slice value
    out = []
    for sl in gs.routable:
        scol = f"slice.{sl}"
        if scol not in res:
            continue
        values = sorted(res[scol].dropna().astype(str).unique())
        tests = []
        for value in values:
            cases = set(res[res[scol].astype(str) == value].case_id.astype(str))
            for cfg in configs:
                scores = scores_of[cfg]
                shared = sorted(cases & set(scores.index) & set(base_scores.index))
                a = base_scores.reindex(shared).to_numpy()
                b = scores.reindex(shared).to_numpy()
                p = noninferiority_pvalue(a, b, margin, min_informative=config.min_informative)
                d = b - a
                tests.append((value, cfg, p, float(d.mean()) if len(d) else float("nan"),
                              len(d)))
        if not tests:
            continue
        adjusted = multipletests([t[2] for t in tests], alpha=config.alpha, method="holm")[1]
        shares = (mix or {}).get(sl) or {v: c / max(1, len(gs)) for v, c in
                                         gs.slice_counts()[sl].items()}
        total = sum(shares.get(v, 0.0) for v in values) or 1.0
        table: list[dict[str, Any]] = []
        routed_cost = 0.0
        for value in values:
            ok = [(cost[cfg], cfg, d, n, adj) for (v, cfg, _p, d, n), adj in
                  zip(tests, adjusted, strict=True) if v == value and adj < config.alpha]
            best = min(ok, default=None, key=lambda x: (x[0], x[1]))
            chosen = best[1] if best and best[0] < cost[inc] else inc
            share = shares.get(value, 0.0) / total
            routed_cost += share * cost[chosen]
            table.append(_clean({
                "value": value, "share": share, "route_to": "/".join(chosen),
                "cost_per_case": cost[chosen],
                "delta": best[2] if best and chosen != inc else 0.0,
                "p_adjusted": best[4] if best and chosen != inc else None,
                "n": best[3] if best else None}))
        out.append(_clean({
            "slice": sl, "metric": metric, "margin": margin, "rows": table,
            "mix_source": "given" if mix and sl in mix else "the golden set's own mix",
            "monthly_cost_incumbent": cost[inc] * monthly,
            "monthly_cost_routed": routed_cost * monthly,
            "monthly_saving": (cost[inc] - routed_cost) * monthly}))
    return out


def _repro(comparison: Comparison, config: Gates, command: str | None) -> dict[str, Any]:
    record = comparison.record
    run = record.tracking.run_id if record.tracking else None
    if command is None and run:
        command = f"workbench report {shlex.quote(str(run))} --out migration_report.html"
    out: dict[str, Any] = _clean({
        "dataset": record.golden_set.model_dump(),
        "variants": [{"name": v.name, "version": v.version, "system": v.system, "user": v.user}
                     for v in record.variants],
        "models": [{"label": m.label, "params": m.params,
                    "pricing": m.pricing.model_dump() if m.pricing else None,
                    "simulated": m.simulated,
                    "recorded": m.recorded}  # answers taken from a log (shadow test)
                   for m in record.models],
        "seed": record.settings.seed, "bootstrap_seed": config.seed,
        "repeats": record.settings.repeats, "versions": {**record.versions.model_dump(),
                                                         "workbench": __version__},
        "mlflow_run_id": run, "command": command or "(not logged to MLflow: log it with "
        "wb.log_comparison, then `workbench report <run id>` rebuilds this report)",
        "status": comparison.status})
    return out


def _figures(paired: PairedComparison, comparison: Comparison, config: Gates
             ) -> list[dict[str, Any]]:
    from workbench import charts

    figs = charts.standard_figures(
        comparison, paired, metrics=[next(iter(paired.metrics))],
        margins={k: v.margin for k, v in config.metrics.items() if not v.superiority})
    return [json.loads(f.to_json()) for f in figs]
