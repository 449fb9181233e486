"""The sidecar manifest ``<stem>.yaml`` of a golden set (DESIGN.md, Settled 9).

It holds what the author declares (name, description, version, slices and which of them are
``routable``, i.e. known at request time) and what :meth:`GoldenSet.freeze` records (digest,
rows, slice counts, creation time). ``GoldenSet.load`` verifies a recorded digest.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from workbench._yaml import problems_of, read_mapping
from workbench.errors import DatasetError

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "NAME_PATTERN",
    "FrozenRecord",
    "Manifest",
    "read_manifest",
    "sidecar_path",
    "validate_manifest",
]

MANIFEST_SCHEMA_VERSION = 1
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
"""Golden-set names: they appear in MLflow, reports and file names."""


class FrozenRecord(BaseModel):
    """What ``freeze`` recorded about the data, so a later load can verify it."""

    model_config = ConfigDict(extra="forbid")

    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    """Content digest of the canonical rows."""
    rows: int = Field(ge=1)
    """Number of rows."""
    slice_counts: dict[str, dict[str, int]] = {}
    """Rows per value of every slice column."""
    created_at: datetime
    """When the set was frozen (UTC)."""
    workbench_version: str = ""
    """Version of the workbench that froze it."""


class Manifest(BaseModel):
    """A golden set's sidecar manifest."""

    model_config = ConfigDict(extra="forbid")

    schema_version: int = MANIFEST_SCHEMA_VERSION
    """Format version of this manifest."""
    name: str = Field(pattern=NAME_PATTERN, max_length=120)
    """Name of the set, as shown in MLflow and reports."""
    description: str = ""
    """One or two sentences on what the set measures."""
    version: str | None = None
    """Optional version label declared by the author (defaults to the short digest)."""
    slices: list[str] = []
    """Columns that label each case (for per-slice breakdowns)."""
    routable: list[str] = []
    """Slices known at request time (a router could use them); a subset of ``slices``."""
    frozen: FrozenRecord | None = None
    """Written by ``freeze``; verified by ``load``."""

    @field_validator("schema_version")
    @classmethod
    def _known_schema(cls, value: int) -> int:
        if value > MANIFEST_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {value} was written by a newer workbench (this one reads up to "
                f"{MANIFEST_SCHEMA_VERSION}); upgrade workbench"
            )
        return value

    @field_validator("routable")
    @classmethod
    def _routable_are_slices(cls, value: list[str], info: ValidationInfo) -> list[str]:
        slices = info.data.get("slices", [])
        unknown = [r for r in value if r not in slices]
        if unknown:
            raise ValueError(f"routable {unknown} are not listed in slices {slices}")
        return value

    def to_yaml(self) -> str:
        """The manifest as YAML text."""
        data = self.model_dump(mode="json", exclude_none=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)

    def write(self, path: Path) -> None:
        """Write the manifest as YAML."""
        path.write_text(self.to_yaml(), encoding="utf-8")


# top-level keys of experiment and gates files, never of a manifest
_NOT_MANIFEST_KEYS = frozenset({
    "golden_set", "models", "variants", "scorers", "pairwise", "gates", "metrics", "candidate",
    "incumbent", "budget_usd", "repeats", "judge", "alpha",
})


def sidecar_path(data_path: Path) -> Path | None:
    """Return the existing ``<stem>.yaml`` (or ``.yml``) next to a data file, if any."""
    for suffix in (".yaml", ".yml"):
        candidate = data_path.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def read_manifest(path: Path, data_path: Path | None = None) -> Manifest:
    """Read and validate a manifest, raising a DatasetError naming the key and line.

    With ``data_path`` (the golden set ``path`` is the sidecar of), errors say the file was
    taken as that set's manifest, and a file that looks like an experiment or gates file
    (``mini.yaml`` beside ``mini.csv``) is refused with the rename that fixes it.
    """
    data, root = read_mapping(path, DatasetError, what="the manifest",
                              example="datasets/*/golden.yaml for the format")
    if data_path is None:
        return validate_manifest(data, where=path, root=root)
    foreign = sorted(set(data) & _NOT_MANIFEST_KEYS)
    if foreign:
        raise DatasetError(
            f"{path.name} was taken as the manifest of {data_path.name} (a golden set's "
            f"sidecar <stem>.yaml), but it looks like an experiment or gates file (keys: "
            f"{', '.join(foreign)})",
            where=str(path),
            fix=f"Rename it, e.g. {path.stem}_experiment{path.suffix}, so that it is not "
            f"beside {data_path.name} under the same stem; a manifest holds name, description, "
            "slices, routable (see datasets/*/golden.yaml).")
    try:
        return validate_manifest(data, where=path, root=root)
    except DatasetError as exc:
        raise DatasetError(
            f"{exc.problem.what} ({path.name} was read as the manifest of {data_path.name}: "
            "a golden set's sidecar <stem>.yaml)",
            where=exc.problem.where, fix=exc.problem.fix, problems=exc.problems[1:]) from None


def validate_manifest(
    data: dict[str, Any], *, where: Path | str, root: yaml.Node | None = None
) -> Manifest:
    """Validate manifest fields, raising a DatasetError with one problem per bad key."""
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        problems = problems_of(exc, where, root, list(Manifest.model_fields))
        raise DatasetError.from_problems(problems) from None
