"""A bounded Jinja2 sandbox: templates may compute, but never hang or exhaust memory.

``jinja2.sandbox`` stops attribute escapes (``{{ ''.__class__ }}``) but not a template that
spends: ``range(10**9)``, ``'a' * 10**9``, nested loops, recursive macros, ``{% include %}``.
This module adds, per render (:class:`RenderLimits`):

- a wall-clock limit, checked at every call, filter, operator and every 256 loop iterations;
- an output limit on all text a render produces (including macro bodies and ``{% set %}``
  blocks) and on every value it builds: string and list repetition, concatenation, ``%`` and
  ``format`` widths, amplifying filters (``center``, ``indent``, ``replace``, ``join``,
  ``wordwrap``, ...) and methods (``ljust``, ``zfill``, ``to_bytes``, ...) are refused *before*
  they allocate;
- ``range`` bounded to ``max_range`` numbers and a nesting limit on calls (recursive macros);
- no ``{% include %}``, ``{% import %}`` or ``{% extends %}``: a prompt template is
  self-contained (there is no loader to read other files with).

A limit raises :class:`TemplateLimitError`; ``PromptVariant`` turns it (and every other render
failure) into a ``ConfigError`` naming the variant, template, line and case.
"""

from __future__ import annotations

import functools
import re
import time
import types
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

__all__ = ["RenderLimits", "TemplateLimitError", "compile_template", "environment", "render"]


@dataclass(frozen=True)
class RenderLimits:
    """Bounds on one render of a prompt template.

    Args:
        time_s: wall-clock seconds one render may take.
        max_output_chars: characters a render may produce in all (macro bodies and
            ``{% set %}`` blocks count too), and the size of any one value it builds.
        max_range: most numbers ``range()`` may produce.
        max_depth: deepest nesting of calls (macros calling macros).

    Example:
        >>> RenderLimits(time_s=5.0).max_range
        100000
    """

    time_s: float = 1.0
    max_output_chars: int = 4_000_000
    max_range: int = 100_000
    max_depth: int = 50


class TemplateLimitError(Exception):
    """A render went past a :class:`RenderLimits` bound, or used a refused feature."""

    def __init__(self, what: str, fix: str) -> None:
        super().__init__(what)
        self.what = what
        self.fix = fix


_RAISE_LIMIT = ("If the template is right, raise the limit: "
                "PromptVariant(..., limits=RenderLimits(...)).")


class _Budget:
    """What one render has spent so far."""

    __slots__ = ("deadline", "depth", "limits", "produced")

    def __init__(self, limits: RenderLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time_s
        self.produced = 0
        self.depth = 0

    def tick(self) -> None:
        if time.monotonic() > self.deadline:
            raise TemplateLimitError(
                f"the render took longer than {self.limits.time_s:g} s (a loop or recursion "
                "that does not end?)",
                "Simplify the template's loops. " + _RAISE_LIMIT,
            )

    def too_big(self, size: int, what: str) -> None:
        if size > self.limits.max_output_chars:
            raise TemplateLimitError(
                f"{what} would hold about {size:,} characters, over the limit of "
                f"{self.limits.max_output_chars:,}",
                "Templates should not build text this large. " + _RAISE_LIMIT,
            )

    def check_value(self, value: Any, what: str = "a value") -> None:
        if isinstance(value, (str, bytes, list, tuple, dict, set, frozenset)):
            self.too_big(_approx_size(value, self.limits.max_output_chars), what)


_CURRENT: ContextVar[_Budget | None] = ContextVar("workbench_render_budget", default=None)


def _budget() -> _Budget:
    budget = _CURRENT.get()
    return budget if budget is not None else _Budget(RenderLimits())


def _approx_size(value: Any, limit: int) -> int:
    """Characters ``str(value)`` would take, roughly; stops counting once over ``limit``."""
    total = 0
    stack = [value]
    visited = 0
    while stack:
        item = stack.pop()
        visited += 1
        if isinstance(item, (str, bytes, bytearray)):
            total += len(item)
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if total > limit or visited > limit:
            return max(total, limit + 1)
    return total


# ---------------------------------------------------------------------- estimates before calls
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[a-zA-Z%]")
_FORMAT_SPEC = re.compile(r"\{[^{}]*?:([^{}]*)\}")
_DIGITS = re.compile(r"\d+")


def _int_args(args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> list[int]:
    values = [*args, *kwargs.values()]
    return [v for v in values if isinstance(v, int) and not isinstance(v, bool)]


def _check_format(budget: _Budget, fmt: Any, args: tuple[Any, ...],
                  kwargs: Mapping[str, Any], printf: bool) -> None:
    """Refuse ``%`` / ``format`` widths and precisions past the output limit."""
    if not isinstance(fmt, str):
        return
    limit = budget.limits.max_output_chars
    starred = False
    if printf:
        for width, precision in _PRINTF.findall(fmt):
            for number in (width, precision):
                starred |= number == "*"
                if number.isdigit():
                    budget.too_big(int(number), "a %-format width")
    else:
        for spec in _FORMAT_SPEC.findall(fmt):
            for number in _DIGITS.findall(spec):
                budget.too_big(int(number), "a format width")
        starred = "{" in "".join(re.findall(r"\{[^{}]*:[^{}]*\{", fmt))
    if starred:
        flat = [*args]
        for a in args:
            if isinstance(a, tuple):
                flat.extend(a)
        for number in _int_args(tuple(flat), kwargs):
            if abs(number) > limit:
                budget.too_big(abs(number), "a format width")


def _estimate_replace(budget: _Budget, s: Any, old: Any, new: Any, count: Any = None) -> None:
    if isinstance(s, str) and isinstance(old, str) and isinstance(new, str):
        hits = s.count(old) if old else len(s) + 1
        if isinstance(count, int) and 0 <= count < hits:
            hits = count
        budget.too_big(len(s) + hits * max(0, len(new) - len(old)), "a replace()")


def _estimate_join(budget: _Budget, sep: Any, items: list[Any]) -> None:
    limit = budget.limits.max_output_chars
    size = _approx_size(items, limit) + len(str(sep)) * max(0, len(items) - 1)
    budget.too_big(size, "a join")


def _estimate_wordwrap(budget: _Budget, s: Any, width: Any = 79, *args: Any,
                       wrapstring: Any = None, **kwargs: Any) -> None:
    text = str(s)
    wrap = wrapstring if isinstance(wrapstring, str) else (args[1] if len(args) > 1 and
                                                             isinstance(args[1], str) else "\n")
    lines = len(text) // max(1, width if isinstance(width, int) else 1) + text.count("\n") + 1
    budget.too_big(len(text) + lines * len(wrap), "a wordwrap")


def _estimate_indent(budget: _Budget, s: Any, width: Any = 4, *args: Any, **kwargs: Any) -> None:
    text = str(s)
    step = len(width) if isinstance(width, str) else width if isinstance(width, int) else 4
    budget.too_big(len(text) + (text.count("\n") + 1) * max(0, step), "an indent")


def _estimate_count(limit_of: str) -> Callable[..., None]:
    def check(budget: _Budget, value: Any, count: Any = 1, fill_with: Any = None,
              *args: Any, **kwargs: Any) -> None:
        if isinstance(count, int) and count > budget.limits.max_range:
            raise TemplateLimitError(
                f"|{limit_of}({count}) makes {count:,} pieces; at most "
                f"{budget.limits.max_range:,}",
                "Use a smaller count. " + _RAISE_LIMIT,
            )

    return check


def _estimate_tojson(budget: _Budget, value: Any, indent: Any = None) -> None:
    if isinstance(indent, int) and indent > 16:
        budget.too_big(_approx_size(value, budget.limits.max_output_chars) * indent,
                       "a tojson with a large indent")


def _estimate_width(budget: _Budget, value: Any, width: Any = 80, *args: Any,
                    **kwargs: Any) -> None:
    if isinstance(width, int):
        budget.too_big(width, "a centred text")


_FILTER_CHECKS: dict[str, Callable[..., None]] = {
    "center": _estimate_width,
    "indent": _estimate_indent,
    "wordwrap": _estimate_wordwrap,
    "replace": lambda budget, s, old="", new="", count=None, *a, **k: _estimate_replace(
        budget, str(s), old, new, count),
    "format": lambda budget, value, *args, **kwargs: _check_format(
        budget, value, args, kwargs, printf=True),
    "batch": _estimate_count("batch"),
    "slice": _estimate_count("slice"),
    "tojson": _estimate_tojson,
    "string": lambda budget, value, *a, **k: budget.check_value(value, "a |string"),
    "pprint": lambda budget, value, *a, **k: budget.check_value(value, "a |pprint"),
    "sum": lambda budget, value, *a, **k: budget.check_value(value, "a |sum"),
}


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a filter: the clock, an estimate of its output before the call, its size after."""
    passes = _PassArg.from_obj(func) is not None
    check = _FILTER_CHECKS.get(name)

    @functools.wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.tick()
        head, values = (args[:1], args[1:]) if passes else ((), args)
        if name == "join" and values:  # materialize once, so the estimate sees the items
            values = (list(values[0]), *values[1:])
            if len(values) < 3 and kwargs.get("attribute") is None:
                sep = values[1] if len(values) > 1 else kwargs.get("d", "")
                _estimate_join(budget, sep, values[0])
            args = (*head, *values)
        elif check is not None and values:
            check(budget, *values, **kwargs)
        result = func(*args, **kwargs)
        budget.check_value(result, f"the result of |{name}")
        return result

    return guarded


def _method_check(budget: _Budget, func: Any, args: tuple[Any, ...],
                  kwargs: Mapping[str, Any]) -> None:
    """Refuse builtin methods that would allocate past the limit (``'a'.ljust(10**9)``)."""
    target = getattr(func, "__wrapped__", func)  # jinja wraps str.format / format_map
    owner = getattr(target, "__self__", None)
    if not isinstance(target, types.BuiltinMethodType) or owner is None or isinstance(
            owner, types.ModuleType):
        return
    limit = budget.limits.max_output_chars
    name = target.__name__
    for number in _int_args(args, kwargs):
        if abs(number) > limit:
            budget.too_big(abs(number), f"a .{name}()")
    if not isinstance(owner, (str, bytes, bytearray)):
        return
    if name == "replace" and len(args) >= 2:
        _estimate_replace(budget, owner, args[0], args[1], args[2] if len(args) > 2 else None)
    elif name == "expandtabs":
        size = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(size, int):
            tabs = owner.count("\t") if isinstance(owner, str) else owner.count(b"\t")
            budget.too_big(len(owner) + tabs * size, "an expandtabs()")
    elif name == "translate" and args and isinstance(args[0], Mapping):
        widest = max((len(v) for v in args[0].values() if isinstance(v, (str, bytes))),
                     default=1)
        budget.too_big(len(owner) * widest, "a translate()")
    elif name in ("format", "format_map"):
        _check_format(budget, owner, args, kwargs, printf=False)


# ---------------------------------------------------------------------- hooks the template calls
def guard_loop(iterable: Any) -> Iterator[Any]:
    """Iterate a ``{% for %}`` loop's items, checking the clock every 256 items."""
    budget = _budget()
    count = 0
    for item in iterable:
        count += 1
        if not count & 255:
            budget.tick()
        yield item


def emit(value: Any) -> Any:
    """Count text a template outputs (into the result, a macro or a ``{% set %}`` block)."""
    budget = _budget()
    if not isinstance(value, str):
        if isinstance(value, (list, tuple, dict, set, frozenset, bytes)):
            budget.check_value(value, "an output")
        value = str(value)
    budget.produced += len(value)
    if budget.produced > budget.limits.max_output_chars:
        budget.too_big(budget.produced, "the rendered text")
    return value


def checked(value: Any) -> Any:
    """The result of a ``~`` concatenation, refused past the size limit."""
    _budget().check_value(value, "a ~ concatenation")
    return value


def bounded_range(*args: int) -> range:
    """``range`` with at most ``max_range`` numbers."""
    budget = _budget()
    numbers = range(*args)
    if len(numbers) > budget.limits.max_range:
        raise TemplateLimitError(
            f"range({', '.join(map(str, args))}) has {len(numbers):,} numbers; templates may "
            f"count to at most {budget.limits.max_range:,}",
            "Loop over the data instead, or use a smaller range. " + _RAISE_LIMIT,
        )
    return numbers


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox with bounded operators, calls and filters (see the module docstring)."""

    intercepted_binops = frozenset({"*", "**", "+", "%", "//"})

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False,
                         keep_trailing_newline=True, loader=None)
        self.globals["range"] = bounded_range
        self.globals.pop("lipsum", None)  # lipsum(10**9) would allocate without a loop
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Apply an operator, refusing results past the size limit before computing them."""
        budget = _budget()
        budget.tick()
        limit = budget.limits.max_output_chars
        seqs = (str, bytes, list, tuple)
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, seqs) and isinstance(times, int):
                    budget.too_big(_approx_size(seq, limit) * max(0, times), "a * repetition")
            if isinstance(left, int) and isinstance(right, int):
                budget.too_big((left.bit_length() + right.bit_length()) // 3, "a product")
        elif operator == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1:
                budget.too_big(left.bit_length() * right // 3, "a power")
        elif operator == "+" and isinstance(left, seqs) and isinstance(right, seqs):
            budget.too_big(_approx_size(left, limit) + _approx_size(right, limit), "a + sum")
        elif operator == "%" and isinstance(left, str):
            _check_format(budget, left, right if isinstance(right, tuple) else (right,), {},
                          printf=True)
        result = super().call_binop(context, operator, left, right)
        budget.check_value(result, f"the result of {operator}")
        return result

    def call(__self, __context: Context, __obj: Any, *args: Any,  # noqa: N805
             **kwargs: Any) -> Any:
        """Call from a template: the clock, a nesting limit and size checks before and after."""
        budget = _budget()
        budget.tick()
        if not __self.is_safe_callable(__obj):
            raise SecurityError(f"{__obj!r} is not safely callable")
        _method_check(budget, __obj, args, kwargs)
        budget.depth += 1
        try:
            if budget.depth > budget.limits.max_depth:
                raise TemplateLimitError(
                    f"calls nest deeper than {budget.limits.max_depth} (a macro that calls "
                    "itself without end?)",
                    "Give the recursion an end, or flatten it. " + _RAISE_LIMIT,
                )
            result = __context.call(__obj, *args, **kwargs)
        finally:
            budget.depth -= 1
        budget.check_value(result, "the result of a call")
        return result


environment = _Environment()
"""The one template environment of prompt variants."""

_REFUSED_TAGS = {
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
}


def _hook(name: str, node: nodes.Node) -> nodes.Call:
    target = nodes.ImportedName(f"{__name__}.{name}", lineno=node.lineno)
    return nodes.Call(target, [node], [], None, None, lineno=node.lineno)


def refused_tags(tree: nodes.Template) -> list[tuple[str, int]]:
    """Tags a prompt template may not use (they read other templates), with their lines."""
    found: list[tuple[str, int]] = []
    for kind, tag in _REFUSED_TAGS.items():
        found.extend((tag, n.lineno) for n in tree.find_all(kind))
    return sorted(found, key=lambda f: f[1])


def compile_template(tree: nodes.Template) -> Any:
    """Compile a parsed template with the hooks that bound loops, output and concatenation."""
    for loop in list(tree.find_all(nodes.For)):
        loop.iter = _hook("guard_loop", loop.iter)
    _wrap_concats(tree)
    for output in list(tree.find_all(nodes.Output)):
        output.nodes = [_hook("emit", child) for child in output.nodes]
    return environment.from_string(tree)


def _wrap_concats(node: nodes.Node) -> None:
    """Wrap every ``~`` concatenation in a size check."""
    for field in node.fields:
        value = getattr(node, field, None)
        if isinstance(value, nodes.Concat):
            _wrap_concats(value)
            setattr(node, field, _hook("checked", value))
        elif isinstance(value, nodes.Node):
            _wrap_concats(value)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, nodes.Concat):
                    _wrap_concats(item)
                    value[i] = _hook("checked", item)
                elif isinstance(item, nodes.Node):
                    _wrap_concats(item)


def render(template: Any, values: Mapping[str, Any], limits: RenderLimits) -> str:
    """Render a compiled template within ``limits``.

    Raises:
        TemplateLimitError: past a limit; any other template error as raised.
    """
    token = _CURRENT.set(_Budget(limits))
    try:
        return str(template.render(values))
    finally:
        _CURRENT.reset(token)
