"""The experiment file's layout: pydantic models of what a YAML experiment file may say.

``load_experiment`` (``_load.py``) reads a file into these, then builds the API objects.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workbench.models import ModelSpec
from workbench.records import EXPERIMENT_SCHEMA_VERSION

__all__ = ["Experiment", "FewShot", "GoldenSetEntry", "ModelEntry", "PairwiseEntry",
           "ScorerEntry", "VariantEntry"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldenSetEntry(_Strict):
    """Which golden set, optionally pinned to a digest."""

    path: str
    """Path of the golden set file (relative to the experiment file)."""
    digest: str | None = None
    """``sha256:...``: refuse to run when the file's digest differs."""


class ModelEntry(_Strict):
    """A ``ModelSpec``'s fields (see ``workbench.ModelSpec``)."""

    id: str
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    top_p: float | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    input_price_per_1m: float | None = None
    output_price_per_1m: float | None = None
    accept_unknown_cost: bool = False
    timeout_s: float = 60.0
    name: str | None = None
    max_concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    stream: bool = False
    headers: dict[str, str] | None = None
    headers_env: dict[str, str] | None = None

    def spec(self) -> ModelSpec:
        """The ModelSpec."""
        return ModelSpec(**self.model_dump())


class FewShot(_Strict):
    """Few-shot examples from the golden set: explicit ids, or a seeded sample."""

    ids: list[str] | None = None
    sample: int | None = Field(default=None, ge=1)
    seed: int = 0
    stratify: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> FewShot:
        if (self.ids is None) == (self.sample is None):
            raise ValueError("give either ids: [...] or sample: N")
        return self


class VariantEntry(_Strict):
    """A prompt variant: inline templates or template files."""

    name: str
    user: str | None = None
    user_file: str | None = None
    system: str | None = None
    system_file: str | None = None
    few_shot: FewShot | None = None
    response_format: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _templates(self) -> VariantEntry:
        if (self.user is None) == (self.user_file is None):
            raise ValueError("give exactly one of user: or user_file:")
        if self.system is not None and self.system_file is not None:
            raise ValueError("give at most one of system: or system_file:")
        return self


class ScorerEntry(_Strict):
    """A scorer: a built-in name or ``module:function``, its arguments and an optional name."""

    scorer: str
    args: dict[str, Any] = Field(default_factory=dict)
    name: str | None = None


class PairwiseEntry(_Strict):
    """A pairwise judgement to run after the comparison."""

    candidate: tuple[str, str]
    """(model label, variant name) of the candidate."""
    incumbent: tuple[str, str]
    """(model label, variant name) of the incumbent."""
    judge: str = "sim/judge"
    rubric: str = "correctness"


class Experiment(_Strict):
    """A whole comparison, as written in an experiment file."""

    schema_version: int = EXPERIMENT_SCHEMA_VERSION
    name: str | None = None
    golden_set: GoldenSetEntry
    models: list[ModelEntry] = Field(min_length=1)
    variants: list[VariantEntry] = Field(min_length=1)
    scorers: list[ScorerEntry] = Field(default_factory=list)
    repeats: int = Field(default=1, ge=1)
    concurrency: int = Field(default=16, ge=1)
    workers: int | None = Field(default=None, ge=1)
    """Worker processes that run the cases (shards merged into one comparison); ``workbench run
    --workers N`` overrides it. The concurrency, budget and rate limits stay the run's."""
    budget_usd: float | None = Field(default=None, gt=0)
    cache: bool = True
    seed: int = 0
    cases: list[str] | None = None
    leakage: str = "exclude"
    pairwise: PairwiseEntry | None = None
    """Judge a candidate against an incumbent case by case after the run (both orders)."""
    human_labels: str | None = None
    """CSV of human labels (``wb.stats.LABEL_COLUMNS``) to calibrate the judge scorers against
    after the run, relative to the experiment file."""
    mlflow_experiment: str | None = None
    """MLflow experiment to log the comparison to after the run (``--no-mlflow`` skips it)."""
    gates: str | None = None
    """A gates file (``wb.Gates``), relative to the experiment file: after the run, decide
    PROMOTE / HOLD / REJECT for its candidate against its incumbent."""

    @field_validator("golden_set", mode="before")
    @classmethod
    def _path_shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("models", mode="before")
    @classmethod
    def _model_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("scorers", mode="before")
    @classmethod
    def _scorer_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"scorer": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("schema_version")
    @classmethod
    def _known(cls, value: int) -> int:
        if value > EXPERIMENT_SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is newer than this workbench reads "
                             f"({EXPERIMENT_SCHEMA_VERSION}); upgrade workbench")
        return value

    @field_validator("leakage")
    @classmethod
    def _leakage(cls, value: str) -> str:
        if value not in ("exclude", "error"):
            raise ValueError("leakage must be 'exclude' or 'error'")
        return value


