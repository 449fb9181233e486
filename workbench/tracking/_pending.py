"""What to log for a saved comparison, kept beside it so the logging can be finished later.

``workbench run --out DIR`` saves the comparison before it logs anything, and writes here what
it is about to log (experiment, tracking URI, roles, extra tables and tags). When MLflow is
unreachable, or the process is killed while logging, ``workbench log DIR`` reads this back
and logs the comparison again; the parent run of the unfinished attempt (recorded as soon as it
exists) is then marked superseded.
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workbench._atomic import write_text
from workbench.errors import TrackingError

__all__ = ["PENDING_DIR", "PendingLog"]

PENDING_DIR = "mlflow"
"""Folder of a saved comparison holding ``request.json`` and ``tables/``."""
PENDING_SCHEMA_VERSION = 1


class PendingLog(BaseModel):
    """A logging request for the comparison saved in a folder, and how far it got."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = PENDING_SCHEMA_VERSION
    experiment: str
    """The MLflow experiment."""
    tracking_uri: str | None = None
    """None: ``$MLFLOW_TRACKING_URI``, else the embedded store of the working directory."""
    run_name: str | None = None
    candidate: tuple[str, str] | None = None
    incumbent: tuple[str, str] | None = None
    register_prompts: bool = False
    charts: bool = True
    tags: dict[str, str] = Field(default_factory=dict)
    """More tags for the parent run (e.g. ``workbench.decision``)."""
    tables: list[str] = Field(default_factory=list)
    """Names of more tables for the parent run, kept in ``tables/``."""
    calibrations: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Judge scorer → its calibration figures (``calibration_figures``): a judge child run."""
    state: Literal["pending", "started", "logged"] = "pending"
    """``pending`` before MLflow was reached, ``started`` once the parent run exists,
    ``logged`` when every artifact is written."""
    run_id: str | None = None
    """The parent run of the latest attempt."""
    updated_at: str = ""

    @staticmethod
    def folder(directory: str | Path) -> Path:
        """``<directory>/mlflow``."""
        return Path(directory) / PENDING_DIR

    def write(self, directory: str | Path,
              tables: Mapping[str, pd.DataFrame] | None = None) -> None:
        """Write the request (and the tables, when given) atomically into ``directory``."""
        folder = self.folder(directory)
        for name, table in (tables or {}).items():
            write_text(folder / "tables" / name, pd.DataFrame(table).to_json(
                orient="split", index=False, date_format="iso", default_handler=str))
        self.updated_at = datetime.now(UTC).isoformat(timespec="seconds")
        write_text(folder / "request.json", self.model_dump_json(indent=2) + "\n")

    def mark(self, directory: str | Path, state: Literal["started", "logged"],
             run_id: str) -> None:
        """Record how far the logging got (the run id as soon as the parent run exists)."""
        self.state, self.run_id = state, run_id
        self.write(directory)

    @classmethod
    def read(cls, directory: str | Path) -> PendingLog | None:
        """The request saved in ``directory``, or None when there is none.

        Raises:
            TrackingError: when the request file is damaged or from a newer workbench.
        """
        path = cls.folder(directory) / "request.json"
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if int(data.get("schema_version", 0)) > PENDING_SCHEMA_VERSION:
                raise TrackingError("the logging request was written by a newer workbench",
                                    where=str(path), fix="Upgrade workbench.")
            return cls.model_validate(data)
        except (OSError, ValueError, ValidationError, AttributeError) as exc:
            raise TrackingError(f"the logging request cannot be read ({str(exc)[:200]})",
                                where=str(path),
                                fix="Pass the experiment again: workbench log DIR --experiment "
                                "NAME (tables and tags of the first attempt are then left out)."
                                ) from None

    def read_tables(self, directory: str | Path) -> dict[str, pd.DataFrame]:
        """The extra tables kept with the request."""
        folder = self.folder(directory) / "tables"
        out: dict[str, pd.DataFrame] = {}
        for name in self.tables:
            path = folder / name
            if path.is_file():
                out[name] = pd.read_json(io.StringIO(path.read_text(encoding="utf-8")),
                                         orient="split", dtype=False)
        return out
