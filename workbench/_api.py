"""The facade behind ``wb.compare`` and ``wb.acompare``: run, then log to MLflow when asked.

DESIGN.md, Settled 2: the runner never imports tracking; this layer joins them.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

from workbench.runner import Comparison
from workbench.runner import acompare as _acompare
from workbench.runner import compare as _compare

__all__ = ["acompare", "chart_figures", "compare", "log_comparison", "migration_report",
           "shadow_report", "shadow_test"]

Config = tuple[str, str]


def _paired(cmp: Comparison, candidate: Config | None, incumbent: Config | None) -> Any:
    """compare_configs of the two roles, or None when either is missing from the results."""
    from workbench.stats import compare_configs

    if candidate is None or incumbent is None or not cmp.scorers:
        return None
    configs = set(zip(cmp.results["model"].astype(str), cmp.results["variant"].astype(str),
                      strict=True))
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
                   charts: bool = True, **kwargs: Any) -> str:
    """``workbench.tracking.log_comparison`` plus ``charts.html`` on the parent run.

    The page holds every standard chart (``chart_figures``) with plotly.js embedded once, so
    it opens from the MLflow UI without network access. ``charts=False`` skips it. Pass
    ``paired=`` (e.g. ``decision.paired``) to reuse paired statistics already computed.

    Example:
        >>> run_id = wb.log_comparison(cmp, "triage", candidate=("sim/small", "guided"),
        ...                            incumbent=("sim/large", "guided"))  # doctest: +SKIP
    """
    from workbench import charts as _charts
    from workbench.tracking import log_comparison as _log_comparison
    from workbench.tracking import log_text

    paired = kwargs.pop("paired", None) or _paired(comparison, kwargs.get("candidate"),
                                                   kwargs.get("incumbent"))
    run_id = _log_comparison(comparison, experiment, paired=paired, **kwargs)
    if charts and comparison.scorers and not comparison.results.empty:
        figures = chart_figures(comparison, paired=paired)
        name = comparison.meta.get("golden_set", {}).get("name", "comparison")
        log_text(run_id, _charts.charts_html(figures, f"workbench · {name}"), "charts.html",
                 kwargs.get("tracking_uri"))
    return run_id


def _log(cmp: Comparison, experiment: str | None, mlflow: bool, tracking_uri: str | None,
         run_name: str | None, roles: dict[str, Any]) -> Comparison:
    given = {k: list(map(str, roles[k])) for k in ("candidate", "incumbent") if roles.get(k)}
    if given:
        cmp.meta["roles"] = given
    if experiment is None and not mlflow:
        return cmp
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


def migration_report(comparison: Comparison, candidate: Config | None = None,
                     incumbent: Config | None = None, gates: Any = None, *, log: bool = True,
                     **kwargs: Any) -> Any:
    """``workbench.reports.migration_report``, logged to the comparison's MLflow parent run.

    When the comparison was logged (``cmp.meta["mlflow"]["run_id"]``) and ``log`` is true, the
    HTML and Markdown reports become artifacts ``reports/migration_report.html`` / ``.md`` of
    that run. Roles default to the gates', else to those logged with the comparison.

    Example:
        >>> report = wb.migration_report(cmp, gates=wb.Gates.load("gates.yaml"))  # doctest: +SKIP
        >>> report.to_html("migration_report.html")  # doctest: +SKIP
    """
    from workbench.reports import migration_report as _report

    report = _report(comparison, candidate, incumbent, gates, **kwargs)
    if log:
        _log_report(comparison, report, "migration_report")
    return report


def _log_report(comparison: Comparison, report: Any, stem: str) -> None:
    """Log a report's HTML and Markdown to the comparison's MLflow parent run, if it has one."""
    run = comparison.meta.get("mlflow") or {}
    if run.get("run_id"):
        from workbench.tracking import log_text

        uri = run.get("tracking_uri")
        log_text(run["run_id"], report.html(), f"reports/{stem}.html", uri)
        log_text(run["run_id"], report.markdown(), f"reports/{stem}.md", uri)


def shadow_test(log: Any, candidate: Any, variant: Any = None, scorers: Any = (), *,
                experiment: str | None = None, tracking_uri: str | None = None,
                run_name: str | None = None, **kwargs: Any) -> Comparison:
    """``workbench.shadow.shadow_test``, then logged to MLflow with ``experiment=``.

    The parent run gets the comparison (production as ``served:<model>``), the roles, and the
    pairwise verdicts (``pairwise.json``); the traffic log itself is never logged, only its
    redacted replay.

    Example:
        >>> cmp = wb.shadow_test("datasets/shadow/support_traffic.jsonl", "sim/small",
        ...                      experiment="triage-shadow")  # doctest: +SKIP
    """
    from workbench.shadow import shadow_test as _shadow_test

    cmp = _shadow_test(log, candidate, variant, scorers, **kwargs)
    roles = {k: tuple(v) for k, v in cmp.meta["roles"].items()}
    cmp = _log(cmp, experiment, False, tracking_uri, run_name, roles)
    run = cmp.meta.get("mlflow") or {}
    pw = cmp.meta["shadow"].get("pairwise")
    if run.get("run_id") and pw:
        from workbench.tracking import log_text

        log_text(run["run_id"], json.dumps(pw, ensure_ascii=False, indent=1), "pairwise.json",
                 tracking_uri)
    return cmp


def shadow_report(comparison: Comparison, gates: Any = None, *, log: bool = True,
                  **kwargs: Any) -> Any:
    """``workbench.reports.shadow_report`` of a ``wb.shadow_test``, logged to its MLflow run.

    The pairwise verdicts default to those the shadow test recorded. When the comparison was
    logged and ``log`` is true, ``reports/shadow_report.html`` / ``.md`` join the parent run.

    Example:
        >>> report = wb.shadow_report(cmp, wb.Gates.load("examples/shadow_gates.yaml"))
        ... # doctest: +SKIP
        >>> report.to_html("shadow_report.html")  # doctest: +SKIP
    """
    from workbench.reports import shadow_report as _report
    from workbench.shadow import pairwise_table

    kwargs.setdefault("pairwise", pairwise_table(comparison))
    report = _report(comparison, gates, **kwargs)
    if log:
        _log_report(comparison, report, "shadow_report")
    return report
