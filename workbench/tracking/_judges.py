"""A child run per calibrated judge: kappa, its CI and the agreement as metrics (issue #21)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workbench.runner import Comparison

from ._client import log_batch, safe, terminate
from ._figures import calibration_figures
from ._notes import judge_note

__all__ = ["JUDGE_KIND", "log_judges"]

JUDGE_KIND = "judge"
"""``workbench.kind`` of a judge's child run (configurations: ``configuration``)."""
KIND_TAG = "workbench.kind"
LOGGING_TAG = "workbench.logging"


def log_judges(c: Any, exp_id: str, pid: str, comparison: Comparison,
               calibrations: Mapping[str, Any], common_tags: Mapping[str, Any],
               status_tags: Mapping[str, Any]) -> None:
    """One child run per calibrated judge: the judge and its agreement with people as metrics."""
    record = comparison.record
    judges = {j.scorer: j for j in record.judges}
    scorers = {s.name: s for s in record.scorers}
    for name, calibration in calibrations.items():
        figures = calibration_figures(calibration)
        judge = judges.get(name)
        label = judge.label if judge else "?"
        cid = c.create_run(exp_id, run_name=safe(f"judge {name} · {label}", 250), tags={
            "mlflow.parentRunId": pid, KIND_TAG: JUDGE_KIND, "workbench.judge": name,
            "workbench.judge_model": label, LOGGING_TAG: "started",
            **{k: safe(v) for k, v in common_tags.items() if v is not None},
            "workbench.simulated": str(bool(judge and judge.simulated)).lower(),
        }).info.run_id
        numbers = {k: v for k, v in figures.items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
        if len(judges) == 1:  # the judge cost column is per row, for all judges together
            numbers["judge_cost_usd"] = float(comparison.results["judge_cost_usd"].fillna(0).sum())
        pricing = judge.pricing if judge and judge.pricing else None
        scorer = scorers.get(name)
        log_batch(c, cid, params={
            "judge.model": label, **{f"judge.{k}": v for k, v in (judge.params if judge else {}
                                                                  ).items()},
            "judge.scorer_ref": scorer.ref if scorer else None,
            **{f"judge.args.{k}": v for k, v in (scorer.args if scorer else {}).items()},
            "pricing.source": pricing.source if pricing else None,
            "calibration.kind": figures.get("kind"),
            "calibration.kappa_method": figures.get("kappa_method"),
        }, metrics=numbers, tags={"mlflow.note.content": judge_note(
            judge, name, figures, scorer.args if scorer else None)})
        log_batch(c, cid, tags=status_tags)
        terminate(c, cid, "FINISHED")
        log_batch(c, cid, tags={LOGGING_TAG: "finished"})
