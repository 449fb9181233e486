"""What a candidate must show: the gates configuration (``Gates``, ``MetricGate``, roles).

Pydantic models, strict (unknown keys refused) and frozen; ``Gates.load`` reads a YAML file and
names the file, key and line of each problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workbench._yaml import load_model

from ._paired import ConfigRef

__all__ = ["Gates", "MetricGate", "Role"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Role(_Strict):
    """A configuration: model label and variant name."""

    model: str
    variant: str

    @staticmethod
    def parse(value: Any) -> Any:
        """Accept ``[model, variant]`` and ``"model:variant"`` as well as a mapping."""
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"model": value[0], "variant": value[1]}
        if isinstance(value, str) and ":" in value:
            model, variant = value.rsplit(":", 1)
            return {"model": model, "variant": variant}
        return value

    @property
    def ref(self) -> ConfigRef:
        return (self.model, self.variant)


class MetricGate(_Strict):
    """A quality gate on one scorer: non-inferiority within ``margin`` (or superiority)."""

    margin: float = Field(0.02, ge=0, le=1)
    """Largest acceptable drop of the candidate's mean (in score units: 0.02 = 2 points)."""
    superiority: bool = False
    """Require the candidate to be better (lower bound above 0) instead of not worse."""
    min_informative: int | None = Field(None, ge=0)
    """This gate's minimum of informative cases (default: the gates' ``min_informative``).
    0 suits a format check (``json_valid``) where both sides passing every case is the pass
    you want: Tango's bound alone then decides, and it is never of zero width."""


class Gates(_Strict):
    """What a candidate must show to replace the incumbent (load from YAML with ``Gates.load``).

    Example:
        >>> g = Gates(metrics={"exact_match": MetricGate(margin=0.02)}, cost_ratio_max=1.0)
        >>> g.alpha, g.metrics["exact_match"].margin
        (0.05, 0.02)
    """

    candidate: Role | None = None
    incumbent: Role | None = None
    metrics: dict[str, MetricGate] = Field(default_factory=dict)
    cost_ratio_max: float | None = Field(None, gt=0)
    """Candidate mean cost per case ÷ incumbent's, upper bound at most this."""
    latency_p95_max_s: float | None = Field(None, gt=0)
    """Candidate's p95 latency (seconds), upper bound at most this."""
    latency_p95_increase_max_s: float | None = Field(None, ge=0)
    """Candidate p95 − incumbent p95 (seconds), upper bound at most this."""
    cost_increase_max_per_1k_usd: float | None = Field(None, ge=0)
    """Candidate − incumbent cost per 1,000 requests (dollars), upper bound at most this (the
    cost gate for a free incumbent, where no ratio exists)."""
    error_rate_max: float = Field(0.05, ge=0, le=1)
    """Candidate's error rate (failed calls and scorer failures, clustered by case), upper
    bound at most this. Always on (Settled R1); 1.0 allows any rate."""
    error_rate_increase_max: float = Field(0.02, ge=0, le=1)
    """Candidate's error rate minus the incumbent's, paired by case, upper bound at most this
    (absolute points: 0.02 = 2 points). Always on; 1.0 allows any increase."""
    min_informative: int = Field(10, ge=0)
    """Informative cases a quality gate needs before it can pass: discordant pairs
    (pass/fail), non-zero differences (continuous), won or lost verdicts (win share)."""
    win_share_margin: float | None = Field(None, ge=0, le=0.5)
    """Pairwise judge (``wb.pairwise``): the win share (wins + ½ ties) / n must have its lower
    bound at least 0.5 − this margin (a shadow test's main gate)."""
    max_slice_regressions: int | None = Field(None, ge=0)
    """Slice values with a significant drop (adjusted p < alpha) allowed, over gated metrics."""
    alpha: float = Field(0.05, gt=0, lt=0.5)
    correction: Literal["holm", "fdr_bh"] = "holm"
    errors: Literal["zero", "drop"] = "zero"
    power: float = Field(0.8, gt=0, lt=1)
    """Power used to say how many cases would settle a HOLD."""
    seed: int = 0
    """Bootstrap seed (recorded so a rebuilt decision is identical)."""

    @field_validator("candidate", "incumbent", mode="before")
    @classmethod
    def _roles(cls, value: Any) -> Any:
        return Role.parse(value)

    @field_validator("error_rate_max", "error_rate_increase_max", mode="before")
    @classmethod
    def _always_on(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("the error-rate gates are always on; set 1.0 to allow any rate")
        return value

    @classmethod
    def default(cls, metrics: list[str], **overrides: Any) -> Gates:
        """Every metric non-inferior within 2 points, no slice regression, errors bounded.

        The error-rate gates are on in every ``Gates``: at most 5%, and at most 2 points above
        the incumbent's rate.
        """
        base: dict[str, Any] = {"metrics": {m: MetricGate() for m in metrics},
                                "max_slice_regressions": 0}
        return cls(**{**base, **overrides})

    @classmethod
    def load(cls, path: str | Path) -> Gates:
        """Read a gates YAML file (see examples/triage_gates.yaml).

        Raises:
            ConfigError: naming the file, key and line of each problem.
        """
        return load_model(Path(path), cls, what="gates file",
                          example="examples/triage_gates.yaml")[0]
