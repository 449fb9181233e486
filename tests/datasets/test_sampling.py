"""Stratified, reproducible sampling and dev/holdout splits."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.datasets import GoldenSet
from workbench.errors import DatasetError


@pytest.fixture
def gs() -> GoldenSet:
    # 200 cases: difficulty 50% easy / 30% medium / 20% hard, lang 75% en / 25% es
    difficulty = ["easy"] * 100 + ["medium"] * 60 + ["hard"] * 40
    lang = (["en", "en", "en", "es"] * 50)[:200]
    df = pd.DataFrame(
        {
            "id": [f"c{i:03d}" for i in range(200)],
            "message": [f"message number {i}" for i in range(200)],
            "difficulty": difficulty,
            "lang": lang,
        }
    )
    return GoldenSet.from_df(df, name="toy", slices=["difficulty", "lang"])


def test_stratified_sample_keeps_proportions(gs: GoldenSet) -> None:
    sample = gs.sample(50, stratify=["difficulty"], seed=3)
    assert len(sample) == 50
    assert sample.slice_counts()["difficulty"] == {"easy": 25, "hard": 10, "medium": 15}


def test_two_column_strata_use_largest_remainder(gs: GoldenSet) -> None:
    sample = gs.sample(30, stratify=["difficulty", "lang"], seed=0)
    counts = sample.df.groupby(["difficulty", "lang"]).size()
    full = gs.df.groupby(["difficulty", "lang"]).size()
    expected = full / full.sum() * 30
    assert counts.sum() == 30
    # each stratum gets floor or ceil of its exact quota
    assert ((counts - expected).abs() < 1).all()


def test_sample_is_reproducible_and_seed_dependent(gs: GoldenSet) -> None:
    a = gs.sample(20, stratify=["difficulty"], seed=1).ids
    assert a == gs.sample(20, stratify=["difficulty"], seed=1).ids
    assert a != gs.sample(20, stratify=["difficulty"], seed=2).ids


def test_sample_does_not_depend_on_row_order(gs: GoldenSet) -> None:
    shuffled = GoldenSet.from_df(
        gs.df.sample(frac=1, random_state=9), name="toy", slices=["difficulty", "lang"]
    )
    assert shuffled.digest == gs.digest
    assert sorted(shuffled.sample(20, seed=5).ids) == sorted(gs.sample(20, seed=5).ids)


def test_sample_is_a_golden_set_with_its_own_digest(gs: GoldenSet) -> None:
    sample = gs.sample(10, seed=0)
    assert isinstance(sample, GoldenSet)
    assert sample.name == "toy.sample-10-seed0"
    assert sample.slices == gs.slices
    assert sample.digest != gs.digest
    assert set(sample.ids) <= set(gs.ids)


def test_split_partitions_stratified(gs: GoldenSet) -> None:
    dev, holdout = gs.split(0.25, stratify=["difficulty"], seed=4)
    assert len(dev) == 150 and len(holdout) == 50
    assert set(dev.ids).isdisjoint(holdout.ids)
    assert set(dev.ids) | set(holdout.ids) == set(gs.ids)
    assert holdout.slice_counts()["difficulty"] == {"easy": 25, "hard": 10, "medium": 15}


@pytest.mark.parametrize("n", [0, 201, -1, 2.5])
def test_bad_sample_size(gs: GoldenSet, n: object) -> None:
    with pytest.raises(DatasetError, match=r"cannot draw .* cases from 200.*between 1 and 200"):
        gs.sample(n)  # type: ignore[arg-type]


def test_unknown_stratify_column(gs: GoldenSet) -> None:
    with pytest.raises(DatasetError, match=r"unknown stratify column\(s\) \['level'\]"):
        gs.sample(5, stratify=["level"])


def test_bad_holdout_share(gs: GoldenSet) -> None:
    with pytest.raises(DatasetError, match="holdout must be a share between 0 and 1"):
        gs.split(1.5)
