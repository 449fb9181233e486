"""The builder's scorers: pick them, set their arguments, and see whether each can pass.

A scorer's keyword arguments are edited beside it (``field`` as a choice of the expected
object's fields). Each chosen scorer is tried on the sample case with the case's own expected
answer as the output: a scorer that cannot pass even then (``label_match`` without its
``field`` on an object-valued ``expected``) is flagged before any call is paid for.
"""

from __future__ import annotations

import html
import inspect
import json
from collections.abc import Callable, Mapping
from typing import Any

from workbench.errors import ConfigError, WorkbenchError
from workbench.scorers import FunctionScorer, Scorer, as_score, calls_models

__all__ = ["ScorerForm", "cannot_pass", "default_scorer"]

WHOLE = "(whole expected)"


def _ideal_outputs(expected: Any) -> list[str]:
    """Outputs a scorer should pass on: the expected answer itself, or as JSON."""
    if isinstance(expected, str):
        return [expected]
    return list(dict.fromkeys([json.dumps(expected, sort_keys=True, ensure_ascii=False),
                               json.dumps(expected, ensure_ascii=False)]))


def cannot_pass(scorer: Scorer, case: Mapping[str, Any]) -> str | None:
    """Why ``scorer`` fails on ``case`` even when the output is the case's expected answer.

    None when it passes (a score ≥ 0.999), when it calls a model (a judge costs money), when
    the case has no expected answer, or when it is asynchronous.

    Example:
        >>> from workbench.scorers import label_match
        >>> case = {"id": "c1", "expected": {"intent": "billing", "priority": "low"}}
        >>> cannot_pass(label_match(field="intent"), case) is None
        True
        >>> print(cannot_pass(label_match, case))  # doctest: +ELLIPSIS
        label_match cannot pass on sample case c1 even when the output is its expected answer...
    """
    expected = case.get("expected")
    if expected is None or calls_models(scorer):
        return None
    why = ""
    for output in _ideal_outputs(expected):
        try:
            result = scorer(case, output)
        except Exception as exc:  # a scorer that raises on a clean answer is worth a warning
            return (f"{scorer.name} raised {type(exc).__name__} on sample case "
                    f"{case.get('id')}: {str(exc)[:200]}")
        if inspect.isawaitable(result):
            getattr(result, "close", lambda: None)()
            return None
        score = as_score(result, scorer_name=scorer.name)
        if score.value >= 0.999:
            return None
        why = score.explanation or f"score {score.value:g}"
    shown = json.dumps(expected, ensure_ascii=False) if not isinstance(expected, str) else expected
    hint = ("; choose its field" if isinstance(expected, Mapping) and isinstance(
        scorer, FunctionScorer) and "field" in scorer.args and not scorer.args["field"] else "")
    return (f"{scorer.name} cannot pass on sample case {case.get('id')} even when the output is "
            f"its expected answer {shown[:120]} ({why[:160]}){hint}")


def default_scorer(scorers: Mapping[str, Scorer], case: Mapping[str, Any]
                   ) -> tuple[str, Scorer] | None:
    """The scorer a form starts with: one that can pass on ``case``, with its arguments set.

    When ``expected`` is an object (``{"intent": "billing", "priority": "low"}``) that is
    ``label_match`` on its first field, named after it (a bare ``label_match`` compares the
    whole object and a plain label can never pass); otherwise the first offered scorer that
    passes on the case's own expected answer (``exact_match`` for a text answer). Returns the
    offered name and the configured scorer, or None when none can pass.

    Example:
        >>> from workbench.scorers import builtin_scorers
        >>> offered = {n: builtin_scorers()[n] for n in ("exact_match", "label_match")}
        >>> name, s = default_scorer(offered, {"expected": {"intent": "billing"}})
        >>> name, s.name, s.args["field"]
        ('label_match', 'intent', 'intent')
        >>> default_scorer(offered, {"expected": "billing"})[0]
        'exact_match'
    """
    expected = case.get("expected")
    offered = scorers.get("label_match")
    if isinstance(expected, Mapping) and expected and isinstance(offered, FunctionScorer) \
            and "field" in offered.args:
        field = str(next(iter(expected)))
        return "label_match", offered.configure(field=field, name=field)
    for name, scorer in scorers.items():
        if not calls_models(scorer) and cannot_pass(scorer, case) is None:
            return name, scorer
    return None


class _ArgsEditor:
    """One scorer's name and keyword arguments as widgets."""

    def __init__(self, scorer: Scorer, fields: list[str], on_change: Callable[[], None]) -> None:
        import ipywidgets as w

        self.scorer = scorer
        self.widgets: dict[str, Any] = {}
        style = {"description_width": "initial"}
        self.name = w.Text(value=scorer.name, description="name", style=style,
                           layout=w.Layout(width="200px"))
        parts: list[Any] = [w.HTML(f"<b>{html.escape(scorer.name)}</b>"), self.name]
        if isinstance(scorer, FunctionScorer):
            for arg, default in scorer.args.items():
                widget = self._widget(arg, default, fields, style)
                self.widgets[arg] = widget
                parts.append(widget)
        else:
            shown = ", ".join(f"{k}={v!r}" for k, v in scorer.args.items())
            parts.append(w.HTML(f"<code>{html.escape(shown)}</code>"))
        for widget in (self.name, *self.widgets.values()):
            widget.observe(lambda _c: on_change(), names="value")
        self.warning = w.HTML()
        self.box = w.VBox([w.HBox(parts, layout=w.Layout(flex_flow="row wrap")), self.warning])

    @staticmethod
    def _widget(arg: str, default: Any, fields: list[str], style: dict[str, str]) -> Any:
        import ipywidgets as w

        if arg in ("field", "reference_field") and fields:
            options = [WHOLE, *fields] + ([default] if default and default not in fields else [])
            return w.Dropdown(options=options, value=default or WHOLE, description=arg,
                              style=style, layout=w.Layout(width="240px"))
        if isinstance(default, bool):
            return w.Checkbox(value=default, description=arg, indent=False)
        if isinstance(default, int):
            return w.IntText(value=default, description=arg, style=style,
                             layout=w.Layout(width="160px"))
        if isinstance(default, float):
            return w.FloatText(value=default, description=arg, style=style,
                               layout=w.Layout(width="160px"))
        text = default if isinstance(default, str) else (
            "" if default is None else json.dumps(default))
        return w.Text(value=text, description=arg, placeholder="None", style=style,
                      layout=w.Layout(width="240px"))

    def value(self) -> Scorer:
        """The scorer configured as the widgets say (raises ConfigError on a bad value)."""
        name = self.name.value.strip() or self.scorer.name
        if not isinstance(self.scorer, FunctionScorer):
            return self.scorer
        args: dict[str, Any] = {}
        for arg, widget in self.widgets.items():
            raw, default = widget.value, self.scorer.args[arg]
            if raw == WHOLE or (raw == "" and not isinstance(default, str)):
                args[arg] = None
            elif hasattr(widget, "options"):  # a choice (field): the value as chosen
                args[arg] = raw
            elif isinstance(raw, str) and not isinstance(default, str):
                try:
                    args[arg] = json.loads(raw)
                except ValueError:
                    raise ConfigError(f"scorer {name!r}: {arg}={raw!r} is not a JSON value",
                                      fix='Write e.g. ["billing", "refund"], 0.5 or leave it '
                                      "empty for None.") from None
            else:
                args[arg] = raw
        return self.scorer.configure(name=name, **args)


class ScorerForm:
    """Scorers to pick, each with its arguments and a check on the sample case."""

    def __init__(self, scorers: Mapping[str, Scorer], sample: Mapping[str, Any],
                 selected: tuple[str, ...], on_change: Callable[[], None] = lambda: None
                 ) -> None:
        import ipywidgets as w

        self.scorers = dict(scorers)
        self.sample = sample
        expected = sample.get("expected")
        self.fields = [str(k) for k in expected] if isinstance(expected, Mapping) else []
        self.on_change = on_change
        self.select = w.SelectMultiple(options=list(self.scorers), value=selected,
                                       description="scorers", rows=min(7, len(self.scorers)))
        self.editors: dict[str, _ArgsEditor] = {}
        self.args_box = w.VBox()
        self.select.observe(lambda _c: self._changed(), names="value")
        self.box = w.VBox([self.select, self.args_box])
        self._changed()

    def _changed(self) -> None:
        for name in self.select.value:
            if name not in self.editors:
                self.editors[name] = _ArgsEditor(self.scorers[name], self.fields,
                                                 lambda: None if self.check() else None)
        self.args_box.children = [self.editors[n].box for n in self.select.value]
        self.check()

    def value(self) -> list[Scorer]:
        """The chosen scorers with their arguments (raises ConfigError on a bad argument)."""
        return [self.editors[n].value() for n in self.select.value]

    def check(self) -> list[str]:
        """Warn under each chosen scorer that cannot pass on the sample case; returns them."""
        found = []
        for name in self.select.value:
            editor = self.editors[name]
            try:
                why = cannot_pass(editor.value(), self.sample)
            except WorkbenchError as exc:
                why = str(exc)
            editor.warning.value = "" if why is None else (
                f"<span style='color:#9a6700'>⚠ {html.escape(why)}</span>")
            if why:
                found.append(why)
        self.on_change()
        return found
