"""The run's progress bar: tqdm (a notebook bar in Jupyter, text in a terminal)."""

from __future__ import annotations

from typing import Any

from workbench.models import CallResult

__all__ = ["_Progress"]


class _Progress:
    """tqdm (notebook bar in Jupyter, text in a terminal) with errors and dollars spent."""

    def __init__(self, total: int, done: int, enabled: bool, label: str) -> None:
        self.bar: Any = None
        self.total = total
        self.done = done
        self.spent = 0.0
        self.errors = 0
        self.cached = 0
        if enabled:
            from tqdm.auto import tqdm  # type: ignore[import-untyped]

            self.bar = tqdm(total=total, initial=done, desc=label, unit="call", mininterval=0.2,
                            dynamic_ncols=True)

    def step(self, result: CallResult, spent: float) -> None:
        self.done += 1
        self.spent = spent
        self.errors += result.error_type is not None
        self.cached += result.cache_hit
        if self.bar is not None:
            self.bar.set_postfix_str(
                f"errors={self.errors} cached={self.cached} spent=${spent:.4f}", refresh=False
            )
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
