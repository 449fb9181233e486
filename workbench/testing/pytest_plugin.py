"""A pytest fixture for the fake OpenAI server.

Enable it in your ``conftest.py``::

    pytest_plugins = ["workbench.testing.pytest_plugin"]

then ask for ``fake_openai`` (options by marker)::

    @pytest.mark.fake_openai(latency_ms=20, replies={"capital": "Paris"})
    def test_my_prompt(fake_openai):
        r = litellm.completion(model="openai/fake", api_base=fake_openai.base_url,
                               api_key="x", messages=[...])
        assert fake_openai.fake.requests == 1

The server listens on 127.0.0.1 on a free port and is stopped when the test ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ._fake_openai import serve

__all__ = ["fake_openai"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fake_openai`` marker."""
    config.addinivalue_line(
        "markers", "fake_openai(**options): options of the fake_openai fixture's server "
        "(latency_ms, rates, replies, retry_after_s, hang_s, seed, max_requests)"
    )


@pytest.fixture
def fake_openai(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A running fake OpenAI-compatible server (``.base_url``, ``.fake`` counters)."""
    marker = request.node.get_closest_marker("fake_openai")
    options = dict(marker.kwargs) if marker is not None else {}
    with serve(**options) as running:
        yield running
