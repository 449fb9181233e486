"""``GoldenSet``: a validated, versioned table of evaluation cases."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import ValidationError

from workbench._version import __version__
from workbench._yaml import problems_of
from workbench.errors import DatasetError, location

from ._canonical import digest_of, to_python
from ._io import RawRows, check_values, read_rows
from ._manifest import (
    FrozenRecord,
    Manifest,
    read_manifest,
    sidecar_path,
    validate_manifest,
)
from ._sampling import draw
from ._validate import RESERVED, check_name, name_from_file, validate_rows

if TYPE_CHECKING:
    from ._check import CheckReport

__all__ = ["GoldenSet"]


def _write_atomic(path: Path, text: str) -> None:
    """Write a file a user keeps: a temporary file in the same folder, then a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class GoldenSet:
    """A frozen, versioned table of evaluation cases: ids, inputs, expected answers, slices.

    Load one with :meth:`load` (JSONL, CSV or Parquet) or build one with :meth:`from_df`. Both
    validate everything before any model is called.

    Example:
        >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")
        >>> len(gs), gs.digest[:15], gs.slices
        (156, 'sha256:96a34555', ['intent', 'difficulty', 'risk_tier', 'language'])
    """

    def __init__(
        self,
        df: pd.DataFrame,
        *,
        name: str,
        slices: Sequence[str] = (),
        routable: Sequence[str] = (),
        description: str = "",
        version: str | None = None,
        path: Path | None = None,
    ) -> None:
        """Wrap an already validated table; use :meth:`load` or :meth:`from_df` instead."""
        self._df = df
        self._name = name
        self._slices = list(slices)
        self._routable = [r for r in routable if r in self._slices]
        self._description = description
        self._declared_version = version
        self._path = path
        self._digest = digest_of(df)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(
        cls,
        path: str | Path,
        slices: Sequence[str] | None = None,
        *,
        name: str | None = None,
        verify: bool = True,
    ) -> GoldenSet:
        """Load and validate a golden set from a JSONL, CSV or Parquet file.

        Args:
            path: the data file. A sidecar manifest ``<stem>.yaml`` next to it, if present,
                declares the name, description, slice columns and a frozen digest.
            slices: slice columns; overrides the manifest's list.
            name: overrides the manifest's name (default: the manifest's, else the file stem
                made safe, e.g. ``golden set (v2).jsonl`` → ``golden_set_v2``).
            verify: check the data against the digest recorded by :meth:`freeze`.

        Raises:
            DatasetError: naming the file, line and fix for every problem found.

        Example:
            The shipped triage set with only one of the slices its manifest declares (a CSV
            or Parquet file loads the same way):

            >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl", slices=["difficulty"])
            >>> gs.name, gs.slices
            ('support_triage', ['difficulty'])
            >>> "intent" in gs.input_columns   # a column that is no slice is an input
            True
        """
        path = Path(path)
        manifest_path = sidecar_path(path)
        manifest = read_manifest(manifest_path, path) if manifest_path else None
        declared = list(slices) if slices is not None else (manifest.slices if manifest else [])
        if name is not None:
            check_name(name, f"GoldenSet.load({str(path)!r}, name=...)")
        raw = read_rows(path)
        df = validate_rows(raw, declared, manifest_path if slices is None else None)
        gs = cls(
            df,
            name=name or (manifest.name if manifest else name_from_file(path.stem)),
            slices=declared,
            routable=manifest.routable if manifest else (),
            description=manifest.description if manifest else "",
            version=manifest.version if manifest else None,
            path=path,
        )
        if verify and manifest is not None and manifest.frozen is not None:
            if manifest.frozen.digest != gs.digest:
                raise DatasetError(
                    f"the data does not match its frozen manifest: recorded "
                    f"{manifest.frozen.digest}, computed {gs.digest} "
                    f"({manifest.frozen.rows} rows recorded, {len(gs)} found)",
                    where=f"{path} (manifest {manifest_path})",
                    fix="The file changed after it was frozen. Restore it from version control, "
                    "or if the change is intended re-freeze it with gs.freeze(dir) "
                    "(or `workbench dataset freeze`) and review the diff.",
                )
        return gs

    @classmethod
    def from_df(
        cls,
        df: pd.DataFrame,
        *,
        name: str,
        slices: Sequence[str] = (),
        routable: Sequence[str] = (),
        description: str = "",
    ) -> GoldenSet:
        """Validate a DataFrame (an ``id`` column, inputs, optional ``expected``) as a golden set.

        Example:
            >>> df = pd.DataFrame({"id": ["a", "b"], "question": ["2+2?", "3+3?"],
            ...                    "expected": ["4", "6"]})
            >>> len(GoldenSet.from_df(df, name="arith"))
            2
        """
        raw = RawRows(path=Path(f"<DataFrame {name}>"), fmt="dataframe", unit="row")
        validate_manifest(  # the same rules for name, slices and routable as a sidecar file
            {"name": name, "slices": list(slices), "routable": list(routable)}, where=raw.path
        )
        cols = [str(c) for c in df.columns]
        for i, values in enumerate(df.itertuples(index=False, name=None), start=1):
            try:
                raw.records.append({c: to_python(v) for c, v in zip(cols, values, strict=True)})
            except RecursionError:
                raise DatasetError("a value is nested too deeply",
                                   where=location(raw.path, line=i, unit="row"),
                                   fix="Flatten the value (store it as a string).") from None
            raw.lines.append(i)
        problems = check_values(raw)
        if problems:
            raise DatasetError.from_problems(problems)
        return cls(
            validate_rows(raw, list(slices), None),
            name=name,
            slices=slices,
            routable=routable,
            description=description,
        )

    def _subset(self, df: pd.DataFrame, name: str) -> GoldenSet:
        return GoldenSet(
            df.reset_index(drop=True),
            name=name,
            slices=self._slices,
            routable=self._routable,
            description=self._description,
        )

    # ------------------------------------------------------------------ properties
    @property
    def name(self) -> str:
        """Name of the set (from the manifest, else the file stem)."""
        return self._name

    @property
    def description(self) -> str:
        """The author's description, from the manifest."""
        return self._description

    @property
    def digest(self) -> str:
        """``sha256:`` hash of the canonical rows: equal for the same data in any format."""
        return self._digest

    @property
    def version(self) -> str:
        """The author's declared version, else the first 12 hex digits of the digest."""
        return self._declared_version or self._digest.split(":", 1)[1][:12]

    @property
    def slices(self) -> list[str]:
        """Slice columns (labels for per-slice breakdowns)."""
        return list(self._slices)

    @property
    def routable(self) -> list[str]:
        """Slices whose value is known at request time."""
        return list(self._routable)

    @property
    def input_columns(self) -> list[str]:
        """Columns that prompt templates may use: all but id, expected and slices."""
        return [c for c in self._df.columns if c not in RESERVED and c not in self._slices]

    @property
    def path(self) -> Path | None:
        """The file the set was loaded from, if any."""
        return self._path

    @property
    def df(self) -> pd.DataFrame:
        """A copy of the table (editing it does not change the set)."""
        return self._df.copy(deep=True)

    @property
    def ids(self) -> list[str]:
        """Case ids in file order."""
        return [str(i) for i in self._df["id"]]

    def __len__(self) -> int:
        """Number of cases."""
        return len(self._df)

    def records(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """Rows as plain Python dicts (missing values as None), in file order.

        ``ids`` keeps only those cases (a report's few examples out of 100,000 cases).
        """
        df = self._df
        if ids is not None:
            df = df[df["id"].astype(str).isin(set(map(str, ids)))]
        rows = df.to_dict("records")
        return [{str(k): to_python(v) for k, v in row.items()} for row in rows]

    def slice_counts(self) -> dict[str, dict[str, int]]:
        """Rows per value of every slice column, e.g. ``{"difficulty": {"easy": 70, ...}}``."""
        return {
            s: {str(k): int(v) for k, v in self._df[s].value_counts().sort_index().items()}
            for s in self._slices
        }

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, *, stratify: Sequence[str] | None = None, seed: int = 0) -> GoldenSet:
        """Draw ``n`` cases, reproducibly, optionally stratified by columns.

        With ``stratify``, every stratum gets its proportional share of ``n`` (largest-remainder
        rounding). The draw depends only on the rows, not on their order in the file.

        Example:
            >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")
            >>> few_shot = gs.sample(4, seed=1)
            >>> few_shot.ids
            ['tri-0025', 'tri-0085', 'tri-0129', 'tri-0131']
            >>> dev = gs.sample(60, stratify=["difficulty"], seed=0)
            >>> dev.slice_counts()["difficulty"], gs.slice_counts()["difficulty"]
            ({'easy': 22, 'hard': 17, 'medium': 21}, {'easy': 56, 'hard': 45, 'medium': 55})
        """
        chosen = self._draw(n, stratify, seed, what="sample")
        return self._subset(self._df.loc[sorted(chosen)], f"{self._name}.sample-{n}-seed{seed}")

    def split(
        self, holdout: float = 0.2, *, stratify: Sequence[str] | None = None, seed: int = 0
    ) -> tuple[GoldenSet, GoldenSet]:
        """Split into (dev, holdout) sets; ``holdout`` is the holdout's share of the rows.

        Example:
            >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")
            >>> dev, holdout = gs.split(0.25, stratify=["intent"], seed=7)
            >>> len(dev), len(holdout), holdout.slice_counts()["intent"]["billing"]
            (117, 39, 4)
        """
        if not 0 < holdout < 1:
            raise DatasetError(
                f"holdout must be a share between 0 and 1, got {holdout!r}",
                where=f"GoldenSet {self._name!r}.split",
                fix="Pass e.g. holdout=0.2 for a 20% holdout.",
            )
        n = max(1, min(len(self) - 1, round(holdout * len(self))))
        chosen = set(self._draw(n, stratify, seed, what="split"))
        rest = [i for i in self._df.index if i not in chosen]
        return (
            self._subset(self._df.loc[rest], f"{self._name}.dev"),
            self._subset(self._df.loc[sorted(chosen)], f"{self._name}.holdout"),
        )

    def _draw(self, n: int, stratify: Sequence[str] | None, seed: int, what: str) -> list[int]:
        return draw(self._df, n, stratify, seed, where=f"GoldenSet {self._name!r}.{what}",
                    slices=self._slices)

    # ------------------------------------------------------------------ checks
    def check(
        self,
        against: GoldenSet | pd.DataFrame | str | Path | None = None,
        *,
        threshold: float = 0.9,
        progress: bool | None = None,
    ) -> CheckReport:
        """Find exact and near duplicates within the set, and leakage against another set.

        Inputs are compared as text: exact (identical), normalized (identical after unicode
        normalization, case folding and dropping punctuation and extra whitespace) and near
        (TF-IDF cosine of character n-grams at least ``threshold`` in every input column).
        Copies are reported against the first row with the same text. Large sets are searched
        with MinHash LSH, so 100,000 rows take well under a minute.

        Args:
            against: few-shot examples, a training file or another golden set to check for
                leakage (a GoldenSet, a DataFrame or a path).
            threshold: cosine similarity from which two inputs count as near duplicates.
            progress: show a progress bar (default: only in a terminal or notebook).

        Example:
            Few-shot examples drawn from the set itself leak into it (a training file is
            checked the same way: ``gs.check(against="train.jsonl")``):

            >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")
            >>> report = gs.check(against=gs.sample(4, seed=1).df)
            >>> leaks = report.findings.query("check == 'leakage'")
            >>> leaks["id"].tolist(), leaks["match"].unique().tolist()
            (['tri-0025', 'tri-0085', 'tri-0129', 'tri-0131'], ['exact'])
        """
        from ._check import check_sets

        other = None
        if against is not None:
            other = (
                against
                if isinstance(against, (GoldenSet, pd.DataFrame))
                else GoldenSet.load(against)
            )
        return check_sets(self, other, threshold=threshold, progress=progress)

    # ------------------------------------------------------------------ freezing
    def freeze(self, directory: str | Path, *, stem: str | None = None) -> Path:
        """Write the rows as canonical JSONL plus a manifest that pins them.

        Writes ``<directory>/<stem>.jsonl`` (rows sorted by id) and ``<stem>.yaml`` (name,
        description, slices, digest, row and slice counts, creation time, schema version).
        ``GoldenSet.load`` of that file verifies the digest and refuses a tampered copy.

        Returns:
            The path of the written JSONL file.

        Example:
            >>> import tempfile
            >>> gs = GoldenSet.load("datasets/support_triage/golden.jsonl")
            >>> with tempfile.TemporaryDirectory() as tmp:
            ...     path = gs.freeze(tmp)
            ...     print(sorted(p.name for p in path.parent.iterdir()))
            ...     print(GoldenSet.load(path).digest == gs.digest)   # the frozen copy verifies
            ['support_triage.jsonl', 'support_triage.yaml']
            True
        """
        directory = Path(directory)
        where = f"GoldenSet {self._name!r}.freeze"
        if stem is not None and (not stem or Path(stem).name != stem or stem in (".", "..")):
            raise DatasetError(f"the stem {stem!r} is not a plain file name", where=where,
                               fix="Give a name without folders, e.g. stem='triage_v2'.")
        stem = stem or self._name
        check_name(self._name, where)
        try:
            manifest = Manifest(
                name=self._name,
                description=self._description,
                version=self._declared_version,
                slices=self._slices,
                routable=self._routable,
                frozen=FrozenRecord(
                    digest=self._digest,
                    rows=len(self),
                    slice_counts=self.slice_counts(),
                    created_at=datetime.now(UTC).replace(microsecond=0),
                    workbench_version=__version__,
                ),
            )
        except ValidationError as exc:
            raise DatasetError.from_problems(
                problems_of(exc, where, None, list(Manifest.model_fields))) from None
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatasetError(f"cannot create the folder: {exc.strerror or exc}",
                               where=str(directory), fix="Choose a folder you can write to.",
                               ) from None
        data_path = directory / f"{stem}.jsonl"
        rows = sorted(self.records(), key=lambda r: str(r["id"]))
        _write_atomic(data_path, "".join(json.dumps(row, ensure_ascii=False) + "\n"
                                         for row in rows))
        _write_atomic(directory / f"{stem}.yaml", manifest.to_yaml())
        GoldenSet.load(data_path)  # proves the frozen copy reproduces the digest
        return data_path

    # ------------------------------------------------------------------ display
    def describe(self) -> str:
        """A short text summary: name, size, digest, columns and slice counts."""
        lines = [
            f"{self._name}: {len(self)} cases, {self._digest}",
            f"  inputs: {', '.join(self.input_columns)}"
            + ("; expected answers: yes" if "expected" in self._df.columns else ""),
        ]
        if self._description:
            lines.insert(1, f"  {self._description}")
        for name, counts in self.slice_counts().items():
            routable = " (routable)" if name in self._routable else ""
            shown = ", ".join(f"{k} {v}" for k, v in counts.items())
            lines.append(f"  slice {name}{routable}: {shown}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        """Short one-line form."""
        return (
            f"GoldenSet({self._name!r}, {len(self)} cases, {self._digest[:19]}…, "
            f"slices={self._slices})"
        )

    def _repr_html_(self) -> str:
        from ._html import golden_set_html

        return golden_set_html(self)
