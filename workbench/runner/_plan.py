"""``plan``: validate a comparison and estimate its calls, tokens and cost without calling."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError, Problem
from workbench.models import ModelSpec, Pricing, cache_key, litellm
from workbench.prompts import PromptVariant
from workbench.scorers import ModelScorer, Scorer, calls_models
from workbench.stats import minimum_detectable_effect, plan_sample_size

__all__ = ["JUDGE_COMPLETION_TOKENS", "Cell", "Plan", "plan"]

JUDGE_COMPLETION_TOKENS = 40
"""Estimated completion tokens of one judge verdict (a JSON score and a one-sentence reason)."""

Leakage = Literal["exclude", "error"]


@dataclass(frozen=True, slots=True)
class Cell:
    """One call of the matrix: a case under a model and a variant, for one repeat."""

    case_id: str
    model: str
    variant: str
    repeat: int
    messages: list[dict[str, str]]
    key: str
    seed: int | None
    est_prompt_tokens: int
    est_completion_tokens: int

    @property
    def id(self) -> tuple[str, str, str, int]:
        """(case_id, model, variant, repeat): the row's identity in the results table."""
        return (self.case_id, self.model, self.variant, self.repeat)


@dataclass
class Plan:
    """What a comparison will do, checked and priced before anything is spent.

    Print it (or show it in a notebook) to see calls, tokens and estimated cost per model and
    variant against the budget.
    """

    golden_set: GoldenSet
    models: list[ModelSpec]
    variants: list[PromptVariant]
    scorers: list[Scorer]
    repeats: int
    seed: int
    budget_usd: float | None
    cells: list[Cell]
    case_ids: list[str]
    excluded_ids: list[str]
    pricing: dict[str, Pricing]
    warnings: list[str] = field(default_factory=list)
    judge_prompt_tokens: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per judge scorer, per case: tokens of the judge prompt without the judged output."""
    judge_pricing: dict[str, Pricing] = field(default_factory=dict)
    """Per judge scorer: the judge model's prices."""

    # ---------------------------------------------------------------- figures
    @property
    def calls(self) -> int:
        """Number of calls (cells)."""
        return len(self.cells)

    @property
    def simulated(self) -> list[str]:
        """Labels of the simulated (``sim/...``) models in the plan, judges included."""
        judges = [s.model for s in self.scorers if isinstance(s, ModelScorer)
                  and calls_models(s)]
        return list(dict.fromkeys(m.label for m in [*self.models, *judges] if m.simulated))

    def estimate_usd(self, cell: Cell) -> float | None:
        """Estimated cost of one cell (None when the model's price is unknown)."""
        return self.pricing[cell.model].cost(cell.est_prompt_tokens, cell.est_completion_tokens)

    def judge_tokens(self, cell: Cell) -> int:
        """Estimated tokens of the judge calls that score one cell's output (all judges)."""
        return sum(
            per_case[cell.case_id] + cell.est_completion_tokens + JUDGE_COMPLETION_TOKENS
            for per_case in self.judge_prompt_tokens.values()
        )

    def judge_estimate_usd(self, cell: Cell) -> float | None:
        """Estimated cost of the judge calls that score one cell (0 without judges)."""
        total = 0.0
        for name, per_case in self.judge_prompt_tokens.items():
            cost = self.judge_pricing[name].cost(
                per_case[cell.case_id] + cell.est_completion_tokens, JUDGE_COMPLETION_TOKENS
            )
            if cost is None:
                return None
            total += cost
        return total

    def table(self) -> pd.DataFrame:
        """Calls, tokens and estimated cost per (model, variant)."""
        rows: dict[tuple[str, str], dict[str, Any]] = {}
        for cell in self.cells:
            row = rows.setdefault(
                (cell.model, cell.variant),
                {"calls": 0, "prompt_tokens": 0, "est_completion_tokens": 0, "est_cost_usd": 0.0},
            )
            row["calls"] += 1
            row["prompt_tokens"] += cell.est_prompt_tokens
            row["est_completion_tokens"] += cell.est_completion_tokens
            cost = self.estimate_usd(cell)
            row["est_cost_usd"] = None if cost is None or row["est_cost_usd"] is None else (
                row["est_cost_usd"] + cost
            )
            if self.judge_prompt_tokens:
                judged = self.judge_estimate_usd(cell)
                row.setdefault("judge_calls", 0)
                row["judge_calls"] += len(self.judge_prompt_tokens)
                prev = row.setdefault("est_judge_cost_usd", 0.0)
                row["est_judge_cost_usd"] = None if judged is None or prev is None else (
                    prev + judged
                )
        index = pd.MultiIndex.from_tuples(list(rows), names=["model", "variant"])
        return pd.DataFrame(list(rows.values()), index=index)

    @property
    def judge_calls(self) -> int:
        """Number of judge calls: one per cell and judge scorer (fewer when calls fail)."""
        return len(self.cells) * len(self.judge_prompt_tokens)

    @property
    def est_tokens(self) -> int:
        """Estimated prompt + completion tokens of all calls, judge calls included."""
        return sum(c.est_prompt_tokens + c.est_completion_tokens + self.judge_tokens(c)
                   for c in self.cells)

    @property
    def est_judge_cost_usd(self) -> float | None:
        """Estimated cost of the judge calls (0 without judges, None if a price is unknown)."""
        costs = [self.judge_estimate_usd(c) for c in self.cells]
        return None if any(c is None for c in costs) else float(sum(c or 0.0 for c in costs))

    @property
    def est_cost_usd(self) -> float | None:
        """Estimated cost of all calls, judge calls included (None if a price is unknown)."""
        costs = [self.estimate_usd(c) for c in self.cells]
        judges = self.est_judge_cost_usd
        if judges is None or any(c is None for c in costs):
            return None
        return float(sum(c or 0.0 for c in costs)) + judges

    def fingerprint(self) -> str:
        """Hash of what the calls are (cases, models, variants, repeats, seed), for checkpoints.

        Scorers are left out: changing a scorer re-scores recorded outputs without new calls.
        Computed once per list of cells (a run asks for it several times; at 400,000 cells
        each time costs a second and ~100 MB).
        """
        cached = self.__dict__.get("_fingerprint")
        if cached is not None and cached[0] is self.cells and cached[1] == len(self.cells):
            return str(cached[2])
        blob = json.dumps(
            {
                "digest": self.golden_set.digest,
                "cells": sorted(f"{c.model}|{c.variant}|{c.case_id}|{c.repeat}|{c.key}"
                                for c in self.cells),
            },
            sort_keys=True,
        )
        value = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:20]
        self.__dict__["_fingerprint"] = (self.cells, len(self.cells), value)
        return value

    # ---------------------------------------------------------------- display
    def headline(self) -> str:
        """One line: ``2 models × 2 variants × 150 cases = 600 calls, ≈ 90k tokens, est. $0.41``."""
        cost = self.est_cost_usd
        money = "cost unknown" if cost is None else f"est. ${cost:,.4f}"
        budget = "" if self.budget_usd is None else f", budget ${self.budget_usd:,.2f}"
        reps = f" × {self.repeats} repeats" if self.repeats > 1 else ""
        judges = ""
        if self.judge_prompt_tokens:
            jc = self.est_judge_cost_usd
            judges = f" + {self.judge_calls} judge calls" + (
                f" (est. ${jc:,.4f} of the total)" if jc is not None else " (cost unknown)")
        return (
            f"{_n(len(self.models), 'model')} × {_n(len(self.variants), 'variant')} × "
            f"{_n(len(self.case_ids), 'case')}{reps} = {self.calls} calls{judges}, "
            f"≈ {_k(self.est_tokens)} tokens, "
            f"{money}{budget}"
        )

    def notes(self) -> list[str]:
        """Exclusions, simulated models and other things the user should know."""
        notes = list(self.warnings)
        if self.excluded_ids:
            notes.append(
                f"{len(self.excluded_ids)} case(s) used as few-shot examples are excluded from "
                "scoring (all configurations, so comparisons stay paired)"
            )
        if self.simulated:
            notes.append(
                f"SIMULATED models (offline, not real LLMs): {', '.join(self.simulated)}"
            )
        if self.budget_usd is not None and (self.est_cost_usd or 0) > self.budget_usd:
            notes.append(
                f"the estimate exceeds the budget: the run will stop at ${self.budget_usd:,.2f} "
                "and keep what completed"
            )
        power = self.power()
        if power:
            notes.append(power)
        return notes

    def power(self, discordance: float = 0.2, margin: float = 0.02) -> str:
        """What the planned cases can show when two configurations are compared (paired).

        The minimum detectable pass-rate difference (80% power, two-sided α = 0.05) and the
        cases a non-inferiority gate with ``margin`` needs, assuming the configurations answer
        ``discordance`` of the cases differently (``wb.plan_sample_size`` for other figures).
        Empty with fewer than two configurations.
        """
        if len(self.models) * len(self.variants) < 2 or len(self.case_ids) < 2:
            return ""
        n = len(self.case_ids)
        mde = minimum_detectable_effect(n, discordance=discordance)
        need = plan_sample_size(margin=margin, discordance=discordance).n
        shown = f"±{mde:.3f}" if mde == mde else "no difference"
        return (f"power: with {n} paired cases, a pass-rate difference of {shown} between two "
                f"configurations is detectable (80% power, two-sided α=0.05, if they disagree "
                f"on {discordance:.0%} of cases); a non-inferiority gate with a "
                f"{margin:g} margin needs about {need} cases (wb.plan_sample_size)")

    def __str__(self) -> str:
        """The headline, the per-configuration table and the notes."""
        money: Callable[[Any], str] = lambda v: "unknown" if pd.isna(v) else f"${v:,.4f}"  # noqa: E731
        formatters: dict[str, Callable[[Any], str]] = {
            "est_cost_usd": money, "est_judge_cost_usd": money,
        }
        table = self.table().to_string(formatters=formatters)
        lines = [f"Plan for {self.golden_set.name!r}: {self.headline()}", table]
        lines += [f"note: {n}" for n in self.notes()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        """The headline."""
        return f"<Plan {self.headline()}>"

    def _repr_html_(self) -> str:
        from ._html import plan_html

        return plan_html(self)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _k(n: int) -> str:
    return f"{n / 1000:,.0f}k" if n >= 10_000 else f"{n:,}"


def _answer_tokens(expected: Any) -> int:
    text = expected if isinstance(expected, str) else json.dumps(expected, ensure_ascii=False)
    return max(1, len(text or "") // 4)


def _unique(names: Sequence[str], kind: str, fix: str) -> list[Problem]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            problems.append(Problem(f"{kind} {name!r}", f"two {kind}s are named {name!r}", fix))
        seen.add(name)
    return problems


def call_seed(spec: ModelSpec, seed: int, repeat: int) -> int | None:
    """The seed sent with a call: the spec's own, else (for simulated models) one per repeat.

    Real providers get no seed unless the spec sets one (not every provider accepts it).
    """
    if spec.seed is not None:
        return spec.seed
    if spec.simulated:
        return seed * 1000 + repeat
    return None


def plan(
    golden_set: GoldenSet,
    models: Sequence[ModelSpec | str],
    variants: Sequence[PromptVariant],
    scorers: Sequence[Scorer] = (),
    *,
    repeats: int = 1,
    budget_usd: float | None = None,
    seed: int = 0,
    leakage: Leakage = "exclude",
    cases: Sequence[str] | None = None,
) -> Plan:
    """Validate a comparison and price it, without calling any model.

    Checks, before anything is spent: every template against the golden set's columns, unique
    model labels, variant and scorer names, known prices (or an explicit override or
    ``accept_unknown_cost``), and few-shot leakage (``leakage="exclude"`` drops few-shot cases
    from the evaluated cases, ``"error"`` refuses). Prompt tokens are counted with litellm's
    tokenizer; completion tokens are estimated from the expected answers' length.

    Example:
        >>> import workbench as wb
        >>> gs = wb.GoldenSet.load("datasets/support_triage/golden.jsonl")
        >>> p = wb.plan(gs, ["sim/large"], [wb.PromptVariant("t", user="{{ message }}")])
        >>> p.calls, p.est_cost_usd > 0
        (156, True)
    """
    specs = [ModelSpec(m) if isinstance(m, str) else m for m in models]
    problems: list[Problem] = []
    if not specs:
        problems.append(Problem("models", "no models given", "Pass at least one ModelSpec."))
    if not variants:
        problems.append(
            Problem("variants", "no prompt variants given", "Pass at least one PromptVariant.")
        )
    if repeats < 1:
        problems.append(Problem("repeats", f"repeats={repeats}", "Use 1 or more."))
    if budget_usd is not None and budget_usd <= 0:
        problems.append(Problem("budget_usd", f"budget_usd={budget_usd}", "Use a positive amount."))
    problems += _unique(
        [s.label for s in specs], "model",
        'Give one of them a label: ModelSpec("...", name="...").',
    )
    problems += _unique([v.name for v in variants], "variant", "Rename one of the variants.")
    problems += _unique(
        [s.name for s in scorers], "scorer",
        'Rename one: label_match(field="priority", name="priority_match").',
    )
    for variant in variants:
        try:
            variant.check(golden_set)
        except ConfigError as exc:
            problems.extend(exc.problems)
    pricing: dict[str, Pricing] = {}
    for spec in specs:
        try:
            pricing[spec.label] = spec.pricing()
            spec.call_kwargs()  # a key variable that is not set fails here, not mid-run
        except ConfigError as exc:
            problems.extend(exc.problems)
    judges = [s for s in scorers if isinstance(s, ModelScorer) and calls_models(s)]
    judge_pricing: dict[str, Pricing] = {}
    for j in judges:
        try:
            judge_pricing[j.name] = j.model.pricing()
            j.model.call_kwargs()
        except ConfigError as exc:
            problems.extend(
                Problem(f"judge {j.name!r}: {pr.where}", pr.what, pr.fix) for pr in exc.problems
            )
    if problems:
        raise ConfigError.from_problems(problems)

    all_ids = golden_set.ids
    if cases is not None:
        unknown = [c for c in cases if c not in set(all_ids)]
        if unknown:
            raise ConfigError(
                f"{len(unknown)} case id(s) are not in {golden_set.name!r}: {unknown[:5]}",
                where="cases",
                fix="Pass ids from golden_set.ids.",
            )
        chosen = set(cases)
        all_ids = [i for i in all_ids if i in chosen]
    few_shot = sorted({i for v in variants for i in v.few_shot_ids})
    leaked = [i for i in few_shot if i in set(all_ids)]
    if leaked and leakage == "error":
        raise ConfigError(
            f"{len(leaked)} few-shot example(s) are also evaluated cases: {leaked[:5]}",
            where="variants",
            fix='Take few-shot examples from another split, or pass leakage="exclude".',
        )
    leaked_set = set(leaked)
    case_ids = [i for i in all_ids if i not in leaked_set]
    if not case_ids:
        raise ConfigError(
            "no cases left to evaluate", where=golden_set.name, fix="Use fewer few-shot examples."
        )

    rows = {str(r["id"]): r for r in golden_set.records()}
    counter = litellm().token_counter
    cells: list[Cell] = []
    rendered: dict[tuple[str, str], list[dict[str, str]]] = {}
    for case_id in case_ids:
        for variant in variants:
            rendered[(variant.name, case_id)] = variant.render(rows[case_id])
    token_cache: dict[tuple[str, str], int] = {}
    for repeat in range(repeats):
        for case_id in case_ids:
            answer = _answer_tokens(rows[case_id].get("expected"))
            for variant in variants:
                messages = rendered[(variant.name, case_id)]
                for spec in specs:
                    tk = (spec.id, variant.name + "\0" + case_id)
                    if tk not in token_cache:
                        token_cache[tk] = int(counter(model=spec.id, messages=messages))
                    est_completion = answer + 8
                    if spec.max_tokens is not None:
                        est_completion = min(est_completion, spec.max_tokens)
                    sent_seed = call_seed(spec, seed, repeat)
                    cells.append(
                        Cell(
                            case_id=case_id,
                            model=spec.label,
                            variant=variant.name,
                            repeat=repeat,
                            messages=messages,
                            key=cache_key(
                                spec.identity(), messages,
                                response_format=variant.response_format,
                                seed=sent_seed, repeat=repeat,
                            ),
                            seed=sent_seed,
                            est_prompt_tokens=token_cache[tk],
                            est_completion_tokens=est_completion,
                        )
                    )
    judge_prompt_tokens: dict[str, dict[str, int]] = {}
    for j in judges:  # the prompt a judge would send, when it can say (Judge can)
        prompt = getattr(j.bind(_never_called, golden_set.input_columns), "messages", None)
        judge_prompt_tokens[j.name] = {
            cid: int(counter(model=j.model.id, messages=prompt(rows[cid], "")))
            if callable(prompt) else 0 for cid in case_ids
        }
    every_price = {**pricing, **{j.model.label: judge_pricing[j.name] for j in judges}}
    warnings = [
        f"model {label!r}: price unknown (accepted), its cost is not counted against the budget"
        for label, p in every_price.items()
        if p.input_per_1m is None
    ]
    return Plan(
        golden_set=golden_set,
        models=specs,
        variants=list(variants),
        scorers=list(scorers),
        repeats=repeats,
        seed=seed,
        budget_usd=budget_usd,
        cells=cells,
        case_ids=case_ids,
        excluded_ids=leaked,
        pricing=pricing,
        warnings=warnings,
        judge_prompt_tokens=judge_prompt_tokens,
        judge_pricing=judge_pricing,
    )


async def _never_called(*_: Any) -> Any:  # a judge bound only to build its prompts
    raise RuntimeError("plan() makes no calls")
