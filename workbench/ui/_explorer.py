"""``ResultsExplorer``: filter, sort, page through and export a comparison's cases in a notebook.

The work happens on one case-level table built once (case × configuration scores, outputs,
errors, slices), filtered with vectorised masks; only the current page is rendered, so 100k
rows stay responsive. Every model or dataset string shown is HTML-escaped.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from workbench.errors import ConfigError
from workbench.reports import as_text as _text
from workbench.reports import word_diff
from workbench.runner import Comparison

__all__ = ["ResultsExplorer", "safe_csv_cell"]

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
ALL = "(all)"
_ROW = re.compile(r"\bwbrow-(\d+)\b")
_STYLE = ("<style>.wb-explorer tr.wb-row{cursor:pointer}.wb-explorer tr.wb-row:hover{"
          "background:#8882}.wb-explorer tr.wb-open{background:#2188ff22}"
          ".wb-explorer td{vertical-align:top;text-align:left}"
          ".wb-explorer td:first-child{white-space:nowrap}"
          ".wb-explorer td *{pointer-events:none}</style>")
"""Rows look clickable; a click lands on the cell (its class names the row), never inside."""


def safe_csv_cell(value: Any) -> Any:
    r"""A cell that a spreadsheet will not run as a formula (prefixed with ``'``).

    Example:
        >>> safe_csv_cell('=HYPERLINK("http://x")'), safe_csv_cell("ok"), safe_csv_cell(-1)
        ('\'=HYPERLINK("http://x")', 'ok', -1)
    """
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def _short(text: Any, n: int = 80) -> str:
    s = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


def _config(model: Any, variant: Any) -> str:
    return f"{model} · {variant}"


class ResultsExplorer:
    """Explore a comparison case by case (``ResultsExplorer(cmp)``, then display it).

    Filters: a slice and its value, the configurations shown, a scorer's range, errors, and
    "only cases where the configurations disagree". Sort by case id or by the spread of the
    chosen scorer across configurations (largest first). One case opens side by side with a
    word diff, every score and the judges' reasons. ``export_csv(path)`` writes the selection
    (cells that a spreadsheet would run as formulas are prefixed with a quote).

    Example::

        explorer = ResultsExplorer(cmp)
        explorer   # a widget in a notebook cell
    """

    def __init__(self, comparison: Comparison, *, page_size: int = 20) -> None:
        import ipywidgets as w

        if comparison.results.empty:
            raise ConfigError("the comparison has no results to explore",
                              fix="Run wb.compare first (or load a saved comparison).")
        self.comparison = comparison
        self.page_size = page_size
        res = comparison.results
        first = res[res["repeat"] == res["repeat"].min()]
        first = first.assign(config=[_config(m, v) for m, v in
                                     zip(first["model"], first["variant"], strict=True)])
        self.configs = list(dict.fromkeys(first["config"]))
        self.scorers = list(comparison.scorers)
        self.slices = [c.removeprefix("slice.") for c in res.columns if c.startswith("slice.")]
        self._rows = first.set_index(["case_id", "config"]).sort_index()
        wide = first.pivot_table(index="case_id", columns="config",
                                 values=[f"score.{s}" for s in self.scorers], aggfunc="first",
                                 dropna=False) if self.scorers else pd.DataFrame(
            index=sorted(set(first["case_id"])))
        self._scores = wide
        errors = first.assign(err=first["error_type"].notna()).pivot_table(
            index="case_id", columns="config", values="err", aggfunc="any")
        self._errors = errors.reindex(columns=self.configs).fillna(False).astype(bool)
        slices = first.drop_duplicates("case_id").set_index("case_id")
        self._slices = slices[[f"slice.{s}" for s in self.slices]].astype("string")
        self.case_ids = list(self._errors.index)
        try:
            gs = comparison.golden_set()
            self._cases = {str(r["id"]): r for r in gs.records()}
            self._inputs = list(gs.input_columns)
        except ConfigError:
            self._cases, self._inputs = {}, []
        details = comparison.score_details
        self._details = details[details["explanation"].notna()] if len(details) else details

        style = {"description_width": "initial"}
        self.slice_name = w.Dropdown(options=[ALL, *self.slices], value=ALL,
                                     description="slice", style=style)
        self.slice_value = w.Dropdown(options=[ALL], value=ALL, description="value",
                                      style=style)
        self.config_select = w.SelectMultiple(options=self.configs, value=tuple(self.configs),
                                              description="configs", rows=min(6, len(
                                                  self.configs)), style=style)
        self.scorer = w.Dropdown(options=self.scorers or ["(none)"],
                                 value=(self.scorers or ["(none)"])[0], description="scorer",
                                 style=style)
        lo, hi = self._score_bounds()
        self.score_range = w.FloatRangeSlider(value=(lo, hi), min=lo, max=hi,
                                              step=(hi - lo) / 100 or 0.01,
                                              description="score", style=style,
                                              continuous_update=False)
        self.errors = w.Dropdown(options=["all", "with errors", "without errors"], value="all",
                                 description="errors", style=style)
        self.disagree = w.Checkbox(value=False, description="only where configs disagree")
        self.sort = w.Dropdown(options=["case id", "score spread"], value="case id",
                               description="sort", style=style)
        self.prev = w.Button(description="◀ prev", layout=w.Layout(width="80px"))
        self.next = w.Button(description="next ▶", layout=w.Layout(width="80px"))
        self.status = w.HTML()
        self.table = w.HTML()
        self.case = w.Dropdown(options=[], description="case", style=style)
        self.detail = w.HTML()
        self.export_path = w.Text(value="selection.csv", description="CSV", style=style)
        self.export_button = w.Button(description="Export selection")
        self.export_status = w.HTML()
        self.page = 0
        self.filtered: list[str] = []

        for widget in (self.slice_value, self.config_select, self.score_range, self.errors,
                       self.disagree, self.sort):
            widget.observe(lambda _change: self.refresh(), names="value")
        self.slice_name.observe(self._on_slice, names="value")
        self.scorer.observe(self._on_scorer, names="value")
        self.prev.on_click(lambda _b: self.go(self.page - 1))
        self.next.on_click(lambda _b: self.go(self.page + 1))
        self.case.observe(lambda change: self.show_case(change["new"]), names="value")
        self.row_clicks = self._row_clicks()
        self.export_button.on_click(lambda _b: self._export_clicked())
        self.widget = w.VBox([
            w.HBox([self.slice_name, self.slice_value, self.errors]),
            w.HBox([self.config_select, w.VBox([self.scorer, self.score_range, self.disagree,
                                                self.sort])]),
            w.HBox([self.prev, self.next, self.status]), self.table,
            self.case, self.detail,
            w.HBox([self.export_path, self.export_button, self.export_status])])
        self.refresh()

    def _row_clicks(self) -> Any:
        """A click on a table row opens that case (browser events through ``ipyevents``)."""
        try:
            from ipyevents import Event
        except ImportError:  # the case dropdown still opens any case
            return None
        event = Event(source=self.table, watched_events=["click"])
        event.on_dom_event(self.on_click)
        return event

    def on_click(self, event: dict[str, Any]) -> None:
        """Open the case of the clicked row (``wbrow-<i>`` in the cell's class names)."""
        target = event.get("target") or {}
        found = _ROW.search(str(target.get("className", "")))
        if found:
            self.open_row(int(found.group(1)))

    def open_row(self, index: int) -> None:
        """Open the case in row ``index`` of the current page (0 = the first row)."""
        ids = list(self.case.options)
        if 0 <= index < len(ids):
            self.case.value = ids[index]

    # ------------------------------------------------------------------ state
    def _score_col(self, config: str) -> tuple[str, str]:
        return (f"score.{self.scorer.value}", config)

    def _score_bounds(self) -> tuple[float, float]:
        if not self.scorers:
            return 0.0, 1.0
        values = self._scores[f"score.{self.scorers[0]}"].to_numpy(dtype=float)
        return self._bounds(values)

    @staticmethod
    def _bounds(values: np.ndarray[Any, Any]) -> tuple[float, float]:
        finite = values[np.isfinite(values)]
        if not finite.size:
            return 0.0, 1.0
        lo, hi = float(finite.min()), float(finite.max())
        return (lo, hi) if hi > lo else (lo, lo + 1.0)

    def _on_slice(self, change: dict[str, Any]) -> None:
        name = change["new"]
        values = [ALL] if name == ALL else [ALL, *sorted(
            {str(v) for v in self._slices[f"slice.{name}"].dropna()})]
        self.slice_value.options = values
        self.slice_value.value = ALL
        self.refresh()

    def _on_scorer(self, change: dict[str, Any]) -> None:
        if change["new"] in self.scorers:
            lo, hi = self._bounds(self._scores[f"score.{change['new']}"].to_numpy(dtype=float))
            self.score_range.min, self.score_range.max = min(lo, self.score_range.min), max(
                hi, self.score_range.max)
            self.score_range.value = (lo, hi)
            self.score_range.min, self.score_range.max = lo, hi
        self.refresh()

    def selection(self) -> pd.Index:
        """Case ids that pass the filters, in the chosen order."""
        ids = pd.Index(self.case_ids)
        keep = np.ones(len(ids), dtype=bool)
        if self.slice_name.value != ALL and self.slice_value.value != ALL:
            col = self._slices[f"slice.{self.slice_name.value}"].reindex(ids)
            keep &= (col == self.slice_value.value).fillna(False).to_numpy(dtype=bool)
        configs = list(self.config_select.value) or self.configs
        errors = self._errors.reindex(index=ids, columns=configs)
        if self.errors.value == "with errors":
            keep &= errors.any(axis=1).to_numpy()
        elif self.errors.value == "without errors":
            keep &= ~errors.any(axis=1).to_numpy()
        spread = np.zeros(len(ids))
        if self.scorers and self.scorer.value in self.scorers:
            block = pd.DataFrame(self._scores[f"score.{self.scorer.value}"]).reindex(
                index=ids, columns=configs)
            values = block.to_numpy(dtype=float)
            lo, hi = self.score_range.value
            inside = (values >= lo - 1e-12) & (values <= hi + 1e-12)
            keep &= inside.any(axis=1)
            spread = (block.max(axis=1) - block.min(axis=1)).fillna(0.0).to_numpy(dtype=float)
            if self.disagree.value:
                filled = np.where(np.isnan(values), -np.inf, values)
                keep &= (filled != filled[:, :1]).any(axis=1)
        elif self.disagree.value:
            keep &= False
        chosen: pd.Index = ids[keep]
        if self.sort.value == "score spread":
            order = np.argsort(-spread[keep], kind="stable")
            chosen = pd.Index(chosen.to_numpy()[order])
        return chosen

    def refresh(self) -> None:
        """Recompute the selection and show its first page."""
        self.filtered = [str(c) for c in self.selection()]
        self.go(0)

    @property
    def pages(self) -> int:
        """Number of pages of the current selection."""
        return max(1, -(-len(self.filtered) // self.page_size))

    def go(self, page: int) -> None:
        """Show page ``page`` (clamped)."""
        self.page = min(max(0, page), self.pages - 1)
        ids = self.filtered[self.page * self.page_size:(self.page + 1) * self.page_size]
        self.status.value = (f"page {self.page + 1} of {self.pages} · {len(self.filtered):,} "
                             f"of {len(self.case_ids):,} cases")
        self.case.options = ids
        if ids:
            self.case.value = ids[0]
            self.show_case(ids[0])
        else:
            self.table.value = self._table(ids)
            self.detail.value = "<i>no case matches the filters</i>"

    # ------------------------------------------------------------------ rendering
    def _table(self, ids: list[str]) -> str:
        configs = list(self.config_select.value) or self.configs
        head = "".join(f"<th>{html.escape(c)}</th>" for c in configs)
        rows = []
        for i, cid in enumerate(ids):
            cells = []
            for cfg in configs:
                if (cid, cfg) not in self._rows.index:
                    cells.append("<td></td>")
                    continue
                row = self._rows.loc[(cid, cfg)]
                if isinstance(row, pd.DataFrame):
                    row = row.iloc[0]
                if isinstance(row.get("error_type"), str):
                    text = f"<span style='color:#cf222e'>error: {html.escape(row['error_type'])}"
                    text += "</span>"
                else:
                    text = html.escape(_short(row.get("output")))
                if self.scorers and self.scorer.value in self.scorers:
                    value = row.get(f"score.{self.scorer.value}")
                    if value is not None and not pd.isna(value):
                        text += f" <b>[{float(value):.2f}]</b>"
                cells.append(f"<td class='wbrow-{i}'>{text}</td>")
            opened = " wb-open" if cid == self.case.value else ""
            rows.append(f"<tr class='wb-row{opened}' title='open case {html.escape(cid)}'>"
                        f"<td class='wbrow-{i}'>{html.escape(cid)}</td>{''.join(cells)}</tr>")
        return (f"{_STYLE}<div style='overflow-x:auto'><table class='wb-explorer'><tr>"
                f"<th>case</th>{head}</tr>{''.join(rows)}</table></div>")

    def case_html(self, case_id: str) -> str:
        """One case side by side: inputs, expected, every config's output and scores, reasons."""
        data = self._cases.get(case_id, {})
        parts = [f"<h4>case {html.escape(case_id)}</h4>"]
        for col in self._inputs:
            if data.get(col) is not None:
                parts.append(f"<div><b>{html.escape(col)}</b>: <pre style='white-space:"
                             f"pre-wrap'>{html.escape(str(data[col]))}</pre></div>")
        if data.get("expected") is not None:
            parts.append(f"<div><b>expected</b>: {html.escape(_text(data['expected']))}</div>")
        configs = list(self.config_select.value) or self.configs
        base_output: str | None = None
        cells = []
        for cfg in configs:
            if (case_id, cfg) not in self._rows.index:
                continue
            row = self._rows.loc[(case_id, cfg)]
            if isinstance(row, pd.DataFrame):
                row = row.iloc[0]
            output = "" if pd.isna(row.get("output")) else str(row.get("output"))
            scores = "".join(
                f"<li>{html.escape(s)}: {row.get(f'score.{s}'):.3f}</li>"
                for s in self.scorers if not pd.isna(row.get(f"score.{s}")))
            reasons = ""
            if len(self._details):
                model, variant = row["model"], row["variant"]
                d = self._details[(self._details["case_id"] == case_id)
                                  & (self._details["model"] == model)
                                  & (self._details["variant"] == variant)]
                reasons = "".join(f"<li>{html.escape(str(r.scorer))}: "
                                  f"{html.escape(str(r.explanation))}</li>"
                                  for r in d.itertuples(index=False))
            error = (f"<p style='color:#cf222e'>error {html.escape(str(row['error_type']))}: "
                     f"{html.escape(_short(row.get('error'), 300))}</p>"
                     if isinstance(row.get("error_type"), str) else "")
            if base_output is None:
                base_output = output
                diff = "<i>(reference for the word diff)</i>"
            else:
                diff = " ".join(
                    f"<del>{html.escape(t)}</del>" if op == "-" else
                    f"<ins>{html.escape(t)}</ins>" if op == "+" else html.escape(t)
                    for op, t in word_diff(base_output, output))
            cells.append(f"<div style='border:1px solid #8884;padding:4px;min-width:0'>"
                         f"<b>{html.escape(cfg)}</b>{error}<pre style='white-space:pre-wrap;"
                         f"overflow-wrap:anywhere'>{html.escape(output)}</pre>"
                         f"<div>{diff}</div><ul>{scores}</ul><ul>{reasons}</ul></div>")
        # one card per configuration, wrapping onto more rows: six never run off the page
        parts.append("<div class='wb-case' style='display:grid;gap:6px;grid-template-columns:"
                     f"repeat(auto-fill,minmax(260px,1fr))'>{''.join(cells)}</div>")
        return "".join(parts)

    def show_case(self, case_id: str | None) -> None:
        """Open one case in the detail pane (and mark its row in the table)."""
        if case_id:
            self.detail.value = self.case_html(case_id)
            self.table.value = self._table([str(c) for c in self.case.options])

    # ------------------------------------------------------------------ export
    def selection_frame(self) -> pd.DataFrame:
        """The selected cases' rows (all repeats) for the selected configurations."""
        res = self.comparison.results
        configs = set(self.config_select.value) or set(self.configs)
        mask = res["case_id"].astype(str).isin(set(self.filtered)) & pd.Series(
            [_config(m, v) in configs for m, v in zip(res["model"], res["variant"],
                                                       strict=True)], index=res.index)
        return res[mask].reset_index(drop=True)

    def export_csv(self, path: str | Path) -> Path:
        """Write the selection to CSV, formula-like cells prefixed with a quote; returns path."""
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        frame = self.selection_frame().astype(object).map(safe_csv_cell)
        frame.to_csv(out, index=False, quoting=csv.QUOTE_MINIMAL)
        return out

    def _export_clicked(self) -> None:
        try:
            out = self.export_csv(self.export_path.value)
        except OSError as exc:
            self.export_status.value = f"<span style='color:#cf222e'>{html.escape(str(exc))}"
            self.export_status.value += "</span>"
            return
        self.export_status.value = f"wrote {html.escape(str(out))}"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)  # type: ignore[no-untyped-call]
