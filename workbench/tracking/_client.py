"""The one place mlflow is imported (lazily), the client, and what may be sent to it."""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from importlib.metadata import version
from types import ModuleType
from typing import Any

import numpy as np

from workbench._home import default_tracking_uri
from workbench.errors import TrackingError, WorkbenchError
from workbench.models import redact_secrets

from ._quiet import quiet_library_logs, quiet_run_links

PARAM_LIMIT = 6000
"""MLflow's longest param value; longer values are cut (the full text is an artifact)."""

KEY_LIMIT = 250
"""MLflow's longest param, metric and tag name (DESIGN.md, Settled R4)."""

_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")
_KEY_UNSAFE = re.compile(r"[^\w\-. ]")
"""Characters a metric, param or tag name may not hold (MLflow allows ``/`` between parts
and ``:`` only off Windows: both are replaced inside a part)."""


@cache
def mlflow() -> ModuleType:
    """Import mlflow (its genai part imports litellm, which must use its bundled price map)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # no per-download progress bars in notebooks and the CLI (an artifact folder is small)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow as module

    quiet_library_logs()  # mlflow set its logger to INFO on import: quiet unless asked
    return module


def mlflow_version() -> str:
    """Installed mlflow version, without importing it."""
    return version("mlflow")


def client(tracking_uri: str | None = None) -> Any:
    """An ``MlflowClient`` for ``tracking_uri``.

    Without one: ``$MLFLOW_TRACKING_URI``, else the project's store
    (``sqlite:///<project home>/mlflow.db``, see :func:`workbench._home.project_home`).
    """
    uri = tracking_uri or default_tracking_uri()
    # the registry (prompts) lives in the same store, not in a process-wide default
    return mlflow().MlflowClient(tracking_uri=uri, registry_uri=uri)


def safe(value: Any, limit: int = PARAM_LIMIT) -> str:
    """A value as MLflow may see it: secrets and URL credentials redacted, length capped.

    Example:
        >>> safe("https://me:hunter2hunter2@proxy.example/v1")
        'https://[REDACTED]@proxy.example/v1'
    """
    text = _USERINFO.sub("[REDACTED]@", redact_secrets(str(value)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _part(text: str) -> str:
    """One ``/``-separated part of a name: safe characters, never empty, ``.`` or ``..``."""
    part = _KEY_UNSAFE.sub("_", text)
    return "_" if part.strip(". ") == "" else part


def shorten(key: str, original: str | None = None, limit: int = KEY_LIMIT) -> str:
    """``key`` cut to ``limit`` characters, ending with a stable hash of ``original`` when cut.

    Example:
        >>> len(shorten("x" * 300)), shorten("x" * 300)[-9:] == shorten("x" * 300)[-9:]
        (250, True)
        >>> shorten("short")
        'short'
    """
    if len(key) <= limit:
        return key
    digest = hashlib.sha256((original or key).encode("utf-8")).hexdigest()[:8]
    return key[: limit - 9].rstrip("/") + "-" + digest


def mlflow_key(key: str) -> str:
    """A param, metric or tag name MLflow accepts (DESIGN.md, Settled R4).

    Characters other than letters, digits, ``_ - . space`` become ``_`` within each
    ``/``-separated part; empty, ``.`` and ``..`` parts become ``_``; a name longer than 250
    characters is cut and ends with ``-`` and 8 hex digits of the full name's sha256, so the
    same name always gets the same key.

    Example:
        >>> mlflow_key("slice/feedback/great: fast & right!/exact_match_mean")
        'slice/feedback/great_ fast _ right_/exact_match_mean'
        >>> len(mlflow_key("slice/feedback/" + "a very long free-text comment " * 20))
        250
    """
    safe_key = "/".join(_part(p) for p in key.split("/"))
    return shorten(safe_key, key)


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts, parts joined by ``/`` (see :func:`mlflow_key`).

    A ``/`` inside a part is replaced, so a free-text slice label never adds a level.

    Example:
        >>> metric_key("slice", "language", "pt-BR", "intent_mean")
        'slice/language/pt-BR/intent_mean'
        >>> metric_key("slice", "route", "a/b", "intent_mean")
        'slice/route/a_b/intent_mean'
    """
    joined = "/".join(_part(p) for p in parts)
    return shorten(joined, "\x00".join(parts))


def safe_keys(values: dict[str, Any]) -> dict[str, Any]:
    """The same entries under MLflow-safe names; two names made equal keep apart by a hash.

    Example:
        >>> sorted(safe_keys({"a:b": 1, "a_b": 2}))
        ['a_b', 'a_b-648fa9b3']
    """
    out: dict[str, Any] = {}
    for key, value in values.items():
        name = mlflow_key(key)
        if name in out:  # a different name that sanitises to the same key
            name = shorten(name, key, KEY_LIMIT - 9) + "-" + hashlib.sha256(
                key.encode("utf-8")).hexdigest()[:8]
        out[name] = value
    return out


@contextmanager
def reporting(tracking_uri: str | None, doing: str, fix: str = "") -> Iterator[None]:
    """Turn MLflow's failures (unreachable server, refused write) into a :class:`TrackingError`.

    Example:
        Not run as a doctest (MLflow retries an unreachable server for a while); the
        ``get_run`` below ends in a ``TrackingError`` naming the server and the fix::

            with reporting("http://127.0.0.1:9", "logging run 1"):
                client("http://127.0.0.1:9").get_run("1")
    """
    try:
        yield
    except WorkbenchError:
        raise
    except Exception as exc:
        import requests

        if not isinstance(exc, (mlflow().exceptions.MlflowException, OSError,
                                requests.RequestException)):
            raise
        uri = tracking_uri or default_tracking_uri()
        raise TrackingError(
            f"{doing} failed: {type(exc).__name__}: {safe(str(exc), 400)}",
            where=f"MLflow at {safe(uri, 200)}",
            fix=fix or "Check that the MLflow server is running and reachable, and the tracking "
            "URI (--tracking-uri or $MLFLOW_TRACKING_URI).",
        ) from exc


def flat(value: Any) -> str:
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return str(value)


def log_batch(c: Any, run_id: str, *, params: Mapping[str, Any] | None = None,
              metrics: Mapping[str, Any] | None = None, tags: Mapping[str, Any] | None = None
              ) -> None:
    """Params, metrics and tags in as few requests as MLflow allows (its batch limits)."""
    entities = mlflow().entities
    now = int(time.time() * 1000)
    # names MLflow accepts, at most 250 characters (Settled R4); values redacted and capped
    p = [entities.Param(k, safe(flat(v))) for k, v in safe_keys(dict(params or {})).items()
         if v is not None]
    m = [entities.Metric(k, float(v), now, 0) for k, v in safe_keys(dict(metrics or {})).items()
         if v is not None and np.isfinite(float(v))]
    t = [entities.RunTag(k, safe(flat(v))) for k, v in safe_keys(dict(tags or {})).items()
         if v is not None]
    while p or m or t:  # MLflow: at most 100 params, 1000 metrics, 1000 entities per batch
        c.log_batch(run_id, metrics=m[:900], params=p[:100], tags=t[:100])
        m, p, t = m[900:], p[100:], t[100:]


def terminate(c: Any, run_id: str, status: str) -> None:
    """End a run (no "View run" lines printed per run against a server, unless verbose)."""
    with quiet_run_links():
        c.set_terminated(run_id, status)


def _cell(value: Any) -> Any:
    """A JSON cell: numpy scalars as Python ones, NaN and missing as null."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def log_exact_table(c: Any, run_id: str, table: Any, artifact_file: str) -> None:
    """``MlflowClient.log_table`` with every digit of every float kept.

    ``log_table`` writes JSON through pandas with 10 significant digits; figures a reviewer
    compares (``figures.json``, ``slices.json``) keep the metrics' exact values. The file has
    the same layout (``columns``/``data``) and is registered as a table the same way (the run
    tag ``mlflow.loggedArtifacts``), so ``mlflow.load_table`` and the UI read it as one.
    """
    from mlflow.utils.mlflow_tags import MLFLOW_LOGGED_ARTIFACTS

    rows = [[_cell(v) for v in row] for row in table.itertuples(index=False, name=None)]
    c.log_text(run_id, json.dumps({"columns": [str(x) for x in table.columns], "data": rows},
                                  ensure_ascii=False, default=str), artifact_file)
    logged = json.loads(c.get_run(run_id).data.tags.get(MLFLOW_LOGGED_ARTIFACTS, "[]"))
    entry = {"path": artifact_file, "type": "table"}
    if entry not in logged:
        c.set_tag(run_id, MLFLOW_LOGGED_ARTIFACTS, json.dumps([*logged, entry]))
