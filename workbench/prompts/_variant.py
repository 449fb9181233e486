"""``PromptVariant``: a named, versioned pair of system/user templates plus few-shot examples.

Templates are Jinja2 in a sandbox (``jinja2.sandbox``) with ``StrictUndefined`` (DESIGN.md,
Settled 5): attribute tricks such as ``{{ ''.__class__ }}`` are refused with a ConfigError, a
missing variable is an error rather than an empty string, and golden-set values are data: a
``{{ 7*7 }}`` inside a customer message stays literal. Rendering is bounded (time, output size,
``range``, recursion; see ``_sandbox.py`` and :class:`RenderLimits`), ``{% include %}``,
``{% import %}`` and ``{% extends %}`` are refused, and every failure while rendering is a
ConfigError naming the variant, template, line and case.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import Any

from jinja2 import TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.exceptions import SecurityError

from workbench.datasets import GoldenSet, to_python
from workbench.errors import ConfigError

from ._sandbox import RenderLimits, TemplateLimitError, compile_template, refused_tags
from ._sandbox import environment as _ENV
from ._sandbox import render as _bounded_render

__all__ = ["PromptVariant"]

Message = dict[str, str]
_SANDBOX_FIX = "Templates may only use golden-set columns and plain Jinja2 filters."


def _template_line(exc: BaseException) -> int | None:
    """The template line an error was raised on (jinja2 rewrites tracebacks to show it)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _unsafe_attributes(tree: nodes.Template) -> list[str]:
    """Private or dunder attributes a template reaches for (refused before any render)."""
    found = [n.attr for n in tree.find_all(nodes.Getattr) if n.attr.startswith("_")]
    for node in tree.find_all(nodes.Getitem):
        if isinstance(node.arg, nodes.Const) and str(node.arg.value).startswith("_"):
            found.append(str(node.arg.value))
    for flt in tree.find_all(nodes.Filter):
        if flt.name == "attr":
            for arg in flt.args:
                if isinstance(arg, nodes.Const) and str(arg.value).startswith("_"):
                    found.append(str(arg.value))
    return found


def _answer_text(expected: Any) -> str:
    value = to_python(expected)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class PromptVariant:
    r"""A prompt variant: system and user templates, optional few-shot examples and format.

    Args:
        name: short name shown in tables, MLflow and reports (e.g. ``"terse"``).
        user: Jinja2 template of the user message; variables are golden-set columns.
        system: optional Jinja2 template of the system message.
        few_shot: examples shown before the case, as user/assistant turns: a GoldenSet (e.g.
            ``gs.sample(4, seed=1)``) or rows with ``id`` and ``expected``. The user template
            renders each example; its ``expected`` is the assistant's answer. ``plan`` and
            ``compare`` exclude these ids from the evaluated cases.
        response_format: passed to the model call (e.g. ``{"type": "json_object"}``).
        limits: bounds on rendering one case (time, output size, ``range``, call nesting);
            the defaults suit prompts of up to four million characters.
        origin: where the variant was read from (``load_variant`` passes its file), named in
            every error about it; not part of ``version``.

    Example:
        >>> v = PromptVariant("guided", system="You triage support tickets.",
        ...                   user="Message: {{ message }}\nAnswer with the intent label.")
        >>> [m["role"] for m in v.render({"message": "I was billed twice"})]
        ['system', 'user']
        >>> len(v.version)
        12
    """

    def __init__(
        self,
        name: str,
        user: str,
        system: str | None = None,
        few_shot: GoldenSet | Sequence[Mapping[str, Any]] | None = None,
        response_format: Mapping[str, Any] | None = None,
        limits: RenderLimits | None = None,
        *,
        origin: str | None = None,
    ) -> None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(
                f"a prompt variant needs a non-empty name, got {name!r}",
                fix='Name it, e.g. PromptVariant("terse", user=...).',
            )
        if not isinstance(user, str) or not user.strip():
            raise ConfigError(
                "the user template is empty",
                where=f"prompt variant {name!r}" + (f" ({origin})" if origin else ""),
                fix='Pass user="... {{ column }} ..." using golden-set columns.',
            )
        self.name = name
        self.origin = origin
        self.user = user
        self.system = system
        self.response_format = dict(response_format) if response_format else None
        self.limits = limits or RenderLimits()
        self._templates = {"user": self._compile("user", user)}
        if system is not None:
            self._templates["system"] = self._compile("system", system)
        self.few_shot: list[dict[str, Any]] = self._examples(few_shot)

    @property
    def _where(self) -> str:
        """How errors name this variant: its name, and its file when it came from one."""
        return f"prompt variant {self.name!r}" + (f" ({self.origin})" if self.origin else "")

    # ------------------------------------------------------------------ construction helpers
    def _compile(self, part: str, source: str) -> Any:
        where = f"{self._where}, {part} template"
        try:
            tree = _ENV.parse(source)
        except TemplateSyntaxError as exc:
            raise ConfigError(
                f"template syntax error: {exc.message}",
                where=f"{where}, line {exc.lineno}",
                fix="Check the {{ }} and {% %} pairs.",
            ) from None
        except RecursionError:
            raise ConfigError(
                "the template is nested too deeply to read",
                where=where,
                fix="Flatten the nested expressions or blocks.",
            ) from None
        unsafe = _unsafe_attributes(tree)
        if unsafe:
            raise ConfigError(
                f"the template reaches for the private attribute {unsafe[0]!r}, which the "
                "sandbox refuses",
                where=where,
                fix=_SANDBOX_FIX,
            )
        refused = refused_tags(tree)
        if refused:
            tag, line = refused[0]
            raise ConfigError(
                f"{tag} is not available: a prompt template is self-contained and may not read "
                "other templates or files",
                where=f"{where}, line {line}",
                fix="Paste the shared text into this template (or pass it as a column).",
            )
        try:
            return compile_template(tree)
        except TemplateSyntaxError as exc:
            raise ConfigError(
                f"template error: {exc.message}",
                where=f"{where}, line {exc.lineno}",
                fix="Check the filter and test names (see the Jinja2 documentation).",
            ) from None
        except (RecursionError, MemoryError, SyntaxError) as exc:
            raise ConfigError(
                f"the template cannot be compiled ({type(exc).__name__})",
                where=where,
                fix="Simplify the template: it is too large or too deeply nested.",
            ) from None

    def _examples(
        self, few_shot: GoldenSet | Sequence[Mapping[str, Any]] | None
    ) -> list[dict[str, Any]]:
        if few_shot is None:
            return []
        rows = (
            few_shot.records() if isinstance(few_shot, GoldenSet) else [dict(r) for r in few_shot]
        )
        for i, row in enumerate(rows, start=1):
            label = f"few-shot example {row.get('id', i)!r}"
            if to_python(row.get("expected")) in (None, ""):
                raise ConfigError(
                    f"{label} has no expected answer to show as the assistant turn",
                    where=self._where,
                    fix="Use examples with an 'expected' value (e.g. filter the golden set first).",
                )
            if "id" not in row:
                raise ConfigError(
                    f"{label} has no 'id'",
                    where=self._where,
                    fix="Give few-shot rows ids so they can be excluded from scoring.",
                )
        return rows

    # ------------------------------------------------------------------ properties
    @cached_property
    def variables(self) -> list[str]:
        """Variables the templates use (golden-set columns), sorted."""
        found: set[str] = set()
        for template in (self.user, self.system or ""):
            found |= meta.find_undeclared_variables(_ENV.parse(template))
        return sorted(found - set(_ENV.globals))

    @property
    def few_shot_ids(self) -> list[str]:
        """Ids of the few-shot examples (excluded from the evaluated cases)."""
        return [str(r["id"]) for r in self.few_shot]

    @cached_property
    def version(self) -> str:
        """Content hash (12 hex digits) of templates, few-shot examples and response format."""
        content = {
            "system": self.system,
            "user": self.user,
            "few_shot": [
                {"id": str(r["id"]), "inputs": {k: to_python(v) for k, v in sorted(r.items())}}
                for r in self.few_shot
            ],
            "response_format": self.response_format,
        }
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    # ------------------------------------------------------------------ checks and rendering
    def check(self, golden_set: GoldenSet) -> None:
        """Check every template variable against the golden set, before anything is spent.

        Templates may use input columns and routable slices. ``expected`` and the other slices
        are answers or labels the model must not see.

        Raises:
            ConfigError: naming the variant, the variable and the available columns.
        """
        available = golden_set.input_columns + golden_set.routable
        hidden = {"expected", "id", *golden_set.slices} - set(golden_set.routable)
        for variable in self.variables:
            if variable in available:
                continue
            if variable in hidden:
                kind = "the case id" if variable == "id" else "the answer or a label"
                what = f"uses {variable!r}, which is {kind}: the model must not see it"
                fix = f"Remove it from the template; available columns: {available}."
            else:
                what = f"uses {{{{ {variable} }}}}, which is not a column of {golden_set.name!r}"
                fix = f"Available columns: {available}. Fix the name or add the column."
            raise ConfigError(what, where=self._where, fix=fix)
        for row in self.few_shot:
            missing = [v for v in self.variables if v not in row]
            if missing:
                raise ConfigError(
                    f"few-shot example {row['id']!r} lacks {missing}",
                    where=self._where,
                    fix="Take few-shot examples from a set with the same columns.",
                )

    def _render(self, part: str, row: Mapping[str, Any], case: str) -> str:
        values = {k: to_python(v) for k, v in row.items()}
        template = f"{self._where}, {part} template"
        try:
            return _bounded_render(self._templates[part], values, self.limits)
        except Exception as exc:  # template code is user code: every failure is a ConfigError
            line = _template_line(exc)
            where = f"{template}{f', line {line}' if line else ''}, {case}"
            raise self._render_error(exc, where, sorted(values)) from None

    @staticmethod
    def _render_error(exc: Exception, where: str, columns: list[str]) -> ConfigError:
        if isinstance(exc, TemplateLimitError):
            return ConfigError(exc.what, where=where, fix=exc.fix)
        if isinstance(exc, UndefinedError):
            return ConfigError(f"{exc.message}", where=where,
                               fix=f"The row's columns are {columns}; fix the variable name.")
        if isinstance(exc, SecurityError):
            return ConfigError(f"the sandbox refused the template: {exc}", where=where,
                               fix=_SANDBOX_FIX)
        if isinstance(exc, RecursionError):
            return ConfigError("the template recursed too deeply", where=where,
                               fix="Give the recursion an end, or flatten it.")
        if isinstance(exc, MemoryError):
            return ConfigError("the template ran out of memory", where=where,
                               fix="Templates should not build very large values.")
        return ConfigError(f"the template failed: {type(exc).__name__}: {exc}", where=where,
                           fix="Fix the template expression on that line.")

    def render(self, row: Mapping[str, Any]) -> list[Message]:
        """Render the chat messages for one case: system, few-shot turns, then the user turn.

        Values are inserted as data and never rendered as templates themselves.
        """
        case = f"case {to_python(row.get('id'))!r}" if "id" in row else "the given row"
        messages: list[Message] = []
        if "system" in self._templates:
            messages.append({"role": "system", "content": self._render("system", row, case)})
        for example in self.few_shot:
            shot = f"few-shot example {example['id']!r}"
            messages.append({"role": "user", "content": self._render("user", example, shot)})
            messages.append({"role": "assistant", "content": _answer_text(example["expected"])})
        messages.append({"role": "user", "content": self._render("user", row, case)})
        return messages

    def __repr__(self) -> str:
        """Short form with the version."""
        shots = f", {len(self.few_shot)} few-shot" if self.few_shot else ""
        return f"PromptVariant({self.name!r}, version={self.version}{shots})"
