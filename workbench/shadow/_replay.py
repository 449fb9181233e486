"""``shadow_test``: replay a production traffic log against a candidate, through the runner.

The log becomes a golden set (one case per request: ``system``, ``user`` and earlier turns as
``history``; slices from the log plus the day or hour of the request and the user feedback).
Production is the pseudo-configuration ``("served:<model>", "production")``: its rows are the
logged responses, tokens and latency, priced at the served model's price and never called
(``billed_usd`` 0). The candidate answers through the runner (cache, budget, resume,
progress); a pairwise judge then compares it with production in both orders.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.models import ModelSpec, RetryPolicy
from workbench.prompts import PromptVariant
from workbench.records import Roles, ShadowSection
from workbench.runner import (
    Cell,
    Comparison,
    PairwiseTable,
    RecordedConfig,
    pairwise,
    plan,
    run_plan,
)
from workbench.scorers import Score, Scorer, is_refusal, json_valid, parse_json_object, scorer

from ._log import TrafficLog, TrafficRecord

__all__ = ["PRODUCTION", "ReplayVariant", "output_words", "pairwise_table", "refused",
           "shadow_test", "traffic_golden_set"]

PRODUCTION = "production"
"""Variant name of the served configuration (and of the candidate when it replays as logged)."""

Period = Literal["day", "hour"]
_PERIOD_FORMAT = {"day": "%Y-%m-%d", "hour": "%Y-%m-%d %H:00"}


class ReplayVariant(PromptVariant):
    """Sends each logged request exactly as it was sent: system, earlier turns, then user.

    The text is data from the log (never rendered as a template).

    Example:
        >>> v = ReplayVariant()
        >>> v.render({"system": "Be brief.", "history": None, "user": "Hi"})
        [{'role': 'system', 'content': 'Be brief.'}, {'role': 'user', 'content': 'Hi'}]
    """

    def __init__(self, name: str = PRODUCTION) -> None:
        super().__init__(name, user="{{ user }}", system="{{ system }}")

    @cached_property
    def variables(self) -> list[str]:
        """The traffic golden set's columns: ``history``, ``system`` and ``user``."""
        return ["history", "system", "user"]

    @cached_property
    def version(self) -> str:
        """Fixed: a replay sends what the log holds."""
        return "replay-v1"

    def render(self, row: Mapping[str, Any]) -> list[dict[str, str]]:
        """The logged messages of one request."""
        messages: list[dict[str, str]] = []
        if row.get("system") is not None:
            messages.append({"role": "system", "content": str(row["system"])})
        history = row.get("history")
        if history:
            messages.extend(json.loads(str(history)))
        messages.append({"role": "user", "content": str(row["user"])})
        return messages


def _split(record: TrafficRecord) -> dict[str, Any]:
    messages = [m.model_dump() for m in record.messages]
    system = messages[0]["content"] if messages[0]["role"] == "system" else None
    earlier = messages[1 if system is not None else 0:-1]
    return {"system": system, "history": json.dumps(earlier, ensure_ascii=False) if earlier
            else None, "user": messages[-1]["content"]}


def traffic_golden_set(log: TrafficLog, *, period: Period = "day",
                       records: Sequence[TrafficRecord] | None = None) -> GoldenSet:
    """The log as a golden set: one case per request, no ``expected`` (nothing is known right).

    Columns ``history``, ``system`` and ``user`` (templates may use them); slices are the log's
    own plus ``day`` (or ``hour``) and ``feedback`` when any request has one.

    Example:
        >>> gs = traffic_golden_set(TrafficLog.load("datasets/shadow/support_traffic.jsonl"))
        >>> gs.slices
        ['channel', 'language', 'day', 'feedback']
    """
    chosen = list(records if records is not None else log.records)
    slices = log.slices
    has_feedback = any(r.feedback is not None for r in chosen)
    rows = []
    for r in chosen:
        row: dict[str, Any] = {"id": r.request_id, **_split(r)}
        for name in slices:
            row[name] = r.slices.get(name, "(none)")
        row[period] = r.timestamp.astimezone(UTC).strftime(_PERIOD_FORMAT[period])
        if has_feedback:
            row["feedback"] = "(none)" if r.feedback is None else str(r.feedback)
        rows.append(row)
    extra = [period] + (["feedback"] if has_feedback else [])
    return GoldenSet.from_df(
        pd.DataFrame(rows), name=f"shadow-{log.path.stem}", slices=[*slices, *extra],
        routable=slices,
        description=f"Requests replayed from the traffic log {log.path.name} "
                    f"({'redacted' if log.redacted else 'NOT redacted'}).")


@scorer
def refused(case: Mapping[str, Any], output: str) -> Score:
    """1.0 when the output declines to answer (refusal drift: compare the rates).

    Example:
        >>> refused({}, "I cannot help with that.").value
        1.0
    """
    return Score(float(is_refusal(output)))


@scorer
def output_words(case: Mapping[str, Any], output: str) -> Score:
    """The output's length in words (length drift: compare the means).

    Example:
        >>> output_words({}, "three short words").value
        3.0
    """
    return Score(float(len(output.split())))


def _served(log: TrafficLog, served: ModelSpec | str | None
            ) -> tuple[ModelSpec, list[TrafficRecord]]:
    models = log.served_models
    if served is None:
        if len(models) > 1:
            raise ConfigError(
                f"the log was served by {len(models)} models: {models}",
                where=str(log.path),
                fix="Pick the production model to compare against: served=\"<model>\" (its "
                    "requests are replayed, the others left out).",
                cli_fix="Pick the production model to compare against: --served MODEL (its "
                    "requests are replayed, the others left out).")
        served = models[0]
    spec = ModelSpec(served) if isinstance(served, str) else served
    chosen = [r for r in log.records if r.served_model == spec.id]
    if not chosen:
        raise ConfigError(f"no request in the log was served by {spec.id!r}",
                          where=str(log.path), fix=f"Use one of {models}.")
    return spec, chosen


def shadow_test(
    log: TrafficLog | str | Path,
    candidate: ModelSpec | str,
    variant: PromptVariant | None = None,
    scorers: Sequence[Scorer] = (),
    *,
    judge: ModelSpec | str | None = "sim/judge",
    rubric: str = "helpfulness",
    served: ModelSpec | str | None = None,
    period: Period = "day",
    drift: bool = True,
    budget_usd: float | None = None,
    cache: bool = True,
    resume: bool = False,
    concurrency: int = 16,
    seed: int = 0,
    progress: bool = True,
    retry: RetryPolicy | None = None,
) -> Comparison:
    """Replay production traffic against ``candidate`` and compare it with what was served.

    Returns a :class:`Comparison` with two configurations: the candidate (variant
    ``"production"`` when ``variant`` is None, i.e. the logged messages as they were; else the
    variant re-rendered from the log's ``system``/``user``/``history`` fields) and
    ``("served:<model>", "production")``, built from the log and never called. Both are scored
    by ``scorers`` plus, with ``drift``, ``refused`` and ``output_words`` (refusal and length
    drift) and ``json_valid`` when production answers in JSON. With a ``judge``, ``wb.pairwise``
    compares them in both orders with a reference-free ``rubric``; its table is kept in
    ``cmp.record.shadow.pairwise`` (see :func:`pairwise_table`).

    A log is redacted when loaded (``TrafficLog.load``), so the candidate, cache, checkpoint,
    judge, MLflow and reports only see redacted text and hashed request ids (the case ids;
    ``log.id_of(request_id)`` finds one); ``cmp.record.shadow.redactions`` counts the
    replacements per detector. Pass a loaded log to choose otherwise.

    Example:
        Not run as a doctest (it replays 320 requests and judges every pair twice)::

            cmp = wb.shadow_test("datasets/shadow/support_traffic.jsonl", "sim/small")
            wb.shadow_report(cmp).outcome   # 'HOLD'
    """
    log = log if isinstance(log, TrafficLog) else TrafficLog.load(log)
    cand = ModelSpec(candidate) if isinstance(candidate, str) else candidate
    served_spec, records = _served(log, served)
    label = f"served:{served_spec.id}"
    if cand.label == label:
        raise ConfigError(f"the candidate is labelled {label!r}, the served configuration's name",
                          fix="Give the candidate another name.")
    pricing = served_spec.pricing()
    gs = traffic_golden_set(log, period=period, records=records)
    replay = ReplayVariant()
    chosen = variant or replay
    if variant is not None and variant.name == PRODUCTION:
        raise ConfigError(f"the variant name {PRODUCTION!r} is the served configuration's",
                          where=f"prompt variant {variant.name!r}", fix="Rename the variant.")
    all_scorers = list(scorers)
    names = {s.name for s in all_scorers}
    if drift:
        json_share = sum(parse_json_object(r.response) is not None for r in records) / len(records)
        auto = [refused, output_words] + ([json_valid] if json_share >= 0.8 else [])
        all_scorers += [s for s in auto if s.name not in names]
    p = plan(gs, [cand], [chosen], all_scorers, budget_usd=budget_usd, seed=seed)
    rows = []
    for r in records:
        rows.append((
            Cell(case_id=r.request_id, model=label, variant=PRODUCTION, repeat=0,
                 messages=[m.model_dump() for m in r.messages], key=f"served:{r.request_id}",
                 seed=None, est_prompt_tokens=r.prompt_tokens,
                 est_completion_tokens=r.completion_tokens),
            {"output": r.response, "error_type": None, "error": None, "finish_reason": "stop",
             "attempts": 1, "latency_s": r.latency_s, "ttft_s": None,
             "prompt_tokens": r.prompt_tokens, "completion_tokens": r.completion_tokens,
             "cost_usd": pricing.cost(r.prompt_tokens, r.completion_tokens),
             "billed_usd": 0.0, "cache_hit": False}))
    recorded = RecordedConfig(
        label=label, variant=replay, rows=rows, simulated=served_spec.simulated,
        pricing={"input_per_1m": pricing.input_per_1m, "output_per_1m": pricing.output_per_1m,
                 "source": pricing.source},
        source=f"{log.path.name}: logged responses, tokens and latency (never called)")
    cmp = run_plan(p, concurrency=concurrency, cache=cache, resume=resume, progress=progress,
                   retry=retry, recorded=[recorded])
    stamps = [r.timestamp for r in records]
    cmp.record.roles = Roles(candidate=(cand.label, chosen.name),
                             incumbent=(label, PRODUCTION))
    section = ShadowSection(
        log=log.path.name, requests=len(records), left_out=len(log) - len(records),
        served_model=served_spec.id, period=period, first=min(stamps).isoformat(),
        last=max(stamps).isoformat(), redacted=log.redacted,
        redactions=dict(sorted(log.redactions.items())), ids_hashed=log.ids_hashed,
        rubric=rubric)
    if judge is not None:
        remaining = None if budget_usd is None else max(0.0, budget_usd - cmp.spent_usd)
        pw = pairwise(cmp, candidate=(cand.label, chosen.name), incumbent=(label, PRODUCTION),
                      judge=judge, rubric=rubric, cache=cache, budget_usd=remaining,
                      concurrency=concurrency)
        verdicts, summary = pw.to_typed()
        section = section.model_copy(update={"judge": pw.attrs["judge"], "pairwise": verdicts,
                                             "pairwise_summary": summary})
    cmp.record.shadow = section
    return cmp


def pairwise_table(cmp: Comparison) -> PairwiseTable | None:
    """The shadow test's pairwise verdicts (``wb.pairwise``'s table), or None without a judge."""
    shadow = cmp.record.shadow
    if shadow is None or not shadow.pairwise:
        return None
    return PairwiseTable.from_typed(shadow.pairwise, shadow.pairwise_summary)
