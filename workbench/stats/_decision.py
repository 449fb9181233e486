"""The outcome of ``decide``: each gate's result and the PROMOTE / HOLD / REJECT decision."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ._gate_config import Gates
from ._paired import ConfigRef, PairedComparison

__all__ = ["EXIT_CODES", "Decision", "GateResult", "Outcome", "Status"]

Outcome = Literal["PROMOTE", "HOLD", "REJECT"]
Status = Literal["pass", "fail", "inconclusive"]
EXIT_CODES: dict[str, int] = {"PROMOTE": 0, "HOLD": 10, "REJECT": 11}  # Settled 17


@dataclass(frozen=True)
class GateResult:
    """One gate: its threshold, the estimate, the deciding bound, and the verdict."""

    gate: str
    threshold: str
    estimate: float
    bound: float
    bound_label: str
    status: Status
    evidence: str
    extra_cases: int | None = None
    """For an inconclusive gate: total paired cases that would likely settle it (rounded)."""
    advice: str = ""
    """For an inconclusive gate: what more data would do, in words."""
    hopeless: bool = False
    """The estimate sits on the wrong side of the threshold: more data is unlikely to pass."""


@dataclass
class Decision:
    """PROMOTE / HOLD / REJECT with every gate's evidence (``wb.decide``)."""

    outcome: Outcome
    candidate: ConfigRef
    incumbent: ConfigRef
    gates: list[GateResult]
    config: Gates
    paired: PairedComparison
    notes: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 PROMOTE, 10 HOLD, 11 REJECT (``workbench gate``)."""
        return EXIT_CODES[self.outcome]

    @property
    def cases_needed(self) -> int | None:
        """For HOLD: the paired cases that would likely settle every inconclusive gate.

        None when some inconclusive gate gives no count (more data is unlikely to pass, or
        there is no spread to extrapolate from): then ``advice`` says why.
        """
        open_gates = [g for g in self.gates if g.status == "inconclusive"]
        counts = [g.extra_cases for g in open_gates]
        if not counts or any(g.hopeless for g in open_gates):
            return None
        known = [n for n in counts if n is not None]
        return max(known) if len(known) == len(counts) else None

    @property
    def extra_cases(self) -> int | None:
        """For HOLD: how many more cases than now (``cases_needed − n``)."""
        need = self.cases_needed
        return None if need is None else max(0, need - self.paired.n_cases)

    def table(self) -> pd.DataFrame:
        """One row per gate."""
        return pd.DataFrame([g.__dict__ for g in self.gates])

    def to_dict(self) -> dict[str, Any]:
        """Plain data for MLflow, JSON and reports."""
        return {"outcome": self.outcome, "candidate": list(self.candidate),
                "incumbent": list(self.incumbent), "n_cases": self.paired.n_cases,
                "cases_needed": self.cases_needed, "extra_cases": self.extra_cases,
                "advice": self.advice,
                "gates": [g.__dict__ for g in self.gates], "notes": self.notes,
                "config": self.config.model_dump(mode="json")}

    @property
    def advice(self) -> str:
        """For HOLD: what more data would do, in words a reader acts on correctly."""
        if self.outcome != "HOLD":
            return ""
        open_gates = [g for g in self.gates if g.status == "inconclusive"]
        hopeless = [g for g in open_gates if g.hopeless]
        if hopeless:
            return "unlikely to pass with more data: " + "; ".join(
                f"{short_gate(g.gate)}: {g.advice}" for g in hopeless)
        if not open_gates:
            return "the comparison is incomplete: finish the run, then decide again"
        more, needed = self.extra_cases, self.cases_needed
        if more is not None and needed is not None:
            head = (f"about {more:,} more cases ({needed:,} in all) would likely settle it, "
                    "if the observed differences hold")
            each = [f"{short_gate(g.gate)} {g.extra_cases:,}" for g in open_gates
                    if g.extra_cases is not None]
            return head if len(open_gates) == 1 else f"{head} (in all: {', '.join(each)})"
        parts = [f"{short_gate(g.gate)}: {g.advice}" for g in open_gates if g.advice]
        return "; ".join(parts) or "more cases cannot settle it on this evidence"

    def headline(self) -> str:
        """``HOLD: sim/fast/guided vs sim/large/guided, 152 cases ...``."""
        text = (f"{self.outcome}: {self.candidate[0]}/{self.candidate[1]} (candidate) vs "
                f"{self.incumbent[0]}/{self.incumbent[1]} (incumbent), "
                f"{self.paired.n_cases} paired cases")
        if self.outcome == "HOLD":
            text += f"; {self.advice}"
        return text

    def __str__(self) -> str:
        width = max(len(g.gate) for g in self.gates) if self.gates else 10
        lines = [self.headline()]
        for g in self.gates:
            lines.append(f"  {g.status.upper():<12} {g.gate:<{width}}  {g.evidence}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        colour = {"PROMOTE": "#1a7f37", "HOLD": "#9a6700", "REJECT": "#cf222e"}[self.outcome]
        rows = "".join(
            f"<tr><td>{html.escape(g.status.upper())}</td><td>{html.escape(g.gate)}</td>"
            f"<td>{html.escape(g.evidence)}</td></tr>" for g in self.gates)
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div><p><b style='color:{colour}'>{html.escape(self.outcome)}</b> "
                f"{html.escape(self.headline().split(': ', 1)[1])}</p>"
                f"<table><tr><th>status</th><th>gate</th><th>evidence</th></tr>{rows}</table>"
                f"<ul>{notes}</ul></div>")


def short_gate(gate: str) -> str:
    """A gate's name without its threshold text (``intent: not worse …`` → ``intent``)."""
    return gate.split(":")[0] if ":" in gate else gate
