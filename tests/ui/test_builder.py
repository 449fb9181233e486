"""ComparisonBuilder driven from Python: live template check, models box, scorer arguments,
formatted plan, Run / Cancel / resume, and MLflow logging before Run is enabled again."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import workbench as wb
from workbench.models import ModelSpec
from workbench.testing import serve
from workbench.ui import ComparisonBuilder, default_template
from workbench.ui import _builder as builder_module

from ..runner.conftest import small_set
from .test_explorer import EVIL

ROOT = Path(__file__).resolve().parents[2]


def triage() -> wb.GoldenSet:
    rows = [{"id": f"t{i}", "channel": ("email", "chat")[i % 2],
             "message": f"I was charged twice for invoice {i}, please fix it",
             "expected": {"intent": "billing", "priority": "low"}, "tier": "a"}
            for i in range(6)]
    return wb.GoldenSet.from_df(pd.DataFrame(rows), name="tri", slices=["tier"])


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
    assert "24 calls" in b.plan_view.value  # 6 cases × 2 models × 2 variants
    b.editors[1].name.value = b.editors[0].name.value  # two variants with one name
    assert b.show_plan() is None and "two variants" in b.plan_view.value


def test_the_default_template_is_the_main_text_column_not_a_category() -> None:
    assert default_template(triage()) == "{{ message }}"  # not {{ channel }}
    shipped = wb.GoldenSet.load(ROOT / "datasets" / "support_triage" / "golden.jsonl")
    assert ComparisonBuilder(shipped).editors[0].user.value == "{{ message }}"
    qa = wb.GoldenSet.load(ROOT / "datasets" / "grounded_qa" / "golden.jsonl")
    assert default_template(qa) == "question: {{ question }}\ncontext: {{ context }}"


def test_enter_adds_a_model_a_chip_removes_it_and_a_typo_gets_did_you_mean() -> None:
    b = ComparisonBuilder(small_set(4))
    assert b.models.value == ("sim/large", "sim/small")
    b.models.entry.value = "sim/fast"  # what Enter in the box sends (continuous_update off)
    assert b.models.value == ("sim/large", "sim/small", "sim/fast")
    assert b.models.entry.value == ""  # cleared for the next one
    b.models.entry.value = "sim/fast"  # a repeat is ignored
    assert b.models.value == ("sim/large", "sim/small", "sim/fast")
    chip = next(c for c in b.models.chips.children if c.description.startswith("sim/small"))
    chip.click()
    assert b.models.value == ("sim/large", "sim/fast")
    b.models.entry.value = "sim/lage"
    assert len(b.models.problems.children) == 1
    row = b.models.problems.children[0]
    text = row.children[0].children[0].value
    assert "unknown simulated model" in text and "sim/lage" in text
    guesses = [c for c in row.children[0].children if getattr(c, "description", "") == "sim/large"]
    assert guesses, "no 'did you mean sim/large' button"
    assert b.show_plan() is None  # the typo blocks the plan
    guesses[0].click()
    assert b.models.value == ("sim/large", "sim/fast") and not b.models.problems.children
    assert b.show_plan() is not None


def test_an_unknown_price_can_be_set_or_accepted_in_the_widget() -> None:
    b = ComparisonBuilder(small_set(4))
    b.models.value = ["sim/large", "openai/gpt-4o-mni"]
    assert b.show_plan() is None and "price" in b.plan_view.value.lower()
    row = b.models.problems.children[0]
    buttons = {c.description: c for c in row.children[0].children if hasattr(c, "click")}
    assert "openai/gpt-4o-mini" in buttons  # did you mean
    price_in, price_out, use, _or, unknown = row.children[1].children
    price_in.value, price_out.value = 0.5, 1.5
    use.click()
    assert not b.models.problems.children
    p = b.show_plan()
    assert p is not None
    spec = next(m for m in p.models if m.id == "openai/gpt-4o-mni")
    assert (spec.input_price_per_1m, spec.output_price_per_1m) == (0.5, 1.5)
    b.models.value = ["nosuchprovider/model-x"]
    unknown = b.models.problems.children[0].children[1].children[4]
    unknown.click()
    p = b.show_plan()
    assert p is not None and p.models[0].accept_unknown_cost
    assert "price unknown (accepted)" in b.plan_view.value
    assert "cost unknown" in b.plan_view.value


def test_offered_specs_keep_their_settings() -> None:
    offered = ModelSpec("openai/tiny", api_base="http://127.0.0.1:9",
                        api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=0.1,
                        output_price_per_1m=0.4)
    b = ComparisonBuilder(small_set(4), models=[offered])
    assert list(b.models.value) == ["openai/tiny"]
    b.models.value = ["openai/tiny", "sim/fast"]
    specs = b.model_specs()
    assert specs[0] is offered and specs[1].id == "sim/fast"


def test_scorers_show_their_arguments_and_warn_when_they_cannot_pass() -> None:
    b = ComparisonBuilder(triage())
    b.scorers.value = ("label_match",)
    editor = b.scorer_form.editors["label_match"]
    assert set(editor.widgets) == {"field", "labels"}
    assert list(editor.widgets["field"].options) == ["(whole expected)", "intent", "priority"]
    editor.widgets["field"].value = "(whole expected)"  # label_match without its field
    assert "cannot pass on sample case t0" in editor.warning.value
    p = b.show_plan()
    assert p is not None and "cannot pass" in b.plan_view.value  # said again at the plan
    editor.widgets["field"].value = "intent"
    editor.name.value = "intent"
    assert editor.warning.value == ""
    scorer = b.options()["scorers"][0]
    assert scorer.name == "intent" and scorer.args["field"] == "intent"
    b.show_plan()
    assert "cannot pass" not in b.plan_view.value
    editor.widgets["labels"].value = '["billing", "refund"]'
    assert b.options()["scorers"][0].args["labels"] == ["billing", "refund"]
    editor.widgets["labels"].value = "[billing"
    assert b.show_plan() is None and "not a JSON value" in b.plan_view.value


def test_the_default_scorer_can_pass_on_the_sample_case() -> None:
    b = ComparisonBuilder(triage())  # expected is an object: label_match on its first field
    assert b.scorers.value == ("label_match",)
    editor = b.scorer_form.editors["label_match"]
    assert editor.widgets["field"].value == "intent" and editor.name.value == "intent"
    assert editor.warning.value == ""
    scorer = b.options()["scorers"][0]
    assert (scorer.name, scorer.args["field"]) == ("intent", "intent")
    assert b.show_plan() is not None and "cannot pass" not in b.plan_view.value
    text = ComparisonBuilder(small_set(4))  # a text answer: exact_match, as before
    assert text.scorers.value == ("exact_match",) and text.scorer_form.check() == []
    chosen = ComparisonBuilder(triage(), scorers=[wb.scorers.json_valid])  # given: kept
    assert chosen.scorers.value == ("json_valid",)
    assert chosen.known_scorers["label_match"].args["field"] is None


def test_the_plan_is_a_formatted_table() -> None:
    b = ComparisonBuilder(triage())
    b.models.value = ["sim/large"]
    assert b.show_plan() is not None
    view = b.plan_view.value
    assert "<th class='l'>model</th>" in view and "est. cost" in view
    cost = re.findall(r"<td>\$(\d+\.\d+)</td>", view)
    assert cost and all(len(c.split(".")[1]) == 4 for c in cost)  # $0.0012, not 0.001234567
    assert "e-0" not in view  # no scientific notation


def test_progress_bar_sits_beside_run() -> None:
    b = ComparisonBuilder(small_set(4))
    row = next(c for c in b.widget.children if b.run_button in getattr(c, "children", ()))
    assert b.progress in row.children and b.cancel_button in row.children


def test_run_then_cancel_keeps_finished_rows_and_resume_completes_the_rest(
        fake_key: str) -> None:
    async def scenario(server: Any) -> tuple[wb.Comparison, wb.Comparison, int, str]:
        spec = ModelSpec("openai/slow", api_base=server.base_url,
                         api_key_env="FAKE_PROVIDER_KEY", input_price_per_1m=1.0,
                         output_price_per_1m=2.0, max_concurrency=2)
        b = ComparisonBuilder(small_set(16), models=[spec])
        b.models.value = ["openai/slow"]
        task = b.run()
        assert task is not None and b.cancel_button.disabled is False
        assert b.run_button.disabled and b.run() is None  # one run at a time
        while b.handle is not None and b.handle.progress["done"] < 4:
            await asyncio.sleep(0.05)
        assert "spent" in b.spent.value and b.progress.value >= 1
        b.cancel_button.click()
        partial = await task
        assert partial is not None and b.comparison is partial
        assert "interrupted" in b.result_view.value and "resume" in b.result_view.value
        requests_at_cancel = server.fake.requests
        b.resume.value = True
        again = b.run()
        assert again is not None
        done = await again
        assert done is not None and not b.run_button.disabled
        # the spent figure and the comparison's billed figure are one number
        billed = re.search(r"billed (\$[\d.,]+)", b.spent.value)
        shown = re.search(r"billed (\$[\d.,]+)", b.result_view.value)
        assert billed and shown and billed.group(1) == shown.group(1)
        assert billed.group(1) == f"${done.spent_usd:,.4f}"
        return partial, done, server.fake.requests - requests_at_cancel, b.result_view.value

    with serve(latency_ms=150) as server:
        partial, done, resumed_requests, view = asyncio.run(scenario(server))
    assert partial.status == "interrupted" and not partial.complete
    assert 4 <= len(partial.results) < 16
    assert done.status == "complete" and len(done.results) == 16
    # resume pays only for what was not recorded (calls in flight at the cancel may repeat)
    assert resumed_requests <= 16 - len(partial.results) + 2
    held = done.record.run.spent_usd - done.spent_usd
    assert ("held for calls cancelled in flight" in view) == (held >= 5e-5)


def test_run_stays_disabled_until_mlflow_logging_finishes(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    seen: dict[str, Any] = {}
    real = builder_module.log_after_run

    def watched(cmp: wb.Comparison, experiment: str, **kw: Any) -> wb.Comparison:
        seen["run disabled while logging"] = b.run_button.disabled
        seen["cancel disabled while logging"] = b.cancel_button.disabled
        seen["uri"] = kw["tracking_uri"]
        return real(cmp, experiment, **kw)

    monkeypatch.setattr(builder_module, "log_after_run", watched)
    b = ComparisonBuilder(small_set(4), experiment="builder")
    b.models.value = ["sim/fast"]
    views_when_enabled: list[str] = []
    b.run_button.observe(lambda change: None if change["new"] else views_when_enabled.append(
        b.result_view.value), names="disabled")

    async def scenario() -> wb.Comparison | None:
        task = b.run()
        assert task is not None
        return await task

    cmp = asyncio.run(scenario())
    assert cmp is not None and cmp.record.tracking and cmp.record.tracking.run_id
    assert seen["run disabled while logging"] and seen["cancel disabled while logging"]
    assert seen["uri"] == wb.default_tracking_uri()  # the project's one store
    assert not b.run_button.disabled
    assert cmp.record.tracking.run_id in b.result_view.value
    # when Run comes back, the final view (with the logged run) is already there
    assert len(views_when_enabled) == 1 and cmp.record.tracking.run_id in views_when_enabled[0]
    assert "logging to MLflow" not in views_when_enabled[0]
    assert wb.mlflow_ui_command(seen["uri"]) in b.result_view.value.replace("&#x27;", "'")


def test_variants_to_start_from_keep_their_few_shot_examples_and_format() -> None:
    gs = small_set(8)
    shots = gs.sample(2, seed=1)
    start = wb.PromptVariant("guided", system="Answer with the label.", user="{{ message }}",
                             few_shot=shots, response_format={"type": "json_object"})
    b = ComparisonBuilder(gs, variants=[start])
    editor = b.editors[0]
    assert (editor.name.value, editor.system.value) == ("guided", "Answer with the label.")
    assert "keeps 2 few-shot examples" in editor.preview.value
    editor.user.value = "Ticket: {{ message }}"
    variant = b.options()["variants"][0]
    assert variant.user == "Ticket: {{ message }}" and len(variant.few_shot) == 2
    assert variant.response_format == {"type": "json_object"}
    b.add_variant.click()
    assert b.options()["variants"][1].response_format == {"type": "json_object"}
    p = b.show_plan()
    assert p is not None and "2 case(s) used as few-shot examples" in b.plan_view.value
