"""The fake OpenAI server: raw HTTP behaviour, and litellm's real HTTP path against it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from workbench.testing import FaultRates, serve

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")


def post(url: str, body: dict[str, Any], timeout: float = 5) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def ask(content: str, **extra: Any) -> dict[str, Any]:
    return {"model": "fake", "messages": [{"role": "user", "content": content}], **extra}


@pytest.fixture(scope="module")
def server() -> Iterator[Any]:
    with serve(retry_after_s=2, hang_s=5, replies={"capital of France": "Paris"}) as running:
        yield running


def test_deterministic_answers_and_usage(server: Any) -> None:
    status, _, body = post(server.base_url, ask("What is the capital of France?"))
    data = json.loads(body)
    assert status == 200
    assert data["choices"][0]["message"]["content"] == "Paris"
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["prompt_tokens"] > 0 and data["usage"]["completion_tokens"] == 1
    first = json.loads(post(server.base_url, ask("anything else"))[2])
    again = json.loads(post(server.base_url, ask("anything else"))[2])
    assert first["choices"][0]["message"]["content"] == again["choices"][0]["message"]["content"]


def test_429_carries_retry_after(server: Any) -> None:
    status, headers, body = post(server.base_url, ask("x [[fault:429]]"))
    assert status == 429 and headers["Retry-After"] == "2"
    assert json.loads(body)["error"]["type"] == "rate_limit_error"


@pytest.mark.parametrize(
    ("fault", "status", "check"),
    [
        ("500", 500, lambda b: json.loads(b)["error"]["type"] == "server_error"),
        ("malformed", 200, lambda b: b.startswith(b'{"id"') and not b.rstrip().endswith(b"}")),
        ("empty", 200, lambda b: json.loads(b)["choices"][0]["message"]["content"] == ""),
        ("length", 200, lambda b: json.loads(b)["choices"][0]["finish_reason"] == "length"),
        ("blank", 200, lambda b: json.loads(b)["choices"][0]["message"]["content"].isspace()),
        ("401", 401, lambda b: json.loads(b)["error"]["code"] == "invalid_api_key"),
        ("400", 400, lambda b: json.loads(b)["error"]["type"] == "invalid_request_error"),
    ],
)
def test_fault_markers(server: Any, fault: str, status: int, check: Any) -> None:
    got, _, body = post(server.base_url, ask(f"q [[fault:{fault}]]"))
    assert got == status and check(body)


def test_hang_outlasts_the_client_timeout(server: Any) -> None:
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        post(server.base_url, ask("q [[fault:hang]]"), timeout=0.5)
    assert time.monotonic() - start < 3


def test_reset_drops_the_connection(server: Any) -> None:
    with pytest.raises((ConnectionError, urllib.error.URLError, OSError)):
        post(server.base_url, ask("q [[fault:reset]]"))


def test_fail_n_times_then_answer(server: Any) -> None:
    statuses = [post(server.base_url, ask("retry me [[fault:500x2]]"))[0] for _ in range(3)]
    assert statuses == [500, 500, 200]


def test_rates_are_seeded_and_reproducible() -> None:
    def run() -> list[int]:
        with serve(seed=7, rates=FaultRates(rate_429=0.3, rate_500=0.2)) as s:
            return [post(s.base_url, ask(f"case {i}"))[0] for i in range(40)]

    first = run()
    assert first == run()
    assert 6 <= first.count(429) <= 18 and 3 <= first.count(500) <= 14
    assert first.count(200) >= 15


def test_request_limit_answers_503() -> None:
    with serve(max_requests=2) as s:
        codes = [post(s.base_url, ask("q"))[0] for _ in range(3)]
        assert codes == [200, 200, 503]
        assert s.fake.requests == 3


def test_litellm_real_http_path(server: Any) -> None:
    import litellm

    before = server.fake.requests
    common = {"api_base": server.base_url, "api_key": "sk-test", "num_retries": 0}
    r = litellm.completion(
        model="openai/fake",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_retries=0,
        **common,
    )
    assert r.choices[0].message.content == "Paris"
    stream = litellm.completion(
        model="openai/fake",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        stream=True,
        max_retries=0,
        **common,
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "Paris"
    with pytest.raises(litellm.RateLimitError):
        litellm.completion(
            model="openai/fake",
            messages=[{"role": "user", "content": "q [[fault:429]]"}],
            max_retries=0,
            **common,
        )
    with pytest.raises(litellm.Timeout):
        litellm.completion(
            model="openai/fake",
            messages=[{"role": "user", "content": "q [[fault:hang]]"}],
            max_retries=0,
            timeout=0.5,
            **common,
        )
    # with the SDK's retries off, the server saw exactly one request per call
    assert server.fake.requests - before == 4


def test_command_line_server_starts_and_answers() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "workbench.testing.fake_openai",
            "--port",
            "0",
            "--max-seconds",
            "20",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("fake OpenAI server on http://127.0.0.1:")
        url = line.split(" on ", 1)[1].strip()
        assert post(url, ask("hello"))[0] == 200
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_provider_dies_and_comes_back() -> None:
    with serve(die_after=2) as s:
        assert [post(s.base_url, ask(f"q{i}"))[0] for i in range(2)] == [200, 200]
        with pytest.raises((ConnectionError, urllib.error.URLError, OSError)):
            post(s.base_url, ask("q2"))
        assert s.fake.dead and s.fake.dropped == 1
        s.fake.revive()
        assert post(s.base_url, ask("q2"))[0] == 200 and not s.fake.dead


def test_answers_with_content_are_counted_per_prompt() -> None:
    """``answered`` is what a provider bills and a client keeps: faults and blanks are not."""
    with serve() as s:
        for text in ("same", "same", "other [[fault:empty]]", "x [[fault:500]]"):
            post(s.base_url, ask(text))
        key = s.fake.prompt_key([{"role": "user", "content": "same"}])
        assert s.fake.answered[key] == 2 and sum(s.fake.answered.values()) == 2
        stats = json.loads(urllib.request.urlopen(s.base_url.removesuffix("/v1") + "/stats",
                                                  timeout=5).read())
        assert stats["answered"] == 2 and stats["answered_twice"] == 1


def test_held_requests_wait_until_released() -> None:
    import threading

    with serve() as s:
        s.fake.held = True
        got: list[int] = []
        thread = threading.Thread(target=lambda: got.append(post(s.base_url, ask("q"))[0]))
        thread.start()
        deadline = time.monotonic() + 5
        while s.fake.requests < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.2)
        assert s.fake.requests == 1 and not got  # arrived, not answered
        s.fake.held = False
        thread.join(5)
        assert got == [200]
