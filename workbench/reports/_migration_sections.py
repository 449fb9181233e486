"""The migration report's own sections: judges, worst cases, examples, rollout, routing, charts."""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd
from pydantic import BaseModel, Field
from statsmodels.stats.multitest import multipletests

from workbench.errors import ConfigError
from workbench.runner import Comparison
from workbench.stats import (
    Decision,
    Gates,
    PairedComparison,
    noninferiority_pvalue,
    score_status,
)

from ._text import as_text, json_safe, word_diff

__all__ = ["Example", "examples_section", "figures_section", "judges_section",
           "rollout_section", "routing_section", "worst_section"]


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


def judges_section(comparison: Comparison, paired: PairedComparison, calibration: dict[str, Any]
                   ) -> list[dict[str, str]]:
    """Per judge scorer: the judge model and its agreement with human labels, if calibrated."""
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


def worst_section(paired: PairedComparison) -> list[dict[str, Any]]:
    """The worst decile of cases on the first metric (largest drops first)."""
    metric = next(iter(paired.metrics))
    worst = paired.worst(metric)
    cols = ["case_id", f"{metric}.incumbent", f"{metric}.candidate", f"{metric}.delta",
            *[c for c in worst.columns if c.startswith("slice.")]]
    rows = worst[cols].rename(columns=lambda c: c.removeprefix(f"{metric}."))
    return [json_safe({**r, "metric": metric}) for r in rows.to_dict("records")]


def examples_section(comparison: Comparison, paired: PairedComparison, gs: Any, k: int
                     ) -> list[Example]:
    """Regressions and improvements side by side, ``k`` of each, on the first differing metric."""
    # the first metric on which some case differs (a metric with no difference has no example)
    metric = next((m for m in paired.metrics if (paired.pairs[f"{m}.delta"] != 0).any()),
                  next(iter(paired.metrics)))
    pairs = paired.pairs.sort_values([f"{metric}.delta", "case_id"])
    chosen = [("regression", r) for r in pairs[pairs[f"{metric}.delta"] < 0].head(k)
              .to_dict("records")]
    ups = pairs[pairs[f"{metric}.delta"] > 0].sort_values(
        [f"{metric}.delta", "case_id"], ascending=[False, True]).head(k)
    chosen += [("improvement", r) for r in ups.to_dict("records")]
    wanted = {str(row["case_id"]) for _, row in chosen}
    res = comparison.results
    res = res[res["case_id"].astype(str).isin(wanted)]  # a few cases out of many
    first = res[res["repeat"] == res["repeat"].min()] if "repeat" in res else res
    details = comparison.score_details
    if len(details):
        details = details[details["case_id"].astype(str).isin(wanted)]
    rows_by_id = {str(r["id"]): r for r in gs.records(wanted)} if gs is not None else {}
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
            return {m: json_safe(float(side[f"score.{m}"])) for m in paired.metrics}

        inc_out = as_text(sides["incumbent"]["output"]) if sides["incumbent"] is not None else ""
        cand_out = as_text(sides["candidate"]["output"]) if sides["candidate"] is not None else ""
        out.append(Example(
            case_id=case, kind=kind, metric=metric,
            delta=float(row[f"{metric}.delta"]),
            inputs={c: as_text(data.get(c)) for c in input_cols},
            expected=as_text(data.get("expected")), incumbent_output=inc_out,
            candidate_output=cand_out, incumbent_scores=scores(sides["incumbent"]),
            candidate_scores=scores(sides["candidate"]), reasons=reasons,
            diff=word_diff(inc_out, cand_out)))
    return out


def rollout_section(decision: Decision, share: float, monthly: int) -> dict[str, Any]:
    """The canary, sized by the decision's own numbers, so the plan and the decision agree.

    PROMOTE: as many live requests as the paired cases the decision rests on. HOLD that more
    cases would likely settle: no canary before it is settled, then as many requests as the
    decision says it needs (``Decision.cases_needed``, the gates table's counts). REJECT, or a
    HOLD more data cannot settle: no canary, and the note says why.
    """
    if not 0 < share <= 1:
        raise ConfigError(f"canary_share={share!r}", fix="Give a share in (0, 1], e.g. 0.05.")
    per_day = share * monthly / 30
    failed = [g.gate.split(":")[0] for g in decision.gates if g.status == "fail"]
    requests: int | None = None
    if decision.outcome == "PROMOTE":
        requests, status, note = decision.paired.n_cases, "ready", ""
    elif decision.outcome == "REJECT":
        status, note = "none", f"no rollout: the candidate failed {', '.join(failed)}"
    elif decision.cases_needed is not None:
        requests, status = decision.cases_needed, "after the decision settles"
        note = (f"not before the decision settles: about {decision.extra_cases:,} more cases "
                f"({decision.cases_needed:,} in all) first")
    else:
        status, note = "none", f"no estimate: {decision.advice}"
    out: dict[str, Any] = json_safe({
        "share": share, "monthly_requests": monthly, "requests_per_day": per_day,
        "requests": requests, "cases_needed": decision.cases_needed,
        "extra_cases": decision.extra_cases,
        "days": math.ceil(requests / per_day) if requests and per_day else None,
        "status": status, "note": note,
        "gates": [{"gate": g.gate, "status": g.status, "extra_cases": g.extra_cases,
                   "hopeless": g.hopeless} for g in decision.gates],
        "triggers": [{"gate": g.gate, "threshold": g.threshold} for g in decision.gates]})
    return out


def routing_section(comparison: Comparison, paired: PairedComparison, config: Gates, gs: Any,
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
            table.append(json_safe({
                "value": value, "share": share, "route_to": "/".join(chosen),
                "cost_per_case": cost[chosen],
                "delta": best[2] if best and chosen != inc else 0.0,
                "p_adjusted": best[4] if best and chosen != inc else None,
                "n": best[3] if best else None}))
        out.append(json_safe({
            "slice": sl, "metric": metric, "margin": margin, "rows": table,
            "mix_source": "given" if mix and sl in mix else "the golden set's own mix",
            "monthly_cost_incumbent": cost[inc] * monthly,
            "monthly_cost_routed": routed_cost * monthly,
            "monthly_saving": (cost[inc] - routed_cost) * monthly}))
    return out


def figures_section(paired: PairedComparison, comparison: Comparison, config: Gates,
                    summary: pd.DataFrame | None = None) -> list[dict[str, Any]]:
    """The report's charts as JSON-ready dicts, the decision's first.

    The paired-delta forest plot (gate margins drawn), quality against cost for the first
    metric, the latency distribution, then the slice heatmap when there are slices; every
    configuration in its ``charts.config_colors`` colour.
    """
    from workbench import charts

    figs = charts.standard_figures(
        comparison, paired, metrics=[next(iter(paired.metrics))],
        margins={k: v.margin for k, v in config.metrics.items() if not v.superiority},
        summary=summary)
    # standard order: forest, [heatmap], cost vs quality, latency: the heatmap goes last
    is_map = [any(t.type == "heatmap" for t in f.data) for f in figs]
    ordered = [f for f, m in zip(figs, is_map, strict=True) if not m] + \
        [f for f, m in zip(figs, is_map, strict=True) if m]
    return [json.loads(f.to_json()) for f in ordered]
