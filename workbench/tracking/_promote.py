"""Promotion and rollback through the MLflow Prompt Registry.

``promote`` registers the winning configuration (the whole prompt: system, few-shot turns and
user template, Jinja source verbatim, plus the model and its parameters) once, tags that version
with its evidence and moves the ``production`` alias to it, recording the previous target.
``rollback`` moves the alias back; ``load_prompt`` rebuilds the ``PromptVariant`` and
``ModelSpec`` that render exactly as the promoted ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from workbench.errors import ConfigError
from workbench.models import ModelSpec
from workbench.prompts import PromptVariant
from workbench.runner import Comparison
from workbench.stats import Decision

from ._client import client, safe

__all__ = ["Promotion", "load_prompt", "promote", "rollback"]

ALIAS = "production"
ENGINE = "jinja2 (sandboxed, StrictUndefined): workbench.PromptVariant"
_SPEC_FIELDS = ("id", "temperature", "max_tokens", "seed", "top_p", "api_base", "api_key_env",
                "input_price_per_1m", "output_price_per_1m", "accept_unknown_cost", "timeout_s",
                "name", "max_concurrency", "rpm", "tpm", "stream", "headers", "headers_env")


@dataclass(frozen=True)
class Promotion:
    """What ``promote`` or ``rollback`` did: the alias now points at ``version``."""

    prompt: str
    version: int
    previous: int | None
    created: bool
    """True when this call registered a new version (False: an identical one existed)."""
    forced: bool = False

    @property
    def uri(self) -> str:
        """``prompts:/<name>@production``."""
        return f"prompts:/{self.prompt}@{ALIAS}"


def _variant_of(comparison: Comparison, name: str) -> PromptVariant:
    record = next((v for v in comparison.record.variants if v.name == name), None)
    if record is None:
        raise ConfigError(f"variant {name!r} is not in the comparison",
                          fix="Promote a configuration the comparison ran.")
    shots: list[dict[str, Any]] = []
    if record.few_shot_ids:
        gs = comparison.golden_set()
        by_id = {str(r["id"]): r for r in gs.records()}
        shots = [by_id[i] for i in record.few_shot_ids]
    variant = PromptVariant(name, user=record.user, system=record.system, few_shot=shots,
                            response_format=record.response_format)
    if variant.version != record.version:  # the rebuilt prompt must be the one compared
        raise ConfigError(f"variant {name!r} rebuilds as version {variant.version}, the "
                          f"comparison ran {record.version}",
                          fix="Promote from the comparison with its own golden set.")
    return variant


def _model_of(comparison: Comparison, label: str) -> dict[str, Any]:
    record = comparison.record.model(label)
    if record is None:
        raise ConfigError(f"model {label!r} is not in the comparison",
                          fix="Promote a configuration the comparison ran.")
    params = dict(record.params)
    spec = {k: params[k] for k in _SPEC_FIELDS if k in params and params[k] is not None}
    spec.setdefault("id", params.get("model", label))
    return spec


def _messages(variant: PromptVariant) -> list[dict[str, str]]:
    """The whole prompt as chat messages: system and user as Jinja source, few-shot turns."""
    out = []
    if variant.system is not None:
        out.append({"role": "system", "content": variant.system})
    if variant.few_shot:
        shots = variant.render(variant.few_shot[0])
        start = 1 if variant.system is not None else 0
        out.extend(dict(m) for m in shots[start:-1])
    out.append({"role": "user", "content": variant.user})
    return out


def promote(
    decision: Decision,
    comparison: Comparison,
    prompt_name: str,
    *,
    tracking_uri: str | None = None,
    force: bool = False,
    report_uri: str | None = None,
) -> Promotion:
    """Register the decision's candidate in the Prompt Registry and point ``production`` at it.

    Refused unless the decision is PROMOTE and the comparison was logged to MLflow
    (``force=True`` overrides, recorded as forced on the version).

    Example:
        Not run as a doctest: it needs a comparison logged to MLflow and its decision::

            p = wb.promote(decision, cmp, "triage")
            p.uri   # 'prompts:/triage@production'
    """
    run = comparison.record.tracking.run_id if comparison.record.tracking else None
    problems = []
    if decision.outcome != "PROMOTE":
        problems.append(f"the decision is {decision.outcome}, not PROMOTE")
    if not run:
        problems.append("the comparison was not logged to MLflow (no parent run to cite)")
    if problems and not force:
        raise ConfigError("; ".join(problems), where=f"promote to {prompt_name!r}",
                          fix="Promote a PROMOTE decision on a logged comparison, or pass "
                          "force=True (recorded on the version as forced).")
    model, variant_name = decision.candidate
    variant = _variant_of(comparison, variant_name)
    spec = _model_of(comparison, model)
    c = client(tracking_uri)
    identity = f"{variant.version}:{json.dumps(spec, sort_keys=True)}"
    existing = None
    if c.get_prompt(prompt_name) is not None:
        for v in c.search_prompt_versions(prompt_name):
            if v.tags.get("workbench.identity") == identity:
                existing = v
                break
    evidence = {
        "workbench.identity": identity, "workbench.template_engine": ENGINE,
        "workbench.variant": json.dumps({
            "name": variant.name, "user": variant.user, "system": variant.system,
            "few_shot": [{k: v for k, v in r.items()} for r in variant.few_shot],
            "response_format": variant.response_format}, default=str, ensure_ascii=False),
        "workbench.model": json.dumps(spec, sort_keys=True, default=str),
        "workbench.prompt_version": variant.version,
    }
    created = existing is None
    if existing is None:
        model_config: dict[str, Any] = {"model_name": spec["id"]}
        model_config.update({k: spec[k] for k in ("temperature", "max_tokens", "top_p")
                             if k in spec})
        version = c.register_prompt(
            prompt_name, _messages(variant),
            commit_message=f"workbench: {model} · {variant.name} ({decision.outcome})",
            tags={k: safe(v) if k != "workbench.variant" else v for k, v in evidence.items()},
            response_format=variant.response_format,
            model_config=model_config)
        number = int(version.version)
    else:
        number = int(existing.version)
    paired = decision.paired
    tags = {
        "workbench.decision": decision.outcome,
        "workbench.parent_run_id": run or "",
        "workbench.dataset_digest": comparison.record.golden_set.digest,
        "workbench.metrics": json.dumps({
            k: {"incumbent": m.incumbent.mean, "candidate": m.candidate.mean, "delta": m.delta,
                "ci": [m.low, m.high], "method": m.method} for k, m in paired.metrics.items()}),
        "workbench.incumbent": "/".join(decision.incumbent),
        "workbench.forced": str(bool(problems)).lower(),
        "workbench.report": report_uri or (f"runs:/{run}/reports/migration_report.html"
                                           if run else ""),
    }
    previous = _current(c, prompt_name)
    if previous is not None and previous != number:
        tags["workbench.previous_production"] = str(previous)
    for key, value in tags.items():
        c.set_prompt_version_tag(prompt_name, number, key, safe(value))
    c.set_prompt_alias(prompt_name, ALIAS, number)
    return Promotion(prompt_name, number, previous, created, forced=bool(problems))


def _current(c: Any, name: str) -> int | None:
    if c.get_prompt(name) is None:
        return None
    try:
        return int(c.get_prompt_version_by_alias(name, ALIAS).version)
    except Exception:  # MlflowException: no such alias yet
        return None


def rollback(prompt_name: str, *, tracking_uri: str | None = None) -> Promotion:
    """Point ``production`` back at the version it had before the last promotion.

    Example:
        Not run as a doctest: it needs a prompt promoted twice in the MLflow registry::

            wb.rollback("triage").version   # 1
    """
    c = client(tracking_uri)
    current = _current(c, prompt_name)
    if current is None:
        raise ConfigError(f"prompt {prompt_name!r} has no {ALIAS!r} alias",
                          fix="Promote a version first (wb.promote).")
    tags = c.load_prompt(prompt_name, version=current).tags
    previous = tags.get("workbench.previous_production")
    if not previous:
        raise ConfigError(f"{prompt_name} version {current} has no earlier production version",
                          fix="Nothing to roll back to: promote another version instead.")
    c.set_prompt_alias(prompt_name, ALIAS, int(previous))
    return Promotion(prompt_name, int(previous), current, created=False)


def load_prompt(uri: str, *, tracking_uri: str | None = None) -> tuple[PromptVariant, ModelSpec]:
    """The ``PromptVariant`` and ``ModelSpec`` of a promoted version (``"name@production"``).

    Example:
        Not run as a doctest: it needs a prompt promoted in the MLflow registry::

            variant, model = wb.load_prompt("triage@production")
            variant.render({"message": "I was billed twice"})
    """
    c = client(tracking_uri)
    ref = uri if uri.startswith("prompts:/") else f"prompts:/{uri}"
    try:
        version = c.load_prompt(ref)
    except Exception as exc:  # MlflowException
        raise ConfigError(f"cannot load {ref}: {str(exc)[:200]}",
                          fix="Check the name and alias (wb.promote sets @production).") from None
    tags = version.tags
    if "workbench.variant" not in tags:
        raise ConfigError(f"{ref} was not registered by wb.promote",
                          fix="Load a prompt promoted by the workbench.")
    v = json.loads(tags["workbench.variant"])
    variant = PromptVariant(v["name"], user=v["user"], system=v["system"],
                            few_shot=v["few_shot"], response_format=v["response_format"])
    if variant.version != tags.get("workbench.prompt_version"):
        raise ConfigError(f"{ref} rebuilds as version {variant.version}, registered as "
                          f"{tags.get('workbench.prompt_version')}",
                          fix="The registered prompt was altered; promote it again.")
    return variant, ModelSpec(**json.loads(tags["workbench.model"]))
