"""Reports logged to a comparison's parent run, never overwriting one that says something else.

A run has one decision of its own: the roles and gates it was logged with (``workbench run``
with a gates file, a shadow test's gates), identified by the tag ``workbench.decision_key``.
Its report is ``reports/<kind>.html`` / ``.md``, its gates ``decision.json`` and its outcome the
tag ``workbench.decision``. A report built later for other roles or gates is logged beside it
as ``reports/<kind>--<candidate>-vs-<incumbent>--gates-<hash>.html`` with its own
``.decision.json`` and tag ``workbench.decision/<that name>``: the tags always describe the
report they name.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from ._client import client, reporting, safe, safe_keys, shorten
from ._experiments import ui_url
from ._notes import config_label, decision_section, with_decision, with_other_report

__all__ = ["DECISION_KEY_TAG", "DECISION_TAG", "log_report", "report_key", "report_name"]

DECISION_TAG = "workbench.decision"
DECISION_KEY_TAG = "workbench.decision_key"
"""The :func:`report_key` of the run's own decision (the one ``workbench.decision`` states)."""
REPORT_DIR = "reports"
NOTE_TAG = "mlflow.note.content"


def report_key(kind: str, candidate: Sequence[str], incumbent: Sequence[str],
               gates: Mapping[str, Any]) -> str:
    """A stable id of what a report decides: its kind, roles and gates (16 hex digits).

    Example:
        >>> k = report_key("migration_report", ("sim/small", "guided"), ("sim/large", "guided"),
        ...                {"metrics": []})
        >>> len(k), k == report_key("migration_report", ["sim/small", "guided"],
        ...                         ["sim/large", "guided"], {"metrics": []})
        (16, True)
    """
    blob = json.dumps({"kind": kind, "candidate": [str(x) for x in candidate],
                       "incumbent": [str(x) for x in incumbent], "gates": gates},
                      sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def report_name(kind: str, candidate: Sequence[str], incumbent: Sequence[str], key: str) -> str:
    """The artifact stem of a report for other roles or gates than the run's own.

    Example:
        >>> report_name("migration_report", ("sim/small", "guided"), ("sim/large", "terse"),
        ...             "0123456789abcdef")
        'migration_report--sim-small.guided-vs-sim-large.terse--gates-01234567'
    """
    def part(config: Sequence[str]) -> str:
        return re.sub(r"[^\w.-]+", "-", ".".join(str(x) for x in config)).strip("-") or "_"

    stem = f"{kind}--{part(candidate)}-vs-{part(incumbent)}"
    return shorten(stem, stem, 160) + f"--gates-{key[:8]}"


def log_report(run_id: str, *, kind: str, html: str, markdown: str, outcome: str,
               candidate: Sequence[str], incumbent: Sequence[str], gates: Mapping[str, Any],
               gate_rows: Sequence[Mapping[str, Any]], tracking_uri: str | None = None,
               advice: str = "") -> str:
    """Log a report to a parent run without overwriting one that decides something else.

    The run's own decision (tag ``workbench.decision_key``; the first report logged when the
    run has none) is ``reports/<kind>.html`` and ``.md``, with ``decision.json`` and the tag
    ``workbench.decision``. A report for other roles or gates is written beside it under a
    name that says its roles and gates (:func:`report_name`), with its own
    ``<name>.decision.json`` and tag ``workbench.decision/<name>``. The run's description
    (``mlflow.note.content``) then states the decision with its key evidence and links the
    report (the run's own, with ``advice``: what more data would do), or lists the other
    report. Returns the artifact path of the HTML report.

    Raises:
        TrackingError: MLflow could not be reached or refused the write.

    Example:
        Not run as a doctest: it needs a logged MLflow run (``r`` is a migration report)::

            log_report(run_id, kind="migration_report", html=r.html(), markdown=r.markdown(),
                       outcome=r.outcome, candidate=r.candidate, incumbent=r.incumbent,
                       gates=r.gates_config, gate_rows=r.gates)   # 'reports/migration_report.html'
    """
    key = report_key(kind, candidate, incumbent, gates)
    with reporting(tracking_uri, f"logging the {kind} to MLflow run {run_id}"):
        c = client(tracking_uri)
        run = c.get_run(run_id)
        tags = run.data.tags
        own = tags.get(DECISION_KEY_TAG)
        logged = {a.path for a in c.list_artifacts(run_id, REPORT_DIR)}
        default = f"{REPORT_DIR}/{kind}.html"
        is_own = own == key or (own is None and default not in logged)
        stem = kind if is_own else report_name(kind, candidate, incumbent, key)
        table = pd.DataFrame([{k: _plain(v) for k, v in row.items()} for row in gate_rows])
        c.log_text(run_id, html, f"{REPORT_DIR}/{stem}.html")
        c.log_text(run_id, markdown, f"{REPORT_DIR}/{stem}.md")
        if is_own:
            run_tables = {a.path for a in c.list_artifacts(run_id)}
            if "decision.json" not in run_tables:
                c.log_table(run_id, table, "decision.json")
            new_tags = {DECISION_TAG: outcome, DECISION_KEY_TAG: key}
        else:
            c.log_table(run_id, table, f"{REPORT_DIR}/{stem}.decision.json")
            new_tags = {f"{DECISION_TAG}/{stem}": outcome}
        path = f"{REPORT_DIR}/{stem}.html"
        link = ui_url(run.info.experiment_id, run_id, path, ui="")
        note = tags.get(NOTE_TAG, "")
        if is_own:  # the description states this decision and links its report
            note = with_decision(note, decision_section(
                outcome, candidate, incumbent, gate_rows, advice=advice, report=path,
                report_link=link))
        else:
            note = with_other_report(note, (
                f"- [{path}]({link}): **{safe(outcome, 20)}** for "
                f"`{safe(config_label(candidate), 200)}` against "
                f"`{safe(config_label(incumbent), 200)}` with other roles or gates"))
        new_tags[NOTE_TAG] = safe(note)
        for name, value in safe_keys(new_tags).items():
            c.set_tag(run_id, name, value)
    return path


def _plain(value: Any) -> Any:
    """A JSON table cell: lists and dicts as JSON text."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value
