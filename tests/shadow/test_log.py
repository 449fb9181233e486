"""Traffic logs: validation with file and line, redaction on load."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from workbench.errors import DatasetError
from workbench.shadow import Redactor, TrafficLog


def record(i: int, **over: Any) -> dict[str, Any]:
    base = {"request_id": f"r-{i:04d}", "timestamp": f"2026-11-0{1 + i % 3}T09:1{i % 10}:00Z",
            "messages": [{"role": "system", "content": "You triage support messages."},
                         {"role": "user", "content": f"message {i}: mail jo{i}@example.com"}],
            "served_model": "openai/gpt-4o-mini",
            "response": f'{{"intent": "billing"}} call +1 415-555-01{i:02d}',
            "latency_s": 0.5 + i / 100, "prompt_tokens": 40, "completion_tokens": 9,
            "slices": {"language": "en" if i % 2 else "de"}, "feedback": "card 4111111111111111"}
    base.update(over)
    return base


def write(path: Path, records: list[Any]) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in records)
                    + "\n")
    return path


def test_a_valid_log_loads_redacted(tmp_path: Path) -> None:
    log = TrafficLog.load(write(tmp_path / "t.jsonl", [record(i) for i in range(6)]))
    assert len(log) == 6 and log.served_models == ["openai/gpt-4o-mini"]
    assert log.slices == ["language"]
    text = json.dumps([r.model_dump(mode="json") for r in log.records])
    assert "@example.com" not in text and "415-555" not in text and "4111" not in text
    assert "[EMAIL]" in text and "[PHONE]" in text and "[CARD]" in text
    assert dict(log.redactions) == {"email": 6, "phone": 6, "card": 6}
    df = log.df
    assert str(df["timestamp"].dt.tz) == "UTC" and set(df["slice.language"]) == {"en", "de"}
    assert "redacted: 6 card, 6 email, 6 phone; request ids: salted hashes" in log.describe()
    raw = TrafficLog.load(tmp_path / "t.jsonl", redact=False)
    assert "jo0@example.com" in raw.records[0].messages[1].content
    assert "OFF" in raw.describe()
    custom = TrafficLog.load(tmp_path / "t.jsonl", redactor=Redactor(()))  # no detectors
    assert custom.records[0].response == raw.records[0].response


def test_every_problem_names_its_line_and_key(tmp_path: Path) -> None:
    bad = write(tmp_path / "bad.jsonl", [
        record(0),
        '{"request_id": "r-9", "timestamp": ',
        record(1, latency_s=-1),
        record(2, timestamp="2026-11-02T09:00:00"),
        record(0),
        record(3, messages=[{"role": "assistant", "content": "hi"}]),
        record(4, colour="red"),
        {k: v for k, v in record(5).items() if k != "served_model"},
    ])
    with pytest.raises(DatasetError) as info:
        TrafficLog.load(bad)
    text = str(info.value)
    assert "bad.jsonl, line 2: malformed JSON" in text
    # JSON problems are reported first; with the JSON fixed the record problems come out
    fixed = write(tmp_path / "fixed.jsonl", [record(0), record(1, latency_s=-1),
                                             record(2, timestamp="2026-11-02T09:00:00"),
                                             record(0),
                                             record(3, messages=[{"role": "assistant",
                                                                  "content": "hi"}]),
                                             record(4, colour="red"),
                                             {k: v for k, v in record(5).items()
                                              if k != "served_model"}])
    with pytest.raises(DatasetError) as info:
        TrafficLog.load(fixed)
    text = str(info.value)
    assert "line 2: latency_s: Input should be greater than or equal to 0" in text
    assert "line 3: timestamp: Value error, needs a time zone" in text
    assert "line 4: duplicate request_id 'r-0000' (first on line 1)" in text
    assert "line 5: messages: Value error, the last message must be the user's" in text
    assert "line 6: colour: Extra inputs are not permitted" in text
    assert "line 7: served_model: Field required" in text


def test_an_empty_or_csv_log_is_refused(tmp_path: Path) -> None:
    (tmp_path / "e.jsonl").write_text("\n")
    with pytest.raises(DatasetError, match="empty|no request"):
        TrafficLog.load(tmp_path / "e.jsonl")
    (tmp_path / "t.csv").write_text("request_id\nr-1\n")
    with pytest.raises(DatasetError, match="a traffic log is JSONL"):
        TrafficLog.load(tmp_path / "t.csv")


def test_the_shipped_log_loads_redacted_with_no_planted_value_left(repo_root: Path) -> None:
    folder = repo_root / "datasets" / "shadow"
    raw = (folder / "support_traffic.jsonl").read_text()
    planted = json.loads((folder / "planted_pii.json").read_text())
    values = [v for kind in planted.values() for v in kind]
    assert len(values) >= 10 and all(v in raw for v in values)  # planted in the raw file
    log = TrafficLog.load(folder / "support_traffic.jsonl")
    assert len(log) >= 300 and log.served_models == ["sim/large"]
    days = {r.timestamp.date() for r in log.records}
    assert len(days) >= 3 and set(log.slices) == {"channel", "language"}
    loaded = json.dumps([r.model_dump(mode="json") for r in log.records])
    assert not [v for v in values if v in loaded]
    assert dict(log.redactions) == {"card": 11, "email": 44, "phone": 40}  # the datacard's
    ids = [json.loads(line)["request_id"] for line in raw.splitlines()]
    assert [r.request_id for r in log.records] == [log.id_of(i) for i in ids]
    assert not set(ids) & set(log.df["request_id"])  # salted hashes, never the logged ids
