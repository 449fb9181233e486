"""``ReviewQueue``: people label a sample of outputs, blind, for ``wb.calibrate``.

Items come in a shuffled order with the judge's verdict and the configuration names hidden (no
anchoring). One key per label (``ipyevents``): the digits of the scale, ``s`` to skip, ``b`` to
go back. Labels are saved in Settled 13's format (case, model, variant, repeat, scorer, output
sha256, reviewer) to a CSV file after every label and, on request, to the comparison's MLflow
run. A share of the items (default 20%) also goes to a second reviewer (``second=True``), so
``wb.calibrate`` reports the people's agreement beside the judge's.
"""

from __future__ import annotations

import html
import math
import random
from pathlib import Path
from typing import Any

import pandas as pd

from workbench._atomic import write_text
from workbench.errors import ConfigError
from workbench.reports import as_text as _text
from workbench.runner import Comparison
from workbench.stats import LABEL_COLUMNS, output_sha256
from workbench.stats import judge_scale as _scale_of

__all__ = ["ReviewQueue"]


class ReviewQueue:
    """Blind human labelling of a comparison's outputs for one (judge) scorer.

    Args:
        comparison: the comparison whose outputs are labelled.
        scorer: the scorer being calibrated (its scale gives the label buttons).
        reviewer: who labels (recorded with every label).
        labels_path: the CSV the labels go to (other reviewers' rows are kept).
        sample: how many outputs to label (default: all that have a score).
        second_share: the share of the sample a second reviewer also labels.
        second: this queue is the second reviewer's (only the shared items).
        seed: the sample and the order (each reviewer's order differs).

    Example::

        q = ReviewQueue(cmp, "judge_correctness", reviewer="ana", sample=40)
        q   # in a notebook cell: label with the buttons or the keys 1-5, s (skip), b (back)
        wb.calibrate(cmp, q.labels_path, scorer="judge_correctness")
    """

    def __init__(self, comparison: Comparison, scorer: str, *, reviewer: str,
                 labels_path: str | Path = "human_labels.csv", sample: int | None = None,
                 second_share: float = 0.2, second: bool = False, seed: int = 0) -> None:
        import ipywidgets as w

        if scorer not in comparison.scorers:
            raise ConfigError(f"the comparison has no scorer {scorer!r}",
                              fix=f"Use one of {comparison.scorers}.")
        if not reviewer.strip():
            raise ConfigError("a review needs the reviewer's name", fix='reviewer="ana"')
        if not 0 <= second_share <= 1:
            raise ConfigError(f"second_share={second_share!r}", fix="Use a share in [0, 1].")
        self.comparison, self.scorer, self.reviewer = comparison, scorer, reviewer.strip()
        self.labels_path = Path(labels_path)
        self.low, self.high = _scale_of(comparison, scorer, None)
        res = comparison.results
        ok = res[res["error_type"].isna() & res[f"score.{scorer}"].notna()]
        self._outputs = {k: str(o) for k, o in zip(
            zip(ok["case_id"].astype(str), ok["model"].astype(str), ok["variant"].astype(str),
                ok["repeat"].astype(int), strict=True), ok["output"], strict=True)}
        keys = sorted(self._outputs)
        rng = random.Random(seed)
        chosen = rng.sample(keys, min(sample or len(keys), len(keys)))
        self.shared = chosen[:math.ceil(second_share * len(chosen))]
        """Items both reviewers label (for the people's own agreement)."""
        items = list(self.shared if second else chosen)
        random.Random(f"{seed}:{self.reviewer}").shuffle(items)  # blind, per-reviewer order
        self.items = items
        try:
            gs = comparison.golden_set()
            self._cases = {str(r["id"]): r for r in gs.records()}
            self._inputs = gs.input_columns
        except ConfigError:
            self._cases, self._inputs = {}, []
        self.labels: dict[tuple[str, str, str, int], float] = {}
        self.notes: dict[tuple[str, str, str, int], str] = {}
        self.position = 0

        self.header = w.HTML()
        self.body = w.HTML()
        self.note = w.Text(placeholder="note (optional)", layout=w.Layout(width="60%"))
        self.buttons = [w.Button(description=str(v), layout=w.Layout(width="48px"))
                        for v in range(self.low, self.high + 1)]
        for button in self.buttons:
            button.on_click(lambda b: self.label(float(b.description)))
        self.skip_button = w.Button(description="skip (s)")
        self.back_button = w.Button(description="back (b)")
        self.save_mlflow = w.Button(description="Save to MLflow")
        self.status = w.HTML()
        self.skip_button.on_click(lambda _b: self.go(self.position + 1))
        self.back_button.on_click(lambda _b: self.go(self.position - 1))
        self.save_mlflow.on_click(lambda _b: self._save_mlflow_clicked())
        self.widget = w.VBox([self.header, self.body, self.note,
                              w.HBox([*self.buttons, self.skip_button, self.back_button]),
                              w.HBox([self.save_mlflow, self.status])])
        self.shortcuts = self._keyboard()
        self.go(0)

    def _keyboard(self) -> Any:
        try:
            from ipyevents import Event
        except ImportError:
            return None
        event = Event(source=self.widget, watched_events=["keydown"])
        event.on_dom_event(self.on_key)
        return event

    def on_key(self, event: dict[str, Any]) -> None:
        """One-key shortcuts: a digit labels, ``s`` skips, ``b`` goes back."""
        key = str(event.get("key", ""))
        if key.isdigit() and self.low <= int(key) <= self.high:
            self.label(float(key))
        elif key == "s":
            self.go(self.position + 1)
        elif key == "b":
            self.go(self.position - 1)

    # ------------------------------------------------------------------ navigation
    @property
    def current(self) -> tuple[str, str, str, int] | None:
        """The item on screen (None when the queue is done)."""
        return self.items[self.position] if self.position < len(self.items) else None

    def go(self, position: int) -> None:
        """Show item ``position`` (clamped; past the end shows the summary)."""
        self.position = min(max(0, position), len(self.items))
        item = self.current
        done = len(self.labels)
        self.header.value = (f"<b>{html.escape(self.reviewer)}</b> · item "
                             f"{min(self.position + 1, len(self.items))} of {len(self.items)} · "
                             f"{done} labelled · scale {self.low}–{self.high} for "
                             f"{html.escape(self.scorer)}")
        if item is None:
            self.body.value = (f"<p>Done: {done} labels saved to "
                               f"{html.escape(str(self.labels_path))}.</p>")
            return
        case = self._cases.get(item[0], {})
        inputs = "".join(f"<div><b>{html.escape(c)}</b>: <pre style='white-space:pre-wrap'>"
                         f"{html.escape(str(case[c]))}</pre></div>"
                         for c in self._inputs if case.get(c) is not None)
        expected = "" if case.get("expected") is None else (
            f"<div><b>reference</b>: {html.escape(_text(case['expected']))}</div>")
        # the configuration and the judge's score are deliberately not shown
        self.body.value = (f"{inputs}{expected}<div><b>output</b>:<pre style='white-space:"
                           f"pre-wrap'>{html.escape(self._outputs[item])}</pre></div>")
        self.note.value = ""

    def label(self, value: float) -> None:
        """Label the item on screen, save, and move on."""
        item = self.current
        if item is None:
            return
        if not self.low <= value <= self.high:
            raise ConfigError(f"label {value} is off the scale {self.low}–{self.high}",
                              fix="Use a value on the scale.")
        self.labels[item] = value
        self.notes[item] = self.note.value
        self.save()
        self.go(self.position + 1)

    # ------------------------------------------------------------------ saving
    def frame(self) -> pd.DataFrame:
        """This reviewer's labels in Settled 13's format (``LABEL_COLUMNS`` plus ``note``)."""
        rows = [{"case_id": k[0], "model": k[1], "variant": k[2], "repeat": k[3],
                 "scorer": self.scorer, "output_sha256": output_sha256(self._outputs[k]),
                 "reviewer": self.reviewer, "label": v, "note": self.notes.get(k, "")}
                for k, v in self.labels.items()]
        return pd.DataFrame(rows, columns=[*LABEL_COLUMNS, "note"])

    def save(self) -> Path:
        """Write the label file: other reviewers' rows kept, this reviewer's replaced."""
        mine = self.frame()
        if self.labels_path.is_file():
            old = pd.read_csv(self.labels_path, dtype={"case_id": str, "output_sha256": str})
            old = old[~((old["reviewer"] == self.reviewer) & (old["scorer"] == self.scorer))]
            mine = pd.concat([old, mine], ignore_index=True)
        self.labels_path.parent.mkdir(parents=True, exist_ok=True)
        write_text(self.labels_path, mine.to_csv(index=False))  # never half a label file
        return self.labels_path

    def save_to_mlflow(self) -> str:
        """Log the label file as ``human_labels_<scorer>.json`` on the comparison's run."""
        run = self.comparison.record.tracking
        if run is None or not run.run_id:
            raise ConfigError("the comparison was not logged to MLflow",
                              fix="Log it first: wb.log_comparison(cmp, experiment=...).")
        from workbench.tracking import client

        table = pd.read_csv(self.save(), dtype={"case_id": str, "output_sha256": str,
                                                "note": str, "reviewer": str})
        name = f"human_labels_{self.scorer}.json"
        table["note"] = table["note"].fillna("")
        client(run.tracking_uri).log_table(run.run_id, table, name)
        return name

    def _save_mlflow_clicked(self) -> None:
        try:
            name = self.save_to_mlflow()
        except Exception as exc:  # shown in the widget
            self.status.value = f"<span style='color:#cf222e'>{html.escape(str(exc))}</span>"
            return
        self.status.value = f"logged {html.escape(name)}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]
