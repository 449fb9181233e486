"""Library logs stay quiet unless asked (issue #21): ``WORKBENCH_VERBOSE=1`` or :func:`verbose`.

MLflow configures its ``mlflow`` logger at INFO when imported and writes to stderr, which a
notebook shows as red boxes ("Creating initial MLflow database tables...", "Updating database
tables"); against a tracking server it also prints two "View run" lines to stdout each time a run
ends. Workbench lowers the ``mlflow``, ``alembic`` and ``LiteLLM`` loggers to WARNING (warnings
and errors still show) and keeps MLflow's run links for the runs it logs to itself, unless the
user asks for the logs: ``WORKBENCH_VERBOSE=1`` in the environment, or ``verbose()`` in code. An
explicit ``MLFLOW_LOGGING_LEVEL`` or ``LITELLM_LOG`` is the user's choice and left alone.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["is_verbose", "quiet_library_logs", "quiet_run_links", "verbose"]

LIBRARY_LOGGERS: dict[str, str | None] = {
    "mlflow": "MLFLOW_LOGGING_LEVEL",
    "alembic": "MLFLOW_LOGGING_LEVEL",
    "LiteLLM": "LITELLM_LOG",
    "LiteLLM Router": "LITELLM_LOG",
    "LiteLLM Proxy": "LITELLM_LOG",
}
"""Logger name → the library's own environment variable that, when set, decides instead."""

_SUPPRESS_LINKS = "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"
_asked: list[bool] = []
"""What :func:`verbose` was last called with (empty: follow ``$WORKBENCH_VERBOSE``)."""


def is_verbose() -> bool:
    """True when library INFO logs should show (``verbose()``, else ``$WORKBENCH_VERBOSE``)."""
    if _asked:
        return _asked[-1]
    return os.environ.get("WORKBENCH_VERBOSE", "").strip().lower() in ("1", "true", "yes", "on")


def quiet_library_logs() -> None:
    """Set the library loggers' levels for the current choice (INFO if verbose, else WARNING).

    Called when workbench imports mlflow (which sets its own logger to INFO on import) and by
    :func:`verbose`. A logger whose library's variable is set (``MLFLOW_LOGGING_LEVEL``,
    ``LITELLM_LOG``) keeps what that variable chose.
    """
    loud = is_verbose()
    for name, variable in LIBRARY_LOGGERS.items():
        if not loud and variable and os.environ.get(variable):
            continue
        logging.getLogger(name).setLevel(logging.INFO if loud else logging.WARNING)


def verbose(on: bool | None = True) -> None:
    """Show the INFO logs of MLflow, alembic and litellm (``verbose(False)``: quiet again).

    By default workbench keeps them out of notebooks and the command line; this is the switch
    for when you want to see what the libraries do (``WORKBENCH_VERBOSE=1`` does the same for
    a whole process; ``verbose(None)`` follows that variable again).

    Example:
        >>> verbose()
        >>> import logging; logging.getLogger("mlflow").getEffectiveLevel() == logging.INFO
        True
        >>> verbose(False)
        >>> logging.getLogger("mlflow").getEffectiveLevel() == logging.WARNING
        True
        >>> verbose(None)
    """
    _asked[:] = [] if on is None else [bool(on)]
    quiet_library_logs()


@contextmanager
def quiet_run_links() -> Iterator[None]:
    """Around workbench's own ``set_terminated`` calls: no "View run" lines unless verbose.

    MLflow prints two links per ended run when the store is a server; a comparison ends one
    run per configuration. The variable is set only for the duration of the call, and a value
    the user set is kept.
    """
    if is_verbose() or _SUPPRESS_LINKS in os.environ:
        yield
        return
    os.environ[_SUPPRESS_LINKS] = "true"
    try:
        yield
    finally:
        os.environ.pop(_SUPPRESS_LINKS, None)
