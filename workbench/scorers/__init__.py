"""Scorers: the ``Scorer`` protocol, the ``@scorer`` decorator and built-in heuristics.

Example:
    >>> from workbench.scorers import label_match
    >>> intent = label_match(field="intent")
    >>> intent.name, intent.args
    ('label_match', {'field': 'intent'})
"""

from ._builtins import exact_match, label_match, parse_json_object
from ._scorer import FunctionScorer, Score, Scorer, as_score, scorer

__all__ = [
    "FunctionScorer",
    "Score",
    "Scorer",
    "as_score",
    "exact_match",
    "label_match",
    "parse_json_object",
    "scorer",
]
