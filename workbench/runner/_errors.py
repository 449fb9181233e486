"""Errors of runs and saved runs: defined in :mod:`workbench.errors`, re-exported here."""

from __future__ import annotations

from workbench.errors import DamagedSaveError, RunError

__all__ = ["DamagedSaveError", "RunError"]
