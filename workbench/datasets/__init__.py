"""Golden sets: load, validate, digest, sample, check and freeze evaluation cases.

Example:
    >>> from workbench.datasets import GoldenSet
    >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")
    >>> print(gs.check().summary)  # doctest: +NORMALIZE_WHITESPACE
    support_triage: 156 cases checked; 6 duplicate pair(s) (4 normalized, 2 near) at
    similarity ≥ 0.90.
"""

from ._canonical import canonical_jsonl, canonical_value, to_python
from ._check import CheckReport, normalize_for_matching
from ._golden import GoldenSet
from ._io import read_rows
from ._manifest import FrozenRecord, Manifest

__all__ = [
    "CheckReport",
    "FrozenRecord",
    "GoldenSet",
    "Manifest",
    "canonical_jsonl",
    "canonical_value",
    "normalize_for_matching",
    "read_rows",
    "to_python",
]
