"""One workflow for a shadow test: load the traffic, replay, judge, decide, log, report.

``workbench shadow`` and the demo call :func:`run_shadow` and only format its result.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workbench.errors import ConfigError
from workbench.experiments import load_variant
from workbench.models import ModelSpec
from workbench.prompts import PromptVariant
from workbench.reports import ShadowReport
from workbench.runner import Comparison
from workbench.shadow import Period, SpanChoice, TrafficLog
from workbench.stats import Gates

from ._experiment import Listener, QuietListener
from ._facade import shadow_report, shadow_test

__all__ = ["ShadowResult", "run_shadow"]


@dataclass
class ShadowResult:
    """What :func:`run_shadow` did."""

    comparison: Comparison
    report: ShadowReport
    html: Path
    markdown: Path
    run_id: str | None = None


def run_shadow(
    log: str | Path | TrafficLog,
    candidate: str | ModelSpec,
    *,
    gates: Gates | None = None,
    gates_path: str | Path | None = None,
    judge: str | None = None,
    no_judge: bool = False,
    served: str | None = None,
    budget_usd: float | None = None,
    cache: bool = True,
    progress: bool = True,
    period: Period = "day",
    monthly_requests: int | None = None,
    out: str | Path = "shadow_report.html",
    experiment: str | None = None,
    tracking_uri: str | None = None,
    listener: Listener | None = None,
    traces_uri: str | None = None,
    span: SpanChoice = "first",
    slice_tags: Sequence[str] = (),
    sample: int | None = None,
    stratify_by: str | None = None,
    seed: int = 0,
    variant: str | Path | PromptVariant | None = None,
) -> ShadowResult:
    """Replay a traffic log against ``candidate``, judge, decide and write the shadow report.

    ``log`` is a loaded ``TrafficLog`` or a source ``TrafficLog.load`` reads: a JSONL file,
    ``mlflow-traces:<experiment>?...`` (from ``traces_uri``, default the tracking URI) or
    ``otlp:<files>``, with ``span``, ``slice_tags`` and ``sample`` / ``stratify_by`` / ``seed``
    passed on. ``variant`` (a ``PromptVariant`` or a variant YAML file, see
    :func:`workbench.experiments.load_variant`) re-renders each request from its ``system``,
    ``user`` and ``history``; None replays the logged messages exactly.

    ``judge`` defaults to the simulated judge for a simulated candidate; a real candidate
    needs a real judge (or ``no_judge=True``). ``gates`` (or ``gates_path``) default to
    :func:`workbench.reports.default_shadow_gates`. With ``experiment`` the test and the
    report are logged to MLflow.

    Raises:
        ConfigError: a real candidate without a judge, a bad log or gates file.
    """
    tell: Listener = listener or QuietListener()
    if gates is None and gates_path is not None:
        gates = Gates.load(gates_path)
    spec = candidate if isinstance(candidate, ModelSpec) else ModelSpec(candidate)
    chosen_judge: str | None = None
    if not no_judge:
        if judge is None and not spec.simulated:
            raise ConfigError("a real candidate needs a real judge", where="--judge",
                              fix="Pass --judge MODEL (e.g. openai/gpt-4o), or --no-judge to "
                              "skip the pairwise comparison.")
        chosen_judge = judge or "sim/judge"
    traffic = log if isinstance(log, TrafficLog) else TrafficLog.load(
        log, **_traffic_options(str(log), traces_uri or tracking_uri, span, slice_tags),
        sample=sample, stratify_by=stratify_by, seed=seed)
    tell.loaded(traffic)
    prompt = (load_variant(variant) if isinstance(variant, (str, Path))
              else variant)  # None: the logged messages exactly as they were sent
    cmp = shadow_test(traffic, spec, prompt, judge=chosen_judge, served=served,
                      budget_usd=budget_usd, cache=cache, progress=progress, period=period,
                      experiment=experiment, tracking_uri=tracking_uri)
    tell.ran(cmp)
    run_id = cmp.record.tracking.run_id if cmp.record.tracking else None
    out_path = Path(out)
    command = (f"workbench shadow --traffic {shlex.quote(_source_arg(log, traffic))} "
               f"--candidate {spec.id}"
               + (f" --variant {shlex.quote(str(variant))}" if isinstance(variant, (str, Path))
                  else "")
               + "".join(f" --slice-tag {shlex.quote(t)}" for t in slice_tags)
               + (f" --span {span}" if span != "first" else "")
               + (f" --sample {sample}" if sample is not None else "")
               + (f" --stratify-by {stratify_by}" if stratify_by else "")
               + (f" --seed {seed}" if sample is not None and seed else "")
               + (f" --gates {gates_path}" if gates_path else "")
               + (f" --judge {chosen_judge}" if chosen_judge and not spec.simulated else "")
               + f" --out {out_path.name}")
    report = shadow_report(cmp, gates, monthly_requests=monthly_requests,
                           rebuild_command=command)
    html = report.to_html(out_path)
    markdown = report.to_markdown(out_path.with_suffix(".md"))
    tell.reported(html, markdown, report.outcome, "shadow report" if run_id else None)
    return ShadowResult(cmp, report, html, markdown, run_id)


def _traffic_options(source: str, traces_uri: str | None, span: SpanChoice,
                     slice_tags: Sequence[str]) -> dict[str, Any]:
    """The trace options ``TrafficLog.load`` takes for this source (none for a JSONL log)."""
    from workbench.shadow import parse_source

    kind = parse_source(source).kind
    if kind == "jsonl":
        if span != "first" or slice_tags:
            raise ConfigError("--span and --slice-tag are for traces, not a JSONL log",
                              where=source, fix="Leave them out: a JSONL log's slices are its "
                              "records' own.")
        return {}
    return {"span": span, "slice_tags": tuple(slice_tags),
            **({"tracking_uri": traces_uri} if kind == "mlflow-traces" else {})}


def _source_arg(given: str | Path | TrafficLog, traffic: TrafficLog) -> str:
    """What to pass to --traffic to read the same traffic again (personal data redacted)."""
    if traffic.provenance.kind != "jsonl":
        return traffic.name
    return str(given) if not isinstance(given, TrafficLog) else str(traffic.path)
