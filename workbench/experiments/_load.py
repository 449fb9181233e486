"""Experiment files: a whole comparison in YAML, parsed into the objects the Python API uses.

A minimal file::

    golden_set: ../datasets/support_triage/golden.jsonl
    models: [sim/large, {id: sim/small, temperature: 0}]
    variants:
      - name: terse
        user: "Classify: {{ message }}"
    scorers: [{scorer: label_match, args: {field: intent}}]

Paths are relative to the experiment file and must resolve inside its folder (after following
symbolic links) or the public golden sets shipped in this checkout's ``datasets/``: an
experiment file cannot read ``../../../../etc/passwd`` into a prompt. Allow more folders
explicitly with ``load_experiment(..., allow_outside=[...])`` (``workbench run
--allow-outside PATH``). Scorers named ``module:function`` must be decorated with
``@wb.scorer``; the module's source is checked before it is imported, so ``os:system`` or a
plain function is refused without running anything. Errors name the key path and the line.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from workbench._yaml import line_of as _line_of
from workbench._yaml import load_model
from workbench.datasets import GoldenSet
from workbench.errors import ConfigError, Problem, WorkbenchError, location
from workbench.models import ModelSpec
from workbench.prompts import PromptVariant
from workbench.runner import Plan, plan
from workbench.scorers import Scorer, calls_models, resolve_scorer
from workbench.stats import Gates, load_human_labels

from ._file import Experiment, ScorerEntry, VariantEntry

__all__ = ["SHIPPED_DATASETS", "LoadedExperiment", "load_experiment", "load_variant"]

def _resolve_scorer(entry: ScorerEntry, where: str) -> Scorer:
    return resolve_scorer(entry.scorer, entry.args, name=entry.name, where=where)


class LoadedExperiment:
    """An experiment file turned into API objects, ready for ``plan``/``compare``."""

    def __init__(self, path: Path, experiment: Experiment, golden_set: GoldenSet,
                 models: list[ModelSpec], variants: list[PromptVariant],
                 scorers: list[Scorer], human_labels: pd.DataFrame | None = None,
                 gates: Gates | None = None) -> None:
        self.path = path
        self.gates = gates
        """The checked gates, when the file names a gates file."""
        self.human_labels = human_labels
        """The checked human-label table, when the file names one."""
        self.experiment = experiment
        self.golden_set = golden_set
        self.models = models
        self.variants = variants
        self.scorers = scorers

    def options(self) -> dict[str, Any]:
        """Keyword options for ``plan`` (``plan_options``) plus the run options of ``compare``."""
        e = self.experiment
        return {"repeats": e.repeats, "concurrency": e.concurrency, "budget_usd": e.budget_usd,
                "cache": e.cache, "seed": e.seed, "cases": e.cases, "leakage": e.leakage}

    def plan(self, budget_usd: float | None = None) -> Plan:
        """The checked, priced plan of this experiment (``budget_usd`` overrides the file's)."""
        opts = self.options()
        return plan(self.golden_set, self.models, self.variants, self.scorers,
                    repeats=opts["repeats"], seed=opts["seed"], leakage=opts["leakage"],
                    cases=opts["cases"],
                    budget_usd=opts["budget_usd"] if budget_usd is None else budget_usd)


def _shipped_datasets() -> Path | None:
    """The public golden sets shipped beside this checkout (``datasets/``), if present.

    Public, versioned data holds no secret, so experiment files may read it without
    ``--allow-outside``: the shipped examples in ``examples/`` point at ``../datasets``.
    """
    root = Path(__file__).resolve().parents[2] / "datasets"
    marker = root / "support_triage" / "golden.yaml"
    return root.resolve() if marker.is_file() else None


SHIPPED_DATASETS = _shipped_datasets()


def _resolver(file: Path, allow_outside: Sequence[str | Path]) -> Any:
    """A function resolving a path of the experiment file inside its folder (or an allowed one).

    The function takes the path as written and its location (``file, line N``) and returns the
    resolved path, or raises a ConfigError naming the key's line and the way to allow it.
    """
    base = file.parent.resolve()
    allowed = [base, *(Path(p).expanduser().resolve() for p in allow_outside)]
    if SHIPPED_DATASETS is not None:
        allowed.append(SHIPPED_DATASETS)

    def resolve(name: str, where: str, key: str) -> Path:
        target = (base / Path(name).expanduser()).resolve()
        if any(target == root or target.is_relative_to(root) for root in allowed):
            return target
        others = [a for a in allowed[1:] if a != SHIPPED_DATASETS]
        extra = f" or the allowed {', '.join(str(a) for a in others)}" if others else ""
        raise ConfigError(
            f"{key}: {name!r} resolves to {target}, outside the experiment's folder "
            f"{base}{extra}",
            where=where,
            fix="Keep the files an experiment reads in its folder, or allow the other folder "
            "explicitly: `workbench run EXPERIMENT.yaml --allow-outside FOLDER` "
            "(load_experiment(path, allow_outside=[FOLDER]) in Python).",
        )

    return resolve


def load_experiment(
    path: str | Path, *, allow_outside: Sequence[str | Path] = ()
) -> LoadedExperiment:
    """Read, validate and build everything an experiment file describes (no model is called).

    Args:
        path: the experiment file (YAML).
        allow_outside: folders (or files) outside the experiment's folder that its paths
            may point into; by default every path must resolve inside the experiment's folder.

    Raises:
        ConfigError: naming the file, key path and line of each problem, and the fix.
    """
    file = Path(path)
    exp, root = load_model(file, Experiment, what="experiment file",
                           example="examples/triage_experiment.yaml")

    resolve = _resolver(file, allow_outside)

    def line_of(*loc: Any) -> str:
        return location(file, line=_line_of(root, loc))

    gs_path = resolve(exp.golden_set.path, line_of("golden_set", "path"), "golden_set")
    golden_set = GoldenSet.load(gs_path)
    if exp.golden_set.digest is not None and exp.golden_set.digest != golden_set.digest:
        raise ConfigError(
            f"the golden set's digest is {golden_set.digest}, the experiment pins "
            f"{exp.golden_set.digest}",
            where=line_of("golden_set", "digest"),
            fix="The data changed since the experiment was written: restore it, or update "
            "the pinned digest if the change is intended.",
        )
    problems = []
    models: list[ModelSpec] = []
    for i, entry in enumerate(exp.models):
        try:
            models.append(entry.spec())
        except WorkbenchError as exc:
            problems.append(Problem(line_of("models", i), exc.problem.what, exc.problem.fix))
    variants: list[PromptVariant] = []
    first_case = golden_set.records()[0]
    for i, v in enumerate(exp.variants):
        try:
            variants.append(_variant(v, golden_set, lambda key, name, i=i: resolve(
                name, line_of("variants", i, key), f"variants.{i}.{key}"), first_case))
        except WorkbenchError as exc:
            if exc.problem.where.startswith(str(file)):  # already located in this file
                problems.append(exc.problem)
            else:
                problems.append(Problem(f"{line_of('variants', i)} ({exc.problem.where})",
                                        exc.problem.what, exc.problem.fix))
    scorers: list[Scorer] = []
    for i, s in enumerate(exp.scorers):
        try:
            scorers.append(_resolve_scorer(s, line_of("scorers", i)))
        except WorkbenchError as exc:
            problems.extend(exc.problems)
    if exp.pairwise is not None:
        configs = {(m.label, v.name) for m in models for v in variants}
        for role in ("candidate", "incumbent"):
            model, variant = getattr(exp.pairwise, role)
            if models and variants and (model, variant) not in configs:
                problems.append(Problem(
                    line_of("pairwise", role), f"{role} {model}/{variant} is not a configuration "
                    "of this experiment",
                    f"Use one of: {', '.join(sorted(f'[{m}, {v}]' for m, v in configs))}."))
        if exp.pairwise.candidate == exp.pairwise.incumbent:
            problems.append(Problem(line_of("pairwise"), "candidate and incumbent are the same",
                                    "Compare two different configurations."))
    human_labels = None
    if exp.human_labels is not None:
        try:
            human_labels = load_human_labels(
                resolve(exp.human_labels, line_of("human_labels"), "human_labels"))
        except (WorkbenchError, OSError) as exc:
            what = (exc.problem.what if isinstance(exc, WorkbenchError)
                    else f"cannot read the human-label file: {exc.strerror or exc}")
            problems.append(Problem(line_of("human_labels"), what,
                                    "Give a CSV with the columns of wb.stats.LABEL_COLUMNS, "
                                    "relative to the experiment file."))
        else:
            judged = {s.name for s in scorers if calls_models(s)}
            if not judged & set(human_labels["scorer"]):
                problems.append(Problem(
                    line_of("human_labels"),
                    f"the labels are for {sorted(set(human_labels['scorer']))}, and no judge "
                    f"scorer of this experiment has that name (judges: {sorted(judged)})",
                    "Name the judge scorer as the labels do (scorers: - {scorer: judge, name: "
                    "...}).",
                ))
    gates = None
    if exp.gates is not None:
        try:
            gates_path = resolve(exp.gates, line_of("gates"), "gates")
            gates = Gates.load(gates_path)
        except WorkbenchError as exc:
            where = exc.problem.where
            problems.append(exc.problem if where.startswith(str(file)) else Problem(
                f"{line_of('gates')} ({where})", exc.problem.what, exc.problem.fix))
            problems.extend(exc.problems[1:])
        else:
            problems.extend(_check_gates(gates, gates_path, models, variants, scorers))
    if problems:
        raise ConfigError.from_problems(problems)
    return LoadedExperiment(file, exp, golden_set, models, variants, scorers, human_labels,
                            gates)


def _check_gates(gates: Gates, path: Path, models: list[ModelSpec],
                 variants: list[PromptVariant], scorers: list[Scorer]) -> list[Problem]:
    """A gates file's roles must be configurations, and its metrics scorers, of the experiment."""
    problems = []
    configs = {(m.label, v.name) for m in models for v in variants}
    for role in ("candidate", "incumbent"):
        ref = getattr(gates, role)
        if ref is None:
            problems.append(Problem(str(path), f"the gates file names no {role}",
                                    f"Add {role}: {{model: ..., variant: ...}}."))
        elif models and variants and ref.ref not in configs:
            problems.append(Problem(
                str(path), f"{role} {ref.model}/{ref.variant} is not a configuration of the "
                "experiment", f"Use one of: {', '.join(sorted(f'{m}:{v}' for m, v in configs))}."))
    names = {s.name for s in scorers}
    for metric in gates.metrics:
        if scorers and metric not in names:
            problems.append(Problem(str(path), f"metric {metric!r} is not a scorer of the "
                                    "experiment", f"Use one of: {', '.join(sorted(names))}."))
    return problems


MAX_TEMPLATE_BYTES = 1_000_000
"""Largest template file read (a prompt template is a small text file)."""


def _read_template(path: Path) -> str:
    try:
        size = path.stat().st_size
        if size > MAX_TEMPLATE_BYTES:
            raise ConfigError(
                f"the template file is {size / 1e6:.1f} MB; template files of up to "
                f"{MAX_TEMPLATE_BYTES / 1e6:.0f} MB are read", where=str(path),
                fix="Check that this is the right file; long texts belong in the golden set.")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read template file: {exc.strerror or exc}", where=str(path),
                          fix="Check the path (relative to the experiment file).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"the template file is not valid UTF-8 (byte 0x{data[exc.start]:02x})",
                          where=location(path, line=line), fix="Save it as UTF-8.") from None


def _templates(v: VariantEntry, resolve: Any) -> tuple[str, str | None]:
    """A variant entry's user and system templates, inline or read from their files.

    ``resolve(key, name)`` locates a ``user_file`` / ``system_file`` path.
    """
    user = v.user if v.user is not None else _read_template(
        resolve("user_file", v.user_file or ""))
    system = v.system if v.system_file is None else _read_template(
        resolve("system_file", v.system_file))
    return user, system


def _variant(v: VariantEntry, golden_set: GoldenSet, resolve: Any,
             first_case: dict[str, Any]) -> PromptVariant:
    user, system = _templates(v, resolve)
    few_shot = None
    if v.few_shot is not None:
        if v.few_shot.ids is not None:
            rows = {str(r["id"]): r for r in golden_set.records()}
            missing = [i for i in v.few_shot.ids if i not in rows]
            if missing:
                raise ConfigError(f"few-shot ids not in {golden_set.name!r}: {missing[:5]}",
                                  where="few_shot.ids", fix="Use ids of the golden set.")
            few_shot = [rows[i] for i in v.few_shot.ids]
        else:
            few_shot = golden_set.sample(v.few_shot.sample or 0, stratify=v.few_shot.stratify,
                                         seed=v.few_shot.seed).records()
    variant = PromptVariant(v.name, user=user, system=system, few_shot=few_shot,
                            response_format=v.response_format)
    variant.check(golden_set)
    variant.render(first_case)  # a template that fails or runs away is a file error, found now
    return variant




def load_variant(path: str | Path, *, allow_outside: Sequence[str | Path] = ()
                 ) -> PromptVariant:
    """One prompt variant from a YAML file: the keys of an experiment file's ``variants`` entry.

    Used by ``workbench shadow --variant FILE`` to re-render each logged request (the replay
    set's columns are ``system``, ``user`` and ``history``). ``user_file`` / ``system_file``
    are read relative to the file, inside its folder (or an ``allow_outside`` one). Few-shot
    examples need a golden set and are refused here.

    Example:
        >>> v = load_variant("examples/shadow_variant.yaml")
        >>> v.name, "{{ user }}" in v.user
        ('brief', True)

    Raises:
        ConfigError: naming the file, line and fix.
    """
    file = Path(path)
    entry, root = load_model(file, VariantEntry, what="variant file",
                             example="examples/shadow_variant.yaml")
    if entry.few_shot is not None:
        raise ConfigError("few_shot is not available in a variant file (it needs a golden set)",
                          where=location(file, line=_line_of(root, ("few_shot",))),
                          fix="Write the examples into the system template, or compare on a "
                          "golden set with an experiment file.")
    resolve = _resolver(file, allow_outside)
    user, system = _templates(entry, lambda key, name: resolve(
        name, location(file, line=_line_of(root, (key,))), key))
    try:
        return PromptVariant(entry.name, user=user, system=system,
                             response_format=entry.response_format, origin=str(file))
    except WorkbenchError as exc:
        raise ConfigError(exc.problem.what, where=f"{file} ({exc.problem.where})",
                          fix=exc.problem.fix) from None
