"""Duplicate and leakage detection."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from workbench.datasets import GoldenSet, normalize_for_matching
from workbench.errors import DatasetError

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
    assert normalize_for_matching("Crème BRÛLÉE,  please!") == "creme brulee please"
    assert normalize_for_matching("ｆｕｌｌ－ｗｉｄｔｈ") == "full width"


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


# ------------------------------------------------------------ large sets: MinHash LSH (#19, 13)
def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from dataset_check import synthetic_rows

    rows, _ = synthetic_rows(n, seed=seed)
    return pd.DataFrame({"id": [r["id"] for r in rows], "channel": [r["channel"] for r in rows],
                         "message": [r["message"] for r in rows]})


def test_lsh_finds_exactly_what_the_exhaustive_search_finds() -> None:
    from workbench.datasets._check import _keys, _near_pairs

    df = synthetic(1500)
    _, columns, keys = _keys([df["channel"].tolist(), df["message"].tolist()])
    firsts = sorted({k: i for i, k in reversed(list(enumerate(keys)))}.values())
    exact = _near_pairs(columns, None, 0.9, left_rows=firsts)
    lsh = _near_pairs(columns, None, 0.9, left_rows=firsts, exact_pairs=0)
    def rounded(pairs: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
        return [(i, j, round(sim, 9)) for i, j, sim in pairs]

    assert len(exact) > 20 and rounded(lsh) == rounded(exact)
    half = len(df) // 2
    left = [c[:half] for c in columns]
    right = [c[half:] for c in columns]
    leaks = _near_pairs(left, right, 0.85)
    assert len(leaks) > 5 and rounded(_near_pairs(left, right, 0.85, exact_pairs=0)) == rounded(
        leaks)


def test_shipped_sets_give_the_same_findings_either_way(repo_root: Path) -> None:
    from workbench.datasets import _check

    for name in ("support_triage", "grounded_qa", "invoice_extraction"):
        gs = GoldenSet.load(repo_root / "datasets" / name / "golden.jsonl")
        exact = gs.check().findings
        original = _check.EXACT_PAIRS
        try:
            _check.EXACT_PAIRS = 0
            lsh = gs.check().findings
        finally:
            _check.EXACT_PAIRS = original
        pd.testing.assert_frame_equal(exact, lsh)


def test_signatures_are_datasketch_minhashes() -> None:
    import numpy as np
    from datasketch import MinHash
    from scipy import sparse

    from workbench.datasets._check import _Progress, _signatures

    matrix = sparse.csr_matrix(np.array([[0, 1.0, 0, 2.0, 1.0], [1.0, 0, 0, 0, 0], [0] * 5]))
    sig = _signatures(matrix, 16, _Progress(False))
    for row in range(2):
        reference = MinHash(num_perm=16, seed=1, hashfunc=int)
        reference.update_batch(matrix[row].indices.tolist())
        assert (sig[row] == reference.hashvalues).all()
    assert (sig[2] == np.iinfo(np.uint32).max).all()  # an empty row matches nothing


def test_near_copies_of_a_copied_row_are_reported_once() -> None:
    base = "My parcel never arrived and the tracking page has said in transit for nine days."
    report = make({"a1": base, "a2": base.upper(), "b1": base.replace("parcel", "parcels")}
                  ).check()
    pairs = {(r.id, r.other_id): r.match for r in report.findings.itertuples()}
    assert pairs == {("a1", "a2"): "normalized", ("a1", "b1"): "near"}


def test_progress_bar_and_threshold_checks(capsys: pytest.CaptureFixture[str]) -> None:
    gs = make(MESSAGES)
    gs.check(progress=True)
    assert "dataset check" in capsys.readouterr().err
    gs.check(progress=False)
    assert capsys.readouterr().err == ""
    for bad in (0, 1.5, -1):
        with pytest.raises(DatasetError, match="threshold must be a similarity in"):
            gs.check(threshold=bad)


@pytest.mark.slow
def test_the_benchmark_prints_its_figures(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "benchmarks" / "dataset_check.py"
    proc = subprocess.run([sys.executable, str(script), "--rows", "3000"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "WORKBENCH_CACHE_DIR": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    figures = dict(p.split("=", 1) for p in proc.stdout.split() if "=" in p)
    assert figures["rows"] == "3000" and float(figures["check_s"]) > 0
    assert float(figures["recall"]) == 1.0 and int(figures["expected"]) > 10
    assert not [p for p in tmp_path.iterdir() if p.name != "workbench"]


def test_rows_with_a_blank_input_are_nobodys_near_duplicate() -> None:
    from workbench.datasets._check import _near_pairs

    messages = [f"question number {i} about invoices and refunds" for i in range(400)]
    left = [["" if i % 2 else m for i, m in enumerate(messages)],
            [f"note {i % 50}" for i in range(400)]]
    for exact_pairs in (0, 10**9):  # LSH and exhaustive search agree: blanks match nothing
        pairs = _near_pairs(left, None, 0.5, exact_pairs=exact_pairs)
        assert pairs and not [p for p in pairs if p[0] % 2 or p[1] % 2]
