"""Canary credentials in api_base userinfo, a query string and a header reach no output (#19).

The secrets are really sent (over HTTP, through litellm, to a recording fake server), and none
of them appears in the plan, comparison.json, the migration report (HTML, Markdown), the call
cache, the checkpoint, or any MLflow param, tag, artifact or the store file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from aiohttp import web

import workbench as wb
from workbench.models import ModelSpec
from workbench.testing._fake_openai import FakeOpenAI, _Running

from ..artifacts import downloaded_artifacts

USER = "canaryuser-5d1e"
PASSWORD = "canarypass-8b3f2a"
QUERY = "canaryquery-41c7e9"
HEADER = "canaryheader-9a0b6d"
CANARIES = (USER, PASSWORD, QUERY, HEADER)


@dataclass
class Recording(FakeOpenAI):
    """The fake server, recording each request's headers and URL path with its query."""

    seen: list[tuple[Mapping[str, str], str]] = field(default_factory=list)
    """(headers, case-insensitive; path and query) of each chat request."""

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.headers.copy(), str(request.rel_url)))
        return await super()._chat(request)

    def app(self) -> web.Application:
        """Also answer at ``/v1``: a base URL with a query string puts the path after it."""
        app = super().app()
        app.router.add_post("/v1", self._chat)
        return app


@contextmanager
def recording_server(**options: Any) -> Iterator[Any]:
    """A :class:`Recording` fake server on a free port (``.port``, ``.fake.seen``)."""
    running = _Running(Recording(**options), 0).start()
    try:
        yield running
    finally:
        running.stop()


def leaks(text: str | bytes, also: tuple[str, ...] = ()) -> list[str]:
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    return [c for c in (*CANARIES, *also) if c.encode() in data]


def golden(n: int = 16) -> wb.GoldenSet:
    labels = ("billing", "refund", "shipping")
    rows = [{"id": f"c{i:03d}", "message": f"case {i}: a question about {labels[i % 3]}",
             "expected": labels[i % 3], "tier": ("free", "gold")[i % 2]} for i in range(n)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name="canary", slices=["tier"])


def test_canary_credentials_reach_no_plan_file_report_or_mlflow_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_cache: Path, fake_key: str
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow's artifacts (./mlruns) land in the test's directory
    monkeypatch.setenv("WORKBENCH_HOME", str(tmp_path))
    monkeypatch.setenv("WB_TEST_GATEWAY_HEADER", HEADER)  # a name redact() does not guess
    store = f"sqlite:///{tmp_path}/mlflow.db"
    gs = golden()
    variants = [wb.PromptVariant("plain", user="{{ message }}")]
    scorers = [wb.scorers.exact_match]
    prices = {"input_price_per_1m": 1.0, "output_price_per_1m": 2.0,
              "api_key_env": "FAKE_PROVIDER_KEY"}
    with recording_server(replies={"about billing": "billing"}) as server:
        local = f"127.0.0.1:{server.port}"
        cand = ModelSpec("openai/cand", api_base=f"http://{local}/v1",
                         headers_env={"X-Api-Key": "WB_TEST_GATEWAY_HEADER"}, **prices)
        inc = ModelSpec("openai/inc", api_base=f"http://{local}/v1?api-key={QUERY}", **prices)
        # litellm's async transport refuses userinfo next to the SDK's Authorization header
        # (its calls fail with "Connection error"); shown, stored or in errors, it must not leak
        basic = ModelSpec("openai/basic", api_base=f"http://{USER}:{PASSWORD}@{local}/v1",
                          **prices)
        models = [cand, inc, basic]
        plan = wb.plan(gs, models, variants, scorers)
        shown = [str(plan), repr(plan), plan._repr_html_(), *map(repr, models)]
        cmp = wb.compare(gs, models, variants, scorers, progress=False,
                         experiment="canary", tracking_uri=store)
        seen = list(server.fake.seen)
    # the credentials were really sent
    assert len(seen) >= 2 * len(gs)
    assert any(h.get("X-Api-Key") == HEADER for h, _ in seen)
    assert any(QUERY in path for _, path in seen)
    res = cmp.results
    assert res[res.model != "openai/basic"]["error_type"].isna().all()
    params = {m.label: m.params["api_base"] for m in cmp.record.models}
    assert params == {"openai/cand": f"http://{local}/v1",
                      "openai/inc": f"http://{local}/v1?api-key=***",
                      "openai/basic": f"http://***@{local}/v1"}
    assert cmp.record.models[0].params["headers_env"] == {
        "X-Api-Key": "WB_TEST_GATEWAY_HEADER"}

    cmp.save(tmp_path / "saved")
    report = wb.migration_report(cmp, candidate=("openai/cand", "plain"),
                                 incumbent=("openai/inc", "plain"))  # also logged to the run
    report.to_html(tmp_path / "report.html")
    report.to_markdown(tmp_path / "report.md")
    shown += [report.html(), report.markdown(), cmp.summary_text(),
              cmp.record.model_dump_json()]
    assert [leaks(text) for text in shown] == [[] for _ in shown]
    # the reproducibility section shows the masked URLs (Markdown escapes the punctuation)
    unescaped = re.sub(r"\\(.)", r"\1", report.markdown())
    for masked in ("v1?api-key=***", f"http://***@{local}/v1"):
        assert masked in report.html() and masked in unescaped

    client = wb.tracking.client(store)
    runs = client.search_runs([client.get_experiment_by_name("canary").experiment_id])
    assert len(runs) == 4  # parent and one child per model
    artifacts = 0
    for run in runs:
        assert leaks(json.dumps([run.data.params, run.data.tags])) == [], run.info.run_name
        for name, local in downloaded_artifacts(client, run.info.run_id,
                                                tmp_path / "downloaded"):
            assert leaks(local.read_bytes()) == [], name
            artifacts += 1
    assert artifacts >= 5
    written = [p for root in (tmp_path, _isolated_cache) for p in root.rglob("*") if p.is_file()]
    assert {"mlflow.db", "comparison.json", "report.html", "report.md"} <= {p.name
                                                                           for p in written}
    for path in written:  # the store, artifacts, saved comparison, reports, cache, checkpoint
        assert leaks(path.read_bytes()) == [], path
