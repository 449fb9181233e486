"""Experiment files: a whole comparison in YAML, read into the objects the Python API uses.

Example:
    >>> from workbench.experiments import load_experiment
    >>> loaded = load_experiment("examples/triage_experiment.yaml")
    >>> [m.label for m in loaded.models], loaded.gates is not None
    (['sim/large', 'sim/small', 'sim/fast'], True)
"""

from ._file import (
    Experiment,
    FewShot,
    GoldenSetEntry,
    ModelEntry,
    PairwiseEntry,
    ScorerEntry,
    VariantEntry,
)
from ._load import SHIPPED_DATASETS, LoadedExperiment, load_experiment, load_variant

__all__ = [
    "SHIPPED_DATASETS", "Experiment", "FewShot", "GoldenSetEntry", "LoadedExperiment",
    "ModelEntry", "PairwiseEntry", "ScorerEntry", "VariantEntry", "load_experiment", "load_variant",
]
