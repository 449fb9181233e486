"""Duplicate and leakage detection."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.datasets import GoldenSet, normalize_text

MESSAGES = {
    "a1": "My parcel never arrived and the tracking page has said 'in transit' for nine days.",
    "a2": "my parcel never arrived and the tracking page has said in transit for nine days!!",
    "b1": "I was charged twice for the annual plan, please refund the second payment.",
    "b2": "I was charged twice for the annual plan, please refund the second payments.",
    "c1": "How do I export my invoices as PDF from the billing dashboard?",
    "c2": "How do I export my invoices as PDF from the billing dashboard?",
    "d1": "The mobile app crashes whenever I open the camera scanner on Android 14.",
    "e1": "Can I change the delivery address after the order has shipped?",
}


def make(messages: dict[str, str], name: str = "set") -> GoldenSet:
    df = pd.DataFrame({"id": list(messages), "message": list(messages.values())})
    return GoldenSet.from_df(df, name=name)


def test_normalize_text() -> None:
    assert normalize_text("Crème BRÛLÉE,  please!") == "creme brulee please"
    assert normalize_text("ｆｕｌｌ－ｗｉｄｔｈ") == "full width"


def test_finds_exact_normalized_and_near_duplicates() -> None:
    report = make(MESSAGES).check()
    pairs = {(r.id, r.other_id): r.match for r in report.findings.itertuples()}
    assert pairs == {("c1", "c2"): "exact", ("a1", "a2"): "normalized", ("b1", "b2"): "near"}
    near = report.findings.set_index("id").loc["b1", "similarity"]
    assert 0.9 <= near < 1.0
    assert not report.ok
    assert "3 duplicate pair(s) (1 exact, 1 normalized, 1 near)" in report.summary


def test_threshold_controls_near_matches() -> None:
    report = make(MESSAGES).check(threshold=0.999)
    assert set(report.findings["match"]) == {"exact", "normalized"}


def test_clean_set_is_ok() -> None:
    clean = {k: v for k, v in MESSAGES.items() if k in ("a1", "b1", "c1", "d1", "e1")}
    report = make(clean).check()
    assert report.ok and report.findings.empty
    assert "0 duplicate pair(s)" in str(report)


def test_leakage_against_golden_set_dataframe_and_file(tmp_path: Path) -> None:
    evaluated = make({k: MESSAGES[k] for k in ("a1", "b1", "d1", "e1")}, "eval")
    few_shot = {
        "fs1": MESSAGES["a2"],  # normalized copy of a1
        "fs2": MESSAGES["b2"],  # near copy of b1
        "fs3": MESSAGES["e1"],  # exact copy of e1
        "fs4": "Completely unrelated example about resetting a router.",
    }
    expected = {("a1", "fs1"): "normalized", ("b1", "fs2"): "near", ("e1", "fs3"): "exact"}
    path = tmp_path / "few_shot.jsonl"
    make(few_shot, "few").df.to_json(path, orient="records", lines=True)
    frame = pd.DataFrame({"message": list(few_shot.values()), "id": list(few_shot)})
    for against in (make(few_shot, "few"), frame, path):
        report = evaluated.check(against=against)
        leaks = report.findings[report.findings["check"] == "leakage"]
        assert {(r.id, r.other_id): r.match for r in leaks.itertuples()} == expected
        assert "Leakage against" in report.summary and "3 case(s)" in report.summary


def test_report_html_is_escaped() -> None:
    report = make({"x1": "<b>hi</b> there friend", "x2": "<b>hi</b> there friend"}).check()
    html = report._repr_html_()
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html


def test_duplicates_need_every_input_to_match() -> None:
    passage = (
        "The Kestrel K2 label printer connects over USB-C or Bluetooth. A full battery lasts "
        "roughly 900 labels and charging from empty takes about 2 hours."
    )
    df = pd.DataFrame(
        {
            "id": ["q1", "q2", "q3"],
            "question": [
                "How long does charging take?",
                "How many labels does a battery last?",
                "how long does charging take",
            ],
            "context": [passage, passage, passage],
        }
    )
    report = GoldenSet.from_df(df, name="qa").check()
    pairs = {(r.id, r.other_id): r.match for r in report.findings.itertuples()}
    # one shared passage with two different questions is not a duplicate
    assert pairs == {("q1", "q3"): "normalized"}


def test_a_group_of_copies_is_reported_once_per_copy() -> None:
    text = "Please reset my password, the link in the email has expired."
    report = make({"p1": text, "p2": text, "p3": text.upper()}).check()
    pairs = {(r.id, r.other_id): r.match for r in report.findings.itertuples()}
    assert pairs == {("p1", "p2"): "exact", ("p1", "p3"): "normalized"}
