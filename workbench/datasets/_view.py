"""``GoldenSetView``: what the checks and the notebook view read of a ``GoldenSet``.

A structural type, so that ``_check`` and ``_html`` need not import ``_golden`` (which imports
them): the modules of the package import each other without a cycle.
"""

from __future__ import annotations

from typing import Protocol

import pandas as pd

__all__ = ["GoldenSetView"]


class GoldenSetView(Protocol):
    """The parts of a ``GoldenSet`` its duplicate check and HTML view use."""

    _df: pd.DataFrame
    """The validated table itself (read, never changed; ``df`` would copy it)."""

    def __len__(self) -> int: ...

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def digest(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def routable(self) -> list[str]: ...

    @property
    def input_columns(self) -> list[str]: ...

    @property
    def ids(self) -> list[str]: ...

    @property
    def df(self) -> pd.DataFrame: ...

    def slice_counts(self) -> dict[str, dict[str, int]]: ...
