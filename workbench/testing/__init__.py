"""Test helpers: a local OpenAI-compatible server with fault injection.

Used by the workbench's tests and benchmarks, and by users' own tests of code that calls models
through litellm (``model="openai/<name>", api_base=server.base_url``).

Example:
    >>> from workbench.testing import serve
    >>> with serve(latency_ms=5) as server:  # doctest: +SKIP
    ...     litellm.completion(model="openai/fake", api_base=server.base_url, api_key="x",
    ...                        messages=[{"role": "user", "content": "hi"}])
"""

from ._fake_openai import FAULTS, FakeOpenAI, FaultRates, serve

__all__ = ["FAULTS", "FakeOpenAI", "FaultRates", "serve"]
