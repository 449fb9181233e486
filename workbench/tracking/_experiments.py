"""The MLflow experiments workbench logs to: where their artifacts live, how the UI opens them.

- **Artifact home** (DESIGN.md, Settled R8): MLflow puts the artifacts of a sqlite store's new
  experiments under ``./mlruns`` of the *working directory*, so a notebook in ``notebooks/``
  wrote ``notebooks/mlruns``. Experiments workbench creates in a sqlite store get their
  artifact location beside the database instead: ``<db folder>/mlruns/<name>-<hash>``.
  A server (``http://``) or another database decides its own artifact store.
- **Runs view first**: the tag ``mlflow.experimentKind`` is what MLflow's UI reads for an
  experiment's kind (``custom_model_development`` opens the runs table, ``genai_development``
  the GenAI overview): see ``mlflow/server/js/build/static/js/main.c2f5f8d4.js`` (the
  ``ExperimentKind`` enum and the hook reading ``"mlflow.experimentKind"``), the UI's own kind
  selector that writes it (``3878.0467b2c4.chunk.js``), and ``mlflow/demo/generators/
  traces.py``, which sets it for a GenAI demo. MLflow 3.17's UI, however, shows the sidebar's
  workflow switch ("GenAI" / "Model training", kept in the browser's local storage, GenAI by
  default) instead of the tag once that switch is enabled, which it always is in 3.17
  (``Z0 = () => !0`` in the same bundle): a link with ``?workflowType=machine_learning`` is
  what opens the runs view there. So workbench sets the tag *and* every link it prints or
  writes into a description carries that parameter (:func:`ui_url`); the experiment's own
  description says where the switch is.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from workbench._home import default_tracking_uri, redact_uri
from workbench.errors import ConfigError

from ._client import client

__all__ = ["EXPERIMENT_KIND", "EXPERIMENT_KIND_TAG", "RUNS_VIEW", "artifact_home",
           "experiment_id", "run_url", "ui_url"]

EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
"""The kind whose experiments open on the runs table ("Machine learning" in the UI)."""
RUNS_VIEW = "workflowType=machine_learning"
"""The URL parameter that makes MLflow 3.17's UI show an experiment's runs view."""
NOTE_TAG = "mlflow.note.content"
DEFAULT_UI = "http://127.0.0.1:5000"
"""Where ``mlflow ui`` serves by default."""
EXPERIMENT_NOTE = (
    "Comparisons of LLMs and prompt variants logged by workbench: one parent run per "
    "comparison (its description names the golden set, the candidate and incumbent and the "
    "decision, and links the report), one child run per (model, prompt variant) with its "
    "metrics, and one per calibrated judge.\n\n"
    "To see the runs table, switch the sidebar to **Model training** (MLflow opens on GenAI "
    f"by default), or add `?{RUNS_VIEW}` to the page address.")


def artifact_home(tracking_uri: str) -> Path | None:
    """The folder beside a sqlite store that its experiments' artifacts belong in.

    None for anything but a sqlite file (a server or another database keeps its own).

    Example:
        >>> artifact_home("sqlite:////srv/project/mlflow.db")
        PosixPath('/srv/project/mlruns')
        >>> artifact_home("http://127.0.0.1:5000") is None
        True
    """
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = tracking_uri[len("sqlite:///"):].split("?", 1)[0]
    if path in ("", ":memory:"):
        return None
    return Path(path).expanduser().resolve().parent / "mlruns"


def _folder_name(name: str) -> str:
    """A folder for an experiment's artifacts: its name made safe, then a hash of the name."""
    safe = re.sub(r"[^\w.-]+", "-", name).strip("-.")[:60] or "experiment"
    return f"{safe}-{hashlib.sha256(name.encode('utf-8')).hexdigest()[:8]}"


def experiment_id(c: Any, name: str, tracking_uri: str | None) -> str:
    """The id of experiment ``name``, created when missing (artifacts beside a sqlite store).

    A new experiment gets the runs-view kind and a description for reviewers; an existing one
    gets the kind when it has none (a kind someone chose in the UI is kept).

    Raises:
        ConfigError: the experiment exists but is deleted.
    """
    found = c.get_experiment_by_name(name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            raise ConfigError(f"MLflow experiment {name!r} is deleted", where="experiment",
                              fix="Restore it in the MLflow UI or pick another name.")
        if EXPERIMENT_KIND_TAG not in found.tags:
            c.set_experiment_tag(found.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND)
        return str(found.experiment_id)
    home = artifact_home(tracking_uri or default_tracking_uri())
    location = str(home / _folder_name(name)) if home is not None else None
    return str(c.create_experiment(name, artifact_location=location, tags={
        EXPERIMENT_KIND_TAG: EXPERIMENT_KIND, NOTE_TAG: EXPERIMENT_NOTE}))


def ui_url(experiment: str, run_id: str | None = None, artifact: str | None = None, *,
           tracking_uri: str | None = None, ui: str | None = None) -> str:
    """The MLflow UI address of an experiment's runs view, a run, or a run's artifact.

    The address opens the runs view in MLflow 3.17 (``?workflowType=machine_learning``; see
    this module's notes). ``ui`` is where the UI is served: the tracking URI itself for a
    server (its password masked), else ``mlflow ui``'s default ``http://127.0.0.1:5000``;
    ``ui=""`` gives the in-app part alone (``#/experiments/...``), the form a run's
    description links with.

    Example:
        >>> ui_url("1", "ab12", tracking_uri="sqlite:////p/mlflow.db")
        'http://127.0.0.1:5000/#/experiments/1/runs/ab12?workflowType=machine_learning'
        >>> ui_url("1", "ab12", "reports/r.html", ui="")
        '#/experiments/1/runs/ab12/artifacts/reports/r.html?workflowType=machine_learning'
    """
    if ui is None:
        uri = tracking_uri or default_tracking_uri()
        ui = redact_uri(uri).rstrip("/") if urlsplit(uri).scheme in ("http", "https") \
            else DEFAULT_UI
    route = f"#/experiments/{quote(str(experiment))}"
    if run_id:
        route += f"/runs/{quote(run_id)}"
        if artifact:
            route += "/artifacts/" + quote(artifact.strip("/"))
    return f"{ui.rstrip('/')}/{route}?{RUNS_VIEW}" if ui else f"{route}?{RUNS_VIEW}"


def run_url(run_id: str, tracking_uri: str | None = None, ui: str | None = None) -> str:
    """The MLflow UI address of a logged run, opening in the runs view (see :func:`ui_url`).

    Example:
        Not run as a doctest: it reads the run's experiment from the store::

            run_url(cmp.record.tracking.run_id)
            # 'http://127.0.0.1:5000/#/experiments/1/runs/3f2a…?workflowType=machine_learning'
    """
    experiment = client(tracking_uri).get_run(run_id).info.experiment_id
    return ui_url(experiment, run_id, tracking_uri=tracking_uri, ui=ui)
