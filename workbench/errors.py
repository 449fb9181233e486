"""The workbench's errors.

Every error says what was wrong, where (file and line, or case id) and how to fix it::

    DatasetError: datasets/support_triage/golden.jsonl, line 57: duplicate id 'tri-0042'
    (first seen on line 12). Ids must be unique; rename one of them.

Catch :class:`WorkbenchError` to handle all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["BudgetExhausted", "ConfigError", "DamagedSaveError", "DatasetError", "Problem",
           "RunError", "TrackingError", "WorkbenchError", "location"]


def location(
    path: str | Path | None = None,
    *,
    line: int | None = None,
    unit: str = "line",
    case_id: str | None = None,
) -> str:
    """Format where a problem is, e.g. ``"golden.jsonl, line 57 (id 'tri-0042')"``.

    Example:
        >>> location("golden.jsonl", line=57, case_id="tri-0042")
        "golden.jsonl, line 57 (id 'tri-0042')"
    """
    parts: list[str] = []
    if path is not None:
        parts.append(str(path))
    if line is not None:
        parts.append(f"{unit} {line}")
    where = ", ".join(parts)
    if case_id is not None:
        where = f"{where} (id {case_id!r})" if where else f"case {case_id!r}"
    return where


@dataclass(frozen=True)
class Problem:
    """One problem found while validating input: where it is, what is wrong, how to fix it."""

    where: str
    what: str
    fix: str = ""

    def __str__(self) -> str:
        """Render as ``where: what. fix``."""
        text = f"{self.where}: {self.what}" if self.where else self.what
        if self.fix:
            text = f"{text.rstrip('.')}. {self.fix}"
        return text


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose.

    Args:
        what: what is wrong.
        where: the file and line, or the case, where it is wrong.
        fix: how to fix it.
        problems: further problems of the same validation, listed after the first.
        cli_fix: the same fix in command-line terms (``--candidate MODEL:VARIANT`` rather than
            ``candidate=(model, variant)``), shown by ``workbench`` commands; default ``fix``.

    Example:
        >>> e = ConfigError("no candidate", fix="Pass candidate=(model, variant).",
        ...                 cli_fix="Pass --candidate MODEL:VARIANT.")
        >>> e.for_cli()
        'no candidate. Pass --candidate MODEL:VARIANT.'
        >>> str(e)
        'no candidate. Pass candidate=(model, variant).'
    """

    def __init__(
        self,
        what: str,
        *,
        where: str = "",
        fix: str = "",
        problems: list[Problem] | None = None,
        cli_fix: str | None = None,
    ) -> None:
        self.problem = Problem(where=where, what=what, fix=fix)
        self.problems: list[Problem] = [self.problem, *(problems or [])]
        self.cli_fix = cli_fix
        super().__init__(self._render())

    @property
    def where(self) -> str:
        """The location of the first problem."""
        return self.problem.where

    @property
    def fix(self) -> str:
        """How to fix the first problem."""
        return self.problem.fix

    def for_cli(self) -> str:
        """The message with the fix in command-line terms (what ``workbench`` commands print)."""
        if self.cli_fix is None:
            return str(self)
        first = Problem(where=self.problem.where, what=self.problem.what, fix=self.cli_fix)
        return self._render(first=first)

    def _render(self, shown: int = 5, first: Problem | None = None) -> str:
        text = str(first or self.problem)
        more = self.problems[1:]
        if more:
            listed = "\n".join(f"  - {p}" for p in more[:shown])
            text += f"\n{len(more)} more problem(s):\n{listed}"
            if len(more) > shown:
                text += f"\n  ... and {len(more) - shown} more"
        return text

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> WorkbenchError:
        """Build one error from a non-empty list of problems (the first leads the message)."""
        first, *rest = problems
        return cls(first.what, where=first.where, fix=first.fix, problems=rest)


class DatasetError(WorkbenchError):
    """A golden set (file, manifest or rows) is invalid."""


class ConfigError(WorkbenchError):
    """A specification or configuration is invalid (templates, models, options, config files)."""


class RunError(WorkbenchError):
    """A run cannot start or go on as asked, e.g. another process is running the same plan."""


class DamagedSaveError(WorkbenchError):
    """A saved comparison is damaged or incomplete (a file missing, truncated or mismatched)."""


class TrackingError(WorkbenchError):
    """MLflow could not be reached or refused a write; the results themselves are safe."""


class BudgetExhausted(WorkbenchError):
    """A call would take spending past the budget (the runner stops, keeping what finished)."""

    def __init__(self, tag: str) -> None:
        super().__init__(f"the budget would be passed by call {tag}",
                         fix="Raise budget_usd and resume; recorded calls are not paid again.")
        self.tag = tag
