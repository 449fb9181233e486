"""One scorer registry: names for scorers, and scorers from names.

Experiment files, the comparison builder widget and the run record (``scorer_ref``, which
``Comparison.to_config`` writes back) all go through here, so a scorer is named one way
everywhere: a built-in name (``label_match``), ``judge`` for an LLM judge, or
``module:function`` for a function decorated with ``@wb.scorer``. A ``module:function``
reference is checked in the module's source before the module is imported, so ``os:system``
or a plain function is refused without running anything.

Scorers that call models (LLM judges) declare it: :class:`ModelScorer` is the capability the
runner looks for to price their calls, bind them to the run's call executor and record their
model (``uses_models = True``, ``model``, ``bind``). ``Judge`` has it; a custom class can too.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from workbench.errors import ConfigError, WorkbenchError
from workbench.models import ModelSpec

from ._scorer import FunctionScorer, Scorer

__all__ = ["ModelScorer", "builtin_scorers", "calls_models", "resolve_scorer", "scorer_ref"]

JudgeCaller = Callable[[ModelSpec, list[dict[str, str]], Any], Awaitable[Any]]


@runtime_checkable
class ModelScorer(Protocol):
    """A scorer that calls models (an LLM judge): what the runner needs to run it.

    ``model`` is priced and recorded with the run; ``bind`` returns a copy whose model calls go
    through the run's call executor (shared cache, budget, retries and limits).
    """

    uses_models: bool

    @property
    def name(self) -> str:
        """The scorer's name."""
        ...

    @property
    def model(self) -> ModelSpec:
        """The model it calls."""
        ...

    def bind(self, caller: JudgeCaller, input_columns: Sequence[str]) -> Scorer:
        """A copy calling models through ``caller``, shown the given input columns."""
        ...


def calls_models(s: Any) -> bool:
    """True for a scorer that declares it calls models (``uses_models = True`` with a model).

    Example:
        >>> from workbench.scorers import exact_match, judge
        >>> calls_models(exact_match), calls_models(judge("correctness", "sim/judge"))
        (False, True)
    """
    return isinstance(s, ModelScorer) and bool(getattr(s, "uses_models", False))


def builtin_scorers() -> dict[str, FunctionScorer]:
    """The built-in heuristic scorers by name (``judge`` makes LLM judges).

    Example:
        >>> "label_match" in builtin_scorers() and "judge" not in builtin_scorers()
        True
    """
    import workbench.scorers as package

    out = {}
    for name in package.__all__:
        value = getattr(package, name)
        if isinstance(value, FunctionScorer):
            out[value.name] = value
    return out


def scorer_ref(s: Scorer) -> str | None:
    """How an experiment file names a scorer; None when it cannot (defined in a notebook).

    Example:
        >>> from workbench.scorers import label_match
        >>> scorer_ref(label_match(field="intent")), scorer_ref(label_match)
        ('label_match', 'label_match')
    """
    if calls_models(s):
        return "judge"
    if isinstance(s, FunctionScorer):
        module = s.fn.__module__
        if module.startswith("workbench.scorers"):
            return str(s.fn.__name__)
        if module == "__main__" or "<locals>" in s.fn.__qualname__:
            return None
        return f"{module}:{s.fn.__qualname__}"
    kind = type(s)
    if kind.__module__ == "__main__" or "<locals>" in kind.__qualname__:
        return None
    return f"{kind.__module__}:{kind.__qualname__}"


def resolve_scorer(ref: str, args: Mapping[str, Any] | None = None, *,
                   name: str | None = None, where: str = "") -> Scorer:
    """The scorer an experiment file (or the builder) names, configured with ``args``.

    Raises:
        ConfigError: an unknown name, a ``module:function`` that is not a decorated scorer
            (checked before importing), or arguments the scorer does not take; ``where``
            says where the reference came from.

    Example:
        >>> resolve_scorer("label_match", {"field": "intent"}, name="intent").name
        'intent'
        >>> resolve_scorer("os:system")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        workbench.errors.ConfigError: 'os:system' is not a scorer (it is a builtin_function...
    """
    from ._judge import judge

    args = dict(args or {})
    if ref == "judge":  # an LLM judge: args are judge()'s (rubric, model, scale, ...)
        if "scale" in args:
            args["scale"] = tuple(args["scale"])
        try:
            return judge(**args, name=name)
        except TypeError as exc:
            raise ConfigError(f"bad judge arguments: {exc}", where=where,
                              fix="judge takes rubric, model, scale, reference, instructions."
                              ) from None
        except WorkbenchError as exc:
            raise ConfigError(exc.problem.what, where=where, fix=exc.problem.fix) from None
    target = _import_scorer(ref, where) if ":" in ref else builtin_scorers().get(ref)
    if target is None:
        raise ConfigError(f"unknown scorer {ref!r}", where=where,
                          fix=f"Use a built-in ({', '.join(sorted(builtin_scorers()))}), "
                          "judge, or module:function.")
    if not isinstance(target, FunctionScorer):
        raise ConfigError(f"{ref!r} is not a scorer (it is a {type(target).__name__})",
                          where=where, fix=_DECORATE)
    try:
        configured: Scorer = target.configure(name=name, **args)
        return configured
    except WorkbenchError as exc:
        raise ConfigError(exc.problem.what, where=where, fix=exc.problem.fix) from None


_DECORATE = ("Point at a function decorated with @wb.scorer (module:function); the "
             "experiment file never imports or calls anything else.")
_IMPORTABLE = ("Use module:function with the module importable (on PYTHONPATH or installed); "
               "functions defined in a notebook must move to a module first.")


def _import_scorer(ref: str, where: str) -> Any:
    module_name, _, attr = ref.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"scorer {ref!r} is not module:function", where=where, fix=_DECORATE)
    try:
        refused = _refusal_before_import(module_name, attr)
    except _NoModule as exc:
        raise ConfigError(f"cannot import scorer {ref!r}: {exc}", where=where,
                          fix=_IMPORTABLE) from None
    if refused is not None:
        raise ConfigError(f"{ref!r} is not a scorer: {refused}", where=where, fix=_DECORATE)
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot import scorer {ref!r}: {exc}", where=where,
                          fix=_IMPORTABLE) from None
    except Exception as exc:  # the module's own code failed while importing
        raise ConfigError(f"importing the scorer module {module_name!r} failed: "
                          f"{type(exc).__name__}: {exc}", where=where,
                          fix="Fix the module (import it in Python to see the traceback)."
                          ) from None
    return target


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
