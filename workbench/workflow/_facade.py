"""The public functions that join the layers: run, then log to MLflow and report when asked.

DESIGN.md, Settled 2: the runner never imports tracking; this layer joins them. Every function
here has its real signature (the runner's options, then the logging options).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.datasets import GoldenSet
from workbench.models import ModelSpec, RetryPolicy
from workbench.prompts import PromptVariant
from workbench.records import Roles, TrackingRef
from workbench.reports import MigrationReport, ShadowReport
from workbench.runner import FAIL_FAST_AFTER, Comparison, Executor, Leakage
from workbench.runner import acompare as _acompare
from workbench.runner import compare as _compare
from workbench.scorers import Scorer
from workbench.shadow import Period, TrafficLog
from workbench.stats import Decision, Gates, PairedComparison

__all__ = ["acompare", "chart_figures", "compare", "log_after_run", "log_comparison",
           "log_saved", "migration_report", "shadow_report", "shadow_test"]

Config = tuple[str, str]


def _paired(cmp: Comparison, candidate: Config | None, incumbent: Config | None) -> Any:
    """compare_configs of the two roles, or None when either is missing from the results."""
    from workbench.stats import compare_configs

    if candidate is None or incumbent is None or not cmp.scorers:
        return None
    configs = set(cmp.configs)
    cand, inc = (str(candidate[0]), str(candidate[1])), (str(incumbent[0]), str(incumbent[1]))
    if cand not in configs or inc not in configs:
        return None
    return compare_configs(cmp, cand, inc)


def chart_figures(cmp: Comparison, candidate: Config | None = None,
                  incumbent: Config | None = None, template: Any = None,
                  paired: Any = None) -> list[Any]:
    """The standard figures of a comparison, for ``charts.html`` and notebooks.

    Cost vs quality per scorer and latency; with both roles also the paired-delta forest plot
    and the slice heatmap first.
    """
    from workbench import charts

    return charts.standard_figures(cmp, paired or _paired(cmp, candidate, incumbent),
                                   template=template)


def log_comparison(comparison: Comparison, experiment: str = "workbench", *,
                   charts: bool = True, saved: str | Path | None = None,
                   tables: Mapping[str, Any] | None = None, tags: Mapping[str, str] | None = None,
                   run_name: str | None = None, tracking_uri: str | None = None,
                   candidate: Config | None = None, incumbent: Config | None = None,
                   golden_set: GoldenSet | None = None, register_prompts: bool = False,
                   paired: PairedComparison | None = None,
                   texts: Mapping[str, str] | None = None,
                   supersedes: str | None = None,
                   calibrations: Mapping[str, Any] | None = None) -> str:
    """``workbench.tracking.log_comparison`` plus ``charts.html`` on the parent run.

    The page holds every standard chart (``chart_figures``) with plotly.js embedded once, so
    it opens from the MLflow UI without network access. ``charts=False`` skips it. Pass
    ``paired=`` (e.g. ``decision.paired``) to reuse paired statistics already computed.
    ``tables`` and ``tags`` join the parent run before it is marked logged; ``calibrations``
    (judge scorer → ``wb.calibrate`` result) each get a judge child run with kappa, its CI and
    the agreement as metrics.

    ``saved`` is the folder the comparison was saved to (``cmp.save(DIR)``): what is about to
    be logged is written there first (``DIR/mlflow/``), so that when MLflow is unreachable or
    the process dies while logging, :func:`log_saved` (``workbench log DIR``) logs it again
    and marks the unfinished run superseded. A comparison whose earlier logging failed
    (``cmp.record.tracking.unfinished_run_id``) supersedes that run the same way.

    Raises:
        TrackingError: MLflow could not be reached or refused a write; the message says how
            to log the comparison again.

    Example::

        run_id = wb.log_comparison(cmp, "triage", candidate=("sim/small", "guided"),
                                   incumbent=("sim/large", "guided"))
    """
    from workbench import charts as _charts
    from workbench.tracking import PendingLog, TrackingError, calibration_figures
    from workbench.tracking import log_comparison as _log_comparison

    paired = paired or _paired(comparison, candidate, incumbent)
    calibrated = {k: calibration_figures(v) for k, v in (calibrations or {}).items()}
    texts = dict(texts or {})
    if charts and comparison.scorers and not comparison.results.empty:
        figures = chart_figures(comparison, paired=paired)
        name = comparison.record.golden_set.name
        texts["charts.html"] = _charts.charts_html(figures, f"workbench · {name}")
    tracked = comparison.record.tracking
    supersedes = supersedes or (tracked.unfinished_run_id if tracked else None)
    pending: PendingLog | None = None
    if saved is not None:
        earlier = PendingLog.read(saved)
        if earlier is not None and earlier.state != "logged" and earlier.run_id:
            supersedes = supersedes or earlier.run_id
        pending = PendingLog(
            experiment=experiment, tracking_uri=tracking_uri, run_name=run_name,
            register_prompts=register_prompts, charts=charts,
            tags={k: str(v) for k, v in (tags or {}).items()}, tables=list(tables or {}),
            run_id=earlier.run_id if earlier is not None else None,
            candidate=(str(candidate[0]), str(candidate[1])) if candidate else None,
            incumbent=(str(incumbent[0]), str(incumbent[1])) if incumbent else None,
            calibrations=calibrated)
        pending.write(saved, tables)
    started: list[str] = []

    def on_parent(run_id: str) -> None:
        started.append(run_id)
        if pending is not None and saved is not None:
            pending.mark(saved, "started", run_id)

    try:
        run_id = _log_comparison(comparison, experiment, paired=paired, texts=texts,
                                 tables=tables, tags=tags, supersedes=supersedes,
                                 on_parent=on_parent, run_name=run_name,
                                 tracking_uri=tracking_uri, candidate=candidate,
                                 incumbent=incumbent, golden_set=golden_set,
                                 register_prompts=register_prompts, calibrations=calibrated)
    except TrackingError as exc:
        if started:
            comparison.record.tracking = (comparison.record.tracking or TrackingRef()
                                          ).model_copy(update={"unfinished_run_id": started[0]})
        if saved is None:
            raise
        unfinished = f" (and mark the unfinished run {started[0]} superseded)" if started else ""
        raise TrackingError(exc.problem.what, where=exc.where, fix=(
            f"The comparison is saved in {saved}. Once MLflow is reachable (check the server "
            f"and the tracking URI), run `workbench log {saved}` to log it{unfinished}.")
        ) from exc
    if pending is not None and saved is not None:
        pending.mark(saved, "logged", run_id)
    comparison.record.tracking = TrackingRef(  # the unfinished run, if any, is superseded now
        run_id=run_id, experiment=experiment, tracking_uri=tracking_uri)
    return run_id


def log_saved(directory: str | Path, *, experiment: str | None = None,
              tracking_uri: str | None = None, force: bool = False) -> tuple[str, bool]:
    """Log (again) a comparison saved in ``directory``: what ``workbench log DIR`` does.

    Uses the logging request saved with it (experiment, tracking URI, roles, tables, tags:
    ``workbench run`` writes one before it logs); ``experiment`` and ``tracking_uri``
    override it, and a folder saved without one needs ``experiment``. A run whose logging
    did not finish is marked superseded by the new one. Returns ``(run_id, logged_now)``:
    a comparison already logged to the same place is not logged twice unless ``force``.

    Raises:
        ConfigError: no logging request and no ``experiment``.
        DamagedSaveError: the saved comparison is damaged.
        TrackingError: MLflow could not be reached or refused a write.

    Example::

        run_id, logged = wb.log_saved("runs/triage")   # what `workbench log runs/triage` does
    """
    from workbench.errors import ConfigError
    from workbench.tracking import PendingLog

    cmp = Comparison.load(directory)
    pending = PendingLog.read(directory)
    if pending is None:
        if experiment is None:
            raise ConfigError(
                "the folder holds a saved comparison but no logging request (it was saved "
                "without logging to MLflow)", where=str(directory),
                fix=f"Name the experiment: workbench log {directory} --experiment NAME.")
        pending = PendingLog(experiment=experiment, tracking_uri=tracking_uri)
    same_place = ((experiment or pending.experiment) == pending.experiment
                  and (tracking_uri or pending.tracking_uri) == pending.tracking_uri)
    if pending.state == "logged" and pending.run_id and same_place and not force:
        return pending.run_id, False
    run_id = log_comparison(
        cmp, experiment or pending.experiment, saved=directory, charts=pending.charts,
        tables=pending.read_tables(directory), tags=pending.tags,
        tracking_uri=tracking_uri or pending.tracking_uri, run_name=pending.run_name,
        candidate=pending.candidate, incumbent=pending.incumbent,
        register_prompts=pending.register_prompts, calibrations=pending.calibrations)
    return run_id, True


def log_after_run(cmp: Comparison, experiment: str | None, *, tracking_uri: str | None = None,
                  run_name: str | None = None, candidate: Config | None = None,
                  incumbent: Config | None = None, register_prompts: bool = False,
                  texts: Mapping[str, str] | None = None,
                  tags: Mapping[str, str] | None = None) -> Comparison:
    """Record the roles, then log to ``experiment`` (None: only the roles); warn on failure.

    What ``wb.compare(..., experiment=)``, ``wb.shadow_test`` and the builder widget do after
    a run: a logging failure never loses the results (it warns, and ``cmp.record.tracking``
    says why); ``cmp.record.tracking.run_id`` is the parent run when it worked.
    """
    given = {k: (str(v[0]), str(v[1])) for k, v in (("candidate", candidate),
                                                     ("incumbent", incumbent)) if v}
    if given:
        cmp.record.roles = Roles(**given)
    if experiment is None:
        return cmp
    try:
        run_id = log_comparison(cmp, experiment, run_name=run_name, tracking_uri=tracking_uri,
                                texts=texts, candidate=candidate, incumbent=incumbent,
                                register_prompts=register_prompts, tags=tags)
    except Exception as exc:  # the results must survive a tracking failure
        warnings.warn(
            f"the comparison finished but logging it to MLflow failed ({type(exc).__name__}: "
            f"{str(exc)[:300]}); the results are in the returned Comparison: log them again "
            "with wb.log_comparison(cmp, experiment=...)", RuntimeWarning, stacklevel=3)
        cmp.record.tracking = (cmp.record.tracking or TrackingRef()).model_copy(
            update={"error": f"{type(exc).__name__}: {str(exc)[:300]}"})
        return cmp
    cmp.record.tracking = TrackingRef(run_id=run_id, experiment=experiment,
                                      tracking_uri=tracking_uri)
    return cmp


def compare(
    golden_set: GoldenSet,
    models: Sequence[ModelSpec | str],
    variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer] = (),
    *,
    repeats: int = 1,
    concurrency: int = 16,
    budget_usd: float | None = None,
    cache: bool | str | Path = True,
    seed: int = 0,
    resume: bool = False,
    leakage: Leakage = "exclude",
    cases: Sequence[str] | None = None,
    progress: bool = True,
    retry: RetryPolicy | None = None,
    retry_errors: bool = False,
    fail_fast_after: int | None = FAIL_FAST_AFTER,
    lock_timeout_s: float = 0.0,
    workers: int | None = None,
    executor: Executor = "local",
    address: str | None = None,
    experiment: str | None = None,
    mlflow: bool = False,
    tracking_uri: str | None = None,
    run_name: str | None = None,
    candidate: Config | None = None,
    incumbent: Config | None = None,
    register_prompts: bool = False,
) -> Comparison:
    """Run every case × model × variant × repeat, score the outputs; log to MLflow if asked.

    The run options are ``workbench.runner.compare``'s (validated first, see ``wb.plan``;
    cache, retries, budget, checkpoint and resume, progress; ``workers=N`` runs the cases in N
    processes, ``executor="ray"`` on a Ray cluster, merged into one comparison and one MLflow
    parent run). With ``experiment=`` (or
    ``mlflow=True``, experiment ``"workbench"``) the comparison is logged at the end, also
    when it stopped early (budget, interrupt: tagged as such); ``cmp.record.tracking.run_id``
    is the parent run, and a logging failure warns and keeps the results.
    ``candidate``/``incumbent`` record and tag the roles; ``register_prompts=True`` puts the
    templates in the MLflow Prompt Registry.

    Example:
        >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl").sample(4, seed=1)
        >>> cmp = wb.compare(gs, ["sim/large"], [wb.PromptVariant("p", user="{{ message }}")],
        ...                  [wb.scorers.json_valid], progress=False, cache=False)
        >>> cmp.status, len(cmp.results)
        ('complete', 4)
    """
    cmp = _compare(golden_set, models, variants, scorers, repeats=repeats,
                   concurrency=concurrency, budget_usd=budget_usd, cache=cache, seed=seed,
                   resume=resume, leakage=leakage, cases=cases, progress=progress, retry=retry,
                   retry_errors=retry_errors, fail_fast_after=fail_fast_after,
                   lock_timeout_s=lock_timeout_s, workers=workers, executor=executor,
                   address=address)
    return log_after_run(cmp, experiment or ("workbench" if mlflow else None),
                         tracking_uri=tracking_uri, run_name=run_name, candidate=candidate,
                         incumbent=incumbent, register_prompts=register_prompts)


async def acompare(
    golden_set: GoldenSet,
    models: Sequence[ModelSpec | str],
    variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer] = (),
    *,
    repeats: int = 1,
    concurrency: int = 16,
    budget_usd: float | None = None,
    cache: bool | str | Path = True,
    seed: int = 0,
    resume: bool = False,
    leakage: Leakage = "exclude",
    cases: Sequence[str] | None = None,
    progress: bool = True,
    retry: RetryPolicy | None = None,
    retry_errors: bool = False,
    fail_fast_after: int | None = FAIL_FAST_AFTER,
    lock_timeout_s: float = 0.0,
    workers: int | None = None,
    executor: Executor = "local",
    address: str | None = None,
    experiment: str | None = None,
    mlflow: bool = False,
    tracking_uri: str | None = None,
    run_name: str | None = None,
    candidate: Config | None = None,
    incumbent: Config | None = None,
    register_prompts: bool = False,
) -> Comparison:
    """``await``-able :func:`compare` (same arguments), for notebooks and async code."""
    cmp = await _acompare(golden_set, models, variants, scorers, repeats=repeats,
                          concurrency=concurrency, budget_usd=budget_usd, cache=cache,
                          seed=seed, resume=resume, leakage=leakage, cases=cases,
                          progress=progress, retry=retry, retry_errors=retry_errors,
                          fail_fast_after=fail_fast_after, lock_timeout_s=lock_timeout_s,
                          workers=workers, executor=executor, address=address)
    return log_after_run(cmp, experiment or ("workbench" if mlflow else None),
                         tracking_uri=tracking_uri, run_name=run_name, candidate=candidate,
                         incumbent=incumbent, register_prompts=register_prompts)


def migration_report(
    comparison: Comparison,
    candidate: Config | None = None,
    incumbent: Config | None = None,
    gates: Gates | None = None,
    *,
    log: bool = True,
    monthly_requests: int = 100_000,
    canary_share: float = 0.05,
    slice_mix: dict[str, dict[str, float]] | None = None,
    calibration: dict[str, Any] | None = None,
    examples: int = 5,
    title: str | None = None,
    rebuild_command: str | None = None,
    charts: bool = True,
    decision: Decision | None = None,
) -> MigrationReport:
    """``workbench.reports.migration_report``, logged to the comparison's MLflow parent run.

    When the comparison was logged (``cmp.record.tracking.run_id``) and ``log`` is true, the
    HTML and Markdown reports become artifacts of that run: ``reports/migration_report.html``
    / ``.md`` for the run's own decision, else a name that says the report's roles and gates
    (a logged report is never overwritten by one that decides something else; see
    ``workbench.tracking.log_report``). Roles default to the gates', else to those logged
    with the comparison.

    The other arguments are ``workbench.reports.migration_report``'s.

    Example::

        report = wb.migration_report(cmp, gates=wb.Gates.load("examples/triage_gates.yaml"))
        report.to_html("migration_report.html")
    """
    from workbench.reports import migration_report as _report

    report = _report(comparison, candidate, incumbent, gates,
                     monthly_requests=monthly_requests, canary_share=canary_share,
                     slice_mix=slice_mix, calibration=calibration, examples=examples,
                     title=title, rebuild_command=rebuild_command, charts=charts,
                     decision=decision)
    if log:
        _log_report(comparison, report, "migration_report")
    return report


def _log_report(comparison: Comparison, report: Any, stem: str) -> str | None:
    """Log a report to the comparison's MLflow parent run, if it has one; its artifact path.

    The run's own decision keeps ``reports/<stem>.html``; a report for other roles or gates is
    logged beside it under a name that says them, with its own decision table and tag.
    """
    run = comparison.record.tracking
    if run is None or not run.run_id:
        return None
    from workbench.tracking import log_report

    path = log_report(run.run_id, kind=stem, html=report.html(), markdown=report.markdown(),
                      outcome=report.outcome, candidate=report.candidate,
                      incumbent=report.incumbent, gates=report.gates_config,
                      gate_rows=report.gates, tracking_uri=run.tracking_uri,
                      advice=report.advice)
    run.report = path
    return path


def shadow_test(
    log: TrafficLog | str | Path,
    candidate: ModelSpec | str,
    variant: PromptVariant | None = None,
    scorers: Sequence[Scorer] = (),
    *,
    judge: ModelSpec | str | None = "sim/judge",
    rubric: str = "helpfulness",
    served: ModelSpec | str | None = None,
    period: Period = "day",
    drift: bool = True,
    budget_usd: float | None = None,
    cache: bool = True,
    resume: bool = False,
    concurrency: int = 16,
    seed: int = 0,
    progress: bool = True,
    retry: RetryPolicy | None = None,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    run_name: str | None = None,
) -> Comparison:
    """``workbench.shadow.shadow_test``, then logged to MLflow with ``experiment=``.

    The parent run gets the comparison (production as ``served:<model>``), the roles, and the
    pairwise verdicts (``pairwise.json``); the traffic log itself is never logged, only its
    redacted replay. ``log`` is a loaded ``TrafficLog`` or any source ``TrafficLog.load``
    takes; for traces the run is tagged with the source (``workbench.traffic.source``, the
    source experiment's ``workbench.traffic.experiment_id``, the counts read and skipped).

    Example::

        cmp = wb.shadow_test("datasets/shadow/support_traffic.jsonl", "sim/small",
                             experiment="triage-shadow")
        cmp = wb.shadow_test(wb.shadow.TrafficLog.load("mlflow-traces:prod-support?since="
                                                       "2026-11-01"), "sim/small")
    """
    from workbench.shadow import note_traffic
    from workbench.shadow import shadow_test as _shadow_test

    log = log if isinstance(log, TrafficLog) else TrafficLog.load(log)
    cmp = _shadow_test(log, candidate, variant, scorers, judge=judge, rubric=rubric,
                       served=served, period=period, drift=drift, budget_usd=budget_usd,
                       cache=cache, resume=resume, concurrency=concurrency, seed=seed,
                       progress=progress, retry=retry)
    roles = cmp.record.roles
    shadow = cmp.record.shadow
    pw = [r.model_dump(mode="json") for r in shadow.pairwise] if shadow and shadow.pairwise \
        else None
    texts = {"pairwise.json": json.dumps(pw, ensure_ascii=False, indent=1)} if pw else None
    tags = note_traffic(cmp, log)  # traces: the source, filter and counts; the source experiment
    return log_after_run(cmp, experiment, tracking_uri=tracking_uri, run_name=run_name,
                         candidate=roles.candidate, incumbent=roles.incumbent, texts=texts,
                         tags=tags or None)


def shadow_report(
    comparison: Comparison,
    gates: Gates | None = None,
    *,
    log: bool = True,
    pairwise: pd.DataFrame | None = None,
    monthly_requests: int | None = None,
    examples: int = 5,
    title: str | None = None,
    rebuild_command: str | None = None,
    charts: bool = True,
) -> ShadowReport:
    """``workbench.reports.shadow_report`` of a ``wb.shadow_test``, logged to its MLflow run.

    The pairwise verdicts default to those the shadow test recorded. When the comparison was
    logged and ``log`` is true, ``reports/shadow_report.html`` / ``.md`` join the parent run
    with the decision (tag ``workbench.decision`` and ``decision.json``); a report for other
    gates is logged beside it under its own name.

    Example::

        report = wb.shadow_report(cmp, wb.Gates.load("examples/shadow_gates.yaml"))
        report.to_html("shadow_report.html")
    """
    from workbench.reports import shadow_report as _report
    from workbench.shadow import pairwise_table

    report = _report(comparison, gates,
                     pairwise=pairwise if pairwise is not None else pairwise_table(comparison),
                     monthly_requests=monthly_requests, examples=examples, title=title,
                     rebuild_command=rebuild_command, charts=charts)
    if log:
        _log_report(comparison, report, "shadow_report")
    return report
