"""The one place mlflow is imported (lazily), the client, and what may be sent to it."""

from __future__ import annotations

import os
import re
from functools import cache
from importlib.metadata import version
from types import ModuleType
from typing import Any

from workbench.models._secrets import redact

PARAM_LIMIT = 6000
"""MLflow's longest param value; longer values are cut (the full text is an artifact)."""

_USERINFO = re.compile(r"(?<=//)[^/@\s]+@")


@cache
def mlflow() -> ModuleType:
    """Import mlflow (its genai part imports litellm, which must use its bundled price map)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    # no per-download progress bars in notebooks and the CLI (an artifact folder is small)
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow as module

    return module


def mlflow_version() -> str:
    """Installed mlflow version, without importing it."""
    return version("mlflow")


def client(tracking_uri: str | None = None) -> Any:
    """An ``MlflowClient`` for ``tracking_uri``.

    Without one: ``$MLFLOW_TRACKING_URI``, else MLflow's default (the embedded
    ``sqlite:///mlflow.db`` in the working directory).
    """
    # the registry (prompts) lives in the same store, not in a process-wide default
    return mlflow().MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def safe(value: Any, limit: int = PARAM_LIMIT) -> str:
    """A value as MLflow may see it: secrets and URL credentials redacted, length capped.

    Example:
        >>> safe("https://me:hunter2hunter2@proxy.example/v1")
        'https://[REDACTED]@proxy.example/v1'
    """
    text = _USERINFO.sub("[REDACTED]@", redact(str(value)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def metric_key(*parts: str) -> str:
    """A metric name MLflow accepts (letters, digits, ``_ - . / space``), parts joined by ``/``.

    Example:
        >>> metric_key("slice", "language", "pt-BR", "intent_mean")
        'slice/language/pt-BR/intent_mean'
    """
    return "/".join(re.sub(r"[^\w\-. ]", "_", p) for p in parts)
