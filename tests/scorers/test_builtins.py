"""Built-in heuristic scorers on real examples from the shipped sets, with edge cases."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

import workbench as wb
from workbench.scorers import (
    all_fields_match,
    contains,
    field_accuracy,
    is_refusal,
    json_schema,
    json_valid,
    label_match,
    length_bounds,
    normalized_match,
    numeric_match,
    refusal,
    regex_match,
    rouge_l,
    token_f1,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "datasets" / "invoice_extraction" / "schema.json"


@pytest.fixture(scope="module")
def invoices() -> dict[str, dict]:
    gs = wb.GoldenSet.load(ROOT / "datasets" / "invoice_extraction" / "golden.jsonl")
    return {r["id"]: r for r in gs.records()}


@pytest.fixture(scope="module")
def qa() -> list[dict]:
    return wb.GoldenSet.load(ROOT / "datasets" / "grounded_qa" / "golden.jsonl").records()


@pytest.mark.parametrize(
    ("output", "ok"),
    [
        ("about 2 hours", 1.0),
        ("About 2 hours.", 1.0),
        ("  about   2\nhours ", 1.0),
        ("Ａｂｏｕｔ 2 hours", 1.0),  # full-width letters: NFKC
        ("about two hours", 0.0),
        ("", 0.0),
    ],
)
def test_normalized_match(output: str, ok: float) -> None:
    assert normalized_match({"expected": "about 2 hours"}, output).value == ok


def test_contains_and_regex() -> None:
    case = {"expected": "31 March"}
    assert contains(case, "Carried-over leave must be taken by 31 March.").value == 1.0
    assert contains(case, "by the end of March").value == 0.0
    assert contains(normalize=False)(case, "31 march").value == 0.0
    assert math.isnan(contains({"expected": None}, "x").value)
    iso = regex_match(pattern=r"^\d{4}-\d{2}-\d{2}$", flags="")
    assert iso({}, "2025-03-14").value == 1.0 and iso({}, "14/03/2025").value == 0.0
    assert math.isnan(regex_match({}, "x").value)  # unconfigured: not applicable


def test_numeric_match_reads_json_fields_and_text(invoices: dict[str, dict]) -> None:
    case = invoices["inv-0001"]  # total 119.4 GBP
    total = numeric_match(field="total")
    assert total(case, '{"total": 119.4}').value == 1.0
    assert total(case, '{"total": "£119.40"}').value == 1.0
    assert total(case, '{"total": 99.5}').value == 0.0  # the subtotal
    assert total(case, "{}").value == 0.0
    assert numeric_match({"expected": "1,480 m/s"}, "about 1480").value == 1.0
    assert numeric_match(rel_tol=0.05)({"expected": 100}, "103").value == 1.0
    none = numeric_match({"expected": 100}, "no number here")
    assert none.value == 0.0 and none.explanation == "no number in the output"


def test_label_match_with_a_label_set_reports_unknown_labels() -> None:
    labels = ["billing", "refund_request", "technical_issue"]
    scorer = label_match(field="intent", labels=labels)
    case = {"expected": {"intent": "billing"}}
    assert scorer(case, '{"intent": "Billing"}').value == 1.0
    unknown = scorer(case, '{"intent": "payments"}')
    assert unknown.value == 0.0 and unknown.label == "unknown:payments"
    wrong = scorer(case, '{"intent": "refund_request"}')
    assert wrong.value == 0.0 and wrong.label == "refund_request"


def test_json_validity() -> None:
    assert json_valid({}, '{"vendor": "Acme"}').value == 1.0
    assert json_valid({}, '```json\n{"a": 1}\n```').value == 1.0
    assert json_valid(allow_fences=False)({}, '```json\n{"a": 1}\n```').value == 0.0
    assert json_valid({}, "[1, 2]").value == 0.0
    bad = json_valid({}, '{"vendor": "Acme",}')
    assert bad.value == 0.0 and "not JSON" in (bad.explanation or "")


def test_json_schema_on_the_invoice_schema(invoices: dict[str, dict]) -> None:
    check = json_schema(schema=str(SCHEMA))
    good = json.dumps(invoices["inv-0002"]["expected"])
    assert check({}, good).value == 1.0
    no_currency = check({}, '{"vendor": "X", "date": "2024-06-03", "total": 1}')
    assert no_currency.value == 0.0 and "'currency' is a required property" in (
        no_currency.explanation or "")
    bad_date = check({}, '{"vendor": "X", "date": "03/06/2024", "total": 1, "currency": "USD"}')
    assert bad_date.value == 0.0 and (bad_date.explanation or "").startswith("$.date")
    extra = check({}, '{"vendor": "X", "date": "2024-06-03", "total": 1, "currency": "USD", '
                      '"tax": 2}')
    assert extra.value == 0.0
    assert check({}, "not json").explanation == "no JSON object in the output"


def test_field_accuracy_and_all_fields(invoices: dict[str, dict]) -> None:
    case = invoices["inv-0002"]  # Northstar Printing Co., 2024-06-03, 214.86 USD
    perfect = json.dumps(case["expected"])
    assert field_accuracy(case, perfect).value == 1.0 and all_fields_match(case, perfect).value == 1
    shouty = dict(case["expected"], vendor="NORTHSTAR PRINTING CO", total=214.0)
    s = field_accuracy(case, json.dumps(shouty))
    assert s.value == 0.75 and s.label == "wrong: total"  # case/punctuation of vendor ignored
    assert all_fields_match(case, json.dumps(shouty)).value == 0.0
    assert field_accuracy(fields=["vendor", "currency"])(case, json.dumps(shouty)).value == 1.0
    assert field_accuracy(case, "Vendor: Northstar").value == 0.0
    assert math.isnan(field_accuracy({"expected": "text"}, "{}").value)


def test_length_bounds() -> None:
    assert length_bounds(min_words=2, max_words=5)({}, "two hours").value == 1.0
    s = length_bounds(min_words=2, max_chars=5)({}, "hours")
    assert s.value == 0.0 and s.explanation == "1 words < 2"


def test_refusal_detection_on_grounded_qa(qa: list[dict]) -> None:
    unanswerable = next(r for r in qa if r["expected"] is None)
    answerable = next(r for r in qa if r["expected"] is not None)
    assert refusal(unanswerable, "unanswerable").label == "correct_refusal"
    assert refusal(unanswerable, "The context does not mention it.").value == 1.0
    assert refusal(unanswerable, "About 3 hours.").label == "missed_refusal"
    assert refusal(answerable, "I don't know.").label == "false_refusal"
    assert refusal(answerable, answerable["expected"]).label == "answered"
    assert not is_refusal("It is not covered by the warranty.")  # an answer, not a refusal


def test_token_f1_and_rouge_l() -> None:
    case = {"expected": "roughly 1,480 metres per second"}
    assert token_f1(case, "roughly 1,480 metres per second").value == 1.0
    assert token_f1(case, "The answer is 42").value == 0.0
    # pred: sound travels roughly 1 480 metres per second (8 tokens), gold 6 tokens, 6 shared
    f1 = token_f1(case, "Sound travels roughly 1,480 metres per second.").value
    assert f1 == pytest.approx(2 * (6 / 8) * 1.0 / (6 / 8 + 1.0))
    # ROUGE-L rewards order: same tokens, reversed order → lower than F1
    rev = "second per metres 480 1 roughly"
    assert rouge_l(case, rev).value < token_f1(case, rev).value == 1.0
    assert rouge_l(case, case["expected"]).value == 1.0
    assert math.isnan(rouge_l({"expected": None}, "x").value)
    assert token_f1({"expected": "the"}, "a").value == 1.0  # both empty after articles
