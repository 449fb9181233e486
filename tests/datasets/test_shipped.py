"""The shipped golden sets: valid, frozen, documented, and their planted duplicates found."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import SHIPPED
from workbench.datasets import GoldenSet

REQUIRED_SLICES = {
    "support_triage": {"intent", "difficulty", "risk_tier", "language"},
    "invoice_extraction": {"layout", "difficulty"},
    "grounded_qa": {"answerable", "difficulty"},
}
ID_PREFIX = {"support_triage": "tri", "invoice_extraction": "inv", "grounded_qa": "qa"}


@pytest.fixture(scope="module", params=SHIPPED)
def shipped(request: pytest.FixtureRequest, repo_root_module: Path) -> tuple[str, GoldenSet]:
    name = request.param
    return name, GoldenSet.load(repo_root_module / "datasets" / name / "golden.jsonl")


@pytest.fixture(scope="module")
def repo_root_module() -> Path:
    return Path(__file__).resolve().parents[2]


def planted_pairs(datacard: str, prefix: str) -> set[tuple[str, str]]:
    """Id pairs listed under the datacard's near-duplicates heading (two ids per line)."""
    section = re.split(r"^#+ .*near.?duplicate.*$", datacard, flags=re.M | re.I)[1]
    section = re.split(r"^#+ ", section, flags=re.M)[0]
    pairs = set()
    for line in section.splitlines():
        ids = re.findall(rf"\b{prefix}-\d{{4}}\b", line)
        if len(ids) == 2:
            pairs.add((min(ids), max(ids)))
    return pairs


def test_shipped_set_is_frozen_valid_and_large_enough(shipped: tuple[str, GoldenSet]) -> None:
    name, gs = shipped
    assert gs.name == name
    assert len(gs) >= 150
    assert REQUIRED_SLICES[name] <= set(gs.slices)
    assert all(i.startswith(ID_PREFIX[name] + "-") for i in gs.ids)
    manifest = (gs.path.parent / "golden.yaml").read_text()  # type: ignore[union-attr]
    assert gs.digest in manifest  # load() verified it; it is recorded, not just computed
    assert gs.description


def test_datacard_documents_the_set(shipped: tuple[str, GoldenSet]) -> None:
    name, gs = shipped
    card = (gs.path.parent / "README.md").read_text()  # type: ignore[union-attr]
    for topic in ("column", "slice", "how it was made", "limit"):
        assert topic in card.lower(), f"{name} datacard lacks a section on {topic!r}"
    for column in gs.df.columns:
        assert f"`{column}`" in card, f"{name} datacard does not describe column {column!r}"


def test_planted_near_duplicates_are_found(shipped: tuple[str, GoldenSet]) -> None:
    name, gs = shipped
    card = (gs.path.parent / "README.md").read_text()  # type: ignore[union-attr]
    planted = planted_pairs(card, ID_PREFIX[name])
    assert len(planted) >= 3
    found = gs.check().findings
    found_pairs = {
        (min(a, b), max(a, b)) for a, b in zip(found["id"], found["other_id"], strict=True)
    }
    assert planted == found_pairs, f"{name}: planted {planted}, found {found_pairs}"


def test_shipped_sets_do_not_leak_into_each_other(repo_root_module: Path) -> None:
    sets = [GoldenSet.load(repo_root_module / "datasets" / n / "golden.jsonl") for n in SHIPPED]
    triage = sets[0]
    assert triage.check(against=sets[2]).findings.query("check == 'leakage'").empty


def test_triage_labels(repo_root_module: Path) -> None:
    gs = GoldenSet.load(repo_root_module / "datasets" / "support_triage" / "golden.jsonl")
    df = gs.df
    intents = {e["intent"] for e in df["expected"]}
    assert len(intents) == 10
    assert all(e["intent"] == i for e, i in zip(df["expected"], df["intent"], strict=True))
    assert {e["priority"] for e in df["expected"]} == {"low", "medium", "high", "urgent"}
    assert set(df["difficulty"]) == {"easy", "medium", "hard"}
    assert "mixed" in set(df["language"]) and gs.routable == ["language"]


def test_invoice_expected_values_conform_to_the_schema(repo_root_module: Path) -> None:
    root = repo_root_module / "datasets" / "invoice_extraction"
    schema = json.loads((root / "schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    gs = GoldenSet.load(root / "golden.jsonl")
    for case_id, expected in zip(gs.ids, gs.df["expected"], strict=True):
        errors = list(validator.iter_errors(expected))
        assert not errors, f"{case_id}: {errors[0].message}"
    bad = dict(gs.df["expected"].iloc[0], total="12,00")
    assert list(validator.iter_errors(bad))


def test_grounded_qa_refusal_cases(repo_root_module: Path) -> None:
    gs = GoldenSet.load(repo_root_module / "datasets" / "grounded_qa" / "golden.jsonl")
    df = gs.df
    unanswerable = df["answerable"] == "unanswerable"
    assert unanswerable.sum() >= 45
    assert df.loc[unanswerable, "expected"].isna().all()
    assert df.loc[~unanswerable, "expected"].map(lambda v: isinstance(v, str) and v != "").all()


def test_real_set_has_one_digest_in_every_format(repo_root_module: Path, tmp_path: Path) -> None:
    gs = GoldenSet.load(repo_root_module / "datasets" / "invoice_extraction" / "golden.jsonl")
    gs.df.to_csv(tmp_path / "inv.csv", index=False)
    gs.df.to_parquet(tmp_path / "inv.parquet", index=False)
    for path in (tmp_path / "inv.csv", tmp_path / "inv.parquet"):
        assert GoldenSet.load(path, slices=gs.slices).digest == gs.digest
