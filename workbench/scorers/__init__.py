"""Scorers: the ``Scorer`` protocol, the ``@scorer`` decorator and built-in heuristics.

Example:
    >>> from workbench.scorers import label_match
    >>> intent = label_match(field="intent")
    >>> intent.name, intent.args
    ('label_match', {'field': 'intent', 'labels': None})
"""

from ._builtins import (
    all_fields_match,
    contains,
    exact_match,
    field_accuracy,
    is_refusal,
    json_schema,
    json_valid,
    label_match,
    length_bounds,
    normalize_text,
    normalized_match,
    numeric_match,
    parse_json_object,
    refusal,
    regex_match,
    rouge_l,
    token_f1,
)
from ._judge import (
    RUBRICS,
    Judge,
    Verdict,
    VerdictError,
    judge,
    judge_messages,
    pairwise_messages,
    parse_preference,
    parse_verdict,
)
from ._registry import ModelScorer, builtin_scorers, calls_models, resolve_scorer, scorer_ref
from ._scorer import FunctionScorer, Score, Scorer, as_score, scorer

__all__ = [
    "RUBRICS",
    "FunctionScorer",
    "Judge",
    "ModelScorer",
    "Verdict",
    "VerdictError",
    "judge",
    "judge_messages",
    "pairwise_messages",
    "parse_preference",
    "parse_verdict",
    "Score",
    "Scorer",
    "all_fields_match",
    "as_score",
    "builtin_scorers",
    "calls_models",
    "contains",
    "exact_match",
    "field_accuracy",
    "is_refusal",
    "json_schema",
    "json_valid",
    "label_match",
    "length_bounds",
    "normalize_text",
    "normalized_match",
    "numeric_match",
    "parse_json_object",
    "refusal",
    "regex_match",
    "resolve_scorer",
    "rouge_l",
    "scorer",
    "scorer_ref",
    "token_f1",
]
