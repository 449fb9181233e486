"""ComparisonBuilder driven from Python: live template check, plan, Run / Cancel / resume."""

from __future__ import annotations

import asyncio
from typing import Any

import workbench as wb
from workbench.models import ModelSpec
from workbench.testing import serve
from workbench.ui import ComparisonBuilder

from ..runner.conftest import small_set
from .test_explorer import EVIL


def test_templates_are_checked_and_rendered_as_you_type() -> None:
    b = ComparisonBuilder(small_set(6))
    editor = b.editors[0]
    assert "case 0: a question about billing" in editor.preview.value
    editor.user.value = "Classify: {{ nope }}"
    assert "not a column" in editor.preview.value and "nope" in editor.preview.value
    editor.user.value = "{{ ''.__class__ }}"
    assert "private attribute" in editor.preview.value
    editor.user.value = f"{EVIL} {{{{ message }}}}"
    assert "<img" not in editor.preview.value and "&lt;img" in editor.preview.value
    b.add_variant.click()
    assert len(b.editors) == 2 and b.editors[1].user.value == editor.user.value
    b.editors[1].name.value = "second"
    assert b.show_plan() is not None
    assert "24 calls" in b.plan_view.value or "24" in b.plan_view.value  # 6 cases × 2 × 2
    b.editors[1].name.value = b.editors[0].name.value  # two variants with one name
    assert b.show_plan() is None and "two variants" in b.plan_view.value


def test_models_are_free_text_litellm_ids_or_offered_specs(fake_key: str) -> None:
    offered = ModelSpec("openai/tiny", api_base="http://127.0.0.1:9",
                        api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=0.1,
                        output_price_per_1m=0.4)
    b = ComparisonBuilder(small_set(4), models=[offered])
    assert list(b.models.value) == ["openai/tiny"]
    b.models.value = ["openai/tiny", "sim/fast"]
    specs = b.model_specs()
    assert specs[0] is offered and specs[1].id == "sim/fast"
    b.models.value = ["nosuchprovider/model-x"]
    assert b.show_plan() is None and "price" in b.plan_view.value.lower()


def test_run_then_cancel_keeps_finished_rows_and_resume_completes_the_rest(
        fake_key: str) -> None:
    async def scenario(server: Any) -> tuple[wb.Comparison, wb.Comparison, int]:
        spec = ModelSpec("openai/slow", api_base=server.base_url,
                         api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                         output_price_per_1m=2.0, max_concurrency=2)
        b = ComparisonBuilder(small_set(16), models=[spec])
        b.models.value = ["openai/slow"]
        task = b.run()
        assert task is not None and b.cancel_button.disabled is False
        assert b.run() is None  # one run at a time
        while b.handle is not None and b.handle.progress["done"] < 4:
            await asyncio.sleep(0.05)
        assert "spent" in b.spent.value
        b.cancel_button.click()
        partial = await task
        assert partial is not None and b.comparison is partial
        requests_at_cancel = server.fake.requests
        b.resume.value = True
        again = b.run()
        assert again is not None
        done = await again
        assert done is not None
        return partial, done, server.fake.requests - requests_at_cancel

    with serve(latency_ms=150) as server:
        partial, done, resumed_requests = asyncio.run(scenario(server))
    assert partial.status == "interrupted" and not partial.complete
    assert 4 <= len(partial.results) < 16
    assert done.status == "complete" and len(done.results) == 16
    # resume pays only for what was not recorded (calls in flight at the cancel may repeat)
    assert resumed_requests <= 16 - len(partial.results) + 2
