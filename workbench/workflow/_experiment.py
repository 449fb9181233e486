"""One workflow for an experiment file: plan, run, save, pairwise, calibrate, decide, log, report.

``workbench run``, ``workbench gate`` and the demo call :func:`run_experiment` and only format
what it returns (and what it tells a :class:`Listener` as it goes); a notebook calls it the
same way, with no listener or one of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from workbench._atomic import write_text
from workbench._home import default_tracking_uri
from workbench.experiments import LoadedExperiment, load_experiment
from workbench.records import DecisionRecord, GateRecord, Roles
from workbench.runner import Comparison, Executor, PairwiseTable, Plan, pairwise, run_plan
from workbench.shadow import TrafficLog
from workbench.stats import Calibration, Decision, calibrate, decide

from ._facade import log_comparison, migration_report

__all__ = ["ExperimentResult", "Listener", "QuietListener", "run_experiment"]


class Listener(Protocol):
    """What a workflow tells as it goes (the command line prints each step).

    Any object with these methods will do; :class:`QuietListener` does nothing.
    """

    def planned(self, plan: Plan) -> None:
        """The checked, priced plan (before any call)."""

    def ran(self, comparison: Comparison) -> None:
        """The comparison is complete (or stopped); nothing saved or logged yet."""

    def saved(self, path: Path) -> None:
        """The comparison was saved to ``path``."""

    def judged(self, table: PairwiseTable) -> None:
        """The pairwise verdicts of the experiment's candidate and incumbent."""

    def calibrated(self, name: str, calibration: Calibration,
                   simulated_judge: str | None) -> None:
        """A judge scorer was calibrated against the human labels."""

    def decided(self, decision: Decision, gates: str) -> None:
        """The gates' decision."""

    def logged(self, run_id: str, tracking_uri: str, experiment: str) -> None:
        """The comparison was logged to MLflow."""

    def log_failed(self, error: Exception) -> None:
        """Logging failed; the results are saved (the error says how to log them later)."""

    def reported(self, html: Path, markdown: Path, outcome: str, logged_as: str | None) -> None:
        """A report was written (and logged to the run as ``logged_as``)."""

    def loaded(self, log: TrafficLog) -> None:
        """(Shadow tests) the traffic log, validated and redacted."""


class QuietListener:
    """A listener that shows nothing (the default)."""

    def planned(self, plan: Plan) -> None:
        """Nothing."""

    def ran(self, comparison: Comparison) -> None:
        """Nothing."""

    def saved(self, path: Path) -> None:
        """Nothing."""

    def judged(self, table: PairwiseTable) -> None:
        """Nothing."""

    def calibrated(self, name: str, calibration: Calibration,
                   simulated_judge: str | None) -> None:
        """Nothing."""

    def decided(self, decision: Decision, gates: str) -> None:
        """Nothing."""

    def logged(self, run_id: str, tracking_uri: str, experiment: str) -> None:
        """Nothing."""

    def log_failed(self, error: Exception) -> None:
        """Nothing."""

    def reported(self, html: Path, markdown: Path, outcome: str, logged_as: str | None) -> None:
        """Nothing."""

    def loaded(self, log: TrafficLog) -> None:
        """Nothing."""


@dataclass
class ExperimentResult:
    """What :func:`run_experiment` did."""

    experiment: LoadedExperiment
    plan: Plan
    comparison: Comparison | None = None
    """None for a dry run."""
    saved: Path | None = None
    pairwise: PairwiseTable | None = None
    calibrations: dict[str, Calibration] = field(default_factory=dict)
    decision: Decision | None = None
    run_id: str | None = None
    log_error: Exception | None = None
    report: Path | None = None
    """The HTML migration report, when one was written."""


def run_experiment(
    path: str | Path,
    *,
    dry_run: bool = False,
    out: str | Path | None = None,
    resume: bool = False,
    cache: bool = True,
    budget_usd: float | None = None,
    progress: bool = True,
    mlflow: bool = True,
    tracking_uri: str | None = None,
    report_dir: str | Path | None = None,
    retry_errors: bool = False,
    lock_timeout_s: float = 0.0,
    allow_outside: tuple[str | Path, ...] | list[str | Path] = (),
    gates: Any = None,
    decide_only: bool = False,
    listener: Listener | None = None,
    workers: int | None = None,
    executor: Executor = "local",
    address: str | None = None,
) -> ExperimentResult:
    """Run an experiment file end to end and return what happened.

    Steps: load and check the file, plan (priced), run (cache, budget, resume), save (to
    ``out``, or under the cache when logging), judge pairwise, calibrate judges against the
    human labels, decide with the gates, log to the file's MLflow experiment (``mlflow=False``
    skips it; a failure is kept in ``log_error`` with the results saved), and write the
    migration report to ``report_dir`` (default ``out``). ``decide_only`` runs and decides
    (with ``gates`` or the file's) and nothing else: what ``workbench gate`` does. ``workers``
    (default: the file's ``workers:``), ``executor`` and ``address`` run the cases in several
    processes or on Ray (see ``wb.compare``).

    Raises:
        ConfigError: the experiment file, a path in it or the gates are wrong.

    Example:
        >>> r = wb.workflow.run_experiment("examples/triage_experiment.yaml", dry_run=True)
        >>> r.plan.calls, r.comparison is None
        (912, True)
    """
    tell: Listener = listener or QuietListener()
    loaded = load_experiment(path, allow_outside=list(allow_outside))
    opts = loaded.options()
    p = loaded.plan(budget_usd=budget_usd)
    result = ExperimentResult(loaded, p)
    tell.planned(p)
    if dry_run:
        return result
    use_cache = opts["cache"] and cache
    cmp = result.comparison = run_plan(p, concurrency=opts["concurrency"], cache=use_cache,
                                       resume=resume, progress=progress,
                                       retry_errors=retry_errors,
                                       lock_timeout_s=lock_timeout_s,
                                       workers=(loaded.experiment.workers if workers is None
                                                else workers),
                                       executor=executor, address=address)
    tell.ran(cmp)
    the_gates = gates or loaded.gates
    if decide_only:
        if the_gates is not None:
            result.decision = decide(cmp, the_gates)
        return result
    out_dir = Path(out) if out is not None else None
    experiment = loaded.experiment.mlflow_experiment
    logging = bool(mlflow and experiment)
    if out_dir is not None or logging:  # results are saved before anything is logged
        from workbench.models import default_cache_dir

        result.saved = cmp.save(out_dir if out_dir is not None else
                                default_cache_dir() / "runs" / f"{p.fingerprint()}.comparison")
        tell.saved(result.saved)
    tables: dict[str, Any] = {}
    pw_config = loaded.experiment.pairwise
    if pw_config is not None and cmp.complete:
        pw = result.pairwise = pairwise(
            cmp, candidate=pw_config.candidate, incumbent=pw_config.incumbent,
            judge=pw_config.judge, rubric=pw_config.rubric, golden_set=loaded.golden_set,
            cache=use_cache)
        tell.judged(pw)
        if out_dir is not None:
            write_text(out_dir / "pairwise.csv", pw.to_csv(index=False))
        tables["pairwise.json"] = pw
    labels = loaded.human_labels
    if labels is not None and cmp.complete:
        for name in [s.name for s in loaded.scorers if s.name in set(labels["scorer"])]:
            cal = result.calibrations[name] = calibrate(cmp, labels, scorer=name)
            tell.calibrated(name, cal, cmp.simulated_judges.get(name))
            if out_dir is not None:
                write_text(out_dir / f"calibration_{name}.csv", cal.to_frame().to_csv())
            tables[f"calibration_{name}.json"] = cal.to_frame().rename_axis(
                "figure").reset_index().astype({"value": str})
    decision = None
    if the_gates is not None:
        decision = result.decision = decide(cmp, the_gates)
        cmp.record.roles = Roles(candidate=decision.candidate, incumbent=decision.incumbent)
        cmp.record.decision = DecisionRecord(
            outcome=decision.outcome, candidate=decision.candidate,
            incumbent=decision.incumbent, advice=decision.advice,
            gates=[GateRecord(gate=g.gate, status=g.status, threshold=g.threshold,
                              evidence=g.evidence) for g in decision.gates])
        tell.decided(decision, str(loaded.experiment.gates or "the given gates"))
        if out_dir is not None:
            write_text(out_dir / "decision.csv", decision.table().to_csv(index=False))
        tables["decision.json"] = decision.table()
    if logging:
        _log(result, cmp, str(experiment), tracking_uri, tables, decision, tell)
    directory = report_dir if report_dir is not None else out_dir
    if decision is not None and directory is not None:
        result.report = _report(cmp, decision, Path(directory), loaded, tell)
    return result


def _log(result: ExperimentResult, cmp: Comparison, experiment: str, tracking_uri: str | None,
         tables: dict[str, Any], decision: Decision | None, tell: Listener) -> None:
    """Log the comparison with its tables and decision tags; keep a failure in the result."""
    from workbench.records import TrackingRef
    from workbench.tracking import DECISION_KEY_TAG, DECISION_TAG, TrackingError, report_key

    pw_config = result.experiment.experiment.pairwise
    roles = ((decision.candidate, decision.incumbent) if decision is not None
             else (None, None) if pw_config is None
             else (pw_config.candidate, pw_config.incumbent))
    tags = {} if decision is None else {
        DECISION_TAG: decision.outcome,
        DECISION_KEY_TAG: report_key("migration_report", decision.candidate, decision.incumbent,
                                     decision.config.model_dump(mode="json"))}
    if roles[0] is not None and roles[1] is not None:
        cmp.record.roles = Roles(candidate=tuple(roles[0]), incumbent=tuple(roles[1]))
    try:
        run_id = log_comparison(cmp, experiment, tracking_uri=tracking_uri, candidate=roles[0],
                                incumbent=roles[1],
                                paired=decision.paired if decision is not None else None,
                                tables=tables, tags=tags, saved=result.saved,
                                calibrations=result.calibrations)
    except TrackingError as exc:  # the results are saved: the error says how to log later
        result.log_error = exc
        tell.log_failed(exc)
        return
    uri = tracking_uri or default_tracking_uri()
    cmp.record.tracking = TrackingRef(run_id=run_id, experiment=experiment, tracking_uri=uri)
    result.run_id = run_id
    tell.logged(run_id, uri, experiment)


def _report(cmp: Comparison, decision: Decision, directory: Path, loaded: LoadedExperiment,
            tell: Listener) -> Path:
    """The migration report of the decision: HTML + Markdown, logged to the parent run."""
    run_id = cmp.record.tracking.run_id if cmp.record.tracking else None
    command = None
    if run_id:
        gates_path = loaded.path.parent / str(loaded.experiment.gates)
        command = f"workbench report {run_id} --gates {gates_path} --out migration_report.html"
    report = migration_report(cmp, decision.candidate, decision.incumbent, decision.config,
                              rebuild_command=command, decision=decision)
    html = report.to_html(directory / "migration_report.html")
    md = report.to_markdown(directory / "migration_report.md")
    tell.reported(html, md, report.outcome,
                  cmp.record.tracking.report if cmp.record.tracking else None)
    return html
