"""Shards on Ray (``executor="ray"``, #23), on a local two-CPU Ray instance this module starts
and stops: the same results as one process, and a worker killed mid-shard retried by Ray without
paying its recorded calls twice. Marked slow: Ray takes seconds to start."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.errors import ConfigError

from .conftest import small_set
from .test_workers import (
    TIMING,
    VARIANTS,
    kill_one_shard_mid_run,
    shard_pids,
    spec,
)


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[Any]:
    ray = pytest.importorskip("ray")
    temp = tempfile.mkdtemp(prefix="wbray")  # short: Ray's socket paths must stay < 108 bytes
    saved = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"  # no token written to ~/.ray
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, _temp_dir=temp,
             configure_logging=False)
    try:
        yield ray
    finally:
        ray.shutdown()
        if saved is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved
        shutil.rmtree(temp, ignore_errors=True)


@pytest.mark.slow
def test_ray_shards_give_the_results_of_one_process(
    ray_cluster: Any, server: Any, models: list[wb.ModelSpec]
) -> None:
    gs = small_set(n=16)
    scorers = [wb.scorers.exact_match, wb.judge("correctness", "sim/judge")]
    kw: dict[str, Any] = {"cache": False, "concurrency": 8, "progress": False}
    one = wb.compare(gs, [*models, "sim/large"], VARIANTS, scorers, **kw)
    on_ray = wb.compare(gs, [*models, "sim/large"], VARIANTS, scorers, executor="ray", **kw)
    assert one.complete and on_ray.complete
    cols = [c for c in one.results.columns if c not in TIMING]
    pd.testing.assert_frame_equal(on_ray.results[cols], one.results[cols])
    pd.testing.assert_frame_equal(on_ray.score_details, one.score_details)
    assert on_ray.record.run.requests_sent == one.record.run.requests_sent == 192
    assert on_ray.record.run.spent_usd == pytest.approx(one.record.run.spent_usd)
    assert ".w*of2.jsonl" in (on_ray.record.run.checkpoint or "")  # the cluster's 2 CPUs


@pytest.mark.slow
def test_a_ray_worker_killed_mid_shard_is_retried_without_paying_twice(
    ray_cluster: Any, fake_key: str
) -> None:
    from workbench.testing import serve

    gs = small_set(n=40)
    with serve(latency_ms=40) as slow:
        model = spec(slow.base_url)
        budget = 10.0
        cmp, victim, killed_at = kill_one_shard_mid_run(slow.fake, lambda: wb.compare(
            gs, [model], VARIANTS, [wb.scorers.exact_match], executor="ray", workers=2,
            concurrency=4, budget_usd=budget, cache=False, progress=False), timeout=90)
        assert killed_at < 80 and cmp.complete and len(cmp.results) == 80
        counts = slow.fake.prompts
        assert len(counts) == 80
        assert sum(n - 1 for n in counts.values() if n > 1) <= 4  # the killed calls in flight
        assert sum(n - 1 for n in slow.fake.answered.values() if n > 1) <= 4
        assert cmp.record.run.spent_usd <= budget
        assert victim not in shard_pids()


def test_without_ray_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    with pytest.raises(ConfigError, match=r"pip install 'workbench\[ray\]'"):
        wb.compare(small_set(n=4), ["sim/large"], VARIANTS, executor="ray", progress=False)
