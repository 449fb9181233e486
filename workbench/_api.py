"""The facade behind ``wb.compare`` and ``wb.acompare``: run, then log to MLflow when asked.

DESIGN.md, Settled 2: the runner never imports tracking; this layer joins them.
"""

from __future__ import annotations

import warnings
from typing import Any

from workbench.runner import Comparison
from workbench.runner import acompare as _acompare
from workbench.runner import compare as _compare

__all__ = ["acompare", "compare"]


def _log(cmp: Comparison, experiment: str | None, mlflow: bool, tracking_uri: str | None,
         run_name: str | None, roles: dict[str, Any]) -> Comparison:
    if experiment is None and not mlflow:
        return cmp
    from workbench.tracking import log_comparison

    try:
        run_id = log_comparison(cmp, experiment or "workbench", run_name=run_name,
                                tracking_uri=tracking_uri, **roles)
    except Exception as exc:  # the results must survive a tracking failure
        warnings.warn(
            f"the comparison finished but logging it to MLflow failed ({type(exc).__name__}: "
            f"{str(exc)[:300]}); the results are in the returned Comparison: log them again "
            "with wb.log_comparison(cmp, experiment=...)", RuntimeWarning, stacklevel=3)
        cmp.meta["mlflow"] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}
        return cmp
    cmp.meta["mlflow"] = {"run_id": run_id, "experiment": experiment or "workbench",
                          "tracking_uri": tracking_uri}
    return cmp


def compare(*args: Any, experiment: str | None = None, mlflow: bool = False,
            tracking_uri: str | None = None, run_name: str | None = None,
            candidate: tuple[str, str] | None = None, incumbent: tuple[str, str] | None = None,
            register_prompts: bool = False, **kwargs: Any) -> Comparison:
    """``workbench.runner.compare``, then logged to MLflow with ``experiment=`` or ``mlflow=True``.

    The comparison is logged at the end, also when it stopped early (budget, interrupt):
    incomplete runs are tagged as such. ``cmp.meta["mlflow"]["run_id"]`` is the parent run.
    A logging failure warns and keeps the results. ``candidate``/``incumbent`` tag roles;
    ``register_prompts=True`` puts the templates in the MLflow Prompt Registry.

    Example:
        >>> cmp = wb.compare(gs, ["sim/large", "sim/fast"], variants, scorers,
        ...                  experiment="triage")  # doctest: +SKIP
    """
    cmp = _compare(*args, **kwargs)
    return _log(cmp, experiment, mlflow, tracking_uri, run_name,
                {"candidate": candidate, "incumbent": incumbent,
                 "register_prompts": register_prompts})


async def acompare(*args: Any, experiment: str | None = None, mlflow: bool = False,
                   tracking_uri: str | None = None, run_name: str | None = None,
                   candidate: tuple[str, str] | None = None,
                   incumbent: tuple[str, str] | None = None, register_prompts: bool = False,
                   **kwargs: Any) -> Comparison:
    """``await``-able :func:`compare` (same arguments), for notebooks and async code."""
    cmp = await _acompare(*args, **kwargs)
    return _log(cmp, experiment, mlflow, tracking_uri, run_name,
                {"candidate": candidate, "incumbent": incumbent,
                 "register_prompts": register_prompts})


compare.__doc__ = (compare.__doc__ or "") + "\n\nRunner arguments:\n" + (_compare.__doc__ or "")
