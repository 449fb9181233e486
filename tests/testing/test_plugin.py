"""The pytest fixture users enable with pytest_plugins = ["workbench.testing.pytest_plugin"]."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]


def test_fixture_serves_with_marker_options(pytester: pytest.Pytester) -> None:
    pytester.makeconftest('pytest_plugins = ["workbench.testing.pytest_plugin"]')
    pytester.makepyfile(
        """
        import json, urllib.request
        import pytest

        def ask(url, text):
            body = {"model": "m", "messages": [{"role": "user", "content": text}]}
            req = urllib.request.Request(url + "/chat/completions", json.dumps(body).encode(),
                                         {"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                return json.load(r)["choices"][0]["message"]["content"]

        @pytest.mark.fake_openai(replies={"capital": "Paris"})
        def test_scripted(fake_openai):
            assert ask(fake_openai.base_url, "capital of France?") == "Paris"
            assert fake_openai.fake.requests == 1
            assert fake_openai.base_url.startswith("http://127.0.0.1:")

        def test_default(fake_openai):
            assert ask(fake_openai.base_url, "hi").startswith("fake answer")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


