"""The typed run record: what a comparison compared, how it ran, and what was done with it.

One ``RunRecord`` travels with every ``Comparison``. The runner fills the parts it knows
(golden set, models, variants, scorers, judges, settings, run statistics, versions); each
later writer sets its own section and nothing else: the shadow test sets ``shadow`` and
``roles``, tracking sets ``tracking`` (and ``roles`` when it logs them), ``workbench run`` with
a gates file sets ``decision``. Saved comparisons write it with ``model_dump_json`` under a
schema version; a comparison saved before the record existed (an untyped dict, version 1) is
read by :meth:`RunRecord.from_legacy`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "EXPERIMENT_SCHEMA_VERSION", "RECORD_SCHEMA_VERSION", "DecisionRecord", "GateRecord",
    "GoldenSetRef", "JudgeRecord", "ModelRecord", "PairwiseRow", "PairwiseSummary",
    "PricingRecord", "Roles", "RunRecord", "RunSettings", "RunStats", "ScorerErrorRecord",
    "ScorerRecord", "ShadowSection", "StoppedConfig", "TrackingRef", "VariantRecord", "Versions",
]

RECORD_SCHEMA_VERSION = 2
"""Version of the run record's JSON layout (1 was the untyped ``meta`` dict)."""

EXPERIMENT_SCHEMA_VERSION = 1
"""Version of the experiment-file layout this workbench writes (``Comparison.to_config``) and
reads (``workbench.experiments``)."""

Status = Literal["complete", "budget_stopped", "interrupted"]
ConfigRef = tuple[str, str]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class GoldenSetRef(_Record):
    """The golden set a comparison ran on, by name and content digest."""

    name: str
    digest: str
    """sha256 of the canonical JSONL (DESIGN.md, Settled 9)."""
    version: str | None = None
    path: str | None = None
    """Where it was loaded from, if from a file (used to find it again)."""
    rows: int = 0
    evaluated: int = 0
    """Cases evaluated (rows minus few-shot examples)."""
    excluded_few_shot: list[str] = Field(default_factory=list)
    """Ids of cases used as few-shot examples and left out of scoring (Settled 10)."""
    slices: list[str] = Field(default_factory=list)


class PricingRecord(_Record):
    """Prices per million tokens and where they came from."""

    input_per_1m: float | None = None
    output_per_1m: float | None = None
    source: str = ""


class ModelRecord(_Record):
    """One model configuration: its label, parameters (credentials masked) and prices."""

    label: str
    simulated: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    """``ModelSpec.params()``: what MLflow and reports may show (never a key)."""
    pricing: PricingRecord | None = None
    recorded: str | None = None
    """For a recorded configuration (a shadow test's production): where its answers came
    from; such a configuration is never called."""


class VariantRecord(_Record):
    """One prompt variant: templates and content-hash version."""

    name: str
    version: str
    system: str | None = None
    user: str
    few_shot_ids: list[str] = Field(default_factory=list)
    response_format: Any = None


class ScorerRecord(_Record):
    """One scorer: name, how to find it again, the arguments it was made with."""

    name: str
    ref: str | None = None
    """A built-in name or ``module:function``; None for a scorer defined in a notebook."""
    args: dict[str, Any] = Field(default_factory=dict)
    version: str | None = None


class JudgeRecord(_Record):
    """The model behind a judge scorer."""

    scorer: str
    label: str
    simulated: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    pricing: PricingRecord | None = None


class RunSettings(_Record):
    """How the matrix was run."""

    repeats: int = 1
    seed: int = 0
    budget_usd: float | None = None
    concurrency: int | None = None
    cache: bool = True


class ScorerErrorRecord(_Record):
    """A scorer failure kept as an example (the first 50 of a run)."""

    case_id: str
    scorer: str
    error: str


class StoppedConfig(_Record):
    """A configuration stopped early because its first calls all failed the same way."""

    model: str
    variant: str
    reason: str


class RunStats(_Record):
    """What happened when the plan ran."""

    status: Status = "complete"
    stop_reason: str | None = None
    calls_planned: int = 0
    calls_recorded: int = 0
    requests_sent: int = 0
    """Requests that reached a provider in this process (0 when all came from the cache)."""
    spent_usd: float = 0.0
    """Billed for model calls in this run (cache hits cost nothing)."""
    judge_billed_usd: float = 0.0
    estimated_usd: float | None = None
    started_at: str | None = None
    duration_s: float = 0.0
    checkpoint: str | None = None
    scorer_errors: list[ScorerErrorRecord] = Field(default_factory=list)
    stopped_configs: list[StoppedConfig] = Field(default_factory=list)
    merged_from: list[str | None] = Field(default_factory=list)
    """Start times of the comparisons this one was merged from (``Comparison.merge``)."""


class Versions(_Record):
    """Library versions the run used."""

    workbench: str = ""
    litellm: str = ""
    python: str = ""


class Roles(_Record):
    """Which configuration is the candidate and which the incumbent."""

    candidate: ConfigRef | None = None
    incumbent: ConfigRef | None = None


class TrackingRef(_Record):
    """Where the comparison was logged in MLflow (set by tracking and the workflow)."""

    run_id: str | None = None
    experiment: str | None = None
    experiment_id: str | None = None
    tracking_uri: str | None = None
    unfinished_run_id: str | None = None
    """A parent run whose logging did not finish; the next logging supersedes it."""
    error: str | None = None
    """Why logging failed, when it did (the results are kept)."""
    report: str | None = None
    """The artifact path of the report logged to the run, if any."""


class PairwiseRow(_Record):
    """One case judged pairwise in both orders (a row of ``wb.pairwise``'s table)."""

    case_id: str
    verdict_candidate_first: str | None = None
    verdict_incumbent_first: str | None = None
    outcome: str | None = None
    """``win``, ``loss`` or ``tie`` for the candidate; None when the judge failed."""
    consistent: bool | None = None
    judge_cost_usd: float = 0.0
    error: str | None = None


class PairwiseSummary(_Record):
    """The counts of a pairwise table."""

    candidate: ConfigRef
    incumbent: ConfigRef
    judge: str
    rubric: str
    simulated_judge: bool = False
    n: int = 0
    wins: int = 0
    losses: int = 0
    ties: int = 0
    consistency_rate: float | None = None
    errors: int = 0
    skipped: int = 0
    judge_cost_usd: float = 0.0
    judge_billed_usd: float | None = None
    """What this run paid the judge (0 when every verdict came from the cache); None in saves
    made before it was recorded."""


class ShadowSection(_Record):
    """A shadow test: the traffic it replayed and the pairwise verdicts against production."""

    log: str
    requests: int
    left_out: int = 0
    served_model: str
    period: str
    first: str
    last: str
    redacted: bool = True
    redactions: dict[str, int] = Field(default_factory=dict)
    ids_hashed: bool = False
    rubric: str = "helpfulness"
    judge: str | None = None
    pairwise: list[PairwiseRow] | None = None
    pairwise_summary: PairwiseSummary | None = None


class GateRecord(_Record):
    """One gate of a recorded decision."""

    gate: str
    status: str
    threshold: str = ""
    evidence: str = ""


class DecisionRecord(_Record):
    """The decision ``workbench run`` made with the experiment's gates file."""

    outcome: Literal["PROMOTE", "HOLD", "REJECT"]
    candidate: ConfigRef
    incumbent: ConfigRef
    advice: str = ""
    gates: list[GateRecord] = Field(default_factory=list)


class RunRecord(_Record):
    """Everything known about one comparison besides its tables.

    Example:
        >>> r = RunRecord(golden_set=GoldenSetRef(name="triage", digest="ab12"))
        >>> r.run.status, r.settings.repeats, r.tracking is None
        ('complete', 1, True)
    """

    schema_version: int = RECORD_SCHEMA_VERSION
    golden_set: GoldenSetRef
    models: list[ModelRecord] = Field(default_factory=list)
    variants: list[VariantRecord] = Field(default_factory=list)
    scorers: list[ScorerRecord] = Field(default_factory=list)
    judges: list[JudgeRecord] = Field(default_factory=list)
    settings: RunSettings = Field(default_factory=RunSettings)
    run: RunStats = Field(default_factory=RunStats)
    versions: Versions = Field(default_factory=Versions)
    roles: Roles = Field(default_factory=Roles)
    tracking: TrackingRef | None = None
    shadow: ShadowSection | None = None
    decision: DecisionRecord | None = None

    def model(self, label: str) -> ModelRecord | None:
        """The model record with this label, if any."""
        return next((m for m in self.models if m.label == label), None)

    @classmethod
    def from_legacy(cls, meta: dict[str, Any]) -> RunRecord:
        """Read the untyped ``meta`` dict of a comparison saved before the record existed.

        Example:
            >>> RunRecord.from_legacy({"golden_set": {"name": "g", "digest": "d"},
            ...                        "repeats": 2, "status": "complete"}).settings.repeats
            2
        """
        gs = dict(meta.get("golden_set") or {"name": "?", "digest": ""})
        mlflow = meta.get("mlflow") or None
        roles = meta.get("roles") or {}
        shadow = meta.get("shadow") or None
        run_keys = set(RunStats.model_fields)
        return cls(
            golden_set=GoldenSetRef(**{k: v for k, v in gs.items()
                                       if k in GoldenSetRef.model_fields}),
            models=[ModelRecord(**{k: v for k, v in m.items() if k in ModelRecord.model_fields})
                    for m in meta.get("models", [])],
            variants=[VariantRecord(**v) for v in meta.get("variants", [])],
            scorers=[ScorerRecord(**s) for s in meta.get("scorers", [])],
            judges=[JudgeRecord(**j) for j in meta.get("judges", [])],
            settings=RunSettings(**{k: meta[k] for k in RunSettings.model_fields if k in meta
                                    and meta[k] is not None or k == "budget_usd" and k in meta}),
            run=RunStats(**{k: v for k, v in meta.items() if k in run_keys and v is not None}),
            versions=Versions(**(meta.get("versions") or {})),
            roles=Roles(**{k: tuple(v) for k, v in roles.items() if v}),
            tracking=TrackingRef(**{k: v for k, v in mlflow.items()
                                    if k in TrackingRef.model_fields}) if mlflow else None,
            shadow=ShadowSection(**shadow) if shadow else None,
        )
