"""One home for a project's outputs (DESIGN.md, Settled R8).

Notebooks, the CLI and the widgets write the MLflow store, reports and demo files under one
project folder, so that ``make ui`` (or the printed ``mlflow ui`` command) opens the store the
notebook just wrote, and nothing lands beside the notebooks where git sees it.

The project folder is ``$WORKBENCH_HOME`` when set, else the nearest folder at or above the
working directory that holds a ``pyproject.toml`` (or a ``.git``), else the working directory.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "default_tracking_uri", "mlflow_ui_command", "output_dir", "project_home", "redact_uri",
]

_MARKERS = ("pyproject.toml", ".git")


def project_home(start: str | Path | None = None) -> Path:
    """The project folder outputs go to: ``$WORKBENCH_HOME``, else the enclosing project.

    Args:
        start: where to look from (default: the working directory).

    Example:
        >>> import os, tempfile
        >>> os.environ["WORKBENCH_HOME"] = tempfile.gettempdir()
        >>> project_home() == Path(tempfile.gettempdir()).resolve()
        True
        >>> del os.environ["WORKBENCH_HOME"]
    """
    env = os.environ.get("WORKBENCH_HOME")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if any((folder / marker).exists() for marker in _MARKERS):
            return folder
    return here


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` if set, else the project's ``sqlite:///<home>/mlflow.db``.

    Example:
        >>> import os
        >>> os.environ["MLFLOW_TRACKING_URI"] = "http://127.0.0.1:5000"
        >>> default_tracking_uri()
        'http://127.0.0.1:5000'
        >>> del os.environ["MLFLOW_TRACKING_URI"]
    """
    env = os.environ.get("MLFLOW_TRACKING_URI")
    if env:
        return env
    return f"sqlite:///{project_home() / 'mlflow.db'}"


def output_dir(name: str = "workbench-output") -> Path:
    """A folder under the project home for reports and other files (created when missing).

    Example:
        >>> import os, tempfile
        >>> os.environ["WORKBENCH_HOME"] = tempfile.mkdtemp()
        >>> output_dir().name
        'workbench-output'
        >>> del os.environ["WORKBENCH_HOME"]
    """
    path = project_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def mlflow_ui_command(tracking_uri: str | None = None) -> str:
    """The exact command that opens the MLflow UI on ``tracking_uri`` (default: the project's).

    A server URI (``http(s)://``) is already a UI: the text says to open it in a browser. A
    password in the URI is never printed (``postgresql://u:***@host/db``; set ``PGPASSWORD``
    or ``~/.pgpass`` instead).

    Example:
        >>> mlflow_ui_command("sqlite:////tmp/p/mlflow.db")
        'mlflow ui --backend-store-uri sqlite:////tmp/p/mlflow.db --host 127.0.0.1'
        >>> mlflow_ui_command("http://127.0.0.1:5000")
        'open http://127.0.0.1:5000 in a browser'
        >>> mlflow_ui_command("postgresql://u:secret@db:5432/mlflow")
        "mlflow ui --backend-store-uri 'postgresql://u:***@db:5432/mlflow' --host 127.0.0.1"
    """
    uri = redact_uri(tracking_uri or default_tracking_uri())
    if uri.startswith(("http://", "https://")):
        return f"open {uri} in a browser"
    return f"mlflow ui --backend-store-uri {shlex.quote(uri)} --host 127.0.0.1"


def redact_uri(uri: str) -> str:
    """``uri`` with its password (if any) replaced by ``***``.

    Example:
        >>> redact_uri("https://me:hunter2@mlflow.example")
        'https://me:***@mlflow.example'
    """
    parts = urlsplit(uri)
    if parts.password is None:
        return uri
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
