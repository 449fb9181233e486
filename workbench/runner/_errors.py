"""Errors of runs and saved runs (subclasses of :class:`workbench.errors.WorkbenchError`)."""

from __future__ import annotations

from workbench.errors import WorkbenchError

__all__ = ["DamagedSaveError", "RunError"]


class RunError(WorkbenchError):
    """A run cannot start or go on as asked, e.g. another process is running the same plan."""


class DamagedSaveError(WorkbenchError):
    """A saved comparison is damaged or incomplete (a file missing, truncated or mismatched)."""
