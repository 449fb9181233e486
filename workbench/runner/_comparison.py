"""``Comparison``: the results table of a run, its summary, and saving/loading it."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import ValidationError

from workbench._atomic import atomic_write, write_text
from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.records import RECORD_SCHEMA_VERSION, Roles, RunRecord
from workbench.stats import mean_ci, score_status

from ._errors import DamagedSaveError
from ._reproduce import experiment_yaml
from ._summary import SummaryTable

__all__ = ["DETAIL_COLUMNS", "RESULT_COLUMNS", "Comparison"]

META_FILE = "comparison.json"
RESULTS_FILE = "results.parquet"
DETAILS_FILE = "score_details.parquet"
FILES_KEY = "files"
"""Key of ``comparison.json`` recording each table's sha256 (a save's files belong together)."""

RESULT_COLUMNS = [
    "case_id", "model", "variant", "repeat", "output", "error_type", "error", "finish_reason",
    "attempts", "latency_s", "ttft_s", "prompt_tokens", "completion_tokens", "cost_usd",
    "billed_usd", "cache_hit", "judge_cost_usd", "scorer_errors",
]
"""The fixed columns of ``Comparison.results`` (DESIGN.md, Settled 7); ``score.<name>`` and
``slice.<name>`` columns follow."""

_DTYPES = {
    "case_id": "string", "model": "string", "variant": "string", "repeat": "int64",
    "output": "string", "error_type": "string", "error": "string", "finish_reason": "string",
    "attempts": "int64", "latency_s": "float64", "ttft_s": "float64",
    "prompt_tokens": "Int64", "completion_tokens": "Int64", "cost_usd": "float64",
    "billed_usd": "float64", "cache_hit": "bool", "judge_cost_usd": "float64",
    "scorer_errors": "string",
}

DETAIL_COLUMNS = [
    "case_id", "model", "variant", "repeat", "scorer", "value", "label", "explanation",
    "cost_usd", "prompt_tokens", "completion_tokens",
]
"""Columns of ``Comparison.score_details``: what a scorer said beyond its value."""

_DETAIL_DTYPES = {
    "case_id": "string", "model": "string", "variant": "string", "repeat": "int64",
    "scorer": "string", "value": "float64", "label": "string", "explanation": "string",
    "cost_usd": "float64", "prompt_tokens": "int64", "completion_tokens": "int64",
}

Status = Literal["complete", "budget_stopped", "interrupted"]


def details_frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """Build the typed score-details table from row dicts."""
    df = pd.DataFrame(list(rows), columns=DETAIL_COLUMNS)
    for col, dtype in _DETAIL_DTYPES.items():
        df[col] = df[col].astype(dtype)  # type: ignore[call-overload]
    return df.sort_values(["model", "variant", "repeat", "case_id", "scorer"],
                          kind="stable").reset_index(drop=True)


def results_frame(rows: Sequence[dict[str, Any]], extra: Sequence[str]) -> pd.DataFrame:
    """Build the typed results table from row dicts (fixed columns, then scores and slices)."""
    columns = RESULT_COLUMNS + list(extra)
    df = pd.DataFrame(list(rows), columns=columns)
    for col, dtype in _DTYPES.items():
        df[col] = df[col].astype(dtype)  # type: ignore[call-overload]
    for col in extra:
        if col.startswith("score."):
            df[col] = df[col].astype("float64")
        else:
            df[col] = df[col].astype("string")
    return df.sort_values(["model", "variant", "repeat", "case_id"], kind="stable").reset_index(
        drop=True
    )


class Comparison:
    """The outcome of ``compare``: one row per case × model × variant × repeat, and its record.

    Attributes:
        results: the tidy results table (see ``RESULT_COLUMNS``; inputs and expected answers
            are not copied in: join the golden set on ``case_id``).
        record: the typed run record (``workbench.records.RunRecord``): golden set digest,
            model params and pricing, variant templates and versions, scorers and their
            arguments, settings, run statistics, versions, and what later steps added (roles,
            the MLflow run, a shadow test's section, a decision).
        status: ``"complete"``, ``"budget_stopped"`` or ``"interrupted"``.
        score_details: what scorers said beyond the value, one row per (results row,
            scorer) that gave a label, an explanation or judge tokens/cost — e.g. a judge's
            raw score (``label``) and reason (``explanation``). See ``DETAIL_COLUMNS``.
    """

    def __init__(self, results: pd.DataFrame, record: RunRecord,
                 score_details: pd.DataFrame | None = None,
                 golden_set: GoldenSet | None = None) -> None:
        if not isinstance(record, RunRecord):
            raise ConfigError(f"a Comparison takes a RunRecord, not {type(record).__name__}",
                              fix="Build it with workbench.records.RunRecord(...) or load a "
                              "saved comparison with Comparison.load(DIR).")
        self.results = results
        self.record = record
        self.score_details = details_frame([]) if score_details is None else score_details
        self._golden_set = golden_set

    def golden_set(self, given: GoldenSet | None = None) -> GoldenSet:
        """The golden set this comparison ran on (kept in memory, or loaded from its path).

        Raises:
            ConfigError: when it cannot be found or its digest differs from the comparison's.
        """
        ref = self.record.golden_set
        gs = given or self._golden_set
        if gs is None:
            if not ref.path or not Path(ref.path).exists():
                raise ConfigError(
                    f"the golden set of this comparison is not at hand (path {ref.path!r})",
                    where=ref.name,
                    fix="Pass golden_set=GoldenSet.load(...) with the set it was run on.",
                )
            gs = GoldenSet.load(ref.path)
        if ref.digest and gs.digest != ref.digest:
            raise ConfigError(
                f"golden set digest {gs.digest} differs from the comparison's {ref.digest}",
                where=ref.name,
                fix="Pass the golden set the comparison was run on.",
            )
        self._golden_set = gs
        return gs

    def merge(self, other: Comparison) -> Comparison:
        """One comparison holding both runs' configurations (e.g. an incumbent logged earlier).

        The golden set digests must match and no (model, variant) may appear in both. Cases
        evaluated by only one side stay in the table; paired statistics use the shared ones.

        Example:
            >>> large = cmp.results[cmp.results.model == "sim/large"]
            >>> fast = cmp.results[cmp.results.model == "sim/fast"]
            >>> a, b = wb.Comparison(large, cmp.record), wb.Comparison(fast, cmp.record)
            >>> len(a.merge(b).results) == len(cmp.results)
            True
        """
        mine, theirs = self.record.golden_set, other.record.golden_set
        if mine.digest != theirs.digest:
            raise ConfigError(
                f"cannot merge comparisons of different data: digest {mine.digest} vs "
                f"{theirs.digest}",
                where=f"{mine.name} + {theirs.name}",
                fix="Run both configurations on the same frozen golden set.",
            )

        clash = set(self.configs) & set(other.configs)
        if clash:
            raise ConfigError(
                f"both comparisons hold {sorted(clash)}", where="merge",
                fix='Give one model a distinct label: ModelSpec("...", name="...").',
            )
        extra = [c for c in dict.fromkeys([*self.results.columns, *other.results.columns])
                 if c not in RESULT_COLUMNS]
        rows = [*self.results.to_dict("records"), *other.results.to_dict("records")]
        results = results_frame([{str(k): v for k, v in r.items()} for r in rows], extra)
        details = pd.concat([self.score_details, other.score_details], ignore_index=True)
        a, b = self.record, other.record

        def union(left: list[Any], right: list[Any]) -> list[Any]:
            return [*left, *(x for x in right if x not in left)]

        statuses = {self.status, other.status}
        run = a.run.model_copy(update={
            "status": "complete" if statuses == {"complete"} else sorted(
                statuses - {"complete"})[0],
            "stop_reason": a.run.stop_reason or b.run.stop_reason,
            **{k: getattr(a.run, k) + getattr(b.run, k) for k in (
                "calls_planned", "calls_recorded", "requests_sent", "spent_usd",
                "judge_billed_usd")},
            "merged_from": [*(a.run.merged_from or [a.run.started_at]),
                            *(b.run.merged_from or [b.run.started_at])],
        })
        names = {s.name for s in a.scorers}
        record = a.model_copy(update={
            "models": union(a.models, b.models), "variants": union(a.variants, b.variants),
            "judges": union(a.judges, b.judges),
            "scorers": [*a.scorers, *(s for s in b.scorers if s.name not in names)],
            "run": run, "tracking": None})
        return Comparison(results, record, details_frame(
            [{str(k): v for k, v in r.items()} for r in details.to_dict("records")]),
            self._golden_set or other._golden_set)

    # ---------------------------------------------------------------- basic facts
    @property
    def status(self) -> Status:
        """Whether every planned call finished."""
        return self.record.run.status

    @property
    def complete(self) -> bool:
        """True when every planned call finished."""
        return self.status == "complete"

    @property
    def stop_reason(self) -> str | None:
        """Why the run stopped early, if it did."""
        return self.record.run.stop_reason

    @property
    def roles(self) -> Roles:
        """The candidate and incumbent recorded with the comparison (may be unset)."""
        return self.record.roles

    @property
    def scorers(self) -> list[str]:
        """Scorer names (the ``score.<name>`` columns)."""
        return [c.removeprefix("score.") for c in self.results.columns if c.startswith("score.")]

    @property
    def configs(self) -> list[tuple[str, str]]:
        """The (model, variant) configurations in the results, sorted.

        From the distinct pairs, not one Python tuple per row (400,000 rows in milliseconds).

        Example:
            >>> import pandas as pd
            >>> from workbench.records import GoldenSetRef, RunRecord
            >>> rows = pd.DataFrame({"case_id": ["a", "a", "b"], "model": ["m2", "m1", "m2"],
            ...                      "variant": "v"})
            >>> Comparison(rows, RunRecord(golden_set=GoldenSetRef(name="g", digest=""))).configs
            [('m1', 'v'), ('m2', 'v')]
        """
        pairs = self.results[["model", "variant"]].drop_duplicates()
        return sorted({(str(m), str(v)) for m, v in pairs.itertuples(index=False)})

    @property
    def simulated_models(self) -> list[str]:
        """Labels of the simulated (offline) models in this comparison."""
        return [m.label for m in self.record.models if m.simulated]

    @property
    def simulated_judges(self) -> dict[str, str]:
        """Judge scorers that use a simulated judge model: scorer name → judge model label."""
        return {j.scorer: j.label for j in self.record.judges if j.simulated}

    @property
    def spent_usd(self) -> float:
        """Dollars billed by this run, model and judge calls (cache hits cost nothing)."""
        return float(self.results["billed_usd"].sum()) + float(self.record.run.judge_billed_usd)

    # ---------------------------------------------------------------- summary
    def summary(self, *, errors: Literal["zero", "drop"] = "zero") -> SummaryTable:
        """Per (model, variant): mean scores with 95% CIs, cost, latency percentiles, errors.

        Repeats are averaged within a case before the interval is computed, so the interval is
        over cases. Missing scores follow the one rule ``compare_configs`` uses
        (``workbench.stats.score_status``): ``errors="zero"`` (default) counts a failed call or
        a scorer failure as score 0, so a model never looks better by failing; ``"drop"``
        leaves them out; cases no configuration could score are not applicable and left out.
        ``errors`` counts failed calls, ``scorer_errors`` outputs a scorer failed on,
        ``<scorer>_failed`` per scorer, and ``error_rate`` is the share of calls with either.
        ``df.attrs`` records the interval method per scorer and how errors were counted.

        Returns a :class:`SummaryTable`: every figure a number (``intent``, ``intent_low``,
        ``intent_high``, ``cost_usd``…), displayed in a notebook as the CLI prints it
        (``0.618 [0.539, 0.692]`` cells and footnotes); ``.raw`` is the plain DataFrame.

        Example:
            >>> table = cmp.summary()[["n_cases", "intent", "intent_failed"]].round(3)
            >>> table  # doctest: +NORMALIZE_WHITESPACE
                               n_cases  intent  intent_failed
            model     variant
            sim/large terse         12   0.750              0
                      json          12   0.667              0
            sim/fast  terse         12   0.583              0
                      json          12   0.500              0
        """
        if errors not in ("zero", "drop"):
            raise ConfigError(f"errors={errors!r}", fix='Use errors="zero" or errors="drop".')
        df = self.results
        out: list[dict[str, Any]] = []
        methods: dict[str, str] = {}
        simulated = set(self.simulated_models)
        status = {name: score_status(df, name, errors) for name in self.scorers}
        any_failed = pd.Series(False, index=df.index)
        for st in status.values():
            any_failed = any_failed | st.scorer_failed
        for (model, variant), group in df.groupby(["model", "variant"], sort=False, observed=True):
            failed = group["error_type"].notna()
            lost = failed | any_failed.loc[group.index]
            row: dict[str, Any] = {
                "model": model,
                "variant": variant,
                "n_cases": int(group["case_id"].nunique()),
                "n_calls": len(group),
                "errors": int(failed.sum()),
                "scorer_errors": int(any_failed.loc[group.index].sum()),
                "error_rate": float(lost.mean()) if len(group) else float("nan"),
            }
            for name in self.scorers:
                values = status[name].value.loc[group.index]
                row[f"{name}_failed"] = int(status[name].scorer_failed.loc[group.index].sum())
                if errors == "drop":  # a case with a lost repeat is dropped whole
                    per_case = values.groupby(group["case_id"], observed=True).agg(
                        lambda v: v.mean() if v.notna().all() else float("nan"))
                else:
                    per_case = values.groupby(group["case_id"], observed=True).mean()
                ci = mean_ci(per_case.to_numpy())
                row[name] = ci.mean
                row[f"{name}_low"] = ci.low
                row[f"{name}_high"] = ci.high
                methods[name] = f"{ci.method} {int(ci.confidence * 100)}%"
            latency = group["latency_s"].dropna().to_numpy()
            cost = group["cost_usd"]
            row.update(
                {
                    "cost_usd": float(cost.sum()) if cost.notna().any() else float("nan"),
                    "cost_per_case_usd": float(cost.sum()) / max(1, row["n_cases"])
                    if cost.notna().any() else float("nan"),
                    "billed_usd": float(group["billed_usd"].sum()),
                    "judge_cost_usd": float(group["judge_cost_usd"].fillna(0).sum()),
                    "total_cost_usd": float(cost.fillna(0).sum())
                    + float(group["judge_cost_usd"].fillna(0).sum()),
                    "latency_p50_s": _pct(latency, 50),
                    "latency_p95_s": _pct(latency, 95),
                    "latency_p99_s": _pct(latency, 99),
                    "prompt_tokens": int(group["prompt_tokens"].fillna(0).sum()),
                    "completion_tokens": int(group["completion_tokens"].fillna(0).sum()),
                    "cache_hits": int(group["cache_hit"].sum()),
                    "simulated": model in simulated,
                }
            )
            out.append(row)
        if not out:  # nothing completed (e.g. the budget stopped the first call)
            table = pd.DataFrame(
                index=pd.MultiIndex.from_tuples([], names=["model", "variant"]),
                columns=["n_cases", "n_calls", "errors", "error_rate", *self.scorers],
            )
            return SummaryTable.of(table, {"ci_method": {}, "errors": errors, "scorers": [],
                                           "notes": [f"no calls completed ({self.status}): "
                                                     f"{self.stop_reason}"]})
        table = pd.DataFrame(out)
        model_order = {m.label: i for i, m in enumerate(self.record.models)}
        variant_order = {v.name: i for i, v in enumerate(self.record.variants)}
        table = table.sort_values(
            ["model", "variant"],
            key=lambda col: col.map(model_order if col.name == "model" else variant_order),
            kind="stable",
        ).set_index(["model", "variant"])
        return SummaryTable.of(table, {"ci_method": methods, "errors": errors,
                                       "scorers": self.scorers,
                                       "notes": self._notes(table, methods, errors)})

    def summary_text(self, *, errors: Literal["zero", "drop"] = "zero") -> str:
        """The summary as a plain-text table, with its footnotes (used by the CLI)."""
        return self.summary(errors=errors).text()

    def _notes(self, table: pd.DataFrame, methods: dict[str, str], errors: str) -> list[str]:
        lines: list[str] = []
        if methods:
            lines.append(
                "CIs: " + ", ".join(f"{k}: {v}" for k, v in methods.items())
                + "; failed calls and scorer failures counted as "
                + ("0" if errors == "zero" else "missing")
                + ("; errors = failed calls + outputs a scorer failed on"
                   if (table["scorer_errors"] > 0).any() else "")
            )
        if self.simulated_models:
            lines.append(
                "SIMULATED models (offline stand-ins, not real LLMs): "
                + ", ".join(self.simulated_models)
            )
        if self.simulated_judges:
            lines.append(
                "SIMULATED judges (offline stand-ins): "
                + ", ".join(f"{k} by {v}" for k, v in self.simulated_judges.items())
            )
        if not self.complete:
            lines.append(f"INCOMPLETE ({self.status}): {self.stop_reason}")
        return lines

    # ---------------------------------------------------------------- display
    def __repr__(self) -> str:
        """``<Comparison support_triage: 4 configurations, 624 rows, complete, $0.0312>``."""
        configs = self.results.groupby(["model", "variant"], observed=True).ngroups
        sim = ", simulated" if self.simulated_models else ""
        return (
            f"<Comparison {self.record.golden_set.name}: {configs} "
            f"configurations, {len(self.results)} rows, {self.status}{sim}, "
            f"billed ${self.spent_usd:.4f}>"
        )

    def _repr_html_(self) -> str:
        from ._html import comparison_html

        return comparison_html(self)

    # ---------------------------------------------------------------- persistence
    def save(self, directory: str | Path) -> Path:
        """Write ``results.parquet``, ``score_details.parquet`` and ``comparison.json`` to a dir.

        Each file is written to a temporary file beside it and renamed into place (DESIGN.md,
        Settled R3), ``comparison.json`` last: a process killed while saving leaves the
        previous save whole. ``comparison.json`` records the sha256 of both tables, so
        :meth:`load` notices a folder that mixes two saves.

        Example:
            >>> import tempfile
            >>> folder = cmp.save(tempfile.mkdtemp())
            >>> wb.Comparison.load(folder).results.equals(cmp.results)
            True
        """
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        tables = {RESULTS_FILE: _parquet_bytes(self.results),
                  DETAILS_FILE: _parquet_bytes(self.score_details)}
        doc = {**self.record.model_dump(mode="json"), FILES_KEY: {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
            for name, data in tables.items()}}
        text = json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n"
        # every file is complete on disk before the first rename; comparison.json goes last
        with ExitStack() as stack:
            meta_fh = stack.enter_context(atomic_write(out / META_FILE))
            for name, data in tables.items():
                stack.enter_context(atomic_write(out / name, "wb")).write(data)
            meta_fh.write(text)
        return out

    @classmethod
    def load(cls, directory: str | Path) -> Comparison:
        """Read a comparison written by :meth:`save`.

        Raises:
            ConfigError: when the directory holds no saved comparison or was written by a
                newer version.
            DamagedSaveError: when a file of the save is missing, truncated or from another
                save; the message says how to recover (resume the run from its checkpoint).
        """
        src = Path(directory)
        meta_path, results_path = src / META_FILE, src / RESULTS_FILE
        if not meta_path.is_file() and not results_path.is_file():
            raise ConfigError(
                "not a saved comparison (comparison.json and results.parquet expected)",
                where=str(src),
                fix="Pass the directory given to Comparison.save().",
            )
        if not meta_path.is_file():
            raise _damaged(src, f"{META_FILE} is missing", None)
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if not isinstance(meta, dict):
                raise ValueError(f"a JSON {type(meta).__name__}, not an object")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise _damaged(src, f"{META_FILE} cannot be read ({exc})", None) from None
        version = meta.get("schema_version")
        if not isinstance(version, int) or version > RECORD_SCHEMA_VERSION:
            raise ConfigError(
                f"comparison schema_version {version!r} is not supported (this workbench "
                f"reads up to {RECORD_SCHEMA_VERSION})",
                where=str(meta_path),
                fix="Upgrade workbench to read it.",
            )
        recorded: dict[str, Any] = meta.pop(FILES_KEY, None) or {}
        checkpoint = (meta.get("run") or {}).get("checkpoint") if version > 1 else \
            meta.get("checkpoint")
        results = _read_table(src, RESULTS_FILE, recorded, checkpoint, required=True)
        if results is None:  # unreachable: a required table is read or refused
            raise _damaged(src, f"{RESULTS_FILE} is missing", checkpoint)
        try:
            record = (RunRecord.from_legacy(meta) if version == 1
                      else RunRecord.model_validate(meta))
        except ValidationError as exc:
            raise _damaged(src, f"{META_FILE} does not hold a valid run record "
                           f"({exc.error_count()} problem(s), first: "
                           f"{exc.errors()[0]['loc']}: {exc.errors()[0]['msg']})",
                           checkpoint) from None
        extra = [c for c in results.columns if c not in RESULT_COLUMNS]
        records: list[dict[str, Any]] = [
            {str(k): v for k, v in r.items()} for r in results.to_dict("records")
        ]
        raw_details = _read_table(src, DETAILS_FILE, recorded, checkpoint, required=False)
        details = None
        if raw_details is not None:
            details = details_frame([{str(k): v for k, v in r.items()}
                                     for r in raw_details.to_dict("records")])
        return cls(results_frame(records, extra), record, details)

    def to_config(self, path: str | Path | None = None) -> str:
        """The experiment file (YAML) that reproduces this comparison; written to ``path``.

        Example:
            >>> print(cmp.to_config().splitlines()[0])
            # Reproduces a workbench comparison (written by Comparison.to_config)
        """
        text = experiment_yaml(self.record, base=Path(path).parent if path else None)
        if path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            write_text(Path(path), text)
        return text


def _parquet_bytes(df: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    df.to_parquet(buffer, index=False)
    return buffer.getvalue()


def _damaged(src: Path, what: str, checkpoint: str | None) -> DamagedSaveError:
    """The error for a damaged save: what is wrong, and how to get the comparison back."""
    at = (f" (its checkpoint is {checkpoint})" if checkpoint and Path(checkpoint).is_file()
          else "")
    leftovers = sorted(p.name for p in src.glob(".*.tmp"))
    if leftovers:
        what += f"; a save was interrupted (temporary files left: {', '.join(leftovers[:3])})"
    return DamagedSaveError(
        what, where=str(src),
        fix=("Recover the comparison from the run's checkpoint" + at + ": rerun the same "
             "experiment with --resume (workbench run EXPERIMENT.yaml --resume --out DIR, or "
             "wb.compare(..., resume=True) then cmp.save(DIR)); recorded calls are not paid "
             "again. If it was logged, wb.load_comparison(RUN_ID) also rebuilds it."))


def _read_table(src: Path, name: str, recorded: dict[str, Any], checkpoint: str | None, *,
                required: bool) -> pd.DataFrame | None:
    """Read one Parquet table of a save, checking it against the sha256 comparison.json keeps."""
    path = src / name
    if not path.is_file():
        if required or name in recorded:
            raise _damaged(src, f"{name} is missing", checkpoint)
        return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _damaged(src, f"{name} cannot be read ({exc})", checkpoint) from None
    try:
        table = pd.read_parquet(io.BytesIO(data))
    except Exception as exc:  # pyarrow's ArrowInvalid, OSError and kin: any unreadable table
        size = "empty (0 bytes)" if not data else f"{len(data)} bytes"
        raise _damaged(src, f"{name} is damaged, {size}: {type(exc).__name__}: "
                       f"{str(exc)[:200]}", checkpoint) from None
    expected = (recorded.get(name) or {}).get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        raise _damaged(src, f"{name} ({len(data)} bytes) is not the file {META_FILE} was saved "
                       "with (its sha256 differs): the folder mixes two saves", checkpoint)
    return table


def _pct(values: np.ndarray[Any, Any], q: float) -> float:
    return float(np.percentile(values, q)) if values.size else float("nan")
