"""``log_comparison``: one parent run per comparison, one child run per (model, variant)."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench._version import __version__
from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.records import VariantRecord
from workbench.runner import Comparison
from workbench.stats import PairedComparison, compare_configs

from ._client import client, metric_key, mlflow, mlflow_version, reporting, safe, safe_keys

__all__ = ["LOGGING_TAG", "RUN_LAYOUT_VERSION", "log_comparison", "supersede"]

RUN_LAYOUT_VERSION = 1
"""Version of the run layout below; ``load_comparison`` refuses newer ones."""

KIND_TAG = "workbench.kind"
LOGGING_TAG = "workbench.logging"
"""Where the logging of a run stands: ``started`` (still logging, or killed meanwhile),
``finished`` (every artifact written: set last of all), ``failed`` or ``superseded`` (logged
again as the run in ``workbench.superseded_by``)."""
SUPERSEDED_TAG = "workbench.superseded_by"
COMPARISON_DIR = "comparison"
"""Parent-run artifact folder holding the comparison exactly (``Comparison.save`` format)."""
GOLDEN_DIR = "golden_set"
"""Parent-run artifact folder holding the frozen golden set (canonical JSONL + sidecar)."""

Config = tuple[str, str]


def _experiment_id(c: Any, name: str) -> str:
    found = c.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            raise ConfigError(f"MLflow experiment {name!r} is deleted", where="experiment",
                              fix="Restore it in the MLflow UI or pick another name.")
        return str(found.experiment_id)
    return str(c.create_experiment(name))


def _flat(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def _batch(c: Any, run_id: str, *, params: Mapping[str, Any] | None = None,
           metrics: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None
           ) -> None:
    """Params, metrics and tags in as few requests as MLflow allows (its batch limits)."""
    entities = mlflow().entities
    now = int(time.time() * 1000)
    # names MLflow accepts, at most 250 characters (Settled R4); values redacted and capped
    p = [entities.Param(k, safe(_flat(v))) for k, v in safe_keys(dict(params or {})).items()
         if v is not None]
    m = [entities.Metric(k, float(v), now, 0) for k, v in safe_keys(dict(metrics or {})).items()
         if v is not None and np.isfinite(float(v))]
    t = [entities.RunTag(k, safe(_flat(v))) for k, v in safe_keys(dict(tags or {})).items()
         if v is not None]
    while p or m or t:  # MLflow: at most 100 params, 1000 metrics, 1000 entities per batch
        c.log_batch(run_id, metrics=m[:900], params=p[:100], tags=t[:100])
        m, p, t = m[900:], p[100:], t[100:]


def _dataset_input(gs: GoldenSet) -> Any:
    """The golden set as an MLflow dataset (shows in the UI's Datasets column)."""
    ml = mlflow()
    df = gs.df
    for col in df.columns:
        if df[col].dtype == object:
            df[col] = df[col].map(lambda v: None if v is None else _flat(v))
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
        inputs = inputs.map(lambda v: None if v is None else _flat(v))
        inputs.index = inputs.index.astype(str)
        table = table.join(inputs, on="case_id")
        table = table[["case_id", *known,
                       *[c for c in group.columns if c not in ("model", "variant", "case_id")]]]
    for col in table.columns:  # JSON tables: plain types, no pandas NA
        if str(table[col].dtype) in ("string", "Int64", "boolean"):
            table[col] = table[col].astype(object).where(table[col].notna(), None)
    return table


def _child_metrics(row: pd.Series, group: pd.DataFrame, scorers: Iterable[str],
                   slices: Iterable[str], slice_rows: list[dict[str, Any]] | None = None
                   ) -> dict[str, float]:
    """The child run's metrics; per-slice means also go to ``slice_rows`` with full labels."""
    metrics: dict[str, float] = {
        "n_cases": row["n_cases"], "n_calls": row["n_calls"], "error_rate": row["error_rate"],
        "cost_total_usd": row["cost_usd"], "cost_per_case_usd": row["cost_per_case_usd"],
        "judge_cost_usd": row["judge_cost_usd"], "total_cost_usd": row["total_cost_usd"],
        "billed_usd": row["billed_usd"], "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"], "latency_p50_s": row["latency_p50_s"],
        "latency_p95_s": row["latency_p95_s"], "latency_p99_s": row["latency_p99_s"],
        "cache_hit_rate": row["cache_hits"] / max(1, row["n_calls"]),
        "scorer_errors": row["scorer_errors"],
    }
    failed = group["error_type"].notna()
    for name in scorers:
        metrics[f"{name}_mean"] = row[name]
        metrics[f"{name}_ci_low"] = row[f"{name}_low"]
        metrics[f"{name}_ci_high"] = row[f"{name}_high"]
        values = group[f"score.{name}"].where(~failed, 0.0)  # errors fail (Settled 8)
        metrics[f"{name}_pass_rate"] = float((values >= 1.0).mean())
        for sl in slices:
            col = f"slice.{sl}"
            if col not in group:
                continue
            grouped = values.groupby(group[col], observed=True)
            per_slice, sizes = grouped.mean(), grouped.size().to_dict()
            for label, mean in per_slice.items():
                key = metric_key("slice", sl, str(label), f"{name}_mean")
                if key in metrics:  # another label that sanitises alike: keep both apart
                    tag = hashlib.sha256(str(label).encode("utf-8")).hexdigest()[:8]
                    key = metric_key("slice", sl, f"{str(label)[:200]}-{tag}", f"{name}_mean")
                metrics[key] = float(mean)
                if slice_rows is not None:  # the full label, whatever the metric name became
                    slice_rows.append({"scorer": name, "slice": sl, "label": str(label),
                                       "n": int(sizes[label]), "mean": float(mean),
                                       "metric": key})
    return metrics


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


def _note(cmp: Comparison, parent: bool, config: Config | None = None) -> str:
    """Markdown shown as the run's description in the MLflow UI."""
    gs = cmp.record.golden_set
    lines = []
    if cmp.simulated_models or cmp.simulated_judges:
        lines.append("**SIMULATED models** (offline stand-ins, not real LLMs): "
                     + ", ".join([*cmp.simulated_models, *cmp.simulated_judges.values()]))
    if not cmp.complete:
        lines.append(f"**INCOMPLETE ({cmp.status})**: {cmp.stop_reason}")
    if parent:
        lines.append(f"Comparison on `{gs.name}` ({gs.evaluated} cases, digest "
                     f"`{gs.digest}`), logged by workbench {__version__}. One child run "
                     "per (model, variant); the exact results are under `comparison/`, the "
                     "frozen golden set under `golden_set/`.")
    elif config is not None:
        lines.append(f"Model `{config[0]}`, prompt variant `{config[1]}` on `{gs.name}`. "
                     "Per-case results: the `cases.json` table (Evaluations / Artifacts).")
    return "\n\n".join(lines)


def _log_paired(c: Any, run_id: str, comparison: Comparison, candidate: Config,
                incumbent: Config, paired: PairedComparison | None = None) -> None:
    """Candidate − incumbent deltas with CIs and p-values on the parent run, and their tables."""
    try:
        paired = paired or compare_configs(comparison, (str(candidate[0]), str(candidate[1])),
                                           (str(incumbent[0]), str(incumbent[1])))
    except ConfigError as exc:  # e.g. a role that is not in the comparison: say so, log the rest
        c.set_tag(run_id, "workbench.paired_error", safe(str(exc))[:5000])
        return
    metrics: dict[str, Any] = {}
    for name, m in paired.metrics.items():
        key = f"delta/{metric_key(name)}"
        metrics.update({key: m.delta, f"{key}_ci_low": m.low, f"{key}_ci_high": m.high,
                        f"{key}_p_value": m.p_value})
    for name, e in paired.estimates.items():
        key = f"delta/{metric_key(name)}"
        metrics.update({key: e.value, f"{key}_ci_low": e.low, f"{key}_ci_high": e.high})
    _batch(c, run_id, metrics=metrics, params={"paired.seed": paired.seed,
                                               "paired.errors": paired.errors})
    table = paired.table().reset_index()
    c.log_table(run_id, table.astype({k: "string" for k in table.columns
                                      if table[k].dtype == object}), "paired.json")
    if not paired.slices.empty:
        c.log_table(run_id, paired.slices, "paired_slices.json")


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
) -> str:
    """Log a comparison to MLflow: a parent run with one child run per (model, variant).

    The parent carries the dataset, settings, versions, the exact results (for
    :func:`load_comparison`) and the frozen golden set; each child the model and prompt
    params, metrics with 95% CI bounds, per-slice means (their full labels in the
    ``slices.json`` table) and a per-case table. API keys never reach MLflow: params and tags
    are built from key-free specs and redacted again. Names MLflow sees are made safe
    (DESIGN.md, Settled R4).

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
                   texts=texts or {}, tags=tags or {}, on_parent=on_parent)
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
        _batch(c, old_run_id, tags={LOGGING_TAG: "superseded", SUPERSEDED_TAG: new_run_id})
        c.set_terminated(old_run_id, "KILLED")
    except Exception:  # noqa: BLE001 - best effort: the new run is logged whole either way
        return False
    return True


def _log(comparison: Comparison, experiment: str, *, run_name: str | None,
         tracking_uri: str | None, candidate: Config | None, incumbent: Config | None,
         golden_set: GoldenSet | None, register_prompts: bool,
         paired: PairedComparison | None, tables: Mapping[str, pd.DataFrame],
         texts: Mapping[str, str], tags: Mapping[str, str],
         on_parent: Callable[[str], None] | None) -> str:
    c = client(tracking_uri)
    exp_id = _experiment_id(c, experiment)
    record = comparison.record
    gs_meta = record.golden_set
    try:
        gs: GoldenSet | None = comparison.golden_set(golden_set)
    except ConfigError:
        gs = None  # logged without the data; reports built from this run will say so
    results = comparison.results
    configs = results[["model", "variant"]].drop_duplicates()
    simulated = bool(comparison.simulated_models or comparison.simulated_judges)
    roles = {tuple(r): name for name, r in (("candidate", candidate), ("incumbent", incumbent))
             if r is not None}
    name = run_name or (f"{gs_meta.name} · {len(configs)} configs · "
                        f"{str(record.run.started_at or '')[:16].replace('T', ' ')}")
    common_tags = {
        "workbench.dataset": gs_meta.name,
        "workbench.dataset_digest": gs_meta.digest,
        "workbench.simulated": str(simulated).lower(),
    }
    status_tags = {  # set on each run only once its last artifact is written
        "workbench.status": comparison.status,
        "workbench.complete": str(comparison.complete).lower(),
    }
    parent = c.create_run(exp_id, run_name=name, tags={
        KIND_TAG: "comparison", "workbench.schema_version": str(RUN_LAYOUT_VERSION),
        LOGGING_TAG: "started",
        **{k: safe(v) for k, v in common_tags.items() if v is not None},
    })
    pid = parent.info.run_id
    if on_parent is not None:
        on_parent(pid)
    try:
        dataset = _dataset_input(gs) if gs is not None else None
        versions = {**record.versions.model_dump(), "mlflow": mlflow_version()}
        settings, run = record.settings, record.run
        _batch(c, pid, params={
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
            "spent_usd": comparison.spent_usd, "estimated_usd": run.estimated_usd,
            "calls_planned": run.calls_planned, "calls_recorded": run.calls_recorded,
            "requests_sent": run.requests_sent, "duration_s": run.duration_s,
        }, tags={"workbench.stop_reason": comparison.stop_reason,
                 "mlflow.note.content": _note(comparison, parent=True)})
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
        if candidate is not None and incumbent is not None and comparison.scorers:
            _log_paired(c, pid, comparison, candidate, incumbent, paired)
        slices = list(gs_meta.slices)
        models = {m.label: m for m in record.models}
        variants = {v.name: v for v in record.variants}
        for (model, variant), group in results.groupby(["model", "variant"], observed=True,
                                                       sort=False):
            key = (str(model), str(variant))
            spec, var = models.get(key[0]), variants.get(key[1])
            child = c.create_run(exp_id, run_name=f"{key[0]} · {key[1]}", tags={
                "mlflow.parentRunId": pid, "workbench.model": key[0],
                "workbench.variant": key[1], "workbench.role": roles.get(key, "none"),
                "workbench.prompt_version": var.version if var else "", LOGGING_TAG: "started",
                **{k: safe(v) for k, v in common_tags.items() if v is not None},
                "workbench.simulated": str(bool(spec and spec.simulated)).lower(),
            })
            cid = child.info.run_id
            pricing = spec.pricing if spec and spec.pricing else None
            prompt_uri = None
            if register_prompts and var:
                version = _register_prompt(c, experiment, var)
                c.link_prompt_version_to_run(cid, version)
                prompt_uri = version.uri
            slice_rows: list[dict[str, Any]] = []
            _batch(c, cid, params={
                **{f"model.{k}": v for k, v in (spec.params if spec else {}).items()},
                "model.simulated": spec.simulated if spec else None,
                "pricing.source": pricing.source if pricing else None,
                "pricing.input_per_1m": pricing.input_per_1m if pricing else None,
                "pricing.output_per_1m": pricing.output_per_1m if pricing else None,
                "variant.name": key[1], "variant.version": var.version if var else None,
                "variant.few_shot": len(var.few_shot_ids) if var else 0,
                "variant.response_format": var.response_format if var else None,
                "variant.prompt_uri": prompt_uri,
                "dataset.name": gs_meta.name, "dataset.digest": gs_meta.digest,
                "seed": settings.seed, "repeats": settings.repeats,
                "scorers": [s.name for s in record.scorers],
            }, metrics=_child_metrics(summary.loc[[key]].iloc[0], group, comparison.scorers,
                                      slices, slice_rows),
                tags={"mlflow.note.content": _note(comparison, parent=False, config=key)})
            c.log_table(cid, _case_table(group, gs), "cases.json")
            if slice_rows:
                c.log_table(cid, pd.DataFrame(slice_rows), "slices.json")
            c.log_text(cid, var.user if var else "", f"prompt/{key[1]}/user.j2")
            if var and var.system:
                c.log_text(cid, var.system, f"prompt/{key[1]}/system.j2")
            if dataset is not None:
                c.log_inputs(cid, datasets=[dataset])
            _batch(c, cid, tags=status_tags)
            c.set_terminated(cid, "FINISHED")
            _batch(c, cid, tags={LOGGING_TAG: "finished"})
        for table_name, table in tables.items():
            c.log_table(pid, table, table_name)
        for path, text in texts.items():
            c.log_text(pid, text, path)
        # last of all: the status, then the mark that every artifact is written
        _batch(c, pid, tags={**status_tags, **tags})
        c.set_terminated(pid, "FINISHED")
        _batch(c, pid, tags={LOGGING_TAG: "finished"})
    except BaseException:
        try:  # best effort: the store may be the very thing that failed
            _batch(c, pid, tags={LOGGING_TAG: "failed"})
            c.set_terminated(pid, "FAILED")
        except Exception:  # noqa: BLE001, S110 - the original error is the one to raise
            pass
        raise
    return str(pid)


def log_text(run_id: str, text: str, artifact_file: str, tracking_uri: str | None = None) -> None:
    """Write ``text`` as an artifact of a run (e.g. ``charts.html``)."""
    client(tracking_uri).log_text(run_id, text, artifact_file)
