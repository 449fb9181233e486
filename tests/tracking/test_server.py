"""A team MLflow server: real PostgreSQL + real `mlflow server`, logging and reading over HTTP.

Skips with the reason when PostgreSQL is not installed, unless WORKBENCH_REQUIRE_POSTGRES=1
(`.ci/run` sets it): then a missing PostgreSQL fails (DESIGN.md Settled 18).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.testing import serve

from ..runner.conftest import small_set
from ._servers import MlflowServer, find_postgres_bin, mlflow_server, postgres


def postgres_or_skip() -> Path:
    """The PostgreSQL bin dir; a skip naming the reason, or a failure where CI requires it."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        reason = ("PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql/*/bin "
                  "or on PATH); `apt-get install postgresql` to run the team-server test")
        if os.environ.get("WORKBENCH_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"WORKBENCH_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    return bin_dir


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MlflowServer]:
    with postgres(postgres_or_skip()) as pg, mlflow_server(
            pg.uri("mlflow"), tmp_path_factory.mktemp("mlflow-server")) as srv:
        yield srv


@pytest.mark.parametrize("required", ["1", ""])
def test_missing_postgres_skips_with_the_reason_or_fails_where_required(
    required: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.modules[__name__], "find_postgres_bin", lambda: None)
    monkeypatch.setenv("WORKBENCH_REQUIRE_POSTGRES", required)
    expected = pytest.fail.Exception if required else pytest.skip.Exception
    with pytest.raises(expected, match="PostgreSQL is not installed"):
        postgres_or_skip()


def rest(srv: MlflowServer, endpoint: str, body: dict[str, Any] | None = None,
         **query: str) -> dict[str, Any]:
    url = f"{srv.url}/api/2.0/mlflow/{endpoint}"
    if query:
        url += "?" + urllib.parse.urlencode(query)
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())  # type: ignore[no-any-return]


@pytest.mark.slow
def test_a_comparison_logged_over_http_reads_back_whole(
    server: MlflowServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_key: str
) -> None:
    monkeypatch.chdir(tmp_path)  # anything written locally by mistake would land here
    variants = [wb.PromptVariant("plain", user="{{ message }}")]
    with serve() as fake:  # a "real" provider through litellm's HTTP path, keyed
        keyed = wb.ModelSpec("openai/keyed", api_base=fake.base_url,
                             api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                             output_price_per_1m=2.0)
        cmp = wb.compare(small_set(n=10), ["sim/large", keyed], variants,
                         [wb.scorers.exact_match], progress=False, experiment="team",
                         tracking_uri=server.url, candidate=("openai/keyed", "plain"),
                         incumbent=("sim/large", "plain"))
    assert cmp.record.tracking.error is None, cmp.record.tracking
    run_id = cmp.record.tracking.run_id

    back = wb.load_comparison(run_id, tracking_uri=server.url)
    assert back.results.equals(cmp.results)
    assert back.golden_set().digest == cmp.record.golden_set.digest
    listed = wb.list_comparisons("team", tracking_uri=server.url)
    assert list(listed["run_id"]) == [run_id]

    # The same run through the REST API a reviewer's tools would use.
    exp = rest(server, "experiments/get-by-name", experiment_name="team")["experiment"]
    children = rest(server, "runs/search", {
        "experiment_ids": [exp["experiment_id"]],
        "filter": f"tags.mlflow.parentRunId = '{run_id}'"})["runs"]
    assert len(children) == 2
    summary = cmp.summary()
    for child in children:
        tags = {t["key"]: t["value"] for t in child["data"]["tags"]}
        metrics = {m["key"]: m["value"] for m in child["data"]["metrics"]}
        key = (tags["workbench.model"], tags["workbench.variant"])
        assert metrics["exact_match_mean"] == pytest.approx(summary.loc[key, "exact_match"])
        assert tags["workbench.simulated"] == ("true" if key[0] == "sim/large" else "false")
        files = rest(server, "artifacts/list", run_id=child["info"]["run_id"])["files"]
        assert "cases.json" in {f["path"] for f in files}
    parent_files = {f["path"] for f in rest(server, "artifacts/list", run_id=run_id)["files"]}
    assert {"comparison", "golden_set", "summary.json"} <= parent_files

    # Artifacts went through the server's proxy into its store, none into the working dir,
    # and the key is in none of them.
    stored = [p for p in server.artifacts.rglob("*") if p.is_file()]
    assert any(p.name == "results.parquet" for p in stored)
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in stored:
        assert fake_key.encode() not in path.read_bytes(), path
    texts = json.dumps(children) + json.dumps(rest(server, "runs/get", run_id=run_id))
    assert fake_key not in texts

    # promotion through the server's Prompt Registry, and back
    gates = wb.Gates(  # gates that cannot fail: a 1.0 margin, no minimum, any error rate
        metrics={"exact_match": wb.MetricGate(margin=1.0, min_informative=0)},
        error_rate_max=1.0, error_rate_increase_max=1.0)
    decision = wb.decide(cmp, gates)
    assert decision.outcome == "PROMOTE"
    promoted = wb.promote(decision, cmp, "team-triage", tracking_uri=server.url)
    variant, model = wb.load_prompt("team-triage@production", tracking_uri=server.url)
    assert (promoted.version, model.id, model.api_key_env) == (1, "openai/keyed",
                                                              "FAKE_PROVIDER_KEY")
    assert variant.render({"message": "hi"}) == variants[0].render({"message": "hi"})
    with pytest.raises(wb.ConfigError, match="no earlier production version"):
        wb.rollback("team-triage", tracking_uri=server.url)
