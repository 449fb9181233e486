"""The experiment file that reproduces a comparison, from its run record (``to_config``)."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import yaml

from workbench.errors import ConfigError
from workbench.models import ModelSpec
from workbench.records import EXPERIMENT_SCHEMA_VERSION, RunRecord

__all__ = ["experiment_yaml"]


def experiment_yaml(record: RunRecord, base: Path | None = None) -> str:
    """The experiment file text that reproduces a comparison (from its run record)."""
    gs = record.golden_set
    gs_path = gs.path
    if gs_path and base is not None:
        gs_path = os.path.relpath(Path(gs_path).resolve(), base.resolve())
    models = []
    defaults = {f.name: f.default for f in dataclasses.fields(ModelSpec)}
    for m in record.models:
        if m.recorded:  # a recorded configuration (shadow production) is never run
            continue
        params = dict(m.params)
        params["id"] = params.pop("model")
        models.append({k: v for k, v in params.items() if defaults.get(k, object()) != v
                       or k == "id"})
    variants = []
    for v in record.variants:
        entry: dict[str, Any] = {"name": v.name}
        if v.system is not None:
            entry["system"] = v.system
        entry["user"] = v.user
        if v.few_shot_ids:
            entry["few_shot"] = {"ids": v.few_shot_ids}
        if v.response_format:
            entry["response_format"] = v.response_format
        variants.append(entry)
    scorers = []
    for s in record.scorers:
        if s.ref is None:
            raise ConfigError(f"scorer {s.name!r} was defined in a notebook, so an experiment "
                              "file cannot name it", where="to_config",
                              fix="Move it to a module and decorate it with @wb.scorer.")
        entry = {"scorer": s.ref}
        if s.args:
            entry["args"] = s.args
        base_name = s.ref.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        if s.name != base_name:
            entry["name"] = s.name
        scorers.append(entry)
    settings = record.settings
    doc: dict[str, Any] = {
        "schema_version": EXPERIMENT_SCHEMA_VERSION,
        "golden_set": {"path": gs_path, "digest": gs.digest},
        "models": models,
        "variants": variants,
        "scorers": scorers,
        "repeats": settings.repeats,
        "concurrency": settings.concurrency,
        "seed": settings.seed,
        "cache": settings.cache,
    }
    if settings.budget_usd is not None:
        doc["budget_usd"] = settings.budget_usd
    header = "# Reproduces a workbench comparison (written by Comparison.to_config)\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
