"""``ComparisonBuilder``: pick models, write prompt variants, see the plan, Run and Cancel.

Run starts the comparison on the workbench's engine loop (``start_compare``) and returns at
once; a watcher task on the kernel's loop updates the progress bar (beside Run) and the
dollars spent. Cancel stops the run: finished calls are kept, the partial comparison
(``status == "interrupted"``) lands in ``builder.comparison``, and Run with "resume" ticked
completes the rest without paying again for any recorded call. With an MLflow experiment the
finished comparison is logged in a worker thread; Run stays disabled until that is done.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Sequence
from typing import Any

from workbench._home import default_tracking_uri
from workbench.datasets import GoldenSet
from workbench.errors import WorkbenchError
from workbench.models import SIM_PROFILES, ModelSpec
from workbench.prompts import PromptVariant
from workbench.runner import Comparison, Plan, RunHandle, plan, start_compare
from workbench.scorers import Scorer, builtin_scorers
from workbench.workflow import log_after_run

from ._model_picker import ModelPicker
from ._scorer_form import ScorerForm, default_scorer
from ._views import held_usd, money, plan_html, result_html

__all__ = ["BUILTIN_SCORERS", "ComparisonBuilder", "default_template"]

OFFERED = ("exact_match", "normalized_match", "label_match", "json_valid", "refusal", "token_f1",
           "rouge_l")
BUILTIN_SCORERS: dict[str, Scorer] = {name: builtin_scorers()[name] for name in OFFERED}
"""Scorers the builder offers (their arguments are set in the widget); pass others with
``scorers=``."""


def _error_html(exc: Exception) -> str:
    return f"<span style='color:#cf222e'>{html.escape(str(exc))}</span>"


def default_template(golden_set: GoldenSet) -> str:
    """The first user template: the golden set's free-text input column(s), not a category.

    A column counts as text when its values average 20 characters or more (a ``channel`` of
    "email"/"chat" does not); with several, each gets a labelled line. With none, the longest
    input column is used.

    Example:
        >>> import pandas as pd, workbench as wb
        >>> df = pd.DataFrame({"id": ["a", "b"], "channel": ["email", "chat"],
        ...                    "message": ["I was charged twice for my plan", "Reset password"
        ...                                " link never arrives"], "expected": ["x", "y"]})
        >>> default_template(wb.GoldenSet.from_df(df, name="t"))
        '{{ message }}'
    """
    columns = golden_set.input_columns
    if not columns:
        return "{{ input }}"
    lengths = {c: float(golden_set.df[c].astype("string").str.len().mean() or 0)
               for c in columns}
    text = [c for c in columns if lengths[c] >= 20] or [max(columns, key=lengths.__getitem__)]
    if len(text) == 1:
        return f"{{{{ {text[0]} }}}}"
    return "\n".join(f"{c}: {{{{ {c} }}}}" for c in text)


class _VariantEditor:
    """One prompt variant's name, system and user templates, with a live render and check."""

    def __init__(self, builder: ComparisonBuilder, name: str, user: str, system: str,
                 base: PromptVariant | None = None) -> None:
        import ipywidgets as w

        self.builder = builder
        self.base = base
        """The variant this one started from: its few-shot examples and format are kept."""
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
        base = self.base
        variant = PromptVariant(self.name.value, user=self.user.value,
                                system=self.system.value or None,
                                few_shot=base.few_shot if base else None,
                                response_format=base.response_format if base else None,
                                limits=base.limits if base else None)
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
        kept = self.base and ", ".join(
            ([f"{len(self.base.few_shot)} few-shot examples"] if self.base.few_shot else [])
            + ([f"response_format {self.base.response_format}"]
               if self.base.response_format else []))
        self.preview.value = (f"<div style='opacity:.85'>sample case "
                              f"{html.escape(str(self.builder.sample.get('id')))}"
                              + (f" (keeps {html.escape(kept)})" if kept else "") + ":</div>"
                              + rendered)
        return True


class ComparisonBuilder:
    """Build and run a comparison from a notebook (``ComparisonBuilder(gs)``, then display it).

    Args:
        golden_set: the cases.
        models: ModelSpecs offered by label (e.g. with ``api_base`` or prices); any other text
            added in the models box becomes ``ModelSpec(text)`` (any litellm model string).
            A model without a known price gets fields to set one, or to run with the cost
            unknown; a typo gets "did you mean" buttons.
        variants: prompt variants to start from (default: one "plain" variant whose user
            template is the golden set's main text column, see :func:`default_template`).
        scorers: extra scorers offered beside the built-ins (and chosen at first). Without
            them the form starts with one that can pass on the sample case: ``label_match`` on
            the first field of an object-valued ``expected`` (named after the field), else
            ``exact_match``.
        experiment: log the finished comparison to this MLflow experiment.
        tracking_uri: the MLflow store (default: the project's, ``wb.default_tracking_uri()``).
        concurrency: calls in flight at most.

    Example::

        builder = ComparisonBuilder(gs)
        builder   # in a notebook cell: pick, Plan, Run; builder.comparison when done
    """

    def __init__(self, golden_set: GoldenSet, *, models: Sequence[ModelSpec] = (),
                 variants: Sequence[PromptVariant] = (), scorers: Sequence[Scorer] = (),
                 experiment: str | None = None, tracking_uri: str | None = None,
                 concurrency: int = 16) -> None:
        import ipywidgets as w

        self.golden_set = golden_set
        self.sample = golden_set.records()[0]
        self.known_scorers = {**BUILTIN_SCORERS, **{s.name: s for s in scorers}}
        self.tracking_uri = tracking_uri
        self.concurrency = concurrency
        self.comparison: Comparison | None = None
        self.handle: RunHandle | None = None
        self.task: asyncio.Task[Comparison | None] | None = None
        self.last_plan: Plan | None = None
        offered = {m.label: m for m in models}
        sims = [m for m in SIM_PROFILES if m != "sim/judge"]
        self.models = ModelPicker(offered, list(offered)[:2] or sims[:2])
        self.models_hint = w.HTML(
            "<small>any litellm model string (e.g. openai/gpt-4o-mini; keys by environment "
            f"variable), or the SIMULATED offline models {html.escape(', '.join(sims))}; "
            "click a model to remove it</small>")
        self.editors = [_VariantEditor(self, v.name, v.user, v.system or "", v)
                        for v in variants]
        if not self.editors:
            self.editors = [_VariantEditor(self, "plain", default_template(golden_set), "")]
        self.variants_box = w.VBox([e.box for e in self.editors])
        self.add_variant = w.Button(description="+ variant")
        chosen = tuple(s.name for s in scorers)
        if not chosen:  # one that can pass on the sample row, its arguments set
            start = default_scorer(self.known_scorers, self.sample)
            name, scorer = start or (next(iter(self.known_scorers)), None)
            if scorer is not None:
                self.known_scorers[name] = scorer
            chosen = (name,)
        self.scorer_form = ScorerForm(self.known_scorers, self.sample, chosen)
        self.scorers = self.scorer_form.select
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
        self.progress = w.IntProgress(value=0, min=0, max=1, description="calls",
                                      layout=w.Layout(width="260px"))
        self.spent = w.HTML()
        self.plan_view = w.HTML()
        self.result_view = w.HTML()
        self.add_variant.on_click(lambda _b: self._add_variant())
        self.plan_button.on_click(lambda _b: self.show_plan())
        self.run_button.on_click(lambda _b: self.run())
        self.cancel_button.on_click(lambda _b: self.cancel())
        columns = golden_set.input_columns
        self.widget = w.VBox([
            w.HTML(f"<b>{html.escape(golden_set.name)}</b>: {len(golden_set)} cases, columns "
                   f"{html.escape(', '.join(columns))}"),
            self.models.box, self.models_hint, self.variants_box, self.add_variant,
            self.scorer_form.box,
            w.HBox([self.repeats, self.budget, self.experiment, self.resume],
                   layout=w.Layout(flex_flow="row wrap")),
            w.HBox([self.plan_button, self.run_button, self.cancel_button, self.progress,
                    self.spent], layout=w.Layout(align_items="center", flex_flow="row wrap")),
            self.plan_view, self.result_view])

    # ------------------------------------------------------------------ configuration
    def _add_variant(self) -> None:
        last = self.editors[-1]
        editor = _VariantEditor(self, f"variant{len(self.editors) + 1}", last.user.value,
                                last.system.value, last.base)
        self.editors.append(editor)
        self.variants_box.children = [e.box for e in self.editors]

    def model_specs(self) -> list[ModelSpec]:
        """The chosen models: offered specs by label, fixed in the widget, or ``ModelSpec``."""
        return self.models.specs()

    def options(self) -> dict[str, Any]:
        """The arguments ``wb.compare`` gets from the form."""
        return {"golden_set": self.golden_set, "models": self.model_specs(),
                "variants": [e.variant() for e in self.editors],
                "scorers": self.scorer_form.value(),
                "repeats": int(self.repeats.value),
                "budget_usd": float(self.budget.value) or None}

    def show_plan(self) -> Plan | None:
        """Validate the form and show the plan (calls, tokens, estimated cost); no call made."""
        self.models.check()
        try:
            o = self.options()
            p = plan(o["golden_set"], o["models"], o["variants"], o["scorers"],
                     repeats=o["repeats"], budget_usd=o["budget_usd"])
        except WorkbenchError as exc:
            self.plan_view.value = _error_html(exc)
            return None
        self.last_plan = p
        warnings = self.scorer_form.check()
        self.plan_view.value = plan_html(p) + "".join(
            f"<div style='color:#9a6700'>⚠ {html.escape(w)}</div>" for w in warnings)
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
                                        progress=False, concurrency=self.concurrency)
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
        self.spent.value = (f"{state['done']}/{state['total']} calls · "
                            f"{money(state['spent_usd'])} spent · {state['errors']} errors · "
                            f"{state['cached']} cached")

    def _finished(self, handle: RunHandle, cmp: Comparison) -> None:
        """The final figures: what the comparison billed, the same figure the summary shows."""
        state = handle.progress
        self.progress.max = max(1, state["total"])
        self.progress.value = min(state["done"], self.progress.max)
        held = held_usd(cmp)
        self.spent.value = (f"{state['done']}/{state['total']} calls · billed "
                            f"{money(cmp.spent_usd)}"
                            + (f" (+ {money(held)} held)" if held >= 5e-5 else "")
                            + f" · {state['errors']} errors · {state['cached']} cached")

    async def _watch(self, handle: RunHandle) -> Comparison | None:
        try:
            while not handle.done():
                self._tick(handle)
                await asyncio.sleep(0.2)
            cmp = await handle
            self.comparison = cmp  # kept even if logging fails below
            self._finished(handle, cmp)
            self.progress.bar_style = "success" if cmp.complete else "warning"
            experiment = self.experiment.value.strip()
            if experiment:  # the same logging as wb.compare(experiment=...), off the loop
                self.cancel_button.disabled = True
                uri = self.tracking_uri or default_tracking_uri()
                self.result_view.value = result_html(cmp, logging=f"logging to MLflow ({uri})…")
                cmp = await asyncio.to_thread(log_after_run, cmp, experiment, tracking_uri=uri)
                self.comparison = cmp
            self.result_view.value = result_html(cmp)  # shown before Run is enabled again
            return cmp
        except Exception as exc:  # shown in the widget; the task must not die silently
            self.result_view.value = _error_html(exc)
            return None
        finally:
            self.run_button.disabled, self.cancel_button.disabled = False, True

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]
