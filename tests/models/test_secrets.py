"""Secrets in free text and URLs: redact(), redact_url() and the environment snapshot."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable

import pytest

from workbench.models._secrets import (
    environment,
    is_secret_name,
    redact_url,
    secret_values,
    url_credentials,
)
from workbench.models._secrets import redact_secrets as redact


def hammer_environment(call: Callable[[], object], seconds: float = 0.6) -> int:
    """Run ``call`` repeatedly while another thread adds and deletes variables in a tight loop.

    This is what MLflow's telemetry thread does to ``_MLFLOW_TELEMETRY_SESSION_ID`` while the
    first ``make demo`` runs. Returns how many calls were made (all must succeed).
    """
    stop = threading.Event()

    def churn() -> None:
        i = 0
        while not stop.is_set():
            name = f"_WB_TEST_CHURN_{i % 64}"
            os.environ[name] = "x" * 16
            os.environ.pop(name, None)
            i += 1

    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: the race shows at once
    worker = threading.Thread(target=churn, daemon=True)
    worker.start()
    calls = 0
    try:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            call()
            calls += 1
    finally:
        stop.set()
        worker.join(5)
        sys.setswitchinterval(old_interval)
        for i in range(64):
            os.environ.pop(f"_WB_TEST_CHURN_{i}", None)
    return calls


def test_redact_never_crashes_while_another_thread_changes_the_environment() -> None:
    # was: KeyError: '_MLFLOW_TELEMETRY_SESSION_ID' (os.environ.items() looks every name up
    # again, and the variable had been deleted meanwhile)
    for _ in range(20):
        os.environ[f"_WB_TEST_PAD_{_}"] = "padding value"  # a longer environment to iterate
    try:
        calls = hammer_environment(lambda: redact("error: sk-abc123def456ghi at host"))
    finally:
        for i in range(20):
            os.environ.pop(f"_WB_TEST_PAD_{i}", None)
    assert calls > 100


def test_the_environment_snapshot_is_a_plain_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WB_TEST_SNAPSHOT_KEY", "value-0123456789")
    snap = environment()
    assert snap["WB_TEST_SNAPSHOT_KEY"] == "value-0123456789" and isinstance(snap, dict)
    monkeypatch.delenv("WB_TEST_SNAPSHOT_KEY")
    assert "WB_TEST_SNAPSHOT_KEY" in snap  # a snapshot, not a view
    assert hammer_environment(environment, 0.2) > 10


def test_secret_environment_values_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-abcdefgh-1234")
    assert redact("failed with tok-abcdefgh-1234") == "failed with [REDACTED]"
    assert redact("short ab", extra=("ab",)) == "short ab"  # too short to redact safely


@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:sk-canary1234@host/v1", "http://***@host/v1"),
    ("https://token-only@host:8443/v1", "https://***@host:8443/v1"),
    ("https://h/v1?api-key=abc&api-version=2024-06", "https://h/v1?api-key=***&api-version=2024-06"),
    ("https://h/v1?Key=abc", "https://h/v1?Key=***"),
    ("https://h/v1?API_KEY=abc&x=1", "https://h/v1?API_KEY=***&x=1"),
    ("https://h/v1?access_token=abc", "https://h/v1?access_token=***"),
    ("https://blob/x?sv=2024&sig=ab%2Fcd&se=2026", "https://blob/x?sv=2024&sig=***&se=2026"),
    ("https://h/v1?password=pw-9&secret=sec-8&token=tok-7",
     "https://h/v1?password=***&secret=***&token=***"),
    ("https://h/v1?X-Amz-Signature=abc&X-Amz-Credential=c",
     "https://h/v1?X-Amz-Signature=***&X-Amz-Credential=***"),
    ("https://h/cb#access_token=abc&state=1", "https://h/cb#access_token=***&state=1"),
    ("https://h/v1/sk-abcdefghijklmnop/chat", "https://h/v1/***/chat"),
])
def test_credentials_in_urls_are_masked(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert all(value not in shown for value in url_credentials(url))


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/v1", "https://api.example.com/v1?api-version=2024-06-01",
    "http://[::1]:8080/v1", "https://h/v1?", "https://h/v1?deployment=gpt4&monkey=1",
    "https://h/v1#section",
])
def test_a_url_without_credentials_is_unchanged_to_the_character(url: str) -> None:
    assert redact_url(url) == url and url_credentials(url) == []


def test_secret_names_and_call_secrets() -> None:
    secret = ["api-key", "X-Api-Key", "Authorization", "Proxy-Authorization", "Cookie",
              "x-auth-token", "Ocp-Apim-Subscription-Key", "client_secret", "apiKey", "sig"]
    plain = ["X-Team", "Content-Type", "api-version", "deployment", "User-Agent", "design",
             "monkey", "keyword", "region"]
    assert [n for n in secret if not is_secret_name(n)] == []
    assert [n for n in plain if is_secret_name(n)] == []
    values = secret_values({"api_key": "k-1", "extra_headers": {"api-key": "h-2"},
                            "api_base": "https://u:p-3@host/v1?key=q-4"})
    assert set(values) >= {"k-1", "h-2", "p-3", "q-4"}


def test_urls_inside_error_text_lose_their_credentials() -> None:
    text = ("Cannot connect to http://bob:hunter2hunter2@10.0.0.5:8000/v1 "
            "(see https://h/v1?key=shortkey)")
    out = redact(text)
    assert "hunter2hunter2" not in out and "shortkey" not in out and "bob" not in out
    assert out == ("Cannot connect to http://[REDACTED]@10.0.0.5:8000/v1 "
                   "(see https://h/v1?key=[REDACTED])")
