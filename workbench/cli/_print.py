"""How the command line shows a workflow's steps: a listener that prints them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from workbench._home import mlflow_ui_command, redact_uri
from workbench.runner import judge_cost_text

__all__ = ["PrintingListener", "print_errors"]


class PrintingListener:
    """Prints each step of ``run_experiment`` / ``run_shadow`` as the command line shows it.

    A ``workbench.workflow.Listener`` by its methods (imported lazily: ``workbench --help``
    and errors in input files stay fast).
    """

    def __init__(self, shadow: bool = False, show_decision: bool = True) -> None:
        self.shadow = shadow
        self.show_decision = show_decision

    def planned(self, plan: Any) -> None:
        print(plan)
        print()

    def loaded(self, log: Any) -> None:
        print(log.describe())

    def ran(self, comparison: Any) -> None:
        print()
        print(comparison.summary_text())
        if self.shadow:
            shadow = comparison.record.shadow
            pw = shadow.pairwise_summary if shadow else None
            if pw:
                sim = " (SIMULATED judge)" if pw.simulated_judge else ""
                print(f"\npairwise {pw.rubric} by {pw.judge}{sim}, both orders: {pw.wins} "
                      f"wins, {pw.losses} losses, {pw.ties} ties on {pw.n} requests; orders "
                      f"agreed on {pw.consistency_rate or 0:.0%}; "
                      f"{judge_cost_text(pw.judge_cost_usd, pw.judge_billed_usd)}")
            tracking = comparison.record.tracking
            if tracking is not None and tracking.run_id:
                where = redact_uri(tracking.tracking_uri) if tracking.tracking_uri else ""
                print(f"\nlogged to MLflow{f' ({where})' if where else ''}, experiment "
                      f"{tracking.experiment!r}: parent run {tracking.run_id}")
            return
        self.errors_over = print_errors(comparison, self.max_error_rate)
        stats = comparison.record.run
        print(f"\n{stats.calls_recorded}/{stats.calls_planned} calls recorded, "
              f"{int(comparison.results['cache_hit'].sum())} from the cache, billed "
              f"${comparison.spent_usd:.4f} in {stats.duration_s:.1f} s")

    max_error_rate = 0.5
    errors_over = ""

    def saved(self, path: Path) -> None:
        print(f"saved to {path}/ (results.parquet, comparison.json)")

    def judged(self, table: Any) -> None:
        a = table.attrs
        sim = " (SIMULATED judge)" if a["simulated_judge"] else ""
        print(f"\npairwise {a['rubric']} by {a['judge']}{sim}: candidate "
              f"{'/'.join(a['candidate'])} vs incumbent {'/'.join(a['incumbent'])} on {a['n']} "
              f"cases: {a['wins']} wins, {a['losses']} losses, {a['ties']} ties; both orders "
              f"agreed on {a['consistency_rate']:.0%}; "
              f"{judge_cost_text(a['judge_cost_usd'], a.get('judge_billed_usd'))}")

    def calibrated(self, name: str, calibration: Any, simulated_judge: str | None) -> None:
        note = f"\n  ({name} is the SIMULATED judge {simulated_judge})" if simulated_judge \
            else ""
        print(f"\n{calibration}{note}")

    def decided(self, decision: Any, gates: str) -> None:
        if self.show_decision:  # the demo shows it once, at its end
            print(f"\ndecision ({gates}):\n{decision}")

    def logged(self, run_id: str, tracking_uri: str, experiment: str) -> None:
        shown = redact_uri(tracking_uri)
        print(f"\nlogged to MLflow ({shown}), experiment {experiment!r}: parent run {run_id}")
        from workbench.tracking import run_url

        url = run_url(run_id, tracking_uri)  # opens the runs view, not MLflow's GenAI overview
        if tracking_uri.startswith("http"):
            print(f"  open {url}")
        else:
            print(f"  open the UI: {mlflow_ui_command(tracking_uri)}, then {url}")

    def log_failed(self, error: Exception) -> None:
        print(f"\n{type(error).__name__}: {error}", file=sys.stderr)

    def reported(self, html: Path, markdown: Path, outcome: str, logged_as: str | None) -> None:
        if self.shadow:  # the command prints the decision, then where the report is
            return
        logged = f" (also logged to the MLflow run as {logged_as})" if logged_as else ""
        print(f"\nmigration report: {html} and {markdown}{logged}: {outcome}")


def print_errors(cmp: Any, max_error_rate: float) -> str:
    """Print each failing configuration's most frequent error; name those over the threshold.

    Returns the configurations whose error rate passed ``max_error_rate`` ("" when none did).
    """
    from workbench.runner import error_breakdown

    table = error_breakdown(cmp)
    failing = table[table["errors"] > 0]
    over: list[str] = []
    if not failing.empty:
        print("\nerrors by configuration (most frequent first):")
    for row in failing.to_dict("records"):
        label, rate = f"{row['model']} · {row['variant']}", float(row["error_rate"])
        line = f"  {label}: {row['errors']} of {row['calls']} calls failed ({rate:.0%})"
        if row["top_error"] is not None:
            message = " ".join(str(row["top_error_message"] or "").split())[:200]
            line += f"; most often {row['top_error']} ({row['top_error_count']}×): {message}"
        if row["skipped"]:
            line += f"; {row['skipped']} not called (configuration stopped)"
        print(line)
        if rate > max_error_rate:
            over.append(f"{label} {rate:.0%} > {max_error_rate:.0%}")
    return ", ".join(over)
