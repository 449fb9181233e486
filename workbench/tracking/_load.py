"""Reading comparisons back from MLflow: ``load_comparison`` and ``list_comparisons``."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError, TrackingError
from workbench.records import Roles, TrackingRef
from workbench.runner import Comparison

from ._client import client
from ._log import (
    COMPARISON_DIR,
    GOLDEN_DIR,
    KIND_TAG,
    LOGGING_TAG,
    RERUN_TAG,
    RUN_LAYOUT_VERSION,
    SUPERSEDED_TAG,
)

__all__ = ["list_comparisons", "load_comparison", "load_table", "logging_state"]


def logging_state(tags: dict[str, str], run_status: str) -> str:
    """Where a run's logging stands: ``finished``, ``unfinished``, ``failed`` or ``superseded``.

    Runs logged before the ``workbench.logging`` tag existed count as finished when MLflow
    ended them FINISHED.

    Example:
        >>> logging_state({"workbench.logging": "started"}, "RUNNING")
        'unfinished'
        >>> logging_state({}, "FINISHED")
        'finished'
    """
    state = tags.get(LOGGING_TAG)
    if state is None:
        return "finished" if run_status == "FINISHED" else "unfinished"
    return {"started": "unfinished"}.get(state, state)


def load_comparison(parent_run_id: str, tracking_uri: str | None = None, *,
                    allow_unfinished: bool = False) -> Comparison:
    """Rebuild a logged comparison from MLflow alone: results, specs, and its golden set.

    A run whose logging did not finish (killed or failed meanwhile; ``list_comparisons``
    shows it as unfinished) is refused unless ``allow_unfinished=True``.

    Example:
        Not run as a doctest: it needs an MLflow run logged by ``wb.log_comparison``::

            cmp = wb.load_comparison("3f2a…")

    Raises:
        ConfigError: the run does not exist, is not a workbench comparison (e.g. a child
            run), or was logged by a newer workbench.
        TrackingError: the run's logging did not finish, or was superseded by another run.
    """
    c = client(tracking_uri)
    where = f"MLflow run {parent_run_id}"
    try:
        run = c.get_run(parent_run_id)
    except Exception as exc:  # MlflowException: unknown id, unreachable server
        raise ConfigError(f"cannot read the run: {str(exc)[:300]}", where=where,
                          fix="Check the run id and the tracking URI "
                          "(tracking_uri= or $MLFLOW_TRACKING_URI).") from None
    tags = run.data.tags
    state = logging_state(tags, run.info.status)
    if state != "finished" and tags.get(KIND_TAG) == "comparison" and not allow_unfinished:
        if state == "superseded":
            raise TrackingError(
                f"this run was logged again as run {tags.get(SUPERSEDED_TAG)}", where=where,
                fix=f"Use run {tags.get(SUPERSEDED_TAG)}.")
        raise TrackingError(
            f"the logging of this run did not finish ({state}: MLflow status "
            f"{run.info.status}); its artifacts may be partial", where=where,
            fix="Log it again from the saved comparison: `workbench log RUN_DIR` (the --out "
            "folder of `workbench run`), or wb.log_comparison(wb.Comparison.load(RUN_DIR), "
            "experiment=...); pass allow_unfinished=True to read what was logged.")
    if tags.get(KIND_TAG) != "comparison":
        parent = tags.get("mlflow.parentRunId")
        raise ConfigError(
            "not the parent run of a workbench comparison", where=where,
            fix=f"Use the parent run id ({parent})." if parent else
            "Pass the id printed by log_comparison (wb.list_comparisons lists them).")
    version = int(tags.get("workbench.schema_version", "0"))
    if version > RUN_LAYOUT_VERSION:
        raise ConfigError(f"logged with run layout version {version}; this workbench reads up "
                          f"to {RUN_LAYOUT_VERSION}", where=where, fix="Upgrade workbench.")
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(c.download_artifacts(parent_run_id, COMPARISON_DIR, tmp))
        cmp = Comparison.load(local)
        layout = json.loads((local / "layout.json").read_text()) if (
            local / "layout.json").is_file() else {}
        if layout.get("golden_set"):
            data = Path(c.download_artifacts(parent_run_id, GOLDEN_DIR, tmp))
            frozen = sorted(data.glob("*.jsonl"))
            if frozen:
                gs = GoldenSet.load(frozen[0])  # verifies the digest of the frozen copy
                gs.df  # noqa: B018  # read now, before the temporary directory goes
                cmp = Comparison(cmp.results, cmp.record, cmp.score_details, golden_set=gs)
    cmp.record.tracking = TrackingRef(run_id=parent_run_id,
                                      experiment_id=run.info.experiment_id,
                                      tracking_uri=c.tracking_uri)
    children = c.search_runs([run.info.experiment_id],
                             filter_string=f"tags.mlflow.parentRunId = '{parent_run_id}'")
    roles = {ch.data.tags.get("workbench.role"): [ch.data.tags.get("workbench.model"),
                                                  ch.data.tags.get("workbench.variant")]
             for ch in children}
    cmp.record.roles = Roles(**{k: tuple(v) for k, v in roles.items()
                                if k in ("candidate", "incumbent") and all(v)})
    return cmp


def list_comparisons(experiment: str = "workbench", tracking_uri: str | None = None
                     ) -> pd.DataFrame:
    """The comparisons logged to an experiment, newest first (one row per parent run).

    ``status`` is the comparison's (``complete``, ``budget_stopped``, ``interrupted``) once
    its logging finished, else ``logging unfinished`` (still logging, or killed meanwhile),
    ``logging failed`` or ``logging superseded`` (logged again); ``logging`` says which.
    ``rerun_of`` is the first run of the same comparison when this one repeats it (else NA);
    ``spent_usd`` is what the run billed, ``cost_usd`` what its answers cost when made (a
    rerun answered from the cache bills $0 for answers that cost ``cost_usd``).

    Example:
        Not run as a doctest: it needs an MLflow experiment with logged comparisons::

            wb.list_comparisons("triage")[["run_id", "dataset", "status"]]
    """
    c = client(tracking_uri)
    exp = c.get_experiment_by_name(experiment)
    columns = ["run_id", "run_name", "start_time", "dataset", "dataset_digest", "configs",
               "status", "logging", "rerun_of", "simulated", "spent_usd", "cost_usd",
               "calls_recorded"]
    if exp is None:
        return pd.DataFrame(columns=columns)
    rows: list[dict[str, Any]] = []
    token = None
    while True:
        page = c.search_runs([exp.experiment_id], filter_string=f"tags.`{KIND_TAG}` = "
                             "'comparison'", order_by=["attributes.start_time DESC"],
                             max_results=500, page_token=token)
        for run in page:
            tags, params, metrics = run.data.tags, run.data.params, run.data.metrics
            state = logging_state(tags, run.info.status)
            rows.append({
                "run_id": run.info.run_id, "run_name": run.info.run_name,
                "start_time": pd.Timestamp(run.info.start_time, unit="ms", tz="UTC"),
                "dataset": tags.get("workbench.dataset"),
                "dataset_digest": tags.get("workbench.dataset_digest"),
                "configs": len(json.loads(params.get("models", "[]")))
                * len(json.loads(params.get("variants", "[]"))),
                # a run whose logging did not finish is never shown as complete
                "status": tags.get("workbench.status") if state == "finished"
                else f"logging {state}",
                "logging": state,
                "rerun_of": tags.get(RERUN_TAG),
                "simulated": tags.get("workbench.simulated") == "true",
                "spent_usd": metrics.get("spent_usd"),
                "cost_usd": metrics.get("cost_usd"),
                "calls_recorded": metrics.get("calls_recorded"),
            })
        token = page.token
        if not token:
            break
    return pd.DataFrame(rows, columns=columns)


def load_table(run_id: str, tracking_uri: str | None = None, artifact: str | None = None
               ) -> pd.DataFrame:
    """A table logged with a run: a ``log_table`` JSON table or a Parquet artifact.

    ``artifact=None`` reads a child run's per-case table: ``cases.json``, or
    ``cases.parquet`` for a configuration of more than 20,000 cases.

    Example:
        Not run as a doctest: it needs a logged MLflow run (here a child run)::

            cases = wb.tracking.load_table(child_run_id)
    """
    c = client(tracking_uri)
    if artifact is None:
        names = {f.path for f in c.list_artifacts(run_id)}
        artifact = "cases.parquet" if "cases.parquet" in names else "cases.json"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(c.download_artifacts(run_id, artifact, tmp))
        if path.suffix == ".parquet":
            return pd.read_parquet(path)
        data = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame(data["data"], columns=data["columns"])
