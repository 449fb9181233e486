"""The one YAML loader (issue #19, item 11): alias bombs, duplicate keys, depth, odd values.

Before the hardened loader a "billion laughs" file ran for a minute and died with MemoryError,
a duplicate ``models:`` key silently kept the last one, and a 5,000-digit number or an
impossible date raised a raw ValueError.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from workbench._yaml import MAX_ALIAS_NODES, parse_yaml, read_mapping
from workbench.errors import ConfigError, DatasetError

LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [" + ", ".join([f"*{chr(97 + i)}"] * 9) + "]\n"
    for i in range(8)
)


def test_billion_laughs_is_refused_at_once_naming_the_line() -> None:
    start = time.monotonic()
    with pytest.raises(ConfigError) as info:
        parse_yaml(LAUGHS, "bomb.yaml")
    assert time.monotonic() - start < 1
    text = str(info.value)
    assert text.startswith("bomb.yaml, line ") and "alias bomb" in text
    assert f"more than {MAX_ALIAS_NODES:,} nodes" in text


def test_a_few_aliases_and_merge_keys_still_work() -> None:
    data, _ = parse_yaml("base: &b {temperature: 0, seed: 1}\nm:\n  <<: *b\n  seed: 2\n"
                         "again: *b\n", "ok.yaml")
    assert data == {"base": {"temperature": 0, "seed": 1}, "m": {"temperature": 0, "seed": 2},
                    "again": {"temperature": 0, "seed": 1}}


def test_duplicate_keys_name_both_lines() -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml("golden_set: a.jsonl\nmodels: [sim/large]\nvariants: []\nmodels: [sim/small]\n",
                   "exp.yaml")
    assert str(info.value).startswith("exp.yaml, line 4: duplicate key 'models' on lines 2 and 4")
    with pytest.raises(ConfigError, match="duplicate key 'id' on line 1, twice"):
        parse_yaml("m: {id: a, id: b}\n", "exp.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: &x [1, *x]\n", "refers to the node that contains it"),
        ("a: " + "[" * 150 + "]" * 150 + "\n", "nested deeper than 100 levels"),
        ("a: " + "7" * 5000 + "\n", "Exceeds the limit (4300 digits)"),
        ("a: 2026-13-45\n", "month must be in 1..12"),
        ("a: \x00\n", "unacceptable character #x0000"),
        ("a: *nowhere\n", "found undefined alias"),
        ("a: 1\n---\nb: 2\n", "expected a single document"),
    ],
)
def test_hostile_or_odd_yaml_is_a_located_config_error(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_yaml(text, "odd.yaml")
    assert message in str(info.value) and str(info.value).startswith("odd.yaml, line ")


def test_files_that_are_not_utf8_or_too_large(tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"name: caf\xe9\n")
    with pytest.raises(DatasetError, match=r"latin.yaml, line 1: not valid UTF-8 \(byte 0xe9"):
        read_mapping(latin, DatasetError, what="the manifest", example="x")
    big = tmp_path / "big.yaml"
    with big.open("wb") as fh:
        fh.truncate(10_000_001)
    with pytest.raises(ConfigError, match="YAML files of up to 10 MB are read"):
        read_mapping(big, ConfigError, what="the gates file", example="x")
