"""A local OpenAI-compatible chat-completions server (aiohttp) with fault injection.

Faults are injected by marker in the last user message, e.g. ``[[fault:429]]``, or at random
rates (seeded, so a run is reproducible):

- ``429``: HTTP 429 with a ``Retry-After`` header (seconds, ``retry_after_s``).
- ``500``: HTTP 500 with an OpenAI-style error body.
- ``hang``: no answer for ``hang_s`` seconds (the client's timeout fires first).
- ``reset``: the connection is dropped without a response.
- ``malformed``: HTTP 200 with a truncated JSON body.
- ``empty``: a normal response whose content is empty.
- ``blank``: a normal response whose content is only whitespace.
- ``length``: a truncated answer with ``finish_reason="length"``.
- ``401``: HTTP 401, an invalid API key (every call of such a configuration fails alike).
- ``400``: HTTP 400, a bad request (e.g. a parameter the model does not take).

``[[fault:429x2]]`` fails the first two requests carrying that prompt and then answers, which is
how retry tests are written. ``die_after=N`` makes the provider die mid-run: from request N + 1
on every connection is dropped without an answer (``revive()`` brings it back). ``held = True``
keeps every request waiting until it is set back to False (to line up concurrent clients).
Answers are deterministic: a reply scripted with ``replies`` (the first key found in the prompt
wins), else a digest of the prompt. The server listens on 127.0.0.1 only and stops by itself after
``max_requests`` requests or ``max_seconds``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

__all__ = ["FAULTS", "FakeOpenAI", "FaultRates", "serve"]

FAULTS = ("429", "500", "hang", "reset", "malformed", "empty", "length", "blank", "401", "400")
_MARKER = re.compile(r"\[\[fault:(" + "|".join(FAULTS) + r")(?:x(\d+))?\]\]")


@dataclass(frozen=True)
class FaultRates:
    """Probability of each fault per request (seeded by the server's ``seed``)."""

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_hang: float = 0.0
    rate_reset: float = 0.0
    rate_malformed: float = 0.0
    rate_empty: float = 0.0
    rate_length: float = 0.0
    rate_blank: float = 0.0
    rate_401: float = 0.0
    rate_400: float = 0.0

    def draw(self, rng: random.Random) -> str | None:
        """Pick a fault for one request, or None."""
        u = rng.random()
        for name in FAULTS:
            p = float(getattr(self, f"rate_{name}"))
            if u < p:
                return name
            u -= p
        return None


def _prompt_of(body: Mapping[str, Any]) -> str:
    messages = body.get("messages") or []
    parts = []
    for m in messages:
        content = m.get("content")
        if isinstance(content, list):  # OpenAI content parts
            content = " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        parts.append(f"{m.get('role')}: {content}")
    return "\n".join(parts)


def _last_user(body: Mapping[str, Any]) -> str:
    for m in reversed(body.get("messages") or []):
        if m.get("role") == "user":
            return str(m.get("content"))
    return ""


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


@dataclass
class FakeOpenAI:
    """The fake server's behaviour and counters; run it with :func:`serve` or ``start``.

    Attributes:
        requests: chat-completion requests received (every attempt counts).
        prompts: how many times each prompt (sha256 of the messages) was requested.
        faults: how many times each fault was injected.
        response_formats: requests per ``response_format`` type (``"text"`` when absent).
        answered: per prompt, the HTTP 200 answers with content (the calls a provider bills
            and a client keeps): more than one for a prompt is a call paid twice.
        dropped: requests refused because the provider was dead (``die_after``).
    """

    latency_ms: float = 0.0
    seed: int = 0
    rates: FaultRates = field(default_factory=FaultRates)
    replies: Mapping[str, str] = field(default_factory=dict)
    retry_after_s: float = 1.0
    hang_s: float = 30.0
    max_requests: int = 100_000
    die_after: int | None = None
    held: bool = False
    requests: int = 0
    prompts: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)
    response_formats: Counter[str] = field(default_factory=Counter)
    answered: Counter[str] = field(default_factory=Counter)
    dropped: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._marked: Counter[str] = Counter()

    @property
    def dead(self) -> bool:
        """True once the provider has died (``die_after`` requests served)."""
        return self.die_after is not None and self.requests > self.die_after

    def revive(self) -> None:
        """Bring a dead provider back (it answers every request again)."""
        self.die_after = None

    @staticmethod
    def prompt_key(messages: list[Mapping[str, Any]]) -> str:
        """The key of ``prompts`` and ``answered`` for a list of chat messages."""
        return hashlib.sha256(_prompt_of({"messages": messages}).encode("utf-8")).hexdigest()

    # ------------------------------------------------------------------ answers
    def reply_for(self, prompt: str) -> str:
        """The deterministic answer to a prompt (scripted reply or a digest of the prompt)."""
        for key, reply in self.replies.items():
            if key in prompt:
                return reply
        return "fake answer " + hashlib.sha256(prompt.encode("utf-8")).hexdigest()[:12]

    def _fault(self, body: Mapping[str, Any], key: str) -> str | None:
        match = _MARKER.search(_last_user(body))
        if match:
            times = match.group(2)
            if times is None:
                return match.group(1)
            self._marked[key] += 1
            return match.group(1) if self._marked[key] <= int(times) else None
        return self.rates.draw(self._rng)

    def _completion(
        self, body: Mapping[str, Any], prompt: str, fault: str | None
    ) -> dict[str, Any]:
        text = self.reply_for(prompt)
        finish = "stop"
        if fault == "empty":
            text = ""
        elif fault == "blank":
            text = " \n\t "
        elif fault == "length":
            text, finish = text[: max(1, len(text) // 2)], "length"
        created = int(time.time())
        return {
            "id": "chatcmpl-"
            + hashlib.sha256(f"{prompt}{self.requests}".encode()).hexdigest()[:24],
            "object": "chat.completion",
            "created": created,
            "model": str(body.get("model", "fake")),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": _tokens(prompt),
                "completion_tokens": _tokens(text) if text else 0,
                "total_tokens": _tokens(prompt) + (_tokens(text) if text else 0),
            },
        }

    # ------------------------------------------------------------------ HTTP
    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        if self.dead:  # the provider died: connections are dropped without an answer
            self.dropped += 1
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        while self.held:  # lined up until the test lets them through
            await asyncio.sleep(0.01)
        if self.requests > self.max_requests:
            return web.json_response(
                {"error": {"message": "fake server request limit reached", "type": "server"}},
                status=503,
            )
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return web.json_response({"error": {"message": "invalid JSON body"}}, status=400)
        prompt = _prompt_of(body)
        key = hashlib.sha256(prompt.encode("utf-8")).hexdigest()
        self.prompts[key] += 1
        response_format = body.get("response_format")
        self.response_formats[
            str(response_format.get("type")) if isinstance(response_format, dict) else "text"
        ] += 1
        fault = self._fault(body, key)
        if fault:
            self.faults[fault] += 1
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if fault == "429":
            return web.json_response(
                {"error": {"message": "Rate limit reached (fake)", "type": "rate_limit_error"}},
                status=429,
                headers={"Retry-After": f"{self.retry_after_s:g}"},
            )
        if fault == "500":
            return web.json_response(
                {"error": {"message": "Internal error (fake)", "type": "server_error"}}, status=500
            )
        if fault == "401":
            return web.json_response(
                {"error": {"message": "Incorrect API key provided (fake)",
                           "type": "invalid_request_error", "code": "invalid_api_key"}},
                status=401)
        if fault == "400":
            return web.json_response(
                {"error": {"message": "Unsupported parameter in the request (fake)",
                           "type": "invalid_request_error", "code": "invalid_request"}},
                status=400)
        if fault == "hang":
            await asyncio.sleep(self.hang_s)
        if fault == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault == "malformed":
            return web.Response(
                text='{"id": "chatcmpl-broken", "choices": [{"message": {"content": "hal',
                content_type="application/json",
            )
        completion = self._completion(body, prompt, fault)
        if completion["choices"][0]["message"]["content"].strip():
            self.answered[key] += 1
        if not body.get("stream"):
            return web.json_response(completion)
        return await self._stream(request, body, completion)

    async def _stream(
        self, request: web.Request, body: Mapping[str, Any], completion: dict[str, Any]
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        text = completion["choices"][0]["message"]["content"]
        base = {k: completion[k] for k in ("id", "created", "model")}
        base["object"] = "chat.completion.chunk"
        pieces = [text[i : i + 8] for i in range(0, len(text), 8)] or [""]
        for i, piece in enumerate(pieces):
            delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
            chunk = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
        finish = completion["choices"][0]["finish_reason"]
        last: dict[str, Any] = {
            **base,
            "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
        }
        if (body.get("stream_options") or {}).get("include_usage"):
            last["usage"] = completion["usage"]
        await response.write(f"data: {json.dumps(last)}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "fake", "object": "model"}]})

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"requests": self.requests, "faults": dict(self.faults), "prompts": len(self.prompts),
             "answered": sum(self.answered.values()),
             "answered_twice": sum(n - 1 for n in self.answered.values() if n > 1),
             "dropped": self.dropped}
        )

    def app(self) -> web.Application:
        """The aiohttp application (``/v1/chat/completions``, ``/v1/models``, ``/stats``)."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/stats", self._stats)
        return app


class _Running:
    """A FakeOpenAI served on 127.0.0.1 from a background thread with its own event loop."""

    def __init__(self, fake: FakeOpenAI, port: int) -> None:
        self.fake = fake
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._port = port
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._run, name="fake-openai", daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._runner = web.AppRunner(
            self.fake.app(), handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", self._port)
        self._loop.run_until_complete(site.start())
        self.port = int(self._runner.addresses[0][1])
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> _Running:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the fake OpenAI server did not start within 10 s")
        return self

    def stop(self) -> None:
        async def shutdown() -> None:
            if self._runner is not None:
                await self._runner.cleanup()
            # handlers still running (a "hang" fault) are cancelled, not left to the GC
            pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @property
    def base_url(self) -> str:
        """The ``api_base`` for litellm / the OpenAI SDK: ``http://127.0.0.1:PORT/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"


@contextmanager
def serve(port: int = 0, **options: Any) -> Iterator[_Running]:
    """Run a fake server for the duration of a ``with`` block (port 0 picks a free port).

    Keyword options are :class:`FakeOpenAI` fields (``latency_ms``, ``rates``, ``replies``, …).
    The yielded object has ``base_url`` and ``fake`` (with its counters).
    """
    running = _Running(FakeOpenAI(**options), port).start()
    try:
        yield running
    finally:
        running.stop()


def main(argv: list[str] | None = None) -> None:
    """``python -m workbench.testing.fake_openai --port P --latency-ms L``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    for name in FAULTS:
        parser.add_argument(f"--rate-{name}", type=float, default=0.0, help=f"share of {name}")
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--die-after", type=int, help="drop every request after this many")
    parser.add_argument("--max-seconds", type=float, default=3600.0, help="stop after this")
    args = parser.parse_args(argv)
    rates = FaultRates(**{f"rate_{n}": getattr(args, f"rate_{n}") for n in FAULTS})
    options = {
        "latency_ms": args.latency_ms,
        "seed": args.seed,
        "rates": rates,
        "max_requests": args.max_requests,
        "die_after": args.die_after,
    }
    with serve(port=args.port, **options) as running:
        print(f"fake OpenAI server on {running.base_url}", flush=True)
        deadline = time.monotonic() + args.max_seconds
        while time.monotonic() < deadline and running.fake.requests <= args.max_requests:
            time.sleep(0.2)
