"""Golden sets: load, validate, digest, sample, check and freeze evaluation cases.

Example:
    >>> from workbench.datasets import GoldenSet
    >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")  # doctest: +SKIP
    >>> gs.check().summary  # doctest: +SKIP
"""

from ._canonical import canonical_jsonl, canonical_value
from ._check import CheckReport, normalize_text
from ._golden import GoldenSet
from ._manifest import FrozenRecord, Manifest

__all__ = [
    "CheckReport",
    "FrozenRecord",
    "GoldenSet",
    "Manifest",
    "canonical_jsonl",
    "canonical_value",
    "normalize_text",
]
