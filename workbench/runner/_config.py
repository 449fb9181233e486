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

import ast
import dataclasses
import importlib
import importlib.util
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workbench._yaml import line_of as _line_of
from workbench._yaml import load_model
from workbench.datasets import GoldenSet
from workbench.errors import ConfigError, Problem, WorkbenchError, location
from workbench.models import ModelSpec
from workbench.prompts import PromptVariant
from workbench.records import RunRecord
from workbench.scorers import FunctionScorer, Judge, Scorer
from workbench.stats import Gates, load_human_labels

if TYPE_CHECKING:
    from ._plan import Plan

__all__ = ["Experiment", "experiment_yaml", "load_experiment"]

EXPERIMENT_SCHEMA_VERSION = 1
_MODEL_FIELDS = [f.name for f in dataclasses.fields(ModelSpec)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class GoldenSetRef(_Strict):
    """Which golden set, optionally pinned to a digest."""

    path: str
    """Path of the golden set file (relative to the experiment file)."""
    digest: str | None = None
    """``sha256:...``: refuse to run when the file's digest differs."""


class ModelEntry(_Strict):
    """A ``ModelSpec``'s fields (see ``workbench.ModelSpec``)."""

    id: str
    temperature: float | None = None
    max_tokens: int | None = None
    seed: int | None = None
    top_p: float | None = None
    api_base: str | None = None
    api_key_env: str | None = None
    input_price_per_1m: float | None = None
    output_price_per_1m: float | None = None
    accept_unknown_cost: bool = False
    timeout_s: float = 60.0
    name: str | None = None
    max_concurrency: int | None = None
    rpm: int | None = None
    tpm: int | None = None
    stream: bool = False
    headers: dict[str, str] | None = None
    headers_env: dict[str, str] | None = None

    def spec(self) -> ModelSpec:
        """The ModelSpec."""
        return ModelSpec(**self.model_dump())


class FewShot(_Strict):
    """Few-shot examples from the golden set: explicit ids, or a seeded sample."""

    ids: list[str] | None = None
    sample: int | None = Field(default=None, ge=1)
    seed: int = 0
    stratify: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> FewShot:
        if (self.ids is None) == (self.sample is None):
            raise ValueError("give either ids: [...] or sample: N")
        return self


class VariantEntry(_Strict):
    """A prompt variant: inline templates or template files."""

    name: str
    user: str | None = None
    user_file: str | None = None
    system: str | None = None
    system_file: str | None = None
    few_shot: FewShot | None = None
    response_format: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _templates(self) -> VariantEntry:
        if (self.user is None) == (self.user_file is None):
            raise ValueError("give exactly one of user: or user_file:")
        if self.system is not None and self.system_file is not None:
            raise ValueError("give at most one of system: or system_file:")
        return self


class ScorerEntry(_Strict):
    """A scorer: a built-in name or ``module:function``, its arguments and an optional name."""

    scorer: str
    args: dict[str, Any] = Field(default_factory=dict)
    name: str | None = None


class PairwiseEntry(_Strict):
    """A pairwise judgement to run after the comparison."""

    candidate: tuple[str, str]
    """(model label, variant name) of the candidate."""
    incumbent: tuple[str, str]
    """(model label, variant name) of the incumbent."""
    judge: str = "sim/judge"
    rubric: str = "correctness"


class Experiment(_Strict):
    """A whole comparison, as written in an experiment file."""

    schema_version: int = EXPERIMENT_SCHEMA_VERSION
    name: str | None = None
    golden_set: GoldenSetRef
    models: list[ModelEntry] = Field(min_length=1)
    variants: list[VariantEntry] = Field(min_length=1)
    scorers: list[ScorerEntry] = Field(default_factory=list)
    repeats: int = Field(default=1, ge=1)
    concurrency: int = Field(default=16, ge=1)
    budget_usd: float | None = Field(default=None, gt=0)
    cache: bool = True
    seed: int = 0
    cases: list[str] | None = None
    leakage: str = "exclude"
    pairwise: PairwiseEntry | None = None
    """Judge a candidate against an incumbent case by case after the run (both orders)."""
    human_labels: str | None = None
    """CSV of human labels (``wb.stats.LABEL_COLUMNS``) to calibrate the judge scorers against
    after the run, relative to the experiment file."""
    mlflow_experiment: str | None = None
    """MLflow experiment to log the comparison to after the run (``--no-mlflow`` skips it)."""
    gates: str | None = None
    """A gates file (``wb.Gates``), relative to the experiment file: after the run, decide
    PROMOTE / HOLD / REJECT for its candidate against its incumbent."""

    @field_validator("golden_set", mode="before")
    @classmethod
    def _path_shorthand(cls, value: Any) -> Any:
        return {"path": value} if isinstance(value, str) else value

    @field_validator("models", mode="before")
    @classmethod
    def _model_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"id": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("scorers", mode="before")
    @classmethod
    def _scorer_shorthand(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"scorer": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("schema_version")
    @classmethod
    def _known(cls, value: int) -> int:
        if value > EXPERIMENT_SCHEMA_VERSION:
            raise ValueError(f"schema_version {value} is newer than this workbench reads "
                             f"({EXPERIMENT_SCHEMA_VERSION}); upgrade workbench")
        return value

    @field_validator("leakage")
    @classmethod
    def _leakage(cls, value: str) -> str:
        if value not in ("exclude", "error"):
            raise ValueError("leakage must be 'exclude' or 'error'")
        return value


def _is_scorer_decorator(node: ast.expr) -> bool:
    """``@scorer``, ``@wb.scorer``, ``@scorer(name=...)`` and the like."""
    if isinstance(node, ast.Call):
        node = node.func
    return (isinstance(node, ast.Name) and node.id == "scorer") or (
        isinstance(node, ast.Attribute) and node.attr == "scorer")


def _module_bindings(statements: list[ast.stmt]) -> Iterator[tuple[str, str]]:
    """Names a module binds at its top level (also inside if/try/with blocks), and how."""
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorated = any(_is_scorer_decorator(d) for d in node.decorator_list)
            yield node.name, "scorer" if decorated else "function"
        elif isinstance(node, ast.ClassDef):
            yield node.name, "class"
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                yield (alias.asname or alias.name).split(".")[0], "other"
        else:
            targets: list[ast.expr] = []
            if isinstance(node, ast.Assign):
                targets = list(node.targets)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.For, ast.AsyncFor)):
                targets = [node.target]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
            for target in targets:
                for leaf in ast.walk(target):
                    if isinstance(leaf, ast.Name) and isinstance(leaf.ctx, ast.Store):
                        yield leaf.id, "other"
            for block in ("body", "orelse", "finalbody"):  # if, try, with, for, while
                yield from _module_bindings(getattr(node, block, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                yield from _module_bindings(handler.body)


class _NoModule(Exception):
    """The module of a ``module:function`` scorer cannot be found."""


def _refusal_before_import(module_name: str, attr: str) -> str | None:
    """Why ``module:attr`` is not a scorer, read from the module's source without importing it.

    None when the source does not settle it (no source, or the name is bound by an import,
    an assignment or a star import): the module is then imported and the object checked.

    Raises:
        _NoModule: the module cannot be found.
    """
    try:
        spec = importlib.util.find_spec(module_name)
    except Exception as exc:  # ImportError, ValueError, or a parent package that failed
        raise _NoModule(f"{type(exc).__name__}: {exc}") from None
    if spec is None:
        raise _NoModule(f"no module named {module_name!r}")
    origin = spec.origin or ""
    if not origin.endswith(".py"):
        return None
    try:
        tree = ast.parse(Path(origin).read_bytes())
    except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    name = attr.split(".")[0]
    kind = "missing"
    for bound, how in _module_bindings(tree.body):
        if bound in (name, "*", "__getattr__"):
            kind = how if bound == name else "other"
    if kind == "function":
        return f"{module_name}.{name} is a plain function, not decorated with @wb.scorer"
    if kind == "class":
        return f"{module_name}.{name} is a class, not a scorer"
    if kind == "missing":
        return f"the module {module_name!r} defines no {name!r}"
    return None


def _resolve_scorer(entry: ScorerEntry, where: str) -> Scorer:
    import workbench.scorers as builtins

    ref = entry.scorer
    if ref == "judge":  # an LLM judge: args are judge()'s (rubric, model, scale, ...)
        args = dict(entry.args)
        if "scale" in args:
            args["scale"] = tuple(args["scale"])
        try:
            return builtins.judge(**args, name=entry.name)
        except TypeError as exc:
            raise ConfigError(f"bad judge arguments: {exc}", where=where,
                              fix="judge takes rubric, model, scale, reference, instructions."
                              ) from None
        except WorkbenchError as exc:
            raise ConfigError(exc.problem.what, where=where, fix=exc.problem.fix) from None
    decorate = ("Point at a function decorated with @wb.scorer (module:function); the "
                "experiment file never imports or calls anything else.")
    if ":" in ref:
        module_name, _, attr = ref.partition(":")
        if not module_name or not attr:
            raise ConfigError(f"scorer {ref!r} is not module:function", where=where,
                              fix=decorate)
        try:
            refused = _refusal_before_import(module_name, attr)
        except _NoModule as exc:
            raise ConfigError(
                f"cannot import scorer {ref!r}: {exc}",
                where=where,
                fix="Use module:function with the module importable (on PYTHONPATH or "
                "installed); functions defined in a notebook must move to a module first.",
            ) from None
        if refused is not None:
            raise ConfigError(f"{ref!r} is not a scorer: {refused}", where=where, fix=decorate)
        try:
            target: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                target = getattr(target, part)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(
                f"cannot import scorer {ref!r}: {exc}",
                where=where,
                fix="Use module:function with the module importable (on PYTHONPATH or "
                "installed); functions defined in a notebook must move to a module first.",
            ) from None
        except Exception as exc:  # the module's own code failed while importing
            raise ConfigError(
                f"importing the scorer module {module_name!r} failed: "
                f"{type(exc).__name__}: {exc}",
                where=where,
                fix="Fix the module (import it in Python to see the traceback).",
            ) from None
    else:
        target = getattr(builtins, ref, None)
        if not isinstance(target, FunctionScorer):
            names = sorted(n for n in builtins.__all__
                           if isinstance(getattr(builtins, n), FunctionScorer))
            raise ConfigError(
                f"unknown scorer {ref!r}", where=where,
                fix=f"Use a built-in ({', '.join(names)}) or module:function.",
            )
    if not isinstance(target, FunctionScorer):
        raise ConfigError(f"{ref!r} is not a scorer (it is a {type(target).__name__})",
                          where=where, fix=decorate)
    try:
        configured: Scorer = target.configure(name=entry.name, **entry.args)
        return configured
    except WorkbenchError as exc:
        raise ConfigError(exc.problem.what, where=where, fix=exc.problem.fix) from None


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
        from ._plan import plan

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
            judged = {s.name for s in scorers if isinstance(s, Judge)}
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


def _variant(v: VariantEntry, golden_set: GoldenSet, resolve: Any,
             first_case: dict[str, Any]) -> PromptVariant:
    user = v.user if v.user is not None else _read_template(
        resolve("user_file", v.user_file or ""))
    system = v.system if v.system_file is None else _read_template(
        resolve("system_file", v.system_file))
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


def experiment_yaml(record: RunRecord, base: Path | None = None) -> str:
    """The experiment file text that reproduces a comparison (from its run record)."""
    gs = record.golden_set
    gs_path = gs.path
    if gs_path and base is not None:
        gs_path = os.path.relpath(Path(gs_path).resolve(), base.resolve())
    models = []
    defaults = {f.name: f.default for f in dataclasses.fields(ModelSpec)}
    for m in record.models:
        if m.recorded:  # a recorded configuration (shadow production) is never run
            continue
        params = dict(m.params)
        params["id"] = params.pop("model")
        models.append({k: v for k, v in params.items() if defaults.get(k, object()) != v
                       or k == "id"})
    variants = []
    for v in record.variants:
        entry: dict[str, Any] = {"name": v.name}
        if v.system is not None:
            entry["system"] = v.system
        entry["user"] = v.user
        if v.few_shot_ids:
            entry["few_shot"] = {"ids": v.few_shot_ids}
        if v.response_format:
            entry["response_format"] = v.response_format
        variants.append(entry)
    scorers = []
    for s in record.scorers:
        if s.ref is None:
            raise ConfigError(f"scorer {s.name!r} was defined in a notebook, so an experiment "
                              "file cannot name it", where="to_config",
                              fix="Move it to a module and decorate it with @wb.scorer.")
        entry = {"scorer": s.ref}
        if s.args:
            entry["args"] = s.args
        base_name = s.ref.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
        if s.name != base_name:
            entry["name"] = s.name
        scorers.append(entry)
    settings = record.settings
    doc: dict[str, Any] = {
        "schema_version": EXPERIMENT_SCHEMA_VERSION,
        "golden_set": {"path": gs_path, "digest": gs.digest},
        "models": models,
        "variants": variants,
        "scorers": scorers,
        "repeats": settings.repeats,
        "concurrency": settings.concurrency,
        "seed": settings.seed,
        "cache": settings.cache,
    }
    if settings.budget_usd is not None:
        doc["budget_usd"] = settings.budget_usd
    header = "# Reproduces a workbench comparison (written by Comparison.to_config)\n"
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
