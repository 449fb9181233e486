"""``ComparisonBuilder``: pick models, write prompt variants, see the plan, Run and Cancel.

Run starts the comparison on the workbench's engine loop (``start_compare``) and returns at
once; a watcher task on the kernel's loop updates the progress bar and the dollars spent. Cancel
stops the run: finished calls are kept, the partial comparison (``status == "interrupted"``)
lands in ``builder.comparison``, and Run with "resume" ticked completes the rest without paying
again for any recorded call.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from typing import Any

from workbench.datasets import GoldenSet
from workbench.errors import WorkbenchError
from workbench.models import SIM_PROFILES, ModelSpec
from workbench.prompts import PromptVariant
from workbench.runner import Comparison, Plan, RunHandle, plan, start_compare
from workbench.scorers import Scorer, builtin_scorers
from workbench.workflow import log_after_run

__all__ = ["BUILTIN_SCORERS", "ComparisonBuilder"]

OFFERED = ("exact_match", "normalized_match", "label_match", "json_valid", "refusal", "token_f1",
           "rouge_l")
BUILTIN_SCORERS: dict[str, Scorer] = {name: builtin_scorers()[name] for name in OFFERED}
"""Scorers the builder offers (no arguments needed); pass others with ``scorers=``."""


def _error_html(exc: Exception) -> str:
    return f"<span style='color:#cf222e'>{html.escape(str(exc))}</span>"


class _VariantEditor:
    """One prompt variant's name, system and user templates, with a live render and check."""

    def __init__(self, builder: ComparisonBuilder, name: str, user: str, system: str) -> None:
        import ipywidgets as w

        self.builder = builder
        self.name = w.Text(value=name, description="name")
        self.system = w.Textarea(value=system, description="system",
                                 layout=w.Layout(width="95%", height="70px"))
        self.user = w.Textarea(value=user, description="user",
                               layout=w.Layout(width="95%", height="70px"))
        self.preview = w.HTML()
        for widget in (self.name, self.system, self.user):
            widget.observe(lambda _c: self.check(), names="value")
        self.box = w.VBox([self.name, self.system, self.user, self.preview],
                          layout=w.Layout(border="1px solid #9996", padding="4px"))
        self.check()

    def variant(self) -> PromptVariant:
        """The variant as written (raises ConfigError on a template problem)."""
        variant = PromptVariant(self.name.value, user=self.user.value,
                                system=self.system.value or None)
        variant.check(self.builder.golden_set)
        return variant

    def check(self) -> bool:
        """Check the templates against the golden set and render the sample row."""
        try:
            messages = self.variant().render(self.builder.sample)
        except WorkbenchError as exc:
            self.preview.value = _error_html(exc)
            return False
        rendered = "".join(f"<div><b>{html.escape(m['role'])}</b>: <pre style='white-space:"
                           f"pre-wrap;margin:0'>{html.escape(m['content'])}</pre></div>"
                           for m in messages)
        self.preview.value = (f"<div style='opacity:.85'>sample case "
                              f"{html.escape(str(self.builder.sample.get('id')))}:</div>"
                              + rendered)
        return True


class ComparisonBuilder:
    """Build and run a comparison from a notebook (``ComparisonBuilder(gs)``, then display it).

    Args:
        golden_set: the cases.
        models: ModelSpecs offered by label (e.g. with ``api_base`` or prices); any other text
            typed in the models box becomes ``ModelSpec(text)`` (any litellm model string).
        scorers: extra scorers offered beside the built-ins.
        experiment: log the finished comparison to this MLflow experiment.

    Example::

        builder = ComparisonBuilder(gs)
        builder   # in a notebook cell: pick, Plan, Run; builder.comparison when done
    """

    def __init__(self, golden_set: GoldenSet, *, models: Sequence[ModelSpec] = (),
                 scorers: Sequence[Scorer] = (), experiment: str | None = None,
                 tracking_uri: str | None = None) -> None:
        import ipywidgets as w

        self.golden_set = golden_set
        self.sample = golden_set.records()[0]
        self.known_models = {m.label: m for m in models}
        self.known_scorers = {**BUILTIN_SCORERS, **{s.name: s for s in scorers}}
        self.tracking_uri = tracking_uri
        self.comparison: Comparison | None = None
        self.handle: RunHandle | None = None
        self.task: asyncio.Task[Comparison | None] | None = None
        self.last_plan: Plan | None = None
        sims = [m for m in SIM_PROFILES if m != "sim/judge"]
        self.models = w.TagsInput(value=list(self.known_models)[:2] or sims[:2],
                                  allowed_tags=[], allow_duplicates=False)
        self.models_hint = w.HTML(
            "<small>any litellm model string (e.g. openai/gpt-4o-mini; keys by environment "
            f"variable), or the SIMULATED offline models {html.escape(', '.join(sims))}</small>")
        columns = golden_set.input_columns
        first = columns[0] if columns else "input"
        self.editors = [_VariantEditor(self, "plain", f"{{{{ {first} }}}}", "")]
        self.variants_box = w.VBox([e.box for e in self.editors])
        self.add_variant = w.Button(description="+ variant")
        self.scorers = w.SelectMultiple(options=list(self.known_scorers),
                                        value=(next(iter(self.known_scorers)),),
                                        description="scorers", rows=5)
        self.repeats = w.BoundedIntText(value=1, min=1, max=20, description="repeats")
        self.budget = w.BoundedFloatText(value=0.0, min=0.0, max=1e6, step=0.5,
                                         description="budget $", tooltip="0: no budget")
        self.experiment = w.Text(value=experiment or "", description="MLflow",
                                 placeholder="experiment (optional)")
        self.resume = w.Checkbox(value=False, description="resume an interrupted run")
        self.plan_button = w.Button(description="Plan", icon="list")
        self.run_button = w.Button(description="Run", button_style="primary", icon="play")
        self.cancel_button = w.Button(description="Cancel", button_style="warning",
                                      icon="stop", disabled=True)
        self.plan_view = w.HTML()
        self.progress = w.IntProgress(value=0, min=0, max=1, description="calls")
        self.spent = w.HTML()
        self.result_view = w.HTML()
        self.add_variant.on_click(lambda _b: self._add_variant())
        self.plan_button.on_click(lambda _b: self.show_plan())
        self.run_button.on_click(lambda _b: self.run())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.widget = w.VBox([
            w.HTML(f"<b>{html.escape(golden_set.name)}</b>: {len(golden_set)} cases, columns "
                   f"{html.escape(', '.join(columns))}"),
            w.HBox([w.Label("models"), self.models]), self.models_hint,
            self.variants_box, self.add_variant,
            w.HBox([self.scorers, w.VBox([self.repeats, self.budget, self.experiment,
                                          self.resume])]),
            w.HBox([self.plan_button, self.run_button, self.cancel_button]),
            self.plan_view, w.HBox([self.progress, self.spent]), self.result_view])

    # ------------------------------------------------------------------ configuration
    def _add_variant(self) -> None:
        last = self.editors[-1]
        editor = _VariantEditor(self, f"variant{len(self.editors) + 1}", last.user.value,
                                last.system.value)
        self.editors.append(editor)
        self.variants_box.children = [e.box for e in self.editors]

    def model_specs(self) -> list[ModelSpec]:
        """The chosen models: offered specs by label, else ``ModelSpec(text)``."""
        return [self.known_models.get(m) or ModelSpec(m) for m in self.models.value]

    def options(self) -> dict[str, Any]:
        """The arguments ``wb.compare`` gets from the form."""
        return {"golden_set": self.golden_set, "models": self.model_specs(),
                "variants": [e.variant() for e in self.editors],
                "scorers": [self.known_scorers[s] for s in self.scorers.value],
                "repeats": int(self.repeats.value),
                "budget_usd": float(self.budget.value) or None}

    def show_plan(self) -> Plan | None:
        """Validate the form and show the plan (calls, tokens, estimated cost); no call made."""
        try:
            o = self.options()
            p = plan(o["golden_set"], o["models"], o["variants"], o["scorers"],
                     repeats=o["repeats"], budget_usd=o["budget_usd"])
        except WorkbenchError as exc:
            self.plan_view.value = _error_html(exc)
            return None
        self.last_plan = p
        self.plan_view.value = p._repr_html_()
        return p

    # ------------------------------------------------------------------ run and cancel
    def run(self) -> asyncio.Task[Comparison | None] | None:
        """Start the comparison on the engine loop; returns the watcher task at once.

        Must be called with an event loop running (a notebook's kernel loop, or ``async``
        code); the task finishes with the comparison, also when cancelled (then partial).
        """
        if self.task is not None and not self.task.done():
            self.result_view.value = "<i>a run is in progress: Cancel it first</i>"
            return None
        p = self.show_plan()
        if p is None:
            return None
        o = self.options()
        try:
            self.handle = start_compare(o["golden_set"], o["models"], o["variants"],
                                        o["scorers"], repeats=o["repeats"],
                                        budget_usd=o["budget_usd"], resume=self.resume.value,
                                        progress=False)
        except WorkbenchError as exc:
            self.result_view.value = _error_html(exc)
            return None
        self.progress.max, self.progress.value = max(1, p.calls), 0
        self.progress.bar_style = ""
        self.run_button.disabled, self.cancel_button.disabled = True, False
        self.result_view.value = "<i>running…</i>"
        self.task = asyncio.ensure_future(self._watch(self.handle))
        return self.task

    def cancel(self) -> None:
        """Stop the run; finished calls stay in ``comparison`` (marked interrupted)."""
        if self.handle is not None and not self.handle.done():
            self.handle.cancel()
            self.result_view.value = "<i>cancelling: calls in flight are stopped…</i>"

    def _tick(self, handle: RunHandle) -> None:
        state = handle.progress
        self.progress.max = max(1, state["total"])
        self.progress.value = min(state["done"], self.progress.max)
        self.spent.value = (f"{state['done']}/{state['total']} calls · ${state['spent_usd']:.4f}"
                            f" spent · {state['errors']} errors · {state['cached']} cached")

    async def _watch(self, handle: RunHandle) -> Comparison | None:
        try:
            while not handle.done():
                self._tick(handle)
                await asyncio.sleep(0.2)
            cmp = await handle
        except Exception as exc:  # shown in the widget; the task must not die silently
            self.result_view.value = _error_html(exc)
            return None
        finally:
            self.run_button.disabled, self.cancel_button.disabled = False, True
        self._tick(handle)
        if self.experiment.value.strip():  # the same logging as wb.compare(experiment=...)
            cmp = log_after_run(cmp, self.experiment.value.strip(),
                                tracking_uri=self.tracking_uri)
        self.comparison = cmp
        self.progress.bar_style = "success" if cmp.complete else "warning"
        self.result_view.value = self._result_html(cmp)
        return cmp

    @staticmethod
    def _result_html(cmp: Comparison) -> str:
        state = (f"<b>{html.escape(cmp.status)}</b>"
                 + (f": {html.escape(cmp.stop_reason or '')}; tick “resume” and Run to finish"
                    if not cmp.complete else ""))
        run = cmp.record.tracking.run_id if cmp.record.tracking else None
        logged = f"<p>MLflow parent run <code>{html.escape(run)}</code></p>" if run else ""
        return f"<p>{state}</p>{logged}{cmp._repr_html_()}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]
