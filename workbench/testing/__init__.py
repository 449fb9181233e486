"""Test helpers: a local OpenAI-compatible server with fault injection.

Used by the workbench's tests and benchmarks, and by users' own tests of code that calls models
through litellm (``model="openai/<name>", api_base=server.base_url``).

Example:
    A scripted reply over plain HTTP (litellm gets the same with ``model="openai/fake",
    api_base=server.base_url, api_key="x"``):

    >>> import json
    >>> import urllib.request
    >>> from workbench.testing import serve
    >>> body = {"model": "fake", "messages": [{"role": "user", "content": "capital of France?"}]}
    >>> no_proxy = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    >>> with serve(latency_ms=5, replies={"capital": "Paris"}) as server:
    ...     request = urllib.request.Request(f"{server.base_url}/chat/completions",
    ...         json.dumps(body).encode(), {"Content-Type": "application/json"})
    ...     answer = json.load(no_proxy.open(request, timeout=10))
    >>> answer["choices"][0]["message"]["content"], server.fake.requests
    ('Paris', 1)
"""

from ._fake_openai import FAULTS, FakeOpenAI, FaultRates, serve

__all__ = ["FAULTS", "FakeOpenAI", "FaultRates", "serve"]
