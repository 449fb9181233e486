"""Built-in heuristic scorers: matching, structured output, length, refusals and overlap.

Every scorer takes ``(case, output)`` and compares the output with ``case["expected"]`` (or
``expected.<field>`` when ``field`` is given). A case without an expected value scores NaN
(not applicable), except where the scorer says otherwise (refusals, JSON validity, length).
"""

from __future__ import annotations

import json
import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from ._scorer import Score, scorer

__all__ = [
    "all_fields_match",
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
    "rouge_l",
    "token_f1",
]

NA = float("nan")
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)
_SEPARATORS = re.compile(r"[\s\-_/]+")
_PUNCT = {ord(c): " " for c in string.punctuation + "“”‘’«»…–—¿¡"}
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?|-?\.\d+")
_REFUSAL = re.compile(
    r"\b(unanswerable|cannot be answered|can't be answered|not (?:stated|mentioned|specified|"
    r"given|provided|covered) in the (?:context|text|passage|document)|(?:the )?context does "
    r"not (?:say|mention|state|specify|contain|provide)|no information|i (?:do not|don't) know|"
    r"not enough information|i (?:cannot|can't) (?:answer|find))\b",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------- helpers
def parse_json_object(text: str) -> dict[str, Any] | None:
    r"""The JSON object in a model's output (code fences allowed), or None.

    Example:
        >>> parse_json_object('```json\n{"intent": "billing"}\n```')
        {'intent': 'billing'}
    """
    stripped = text.strip()
    fenced = _FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1)
    if not stripped.startswith("{"):
        start, end = stripped.find("{"), stripped.rfind("}")
        if start < 0 or end <= start:
            return None
        stripped = stripped[start : end + 1]
    try:
        value = json.loads(stripped)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def normalize_text(text: str, *, articles: bool = False) -> str:
    """NFKC, case-folded, punctuation as spaces, single spaces (``articles`` drops a/an/the).

    Example:
        >>> normalize_text("  Ａbout 2 Hours! ")
        'about 2 hours'
    """
    text = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCT)
    if articles:
        text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _label(text: str) -> str:
    """Lower case, separators (space, -, _, /) as one underscore, no edge punctuation."""
    return _SEPARATORS.sub("_", text.strip().lower()).strip("_.,;:!?\"'`")


def _expected(case: Mapping[str, Any], field: str | None) -> Any:
    expected = case.get("expected")
    if field is None:
        return expected
    if isinstance(expected, Mapping):
        return expected.get(field)
    return None


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _predicted(output: str, field: str | None) -> str:
    """The JSON field ``field`` of the output when it has one, else the output itself."""
    if field is not None:
        parsed = parse_json_object(output)
        if parsed is not None and field in parsed:
            value = parsed[field]
            return value if isinstance(value, str) else json.dumps(value)
    return output


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    found = _NUMBER.findall(str(value))
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def _missing(field: str | None) -> Score:
    where = "expected" if field is None else f"expected.{field}"
    return Score(NA, explanation=f"case has no {where}")


# --------------------------------------------------------------------------- matching
@scorer
def exact_match(case: Mapping[str, Any], output: str, *, strip: bool = True) -> Score:
    r"""1.0 when the output equals ``expected`` exactly (after stripping whitespace by default).

    Example:
        >>> exact_match({"expected": "42"}, " 42\n").value
        1.0
    """
    expected = case.get("expected")
    if expected is None:
        return _missing(None)
    want = _as_text(expected)
    got = output.strip() if strip else output
    want = want.strip() if strip else want
    ok = got == want
    return Score(float(ok), explanation=None if ok else f"expected {want!r}")


@scorer
def normalized_match(
    case: Mapping[str, Any], output: str, *, field: str | None = None, articles: bool = True
) -> Score:
    """1.0 when output and expected are equal after :func:`normalize_text`.

    Case, whitespace, punctuation and Unicode forms are ignored (and a/an/the unless
    ``articles=False``).

    Example:
        >>> normalized_match({"expected": "About 2 hours"}, "about 2 hours.").value
        1.0
    """
    want = _expected(case, field)
    if want is None:
        return _missing(field)
    got = normalize_text(_predicted(output, field), articles=articles)
    ok = got == normalize_text(_as_text(want), articles=articles)
    return Score(float(ok), explanation=None if ok else f"normalized {got[:80]!r}")


@scorer
def contains(
    case: Mapping[str, Any], output: str, *, field: str | None = None, normalize: bool = True
) -> Score:
    """1.0 when the expected text occurs in the output (normalized by default).

    Example:
        >>> contains({"expected": "2 hours"}, "It takes about 2 hours.").value
        1.0
    """
    want = _expected(case, field)
    if want is None:
        return _missing(field)
    text, needle = output, _as_text(want)
    if normalize:
        text, needle = normalize_text(text), normalize_text(needle)
    ok = bool(needle) and needle in text
    return Score(float(ok), explanation=None if ok else f"{needle[:60]!r} not found")


@scorer
def regex_match(case: Mapping[str, Any], output: str, *, pattern: str = "",
                flags: str = "i") -> Score:
    r"""1.0 when ``pattern`` (a Python regular expression) matches somewhere in the output.

    ``flags`` may hold ``i`` (ignore case), ``m`` (multiline) and ``s`` (dot matches newline).

    Example:
        >>> regex_match(pattern=r"\bINV-\d{4}\b")({}, "see inv-2291").value
        1.0
    """
    if not pattern:
        return Score(NA, explanation="no pattern configured")
    bits = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL}
    compiled = _compiled(pattern, sum(bits[f] for f in set(flags) if f in bits))
    match = compiled.search(output)
    return Score(float(bool(match)), label=match.group(0)[:80] if match else None)


@lru_cache(maxsize=256)
def _compiled(pattern: str, flags: int) -> re.Pattern[str]:
    return re.compile(pattern, flags)


@scorer
def numeric_match(
    case: Mapping[str, Any], output: str, *, field: str | None = None,
    abs_tol: float = 0.01, rel_tol: float = 0.0,
) -> Score:
    """1.0 when the number in the output equals the expected number within tolerance.

    The output's number is its JSON field ``field``, else the last number in the text
    (thousands separators allowed).

    Example:
        >>> total = numeric_match(field="total")
        >>> total({"expected": {"total": 119.4}}, '{"total": "119.40"}').value
        1.0
        >>> numeric_match({"expected": 1480}, "roughly 1,480 metres per second").value
        1.0
    """
    want = _number(_expected(case, field))
    if want is None:
        return _missing(field)
    got = _number(_predicted(output, field))
    if got is None:
        return Score(0.0, explanation="no number in the output")
    ok = math.isclose(got, want, rel_tol=rel_tol, abs_tol=abs_tol)
    return Score(float(ok), label=f"{got:g}", explanation=None if ok else f"{got:g} ≠ {want:g}")


@scorer
def label_match(
    case: Mapping[str, Any], output: str, *, field: str | None = None,
    labels: Sequence[str] | None = None,
) -> Score:
    """1.0 when the predicted label equals ``expected`` (or ``expected.<field>``).

    The prediction is the output's JSON field ``field`` when the output is a JSON object
    holding it, else the whole output. Both sides are compared case-insensitively with spaces,
    hyphens and underscores treated alike ("Refund request" matches ``refund_request``); the
    predicted label is kept in ``Score.label`` for confusion tables. With ``labels`` (the
    allowed label set), a prediction outside the set fails and is reported as unknown.

    Example:
        >>> case = {"expected": {"intent": "refund_request"}}
        >>> label_match(field="intent")(case, '{"intent": "refund_request"}').value
        1.0
        >>> label_match(field="intent")(case, "Refund request.").value
        1.0
        >>> s = label_match(field="intent", labels=["billing", "refund_request"])(case, "refund")
        >>> s.value, s.label
        (0.0, 'unknown:refund')
    """
    want = _expected(case, field)
    if want is None:
        return _missing(field)
    parsed = parse_json_object(output)
    if parsed is not None and field is not None and field in parsed:
        predicted = str(parsed[field])
    elif parsed is not None and field is None and len(parsed) == 1:
        predicted = str(next(iter(parsed.values())))
    else:
        predicted = output
    got = _label(predicted)
    if labels is not None and got not in {_label(x) for x in labels}:
        return Score(0.0, label=f"unknown:{got[:60]}",
                     explanation=f"{got[:60]!r} is not one of the {len(labels)} labels")
    ok = got == _label(str(want))
    return Score(
        float(ok),
        label=got[:80],
        explanation=None if ok else f"predicted {got[:80]!r}, expected {str(want)!r}",
    )


# --------------------------------------------------------------------------- structured output
@scorer
def json_valid(case: Mapping[str, Any], output: str, *, allow_fences: bool = True) -> Score:
    """1.0 when the output is one JSON object (inside a ``` fence if ``allow_fences``).

    Example:
        >>> json_valid({}, '{"a": 1}').value, json_valid({}, "{'a': 1}").value
        (1.0, 0.0)
    """
    text = output.strip()
    fenced = _FENCE.match(text)
    if fenced and allow_fences:
        text = fenced.group(1)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return Score(0.0, explanation=f"not JSON: {exc.msg} at char {exc.pos}")
    ok = isinstance(value, dict)
    return Score(float(ok), explanation=None if ok else f"JSON {type(value).__name__}, not object")


@lru_cache(maxsize=32)
def _validator(schema_text: str) -> Any:
    import jsonschema

    schema = json.loads(schema_text)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@scorer
def json_schema(
    case: Mapping[str, Any], output: str, *, schema: str | Mapping[str, Any] = ""
) -> Score:
    """1.0 when the output's JSON object conforms to a JSON Schema (a dict or a file path).

    The explanation names the first violation and where it is.

    Example:
        >>> s = json_schema(schema={"type": "object", "required": ["total"]})
        >>> s({}, '{"total": 3}').value, s({}, '{"sum": 3}').explanation
        (1.0, "$: 'total' is a required property")
    """
    if not schema:
        return Score(NA, explanation="no schema configured")
    text = Path(schema).read_text(encoding="utf-8") if isinstance(schema, str) else json.dumps(
        schema, sort_keys=True)
    parsed = parse_json_object(output)
    if parsed is None:
        return Score(0.0, explanation="no JSON object in the output")
    errors = sorted(_validator(text).iter_errors(parsed), key=lambda e: list(e.path))
    if not errors:
        return Score(1.0)
    first = errors[0]
    path = "$" + "".join(f"[{p!r}]" if isinstance(p, int) else f".{p}" for p in first.path)
    return Score(0.0, explanation=f"{path}: {first.message}"[:300])


def _field_ok(got: Any, want: Any, abs_tol: float) -> bool:
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        number = _number(got) if got is not None else None
        return number is not None and math.isclose(number, float(want), abs_tol=abs_tol)
    if got is None:
        return want is None
    return normalize_text(_as_text(got)) == normalize_text(_as_text(want))


def _fields(case: Mapping[str, Any], output: str, fields: Sequence[str] | None, abs_tol: float
            ) -> tuple[dict[str, bool], str | None]:
    expected = case.get("expected")
    if not isinstance(expected, Mapping):
        return {}, "case has no expected object"
    parsed = parse_json_object(output)
    names = list(fields) if fields else sorted(expected)
    if parsed is None:
        return {n: False for n in names}, "no JSON object in the output"
    return {n: _field_ok(parsed.get(n), expected.get(n), abs_tol) for n in names}, None


@scorer
def field_accuracy(
    case: Mapping[str, Any], output: str, *, fields: Sequence[str] | None = None,
    abs_tol: float = 0.01,
) -> Score:
    """Share of fields of the expected object that the output's JSON gets right.

    Strings are compared normalized, numbers within ``abs_tol``; ``fields`` defaults to every
    key of ``expected``. The label lists the wrong fields. Use ``numeric_match(field=...)`` or
    ``normalized_match(field=...)`` for one field's own column.

    Example:
        >>> case = {"expected": {"vendor": "Acme Ltd", "total": 10.5}}
        >>> s = field_accuracy(case, '{"vendor": "ACME LTD", "total": 10.0}')
        >>> s.value, s.label
        (0.5, 'wrong: total')
    """
    results, problem = _fields(case, output, fields, abs_tol)
    if not results:
        return Score(NA, explanation=problem)
    wrong = [n for n, ok in results.items() if not ok]
    return Score(sum(results.values()) / len(results),
                 label="wrong: " + ", ".join(wrong) if wrong else "all correct",
                 explanation=problem)


@scorer
def all_fields_match(
    case: Mapping[str, Any], output: str, *, fields: Sequence[str] | None = None,
    abs_tol: float = 0.01,
) -> Score:
    """1.0 only when every field is right (see :func:`field_accuracy`).

    Example:
        >>> all_fields_match({"expected": {"a": "x", "b": 2}}, '{"a": "X", "b": 2.0}').value
        1.0
    """
    results, problem = _fields(case, output, fields, abs_tol)
    if not results:
        return Score(NA, explanation=problem)
    wrong = [n for n, ok in results.items() if not ok]
    return Score(float(not wrong), label="wrong: " + ", ".join(wrong) if wrong else "all correct",
                 explanation=problem)


# --------------------------------------------------------------------------- text
@scorer
def length_bounds(
    case: Mapping[str, Any], output: str, *, min_words: int | None = None,
    max_words: int | None = None, min_chars: int | None = None, max_chars: int | None = None,
) -> Score:
    """1.0 when the output's word and character counts are within the given bounds.

    Example:
        >>> length_bounds(max_words=3)({}, "one two three four").explanation
        '4 words > 3'
    """
    words, chars = len(output.split()), len(output)
    checks = [
        (min_words is not None and words < min_words, f"{words} words < {min_words}"),
        (max_words is not None and words > max_words, f"{words} words > {max_words}"),
        (min_chars is not None and chars < min_chars, f"{chars} chars < {min_chars}"),
        (max_chars is not None and chars > max_chars, f"{chars} chars > {max_chars}"),
    ]
    failed = [why for bad, why in checks if bad]
    return Score(float(not failed), label=f"{words} words",
                 explanation="; ".join(failed) if failed else None)


def is_refusal(output: str) -> bool:
    """True when an output declines to answer ("unanswerable", "the context does not say"…).

    Example:
        >>> is_refusal("The context does not mention the price."), is_refusal("12 euros")
        (True, False)
    """
    return bool(_REFUSAL.search(output)) or normalize_text(output) in {"n a", "none", "unknown"}


@scorer
def refusal(case: Mapping[str, Any], output: str, *, field: str | None = None) -> Score:
    """1.0 when the output refuses exactly when it should (``expected`` null = unanswerable).

    Labels: ``correct_refusal``, ``missed_refusal`` (answered an unanswerable question),
    ``false_refusal`` (refused an answerable one) and ``answered``.

    Example:
        >>> refusal({"expected": None}, "unanswerable").label
        'correct_refusal'
        >>> refusal({"expected": "2 hours"}, "The context does not say.").label
        'false_refusal'
    """
    should = _expected(case, field) is None
    did = is_refusal(output)
    label = {(True, True): "correct_refusal", (True, False): "missed_refusal",
             (False, True): "false_refusal", (False, False): "answered"}[(should, did)]
    return Score(float(should == did), label=label)


def _tokens(text: str) -> list[str]:
    return normalize_text(text, articles=True).split()


@scorer
def token_f1(case: Mapping[str, Any], output: str, *, field: str | None = None) -> Score:
    """Token-overlap F1 between output and expected (SQuAD-style normalization).

    Example:
        >>> round(token_f1({"expected": "about 2 hours"}, "It takes 2 hours").value, 3)
        0.571
    """
    want = _expected(case, field)
    if want is None:
        return _missing(field)
    pred, gold = _tokens(_predicted(output, field)), _tokens(_as_text(want))
    if not pred or not gold:
        return Score(float(pred == gold))
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return Score(0.0)
    precision, recall = common / len(pred), common / len(gold)
    return Score(2 * precision * recall / (precision + recall))


def _lcs(a: Sequence[str], b: Sequence[str]) -> int:
    row = [0] * (len(b) + 1)
    for x in a:
        prev = 0
        for j, y in enumerate(b, start=1):
            cur = row[j]
            row[j] = prev + 1 if x == y else max(row[j], row[j - 1])
            prev = cur
    return row[-1]


@scorer
def rouge_l(case: Mapping[str, Any], output: str, *, field: str | None = None,
            beta: float = 1.0) -> Score:
    """ROUGE-L F-measure: longest common token subsequence of output and expected (Lin, 2004).

    Example:
        >>> round(rouge_l({"expected": "charging takes about 2 hours"},
        ...               "about 2 hours of charging").value, 3)
        0.667
    """
    want = _expected(case, field)
    if want is None:
        return _missing(field)
    pred, gold = _tokens(_predicted(output, field)), _tokens(_as_text(want))
    if not pred or not gold:
        return Score(float(pred == gold))
    lcs = _lcs(pred, gold)
    if lcs == 0:
        return Score(0.0)
    precision, recall = lcs / len(pred), lcs / len(gold)
    return Score((1 + beta**2) * precision * recall / (recall + beta**2 * precision))
