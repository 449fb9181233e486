"""``pairwise``: a judge compares candidate and incumbent outputs case by case, in both orders.

Each case is judged twice, once with the candidate shown first and once with the incumbent
first. A win or loss counts only when both orders agree; disagreement (position bias) is a tie
marked inconsistent, and the consistency rate is reported (Zheng et al. 2023; Shi et al. 2024).
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import Mapping
from typing import Any

import pandas as pd

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.models import (
    BudgetExhausted,
    BudgetLedger,
    CallCache,
    CallExecutor,
    CallRequest,
    ModelSpec,
    cache_key,
    run_sync,
)
from workbench.records import PairwiseRow, PairwiseSummary
from workbench.scorers import RUBRICS, VerdictError, pairwise_messages, parse_preference

from ._comparison import Comparison
from ._plan import JUDGE_COMPLETION_TOKENS

__all__ = ["PairwiseTable", "judge_cost_text", "pairwise"]

Config = tuple[str, str]


def judge_cost_text(cost_usd: float, billed_usd: float | None) -> str:
    """``judge cost $X``, with what this run billed when verdicts came from the cache.

    Example:
        >>> judge_cost_text(0.0564, 0.0)
        'judge cost $0.0564 (billed $0.0000: verdicts from the cache)'
        >>> judge_cost_text(0.0564, 0.0564)
        'judge cost $0.0564'
    """
    text = f"judge cost ${cost_usd:.4f}"
    if billed_usd is None or abs(billed_usd - cost_usd) < 5e-7:
        return text
    if billed_usd == 0:
        return f"{text} (billed $0.0000: verdicts from the cache)"
    return f"{text} (billed ${billed_usd:.4f}; the rest from the cache)"


class PairwiseTable(pd.DataFrame):
    """The table ``wb.pairwise`` returns: a DataFrame whose notebook view leads with a summary.

    ``attrs`` holds the counts (wins, losses, ties, n, consistency_rate, errors, judge, cost).
    """

    @property
    def _constructor(self) -> type[PairwiseTable]:  # slices stay PairwiseTables
        return PairwiseTable

    def to_typed(self) -> tuple[list[PairwiseRow], PairwiseSummary | None]:
        """The rows and counts as typed records (for the run record of a shadow test)."""
        rows = [PairwiseRow(**{k: (None if v is None or v is pd.NA or (
            isinstance(v, float) and v != v) else v) for k, v in r.items()
            if k in PairwiseRow.model_fields})
            for r in self.to_dict("records")]
        a = self.attrs
        summary = PairwiseSummary(**{k: (tuple(v) if k in ("candidate", "incumbent") else v)
                                     for k, v in a.items() if k in PairwiseSummary.model_fields}
                                  ) if "wins" in a else None
        return rows, summary

    @classmethod
    def from_typed(cls, rows: list[PairwiseRow], summary: PairwiseSummary | None
                     ) -> PairwiseTable:
        """The table back from its typed records (a shadow test read from disk or MLflow)."""
        df = cls([r.model_dump() for r in rows], columns=list(PairwiseRow.model_fields))
        if summary is not None:
            df.attrs.update(summary.model_dump())
            df.attrs["candidate"] = list(summary.candidate)
            df.attrs["incumbent"] = list(summary.incumbent)
        return df

    def summary(self) -> str:
        """``candidate vs incumbent by judge: W wins, L losses, T ties …`` (empty without attrs)."""
        a = self.attrs
        if "wins" not in a:
            return ""
        sim = " (SIMULATED judge)" if a.get("simulated_judge") else ""
        return (f"{'/'.join(a['candidate'])} vs {'/'.join(a['incumbent'])}, {a['rubric']} "
                f"judged by {a['judge']}{sim} in both orders: {a['wins']} wins, "
                f"{a['losses']} losses, {a['ties']} ties on {a['n']} cases; orders agreed on "
                f"{a['consistency_rate']:.0%}; {a['errors']} without a verdict; "
                f"{judge_cost_text(a['judge_cost_usd'], a.get('judge_billed_usd'))}")

    def _repr_html_(self) -> str:
        table = self.to_html(max_rows=20, notebook=True)  # pandas escapes cell text
        head = self.summary()
        return f"<p>{html.escape(head)}</p>{table}" if head else table


def _outputs(cmp: Comparison, config: Config, repeat: int, role: str) -> pd.Series:
    model, variant = config
    df = cmp.results
    rows = df[(df["model"] == model) & (df["variant"] == variant) & (df["repeat"] == repeat)]
    if rows.empty:
        known = sorted({(m, v) for m, v in zip(df["model"], df["variant"], strict=True)})
        raise ConfigError(
            f"the comparison has no results for {role} {config!r}",
            where="pairwise",
            fix=f"Use a (model, variant) pair from the comparison: {known}.",
        )
    ok = rows[rows["error_type"].isna()]
    return pd.Series(ok["output"].to_numpy(), index=ok["case_id"].to_numpy())


def pairwise(
    cmp: Comparison,
    *,
    candidate: Config,
    incumbent: Config,
    judge: ModelSpec | str = "sim/judge",
    rubric: str = "correctness",
    golden_set: GoldenSet | None = None,
    repeat: int = 0,
    cache: bool = True,
    budget_usd: float | None = None,
    concurrency: int = 16,
) -> PairwiseTable:
    """Judge candidate against incumbent on every case both answered, in both orders.

    Returns one row per case: ``case_id``, ``verdict_candidate_first`` and
    ``verdict_incumbent_first`` (each ``"candidate"``, ``"incumbent"`` or ``"tie"``),
    ``outcome`` (``"win"``/``"loss"``/``"tie"`` for the candidate; a win or loss needs both
    orders to agree), ``consistent``, ``judge_cost_usd`` and ``error``. ``df.attrs`` holds
    ``wins``, ``losses``, ``ties``, ``n``, ``consistency_rate``, ``errors`` and the judge.
    Cases where either side failed are left out (``attrs["skipped"]`` counts them).

    Example:
        >>> pw = wb.pairwise(cmp, candidate=("sim/fast", "json"),
        ...                  incumbent=("sim/large", "json"), cache=False)
        >>> len(pw), pw.attrs["wins"] + pw.attrs["losses"] + pw.attrs["ties"]
        (12, 12)
    """
    spec = ModelSpec(judge) if isinstance(judge, str) else judge
    rubric_text = RUBRICS.get(rubric, rubric)
    reference = rubric in ("correctness", "refusal")
    gs = cmp.golden_set(golden_set)
    cand, inc = (_outputs(cmp, candidate, repeat, "candidate"),
                 _outputs(cmp, incumbent, repeat, "incumbent"))
    shared = [c for c in cand.index if c in set(inc.index)]
    all_cases = set(cmp.results["case_id"])
    records = {str(r["id"]): r for r in gs.records()}
    spec.pricing()  # refuse an unpriced judge before any call
    executor = CallExecutor(cache=CallCache() if cache else None,
                            budget=BudgetLedger(budget_usd=budget_usd), concurrency=concurrency)
    columns = gs.input_columns
    response_format = {"type": "json_object"} if spec.supports_json_mode() else None

    billed: list[float] = []

    async def verdict(case: Mapping[str, Any], first: str, second: str) -> tuple[str, float]:
        messages = pairwise_messages(rubric_text, case, first, second, reference=reference,
                                     input_columns=columns)
        request = CallRequest(spec=spec, messages=messages, response_format=response_format,
                              key=cache_key(spec.identity(), messages,
                                            response_format=response_format),
                              est_prompt_tokens=sum(len(m["content"]) for m in messages) // 4,
                              est_completion_tokens=JUDGE_COMPLETION_TOKENS)
        result = await executor.call(request, use_cache=cache)
        cost = float(result.cost_usd or 0.0)
        billed.append(float(result.billed_usd or 0.0))
        if result.error_type is not None:
            raise VerdictError(f"judge call failed: {result.error_type}")
        return parse_preference(result.output or ""), cost

    async def one(case_id: str) -> dict[str, Any]:
        case = records[case_id]
        row: dict[str, Any] = {"case_id": case_id, "verdict_candidate_first": None,
                               "verdict_incumbent_first": None, "outcome": None,
                               "consistent": None, "judge_cost_usd": 0.0, "error": None}
        try:
            a, cost_a = await verdict(case, cand[case_id], inc[case_id])
            b, cost_b = await verdict(case, inc[case_id], cand[case_id])
        except (VerdictError, BudgetExhausted) as exc:
            row["error"] = f"{type(exc).__name__}: {exc}"[:300]
            return row
        first = {"A": "candidate", "B": "incumbent", "tie": "tie"}[a]
        second = {"A": "incumbent", "B": "candidate", "tie": "tie"}[b]
        consistent = first == second
        outcome = {"candidate": "win", "incumbent": "loss", "tie": "tie"}[first] if consistent \
            else "tie"
        row.update(verdict_candidate_first=first, verdict_incumbent_first=second,
                   outcome=outcome, consistent=consistent, judge_cost_usd=cost_a + cost_b)
        return row

    async def run_all() -> list[dict[str, Any]]:
        return list(await asyncio.gather(*(one(c) for c in shared)))

    rows = run_sync(run_all())
    df = PairwiseTable(rows, columns=["case_id", "verdict_candidate_first",
                                     "verdict_incumbent_first", "outcome", "consistent",
                                     "judge_cost_usd", "error"])
    judged = df[df["error"].isna()]
    df.attrs.update(
        candidate=list(candidate), incumbent=list(incumbent), judge=spec.label, rubric=rubric,
        simulated_judge=spec.simulated, n=len(judged),
        wins=int((judged["outcome"] == "win").sum()),
        losses=int((judged["outcome"] == "loss").sum()),
        ties=int((judged["outcome"] == "tie").sum()),
        consistency_rate=float(judged["consistent"].astype(bool).mean()) if len(judged)
        else float("nan"),
        errors=int(df["error"].notna().sum()),
        skipped=len(all_cases) - len(shared),
        judge_cost_usd=float(df["judge_cost_usd"].sum()),
        judge_billed_usd=float(sum(billed)),
    )
    return df
