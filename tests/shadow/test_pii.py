"""Personal data in traffic logs (#19): every example of the issue, look-alikes, every field.

Each kind of personal data the issue lists becomes its placeholder; look-alikes (dates, times,
amounts, order ids, UUIDs, IPs, versions) stay; every free-text field of a record is redacted
and request ids become salted hashes; a shadow test logged to MLflow and its report hold none
of the planted values.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.errors import ConfigError, DatasetError
from workbench.shadow import (
    DEFAULT_DETECTORS,
    Detector,
    Redactor,
    TrafficLog,
    email_valid,
    phone_detector,
)
from workbench.shadow import redact_pii as redact

from ..artifacts import downloaded_artifacts

ISSUE_EXAMPLES = {
    # IBANs (stdnum.iban: country format and mod-97 checksum)
    "DE89 3704 0044 0532 0130 00": "[IBAN]",
    "GB82 WEST 1234 5698 7654 32": "[IBAN]",
    "FR1420041010050500013M02606": "[IBAN]",
    "nl91abna0417164300": "[IBAN]",
    # US SSNs (stdnum.us.ssn), both ways of writing them
    "123-45-6789": "[SSN]",
    "123 45 6789": "[SSN]",
    # phones in any region (phonenumbers)
    "+33 1 42 68 53 00": "[PHONE]",
    "0044 20 7946 0958": "[PHONE]",
    "+81 3-1234-5678": "[PHONE]",
    "1-800-555-0199": "[PHONE]",
    "4155550100": "[PHONE]",
    "+49 (0)30 901820": "[PHONE]",
    "01 42 68 53 00": "[PHONE]",
    "+91 98765 43210": "[PHONE]",
    # cards written with dots or slashes (and the usual ways), Luhn-valid
    "4111.1111.1111.1111": "[CARD]",
    "4111/1111/1111/1111": "[CARD]",
    "5500 0000 0000 0004": "[CARD]",
    "3782 822463 10005": "[CARD]",
    # e-mail with an IP-literal domain, and internationalised
    "user@[192.168.1.1]": "[EMAIL]",
    "user@[IPv6:2001:db8::1]": "[EMAIL]",
    "josé@exämple.com": "[EMAIL]",
    "用户@例子.广告": "[EMAIL]",
}

LOOK_ALIKES = [
    "on 2026-11-25 at 10:30", "2026-11-02T09:14:03Z", "12/05/2026", "02.11.2026",
    "11/02/2026 10:30", "10:30:15", "12:30-13:45", "total 1,299.00 EUR", "1.000.000",
    "$4,155,550.10", "USD 12 345.67", "amount 1 299 000", "order 1234567890123456",
    "order 48213577", "order #1234567", "ORD-2026-4415550", "invoice INV-2024-000123",
    "invoice 2024/11/000123", "PO 2026-11-0042", "SKU 100-200-3000", "1234-5678-9012",
    "ticket #48213", "tracking 1Z999AA10123456784", "req-0037",
    "id 550e8400-e29b-41d4-a716-446655440000", "UUID 123e4567-e89b-12d3-a456-426614174000",
    "IP 192.168.10.254", "10.0.0.1", "IPv6 2001:db8::1", "MAC 00:1A:2B:3C:4D:5E",
    "v2.14.3", "Version 10.15.7", "ISBN 978-3-16-148410-0", "zip 94103-1234", "port 8080",
    "@handle mention", "a@b", "room 101, floor 3", "steps 2 3 4 5 6 7 8 9 10 11 12 13",
    # invalid by the validators' rules: kept
    "000-12-3456", "666-12-3456", "900-12-3456", "123-00-6789",  # SSN area / group rules
    "DE00 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 33",  # IBAN checksums fail
    "4111.1111.1111.1112",  # Luhn fails
    "user@[999.1.1.1]",  # not an IP literal
]


@pytest.mark.parametrize("value", list(ISSUE_EXAMPLES))
def test_every_example_of_the_issue_becomes_its_placeholder(value: str) -> None:
    text = f"Hi, reach me at {value}, thanks."
    assert redact(text) == f"Hi, reach me at {ISSUE_EXAMPLES[value]}, thanks."


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_kept(text: str) -> None:
    assert redact(text) == text


def test_counts_are_per_detector() -> None:
    r = Redactor()
    out = r("IBAN DE89 3704 0044 0532 0130 00, SSN 123-45-6789, call +33 1 42 68 53 00 or "
            "0044 20 7946 0958, card 4111/1111/1111/1111, mail josé@exämple.com, "
            "user@[192.168.1.1]; order 48213577 on 2026-11-25")
    assert out == ("IBAN [IBAN], SSN [SSN], call [PHONE] or [PHONE], card [CARD], mail [EMAIL], "
                   "[EMAIL]; order 48213577 on 2026-11-25")
    assert dict(r.counts) == {"email": 2, "iban": 1, "card": 1, "ssn": 1, "phone": 2}
    assert [d.name for d in DEFAULT_DETECTORS] == ["email", "iban", "card", "ssn", "phone"]


def test_email_validation() -> None:
    good = ["a@b.io", "josé@exämple.com", "user@[192.168.1.1]", "x+tag@sub.example.co.uk"]
    bad = ["a@b.c", "a@b.123", "a@-b.com", "a@b_c.com", "user@[1.2.3]", "@example.com"]
    assert [a for a in good if not email_valid(a)] == []
    assert [a for a in bad if email_valid(a)] == []


def test_phone_regions_are_configurable_and_checked() -> None:
    assert redact("ligue (11) 91234-5678") == "ligue (11) 91234-5678"  # Brazil: not a default
    detectors = (*DEFAULT_DETECTORS[:-1], phone_detector([*"US GB FR DE JP IN".split(), "BR"]))
    assert redact("ligue (11) 91234-5678", detectors) == "ligue [PHONE]"
    with pytest.raises(ConfigError, match=r"unknown phone regions \['XX'\]"):
        phone_detector(["US", "XX"])


def test_detectors_say_what_is_wrong() -> None:
    with pytest.raises(ConfigError, match="needs a pattern or a finder"):
        Detector("x")
    with pytest.raises(ConfigError, match="needs a pattern or a finder"):
        Detector("x", re.compile("a"), finder=lambda t: [])
    with pytest.raises(ConfigError, match="not a word"):
        Detector("my kind", re.compile("a"))
    with pytest.raises(ConfigError, match="share a name"):
        Redactor((Detector("a", re.compile("a")), Detector("a", re.compile("b"))))
    spans = Detector("ab", finder=lambda t: [(0, 2), (1, 3), (4, 6)])  # overlaps are dropped
    assert Redactor((spans,))("ababab") == "[AB]ab[AB]"


# ---------------------------------------------------------------- whole records

PLANTED = {
    "request_id": "session-jo.bloggs@example.com-0001",
    "message": "My IBAN is DE89 3704 0044 0532 0130 00 and SSN 123 45 6789",
    "history": "call me on +81 3-1234-5678",
    "system": "Customer josé@exämple.com, card 4111.1111.1111.1111",
    "response": "We will call 1-800-555-0199 or mail user@[192.168.1.1]",
    "feedback": "thumbs down, write to ana@example.org or +33 1 42 68 53 00",
    "slice": "owner: pat@example.co.uk",
}
PLANTED_VALUES = ["jo.bloggs@example.com", "session-jo.bloggs", "DE89 3704 0044 0532 0130 00",
                  "123 45 6789", "+81 3-1234-5678", "josé@exämple.com", "4111.1111.1111.1111",
                  "1-800-555-0199", "user@[192.168.1.1]", "ana@example.org",
                  "+33 1 42 68 53 00", "pat@example.co.uk"]


def pii_record(i: int, request_id: str | None = None) -> dict[str, Any]:
    """A record with personal data in every free-text field (and in its id)."""
    return {
        "request_id": request_id or f"{PLANTED['request_id']}-{i}",
        "timestamp": f"2026-11-0{2 + i % 3}T1{i % 10}:00:00Z",
        "messages": [{"role": "system", "content": PLANTED["system"]},
                     {"role": "user", "content": PLANTED["history"]},
                     {"role": "assistant", "content": "Sure."},
                     {"role": "user", "content": f"{PLANTED['message']} (ticket {i})"}],
        "served_model": "sim/large",
        "response": PLANTED["response"],
        "latency_s": 0.4, "prompt_tokens": 30, "completion_tokens": 12,
        "slices": {"language": "en", "account": PLANTED["slice"]},
        "feedback": PLANTED["feedback"],
    }


def write_log(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records),
                    encoding="utf-8")
    return path


def planted_in(text: str) -> list[str]:
    return [v for v in PLANTED_VALUES if v in text]


def test_every_free_text_field_is_redacted_and_ids_become_salted_hashes(tmp_path: Path) -> None:
    path = write_log(tmp_path / "t.jsonl", [pii_record(i) for i in range(4)])
    raw_text = path.read_text(encoding="utf-8")
    assert len(planted_in(raw_text)) == len(PLANTED_VALUES)  # all planted in the raw log
    log = TrafficLog.load(path)
    dumped = json.dumps([r.model_dump(mode="json") for r in log.records], ensure_ascii=False)
    assert planted_in(dumped) == [] and planted_in(log.df.to_csv()) == []
    first = log.records[0]
    assert first.slices["account"] == "owner: [EMAIL]"
    assert first.feedback == "thumbs down, write to [EMAIL] or [PHONE]"
    assert [m.content for m in first.messages[:2]] == ["Customer [EMAIL], card [CARD]",
                                                       "call me on [PHONE]"]
    assert first.response == "We will call [PHONE] or mail [EMAIL]"
    # ids: salted hashes, deterministic for the same log (pairing, resume), findable by id_of
    assert re.fullmatch(r"h-[0-9a-f]{16}", first.request_id)
    assert first.request_id == log.id_of(f"{PLANTED['request_id']}-0") and log.ids_hashed
    again = TrafficLog.load(path)
    assert [r.request_id for r in again.records] == [r.request_id for r in log.records]
    salted = TrafficLog.load(path, id_salt="a team secret")
    assert salted.records[0].request_id != first.request_id
    assert salted.records[0].request_id == salted.id_of(f"{PLANTED['request_id']}-0")
    # counts per detector, in the log and in describe()
    assert dict(log.redactions) == {"email": 16, "iban": 4, "card": 4, "ssn": 4, "phone": 12}
    assert ("redacted: 4 card, 16 email, 4 iban, 12 phone, 4 ssn; request ids: salted hashes"
            in log.describe())
    raw = TrafficLog.load(path, redact=False)
    assert raw.records[0].request_id == f"{PLANTED['request_id']}-0" and not raw.ids_hashed
    assert raw.id_of("x") == "x" and "request ids" not in raw.describe()
    ids_only = TrafficLog.load(path, redact=False, id_salt="s")  # hashed ids, raw text
    assert ids_only.records[0].request_id == ids_only.id_of(f"{PLANTED['request_id']}-0")
    assert ids_only.records[0].response == PLANTED["response"] and not ids_only.redactions
    with pytest.raises(ConfigError, match="id_salt"):
        TrafficLog.load(path, id_salt="")


def test_a_hash_collision_is_refused_not_merged(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_log(tmp_path / "t.jsonl", [pii_record(i) for i in range(2)])
    from workbench.shadow import _log

    monkeypatch.setattr(_log, "_hash_id", lambda salt, request_id: "h-0")
    with pytest.raises(DatasetError, match="line 2: request id hashes to the same value as "
                                           "line 1") as info:
        TrafficLog.load(path)
    assert "id_salt" in str(info.value)


def file_text(path: Path) -> str:
    if path.suffix == ".parquet":
        return str(pd.read_parquet(path).to_csv())
    return path.read_bytes().decode("utf-8", "ignore")


def test_a_logged_shadow_test_and_its_report_hold_no_planted_value(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_cache: Path) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow's artifacts (./mlruns) land in the test's directory
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    log_path = write_log(tmp_path / "traffic.jsonl", [pii_record(i) for i in range(12)])
    store = f"sqlite:///{tmp_path}/mlflow.db"
    log = TrafficLog.load(log_path)
    print(log.describe())
    cmp = wb.shadow_test(log, "sim/small", progress=False, experiment="shadow-pii",
                         tracking_uri=store)
    assert cmp.record.shadow.redactions == {"card": 12, "email": 48, "iban": 12,
                                                "phone": 36, "ssn": 12}
    assert cmp.record.shadow.ids_hashed is True
    report = wb.shadow_report(cmp, examples=12)  # also logged to the run
    assert any("12 card, 48 email, 12 iban, 36 phone, 12 ssn" in b for b in report.banner)
    report.to_html(tmp_path / "out" / "shadow.html")
    report.to_markdown(tmp_path / "out" / "shadow.md")
    cmp.save(tmp_path / "out" / "saved")
    written = [p for root in (tmp_path, _isolated_cache) for p in root.rglob("*")
               if p.is_file() and p != log_path]
    assert {"mlflow.db", "shadow.html", "shadow.md", "comparison.json"} <= {p.name
                                                                           for p in written}
    for path in written:
        assert planted_in(file_text(path)) == [], path
    client = wb.tracking.client(store)
    runs = client.search_runs([client.get_experiment_by_name("shadow-pii").experiment_id])
    seen = 0
    for run in runs:
        assert planted_in(json.dumps([run.data.params, run.data.tags],
                                     ensure_ascii=False)) == []
        for name, local in downloaded_artifacts(client, run.info.run_id, tmp_path / "dl"):
            assert planted_in(file_text(local)) == [], name
            seen += 1
    assert seen >= 10
    # the check can fail: without redaction the same walk finds the planted values
    raw_cmp = wb.shadow_test(TrafficLog.load(log_path, redact=False), "sim/small", judge=None,
                             progress=False)
    raw_cmp.save(tmp_path / "raw")
    assert planted_in((tmp_path / "raw" / "comparison.json").read_text(encoding="utf-8")
                      + file_text(tmp_path / "raw" / "results.parquet")) or planted_in(
        json.dumps(raw_cmp.golden_set().records(), ensure_ascii=False))
