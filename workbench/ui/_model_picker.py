"""The builder's models box: chips, an entry that adds on Enter, and fixes for model problems.

JupyterLab takes Enter inside ipywidgets' ``TagsInput`` for its own shortcut (the typed tag is
only added on blur), so the box is a ``Combobox`` (a text field: Enter is its own) beside
chips that remove their model when clicked. A model that cannot run gets a row under the box:
"did you mean" buttons (close names from litellm's cost map and the ``sim/`` models), and for
an unknown price two fields to set one or a button to run with the cost unknown.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Callable, Mapping, Sequence

from workbench.errors import WorkbenchError
from workbench.models import SIM_PROFILES, ModelSpec, close_model_ids

__all__ = ["ModelPicker"]

_RED = "color:#cf222e"


class ModelPicker:
    """Models chosen by label: offered specs, specs fixed in the widget, or ``ModelSpec(text)``.

    Args:
        offered: specs offered by label (their settings and prices are kept).
        value: the labels chosen at first.
        on_change: called after the choice (or a fix) changes.
    """

    def __init__(self, offered: Mapping[str, ModelSpec], value: Sequence[str],
                 on_change: Callable[[], None] = lambda: None) -> None:
        import ipywidgets as w

        self.offered = dict(offered)
        self.fixed: dict[str, ModelSpec] = {}
        """Specs made in the widget: a price set, or the cost accepted as unknown."""
        self.on_change = on_change
        sims = [m for m in SIM_PROFILES if m != "sim/judge"]
        self.entry = w.Combobox(placeholder="add a model (litellm id), Enter",
                                options=list(dict.fromkeys([*self.offered, *sims])),
                                ensure_option=False, continuous_update=False,
                                layout=w.Layout(width="320px"))
        self.add_button = w.Button(description="add", layout=w.Layout(width="60px"))
        self.chips = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.problems = w.VBox()
        self.entry.observe(lambda change: self._entered(change["new"]), names="value")
        self.add_button.on_click(lambda _b: self._entered(self.entry.value))
        self._value: tuple[str, ...] = ()
        self.box = w.VBox([w.HBox([w.Label("models"), self.chips, self.entry, self.add_button]),
                           self.problems])
        self.value = tuple(value)

    # ------------------------------------------------------------------ the choice
    @property
    def value(self) -> tuple[str, ...]:
        """The chosen model labels, in order."""
        return self._value

    @value.setter
    def value(self, labels: Sequence[str]) -> None:
        self._value = tuple(dict.fromkeys(str(x).strip() for x in labels if str(x).strip()))
        self._render()
        self.check()
        self.on_change()

    def add(self, text: str) -> None:
        """Add a model (offered label or any litellm model string); a repeat is ignored."""
        if text.strip() and text.strip() not in self._value:
            self.value = (*self._value, text.strip())

    def remove(self, label: str) -> None:
        """Remove a model from the choice."""
        self.value = tuple(v for v in self._value if v != label)

    def replace(self, old: str, new: str) -> None:
        """Put ``new`` where ``old`` was (a "did you mean" click)."""
        self.value = tuple(new if v == old else v for v in self._value)

    def _entered(self, text: str) -> None:
        if text.strip():
            self.add(text)
        self.entry.value = ""

    def _render(self) -> None:
        import ipywidgets as w

        chips = []
        for label in self._value:
            chip = w.Button(description=f"{label} ✕", tooltip=f"remove {label}",
                            layout=w.Layout(width="auto"))
            chip.on_click(lambda _b, label=label: self.remove(label))
            chips.append(chip)
        self.chips.children = chips

    # ------------------------------------------------------------------ specs and problems
    def spec(self, label: str) -> ModelSpec:
        """The spec of a chosen label (raises ConfigError for an invalid model string)."""
        return self.fixed.get(label) or self.offered.get(label) or ModelSpec(label)

    def specs(self) -> list[ModelSpec]:
        """The chosen specs, in order."""
        return [self.spec(label) for label in self._value]

    def problem(self, label: str) -> WorkbenchError | None:
        """Why this model cannot run as chosen (invalid string, unknown price), else None."""
        try:
            self.spec(label).pricing()
        except WorkbenchError as exc:
            return exc
        return None

    def check(self) -> list[str]:
        """Show a row with fixes for each chosen model that cannot run; returns the problems."""
        import ipywidgets as w

        rows, found = [], []
        for label in self._value:
            exc = self.problem(label)
            if exc is None:
                continue
            found.append(str(exc))
            parts: list[w.Widget] = [w.HTML(f"<span style='{_RED}'>⚠ {html.escape(str(exc))}"
                                            "</span>")]
            guesses = close_model_ids(label)
            if guesses:
                parts.append(w.Label("did you mean"))
                for guess in guesses:
                    button = w.Button(description=guess, layout=w.Layout(width="auto"),
                                      tooltip=f"use {guess} instead of {label}")
                    button.on_click(lambda _b, old=label, new=guess: self.replace(old, new))
                    parts.append(button)
            row = [w.HBox(parts, layout=w.Layout(flex_flow="row wrap"))]
            if self._only_price(label, exc):
                row.append(self._price_fix(label))
            rows.append(w.VBox(row, layout=w.Layout(border="1px solid #cf222e66",
                                                    padding="2px", margin="2px 0")))
        self.problems.children = rows
        return found

    def _only_price(self, label: str, exc: WorkbenchError) -> bool:
        """True when the model string is valid and only its price is missing."""
        try:
            self.offered.get(label) or ModelSpec(label)
        except WorkbenchError:
            return False
        return "price" in str(exc)

    def _price_fix(self, label: str) -> object:
        import ipywidgets as w

        style = {"description_width": "initial"}
        price_in = w.BoundedFloatText(value=0.0, min=0.0, max=1e4, step=0.05,
                                      description="input $ / 1M tokens", style=style,
                                      layout=w.Layout(width="220px"))
        price_out = w.BoundedFloatText(value=0.0, min=0.0, max=1e4, step=0.05,
                                       description="output $ / 1M tokens", style=style,
                                       layout=w.Layout(width="230px"))
        use = w.Button(description="use these prices", icon="check")
        unknown = w.Button(description="run with unknown cost", button_style="warning",
                           tooltip="its cost is not counted and no budget applies to it")
        use.on_click(lambda _b: self.set_price(label, price_in.value, price_out.value))
        unknown.on_click(lambda _b: self.accept_unknown_cost(label))
        return w.HBox([price_in, price_out, use, w.Label("or"), unknown],
                      layout=w.Layout(flex_flow="row wrap"))

    def _fix(self, label: str, **changes: object) -> None:
        base = self.offered.get(label) or ModelSpec(label)
        self.fixed[label] = dataclasses.replace(base, **changes)  # type: ignore[arg-type]
        self.check()
        self.on_change()

    def set_price(self, label: str, input_per_1m: float, output_per_1m: float) -> None:
        """Run ``label`` with these prices (dollars per million input / output tokens)."""
        self._fix(label, input_price_per_1m=float(input_per_1m),
                  output_price_per_1m=float(output_per_1m), accept_unknown_cost=False)

    def accept_unknown_cost(self, label: str) -> None:
        """Run ``label`` although its price is unknown (cost reported as unknown)."""
        self._fix(label, accept_unknown_cost=True, input_price_per_1m=None,
                  output_price_per_1m=None)

