"""``log_comparison``: one parent run per comparison, one child run per (model, variant).

What a reviewer sees in the MLflow UI (issue #21): the parent run's name says the golden set,
the configurations (candidate vs incumbent when given) and the date, flagged ``rerun`` or
``INTERRUPTED``; its description (``mlflow.note.content``, ``_notes.py``) the decision with its
key evidence and the report's link. A child run per (model, variant) logs at most 30 metrics
that compare well across runs (``_figures.py``), the candidate's with the paired deltas
``delta.<scorer>`` and a tag naming the incumbent; a calibrated judge gets a child run of its
own with kappa, its CI and agreement as metrics.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.records import ModelRecord, VariantRecord
from workbench.runner import Comparison
from workbench.stats import PairedComparison, compare_configs

from ._client import (
    client,
    flat,
    log_batch,
    log_exact_table,
    mlflow,
    mlflow_version,
    reporting,
    safe,
    terminate,
)
from ._experiments import experiment_id, ui_url
from ._figures import (
    choose_metrics,
    config_figures,
    delta_figures,
    slice_table,
)
from ._judges import log_judges
from ._notes import (
    DECODING,
    Rerun,
    child_name,
    child_note,
    config_label,
    decision_section,
    parent_name,
    parent_note,
)

CASES_JSON_MAX_ROWS = 20_000
"""A child run's per-case table above this many rows is logged as ``cases.parquet``."""

__all__ = ["CASES_JSON_MAX_ROWS", "FINGERPRINT_TAG", "LOGGING_TAG", "RERUN_TAG",
           "RUN_LAYOUT_VERSION", "cases_artifact", "fingerprint", "log_comparison", "supersede"]

RUN_LAYOUT_VERSION = 1
"""Version of the run layout below; ``load_comparison`` refuses newer ones."""

KIND_TAG = "workbench.kind"
LOGGING_TAG = "workbench.logging"
"""Where the logging of a run stands: ``started`` (still logging, or killed meanwhile),
``finished`` (every artifact written: set last of all), ``failed`` or ``superseded`` (logged
again as the run in ``workbench.superseded_by``)."""
SUPERSEDED_TAG = "workbench.superseded_by"
FINGERPRINT_TAG = "workbench.fingerprint"
"""The parent run's :func:`fingerprint`: equal for runs of the same comparison."""
RERUN_TAG = "workbench.rerun_of"
"""On a parent run: the first logged run of the same comparison (same fingerprint)."""
COMPARISON_DIR = "comparison"
"""Parent-run artifact folder holding the comparison exactly (``Comparison.save`` format)."""
GOLDEN_DIR = "golden_set"
"""Parent-run artifact folder holding the frozen golden set (canonical JSONL + sidecar)."""

Config = tuple[str, str]


def _dataset_input(gs: GoldenSet) -> Any:
    """The golden set as an MLflow dataset (shows in the UI's Datasets column)."""
    ml = mlflow()
    df = gs.df
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: None if v is None else flat(v))
    with warnings.catch_warnings():  # "source can be interpreted in multiple ways": a path
        warnings.simplefilter("ignore", UserWarning)
        dataset = ml.data.from_pandas(df, source=str(gs.path or gs.name), name=gs.name,
                                      digest=gs.digest.removeprefix("sha256:")[:16])
    context = ml.entities.InputTag(key="mlflow.data.context", value="eval")
    return ml.entities.DatasetInput(dataset=dataset._to_mlflow_entity(), tags=[context])


def _case_table(group: pd.DataFrame, gs: GoldenSet | None) -> pd.DataFrame:
    """One row per case for the run's Evaluations view: inputs, expected, output, scores."""
    table = group.drop(columns=["model", "variant"]).copy()
    if gs is not None:
        known = [*gs.input_columns, *(["expected"] if "expected" in gs.df else [])]
        inputs = gs.df.set_index("id")[known]  # a shadow test's replay has no expected
        inputs = inputs.map(lambda v: None if v is None else flat(v))
        inputs.index = inputs.index.astype(str)
        table = table.join(inputs, on="case_id")
        table = table[["case_id", *known,
                       *[c for c in group.columns if c not in ("model", "variant", "case_id")]]]
    for col in table.columns:  # JSON tables: plain types, no pandas NA
        if str(table[col].dtype) in ("string", "Int64", "boolean"):
            table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def cases_artifact(rows: int) -> str:
    """Where a child run's per-case table goes (``cases.json`` or ``cases.parquet``).

    Up to ``CASES_JSON_MAX_ROWS`` rows it is an MLflow table (shown in the run's Evaluations
    view); above, a Parquet file (MLflow's JSON table turns every cell into a Python object:
    gigabytes at 100,000 cases).

    Example:
        >>> cases_artifact(500), cases_artifact(100_000)
        ('cases.json', 'cases.parquet')
    """
    return "cases.json" if rows <= CASES_JSON_MAX_ROWS else "cases.parquet"


def _log_cases(c: Any, run_id: str, table: pd.DataFrame) -> None:
    name = cases_artifact(len(table))
    if name == "cases.json":
        c.log_table(run_id, table, name)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        table.to_parquet(path, index=False)
        c.log_artifact(run_id, str(path))


def _register_prompt(c: Any, experiment: str, variant: VariantRecord) -> Any:
    """The registry version holding this variant's templates (a new one only when changed)."""
    name = re.sub(r"[^\w\-.]", "-", f"{experiment}.{variant.name}")
    latest = c.load_prompt(name, allow_missing=True, cache_ttl_seconds=0)
    if latest is not None and latest.tags.get("workbench.prompt_version") == variant.version:
        return latest
    template = [{"role": "user", "content": variant.user}]
    if variant.system:
        template.insert(0, {"role": "system", "content": variant.system})
    return c.register_prompt(
        name=name, template=template,
        commit_message=f"workbench prompt variant {variant.name} ({variant.version})",
        tags={"workbench.prompt_version": variant.version,
              "workbench.few_shot": str(len(variant.few_shot_ids))},
    )


def log_comparison(
    comparison: Comparison,
    experiment: str = "workbench",
    *,
    run_name: str | None = None,
    tracking_uri: str | None = None,
    candidate: Config | None = None,
    incumbent: Config | None = None,
    golden_set: GoldenSet | None = None,
    register_prompts: bool = False,
    paired: PairedComparison | None = None,
    tables: Mapping[str, pd.DataFrame] | None = None,
    texts: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
    supersedes: str | None = None,
    on_parent: Callable[[str], None] | None = None,
    calibrations: Mapping[str, Any] | None = None,
) -> str:
    """Log a comparison to MLflow: a parent run with one child run per (model, variant).

    The parent carries the dataset, settings, versions, what this run billed beside what its
    answers cost (``spent_usd``, ``cost_usd``), the exact results (for
    :func:`load_comparison`), the frozen golden set and a description a reviewer reads; each
    child the model and prompt params (decoding parameters always), at most 30 metrics
    (scorer means with 95% CI bounds, cost per 1,000 cases, latency, error rate; the
    candidate's paired deltas ``delta.<scorer>``), and the tables ``figures.json`` (every
    figure), ``slices.json`` (per-slice means) and ``cases.json`` (per case). A run of a
    comparison logged before to the experiment is tagged ``workbench.rerun_of`` that run. API
    keys never reach MLflow: params and tags are built from key-free specs and redacted again.
    Names MLflow sees are made safe (DESIGN.md, Settled R4).

    The run is marked logged (tag ``workbench.logging=finished``, with ``workbench.status``)
    only after its last artifact is written: a run killed or failing meanwhile stays
    ``started``/``failed`` and :func:`list_comparisons` shows it as unfinished.

    Args:
        comparison: what ``wb.compare`` returned (complete or not: incomplete ones are tagged).
        experiment: the MLflow experiment (created when missing).
        run_name: the parent run's name (default: golden set, configurations and date).
        tracking_uri: default ``$MLFLOW_TRACKING_URI``, else ``sqlite:///mlflow.db`` here.
        candidate: (model, variant) of the candidate, tagged ``workbench.role`` on its child.
        incumbent: (model, variant) of the incumbent, tagged likewise.
        golden_set: the set it ran on, when its file has moved since.
        register_prompts: also register each variant's templates in the MLflow Prompt
            Registry as ``<experiment>.<variant>`` (a new version only when the templates
            changed) and link that version to the child run (param ``variant.prompt_uri``).
        paired: ``compare_configs`` of candidate against incumbent, when already computed.
        tables: more tables for the parent run (artifact name → DataFrame), e.g.
            ``decision.json``, logged before the run is marked logged.
        texts: more text artifacts for the parent run (artifact path → text).
        tags: more tags for the parent run (e.g. ``workbench.decision``).
        supersedes: a run of the same comparison whose logging did not finish: once this one
            is logged, that one is tagged ``workbench.logging=superseded`` and ended KILLED.
        on_parent: called with the parent run id as soon as it exists.
        calibrations: judge scorer name → its ``wb.calibrate`` result (or
            :func:`calibration_figures` of it): each gets a child run with kappa, its CI and
            the agreement as metrics.

    Returns:
        The parent run id.

    Raises:
        TrackingError: MLflow could not be reached or refused a write (the comparison itself
            is untouched: log it again later).

    Example:
        Not run as a doctest: it needs an MLflow tracking store::

            run_id = wb.log_comparison(cmp, experiment="triage")
    """
    with reporting(tracking_uri, f"logging the comparison to MLflow experiment {experiment!r}",
                   fix="Check that the MLflow server is running and reachable and the tracking "
                   "URI (tracking_uri= or $MLFLOW_TRACKING_URI); the comparison is unchanged: "
                   "log it again with wb.log_comparison(cmp, ...), or `workbench log RUN_DIR` "
                   "for a saved run."):
        pid = _log(comparison, experiment, run_name=run_name, tracking_uri=tracking_uri,
                   candidate=candidate, incumbent=incumbent, golden_set=golden_set,
                   register_prompts=register_prompts, paired=paired, tables=tables or {},
                   texts=texts or {}, tags=tags or {}, calibrations=calibrations or {},
                   on_parent=on_parent)
    if supersedes and supersedes != pid:
        supersede(supersedes, pid, tracking_uri)
    return pid


def supersede(old_run_id: str, new_run_id: str, tracking_uri: str | None = None) -> bool:
    """Mark a run whose logging did not finish as replaced by ``new_run_id``.

    Tags it ``workbench.logging=superseded`` and ``workbench.superseded_by`` and ends it
    KILLED. A run whose logging finished is left alone. Returns True when marked (False when
    the run is gone, finished, or MLflow cannot be reached: nothing else depends on it).

    Example:
        Not run as a doctest: it needs two MLflow runs, one whose logging was killed::

            supersede(killed_run_id, new_run_id)   # True
    """
    c = client(tracking_uri)
    try:
        run = c.get_run(old_run_id)
        if run.data.tags.get(LOGGING_TAG) == "finished":
            return False
        log_batch(c, old_run_id, tags={LOGGING_TAG: "superseded", SUPERSEDED_TAG: new_run_id})
        terminate(c, old_run_id, "KILLED")
    except Exception:  # noqa: BLE001 - best effort: the new run is logged whole either way
        return False
    return True


def fingerprint(cmp: Comparison) -> str:
    """What makes two comparisons the same run: data, cases, configurations, scorers, settings.

    Logged as the parent run's tag ``workbench.fingerprint``; a later run with the same one is
    tagged ``workbench.rerun_of`` the first.
    """
    r = cmp.record
    blob = {
        "golden_set": r.golden_set.digest,
        "cases": sorted(str(x) for x in cmp.results["case_id"].unique()),
        "excluded": sorted(r.golden_set.excluded_few_shot),
        "models": [[m.label, m.params, m.recorded] for m in r.models],
        "variants": [[v.name, v.version] for v in r.variants],
        "scorers": [[s.name, s.ref, s.args, s.version] for s in r.scorers],
        "judges": [[j.scorer, j.label, j.params] for j in r.judges],
        "repeats": r.settings.repeats, "seed": r.settings.seed,
    }
    text = json.dumps(blob, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _earlier_run(c: Any, exp_id: str, print_: str) -> Rerun | None:
    """The first logged run of the same comparison in the experiment, if any."""
    runs = c.search_runs([exp_id], filter_string=f"tags.`{FINGERPRINT_TAG}` = '{print_}'",
                         order_by=["attributes.start_time ASC"], max_results=50)
    for run in runs:
        tags = run.data.tags
        if tags.get(LOGGING_TAG, "finished") != "finished":  # failed or superseded logging
            continue
        return Rerun(run_id=run.info.run_id, name=run.info.run_name or run.info.run_id,
                     started=str(pd.Timestamp(run.info.start_time, unit="ms"))[:16],
                     status=tags.get("workbench.status", run.info.status.lower()),
                     spent_usd=run.data.metrics.get("spent_usd"),
                     link=ui_url(exp_id, run.info.run_id, ui=""))
    return None


def _paired(c: Any, pid: str, comparison: Comparison, candidate: Config | None,
            incumbent: Config | None, paired: PairedComparison | None
            ) -> PairedComparison | None:
    """Candidate vs incumbent statistics (their tables go on the parent), or None."""
    if candidate is None or incumbent is None or not comparison.scorers:
        return None
    try:
        paired = paired or compare_configs(comparison, (str(candidate[0]), str(candidate[1])),
                                           (str(incumbent[0]), str(incumbent[1])))
    except ConfigError as exc:  # e.g. a role that is not in the comparison: say so, log the rest
        c.set_tag(pid, "workbench.paired_error", safe(str(exc))[:5000])
        return None
    log_batch(c, pid, params={"paired.seed": paired.seed, "paired.errors": paired.errors})
    table = paired.table().reset_index()
    c.log_table(pid, table.astype({k: "string" for k in table.columns
                                   if table[k].dtype == object}), "paired.json")
    if not paired.slices.empty:
        c.log_table(pid, paired.slices, "paired_slices.json")
    return paired


def _child_params(spec: ModelRecord | None, var: VariantRecord | None, key: Config,
                  comparison: Comparison, prompt_uri: str | None) -> dict[str, Any]:
    record = comparison.record
    pricing = spec.pricing if spec and spec.pricing else None
    params = dict(spec.params) if spec else {}
    return {
        **{f"model.{k}": v for k, v in params.items()},
        # every child states its decoding parameters, set or not (issue #21)
        **{f"model.{k}": params.get(k, "provider default") for k in DECODING},
        "model.simulated": spec.simulated if spec else None,
        "pricing.source": pricing.source if pricing else None,
        "pricing.input_per_1m": pricing.input_per_1m if pricing else None,
        "pricing.output_per_1m": pricing.output_per_1m if pricing else None,
        "variant.name": key[1], "variant.version": var.version if var else None,
        "variant.few_shot": len(var.few_shot_ids) if var else 0,
        "variant.response_format": var.response_format if var else None,
        "variant.prompt_uri": prompt_uri,
        "dataset.name": record.golden_set.name, "dataset.digest": record.golden_set.digest,
        "seed": record.settings.seed, "repeats": record.settings.repeats,
        "scorers": [s.name for s in record.scorers],
    }


def _log(comparison: Comparison, experiment: str, *, run_name: str | None,
         tracking_uri: str | None, candidate: Config | None, incumbent: Config | None,
         golden_set: GoldenSet | None, register_prompts: bool,
         paired: PairedComparison | None, tables: Mapping[str, pd.DataFrame],
         texts: Mapping[str, str], tags: Mapping[str, str],
         calibrations: Mapping[str, Any],
         on_parent: Callable[[str], None] | None) -> str:
    c = client(tracking_uri)
    exp_id = experiment_id(c, experiment, tracking_uri)
    record = comparison.record
    gs_meta = record.golden_set
    try:
        gs: GoldenSet | None = comparison.golden_set(golden_set)
    except ConfigError:
        gs = None  # logged without the data; reports built from this run will say so
    results = comparison.results
    simulated = bool(comparison.simulated_models or comparison.simulated_judges)
    roles = {tuple(r): name for name, r in (("candidate", candidate), ("incumbent", incumbent))
             if r is not None}
    print_ = fingerprint(comparison)
    rerun = _earlier_run(c, exp_id, print_)
    common_tags = {
        "workbench.dataset": gs_meta.name,
        "workbench.dataset_digest": gs_meta.digest,
        "workbench.simulated": str(simulated).lower(),
    }
    status_tags = {  # set on each run only once its last artifact is written
        "workbench.status": comparison.status,
        "workbench.complete": str(comparison.complete).lower(),
    }
    parent = c.create_run(exp_id, run_name=run_name or parent_name(
        comparison, candidate, incumbent, rerun=rerun is not None), tags={
        KIND_TAG: "comparison", "workbench.schema_version": str(RUN_LAYOUT_VERSION),
        LOGGING_TAG: "started", FINGERPRINT_TAG: print_,
        **{k: safe(v) for k, v in common_tags.items() if v is not None},
        **({"workbench.interrupted": "true"} if not comparison.complete else {}),
        **({RERUN_TAG: rerun.run_id} if rerun is not None else {}),
        **({"workbench.candidate": config_label(candidate),
            "workbench.incumbent": config_label(incumbent)}
           if candidate is not None and incumbent is not None else {}),
    })
    pid = parent.info.run_id
    if on_parent is not None:
        on_parent(pid)
    try:
        dataset = _dataset_input(gs) if gs is not None else None
        versions = {**record.versions.model_dump(), "mlflow": mlflow_version()}
        settings, run = record.settings, record.run
        decision = record.decision
        section = decision_section(
            decision.outcome, decision.candidate, decision.incumbent,
            [g.model_dump() for g in decision.gates], advice=decision.advice) \
            if decision is not None else None
        calls = len(results)
        log_batch(c, pid, params={
            "dataset.name": gs_meta.name, "dataset.digest": gs_meta.digest,
            "dataset.rows": gs_meta.rows, "dataset.evaluated": gs_meta.evaluated,
            "dataset.excluded_few_shot": len(gs_meta.excluded_few_shot),
            "models": [m.label for m in record.models],
            "variants": [v.name for v in record.variants],
            "scorers": [s.name for s in record.scorers],
            **{f"scorer.{s.name}": {"ref": s.ref, "args": s.args, "version": s.version}
               for s in record.scorers},
            **{f"judge.{j.scorer}": {"model": j.label, "pricing": j.pricing.model_dump()
                                     if j.pricing else None}
               for j in record.judges},
            "seed": settings.seed, "repeats": settings.repeats,
            "budget_usd": settings.budget_usd, "concurrency": settings.concurrency,
            "cache": settings.cache,
            **{f"version.{k}": v for k, v in versions.items()},
        }, metrics={
            # what this run billed, beside what its answers cost when they were made: a
            # rerun answered from the cache bills $0 for answers that cost cost_usd
            "spent_usd": comparison.spent_usd,
            "cost_usd": float(results["cost_usd"].fillna(0).sum()
                              + results["judge_cost_usd"].fillna(0).sum()) if calls else 0.0,
            "cache_hit_rate": float(results["cache_hit"].sum()) / calls if calls else None,
            "original_spent_usd": rerun.spent_usd if rerun is not None else None,
            "estimated_usd": run.estimated_usd,
            "calls_planned": run.calls_planned, "calls_recorded": run.calls_recorded,
            "requests_sent": run.requests_sent, "duration_s": run.duration_s,
        }, tags={"workbench.stop_reason": comparison.stop_reason})
        summary = comparison.summary()
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            comparison.save(root / COMPARISON_DIR)
            (root / COMPARISON_DIR / "layout.json").write_text(json.dumps(
                {"schema_version": RUN_LAYOUT_VERSION, "golden_set": gs is not None}))
            if gs is not None:
                gs.freeze(root / GOLDEN_DIR, stem=gs.name)
            for v in record.variants:
                folder = root / "prompts" / v.name
                folder.mkdir(parents=True)
                (folder / "user.j2").write_text(v.user, encoding="utf-8")
                if v.system:
                    (folder / "system.j2").write_text(v.system, encoding="utf-8")
            c.log_artifacts(pid, str(root))
        if dataset is not None:
            c.log_inputs(pid, datasets=[dataset])
        if not summary.empty:
            c.log_table(pid, summary.reset_index(), "summary.json")
        pc = _paired(c, pid, comparison, candidate, incumbent, paired)
        log_batch(c, pid, tags={"mlflow.note.content": parent_note(
            comparison, candidate=candidate, incumbent=incumbent, rerun=rerun,
            decision=section, paired=pc)})
        slices = list(gs_meta.slices)
        models = {m.label: m for m in record.models}
        variants = {v.name: v for v in record.variants}
        children: dict[Config, tuple[str, pd.DataFrame]] = {}
        for (model, variant), group in results.groupby(["model", "variant"], observed=True,
                                                       sort=False):
            key = (str(model), str(variant))
            var = variants.get(key[1])
            role = roles.get(key, "none")
            children[key] = (c.create_run(exp_id, run_name=child_name(comparison, key, role),
                                          tags={
                "mlflow.parentRunId": pid, KIND_TAG: "configuration",
                "workbench.model": key[0], "workbench.variant": key[1], "workbench.role": role,
                "workbench.prompt_version": var.version if var else "", LOGGING_TAG: "started",
                **{k: safe(v) for k, v in common_tags.items() if v is not None},
                "workbench.simulated": str(bool(
                    models.get(key[0]) and models[key[0]].simulated)).lower(),
            }).info.run_id, group)
        ids = {key: cid for key, (cid, _) in children.items()}
        for key, (cid, group) in children.items():
            spec, var = models.get(key[0]), variants.get(key[1])
            role = roles.get(key, "none")
            other = (incumbent if role == "candidate" else candidate if role == "incumbent"
                     else None)
            other_key = (str(other[0]), str(other[1])) if other is not None else None
            prompt_uri = None
            if register_prompts and var:
                version = _register_prompt(c, experiment, var)
                c.link_prompt_version_to_run(cid, version)
                prompt_uri = version.uri
            groups, extra = config_figures(summary.loc[[key]].iloc[0], group,
                                           comparison.scorers)
            pair_tags: dict[str, Any] = {}
            if role == "candidate" and pc is not None and other_key is not None:
                more, p_values = delta_figures(pc)
                groups, extra = [*groups, *more], [*extra, *p_values]
                pair_tags = {"workbench.incumbent": config_label(other_key),
                             "workbench.incumbent_run_id": ids.get(other_key)}
            elif role == "incumbent" and other_key is not None:
                pair_tags = {"workbench.candidate": config_label(other_key),
                             "workbench.candidate_run_id": ids.get(other_key)}
            metrics, figures = choose_metrics(groups, extra)
            link = ui_url(exp_id, ids[other_key], ui="") if other_key in ids else None
            log_batch(c, cid, params=_child_params(spec, var, key, comparison, prompt_uri),
                   metrics=metrics, tags={**pair_tags, "mlflow.note.content": child_note(
                       comparison, key, model=spec, variant=var, role=role, other=other_key,
                       other_link=link, metrics=len(metrics), figures=len(figures),
                       cases=cases_artifact(len(group)))})
            _log_cases(c, cid, _case_table(group, gs))
            log_exact_table(c, cid, figures, "figures.json")
            slice_rows = slice_table(group, comparison.scorers, slices)
            if not slice_rows.empty:
                log_exact_table(c, cid, slice_rows, "slices.json")
            c.log_text(cid, var.user if var else "", f"prompt/{key[1]}/user.j2")
            if var and var.system:
                c.log_text(cid, var.system, f"prompt/{key[1]}/system.j2")
            if dataset is not None:
                c.log_inputs(cid, datasets=[dataset])
            log_batch(c, cid, tags=status_tags)
            terminate(c, cid, "FINISHED")
            log_batch(c, cid, tags={LOGGING_TAG: "finished"})
        if calibrations:
            log_judges(c, exp_id, pid, comparison, calibrations, common_tags, status_tags)
        for table_name, table in tables.items():
            c.log_table(pid, table, table_name)
        for path, text in texts.items():
            c.log_text(pid, text, path)
        # last of all: the status, then the mark that every artifact is written
        log_batch(c, pid, tags={**status_tags, **tags})
        terminate(c, pid, "FINISHED")
        log_batch(c, pid, tags={LOGGING_TAG: "finished"})
    except BaseException:
        try:  # best effort: the store may be the very thing that failed
            log_batch(c, pid, tags={LOGGING_TAG: "failed"})
            terminate(c, pid, "FAILED")
        except Exception:  # noqa: BLE001, S110 - the original error is the one to raise
            pass
        raise
    return str(pid)


def log_text(run_id: str, text: str, artifact_file: str, tracking_uri: str | None = None) -> None:
    """Write ``text`` as an artifact of a run (e.g. ``charts.html``)."""
    client(tracking_uri).log_text(run_id, text, artifact_file)
