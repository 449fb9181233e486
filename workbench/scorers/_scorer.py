"""The scorer extension point: ``Score``, the ``Scorer`` protocol and the ``@scorer`` decorator.

A scorer is a function ``(case, output) -> Score | float | bool``. ``case`` is a read-only
mapping of the golden-set row (``id``, input columns, ``expected``, slices) and ``output`` the
model's text. Keyword-only parameters are the scorer's arguments: they are recorded (for MLflow
params and reports) and can be set with ``scorer.configure(...)`` or by calling the scorer with
keyword arguments only.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, overload, runtime_checkable

from workbench.errors import ConfigError

__all__ = ["FunctionScorer", "Score", "Scorer", "as_score", "scorer"]


@dataclass(frozen=True)
class Score:
    """The result of scoring one output.

    Example:
        >>> Score(1.0, label="billing", explanation="matches expected").label
        'billing'
    """

    value: float
    """The score: a float, pass/fail as 1.0/0.0; NaN when the output could not be scored."""
    label: str | None = None
    """An optional label, e.g. the predicted class."""
    explanation: str | None = None
    """Why this score (shown in explorers and reports)."""
    cost_usd: float = 0.0
    """What producing the score cost (LLM judges); heuristics cost nothing."""
    prompt_tokens: int = 0
    """Tokens the judge read to produce the score (0 for heuristics)."""
    completion_tokens: int = 0
    """Tokens the judge wrote (0 for heuristics)."""


@runtime_checkable
class Scorer(Protocol):
    """What the runner needs from a scorer: a unique name, recorded arguments and a version."""

    @property
    def name(self) -> str:
        """Unique name in a comparison: the results column is ``score.<name>``."""
        ...

    @property
    def args(self) -> Mapping[str, Any]:
        """The scorer's arguments (logged to MLflow, shown in reports)."""
        ...

    @property
    def version(self) -> str:
        """Changes when the scorer's code or arguments change."""
        ...

    def __call__(self, case: Mapping[str, Any], output: str) -> Any:
        """Score one output: a Score, float, bool, or an awaitable of one of these."""
        ...


def as_score(value: Any, *, scorer_name: str = "scorer") -> Score:
    """Normalise what a scorer returned (Score, float, int or bool) into a Score.

    Example:
        >>> as_score(True).value
        1.0
    """
    if isinstance(value, Score):
        return value
    if isinstance(value, bool):
        return Score(1.0 if value else 0.0)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Score(float(value))
    raise ConfigError(
        f"scorer {scorer_name!r} returned {type(value).__name__}, not a Score, float or bool",
        fix="Return wb.Score(value=...), a float (pass/fail as 1.0/0.0) or a bool.",
    )


def _source_hash(fn: Callable[..., Any]) -> str:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = f"{fn.__module__}.{fn.__qualname__}"
    return hashlib.sha256(source.encode("utf-8")).hexdigest()


class FunctionScorer:
    """A plain function turned into a scorer by ``@scorer``; see :func:`scorer`."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        args: Mapping[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.name = name or fn.__name__
        params = inspect.signature(fn).parameters
        self._defaults = {
            k: p.default
            for k, p in params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }
        positional = [
            p
            for p in params.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
        if len(positional) != 2:
            raise ConfigError(
                f"scorer {self.name!r} must take exactly two positional parameters "
                f"(case, output), not {len(positional)}",
                fix="Write it as def my_scorer(case, output, *, option=default) -> wb.Score.",
            )
        unknown = set(args or {}) - set(self._defaults)
        if unknown:
            raise ConfigError(
                f"scorer {self.name!r} has no argument(s) {sorted(unknown)}",
                fix=f"Its arguments are {sorted(self._defaults) or 'none'}.",
            )
        self.args: dict[str, Any] = {**self._defaults, **(args or {})}
        self._is_async = inspect.iscoroutinefunction(fn)
        blob = json.dumps(
            {"source": _source_hash(fn), "args": self.args}, sort_keys=True, default=repr
        )
        self.version = hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]
        self.__doc__ = fn.__doc__

    def configure(self, *, name: str | None = None, **args: Any) -> FunctionScorer:
        """A copy with other argument values (and optionally another name).

        Example:
            >>> from workbench.scorers import label_match
            >>> label_match.configure(field="priority", name="priority_ok").args
            {'field': 'priority', 'labels': None}
        """
        return FunctionScorer(self.fn, name=name or self.name, args={**self.args, **args})

    def __call__(
        self, case: Mapping[str, Any] | None = None, output: str | None = None, **args: Any
    ) -> Any:
        """Score ``(case, output)``, or with keyword arguments only, return a configured copy."""
        if case is None and output is None:
            return self.configure(**args)
        if args:
            raise ConfigError(
                f"scorer {self.name!r} was called with both (case, output) and options",
                fix="Configure first: s = my_scorer(option=...), then s(case, output).",
            )
        view = case if isinstance(case, MappingProxyType) else MappingProxyType(dict(case or {}))
        result = self.fn(view, output if output is not None else "", **self.args)
        if self._is_async:
            return _finish_async(result, self.name)
        return as_score(result, scorer_name=self.name)

    def __repr__(self) -> str:
        """``label_match(field='intent')``."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.args.items())
        return f"{self.name}({shown})"


async def _finish_async(result: Awaitable[Any], name: str) -> Score:
    return as_score(await result, scorer_name=name)


@overload
def scorer(fn: Callable[..., Any], /) -> FunctionScorer: ...


@overload
def scorer(
    fn: None = None, /, *, name: str | None = None
) -> Callable[[Callable[..., Any]], FunctionScorer]: ...


def scorer(
    fn: Callable[..., Any] | None = None, /, *, name: str | None = None
) -> FunctionScorer | Callable[[Callable[..., Any]], FunctionScorer]:
    """Turn ``(case, output, *, options) -> Score | float | bool`` into a named, versioned scorer.

    Use bare (``@scorer``) or with a name (``@scorer(name="...")``). The name becomes the
    results column ``score.<name>``; keyword-only options are recorded as its arguments, and
    its version hashes the function's source and arguments.

    Example:
        >>> @scorer(name="mentions_refund")
        ... def mentions(case, output, *, min_words: int = 3) -> Score:
        ...     ok = "refund" in output.lower() and len(output.split()) >= min_words
        ...     return Score(float(ok))
        >>> mentions({"id": "c1"}, "I want a refund now").value
        1.0
        >>> mentions(min_words=10).args
        {'min_words': 10}
    """

    def wrap(f: Callable[..., Any]) -> FunctionScorer:
        return FunctionScorer(f, name=name)

    return wrap(fn) if fn is not None else wrap

