"""Typed records: the run record a ``Comparison`` carries (pydantic, with a schema version).

Example:
    >>> from workbench.records import GoldenSetRef, RunRecord
    >>> RunRecord(golden_set=GoldenSetRef(name="triage", digest="ab12")).schema_version
    2
"""

from ._run import (
    EXPERIMENT_SCHEMA_VERSION,
    RECORD_SCHEMA_VERSION,
    DecisionRecord,
    GateRecord,
    GoldenSetRef,
    JudgeRecord,
    ModelRecord,
    PairwiseRow,
    PairwiseSummary,
    PricingRecord,
    Roles,
    RunRecord,
    RunSettings,
    RunStats,
    ScorerErrorRecord,
    ScorerRecord,
    ShadowSection,
    StoppedConfig,
    TrackingRef,
    VariantRecord,
    Versions,
)

__all__ = [
    "EXPERIMENT_SCHEMA_VERSION", "RECORD_SCHEMA_VERSION", "DecisionRecord", "GateRecord",
    "GoldenSetRef", "JudgeRecord", "ModelRecord", "PairwiseRow", "PairwiseSummary",
    "PricingRecord", "Roles", "RunRecord", "RunSettings", "RunStats", "ScorerErrorRecord",
    "ScorerRecord", "ShadowSection", "StoppedConfig", "TrackingRef", "VariantRecord", "Versions",
]
