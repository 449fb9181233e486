"""``workbench`` commands.

Exit codes (DESIGN.md, Settled 17): 0 success, 2 a usage or configuration error (bad input, with
a message saying what, where and how to fix it; also MLflow unreachable, the results saved), 1
only for a crash; ``run`` 12 when stopped by the budget and 13 when a configuration's error rate
passes ``--max-error-rate`` (default 0.5); ``gate`` and ``shadow`` 0 PROMOTE, 10 HOLD, 11 REJECT.
Each command calls a workflow (``workbench.workflow``) and formats what it returns.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from workbench._version import __version__
from workbench.errors import WorkbenchError

from ._commands import (
    EXIT_BUDGET,
    EXIT_CRASH,
    EXIT_ERRORS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    MAX_ERROR_RATE,
    cmd_check,
    cmd_demo,
    cmd_freeze,
    cmd_gate,
    cmd_log,
    cmd_report,
    cmd_run,
    cmd_shadow,
    cmd_show,
)

__all__ = ["EXIT_BUDGET", "EXIT_CRASH", "EXIT_ERRORS", "EXIT_INTERRUPTED", "EXIT_OK",
           "EXIT_USAGE", "build_parser", "main"]


def _role_options(parser: argparse.ArgumentParser, tracking_help: str) -> None:
    """--candidate / --incumbent (MODEL:VARIANT, over the gates file's) and --tracking-uri."""
    parser.add_argument("--candidate", metavar="MODEL:VARIANT", help="override the candidate")
    parser.add_argument("--incumbent", metavar="MODEL:VARIANT", help="override the incumbent")
    parser.add_argument("--tracking-uri", help=tracking_help)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``workbench`` command."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Compare LLMs and prompt variants on golden sets.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the offline demo on the shipped golden sets")
    demo.add_argument("--datasets", help="directory of the shipped sets (default: ./datasets)")
    demo.add_argument("--out", default="workbench-demo",
                      help="where the demo writes its outputs (default: ./workbench-demo)")
    demo.add_argument("--no-progress", action="store_true", help="no progress bar")
    demo.add_argument("--pdf", action="store_true",
                      help="also print each report to PDF (needs Chromium)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser(
        "run", help="run an experiment file: plan, calls with progress, summary",
        description="Exit codes: 0 complete, 12 stopped by the budget (partial results kept), "
        "13 too many errors (a configuration's error rate passed --max-error-rate; the "
        "summary names each configuration's most frequent error), 2 configuration error "
        "(also: another run of the same plan in progress, or MLflow unreachable with the "
        "results saved for `workbench log`), 130 interrupted, 1 crash.",
    )
    run.add_argument("experiment", help="experiment file (YAML)")
    run.add_argument("--dry-run", action="store_true", help="validate and print the plan only")
    run.add_argument("--out", help="save the comparison (results.parquet + comparison.json)")
    run.add_argument("--resume", action="store_true",
                     help="continue an unfinished run of the same experiment (no call twice)")
    run.add_argument("--retry-errors", action="store_true",
                     help="with --resume (implied): call again the cells whose recorded call "
                     "failed (errors, empty answers, cells of a stopped configuration)")
    run.add_argument("--max-error-rate", type=float, default=MAX_ERROR_RATE, metavar="SHARE",
                     help="exit 13 when a configuration's share of failed calls passes this "
                     "(default 0.5)")
    run.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="when another process runs the same plan, wait up to SECONDS for it "
                     "(default: refuse at once, naming it)")
    run.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    run.add_argument("--workers", type=int, metavar="N",
                     help="run the cases in N worker processes (default: the file's workers:, "
                     "else one); budget, rate limits and concurrency stay the run's; resume "
                     "with the same N")
    run.add_argument("--executor", choices=["local", "ray"], default="local",
                     help="local: worker processes on this machine; ray: Ray tasks on a "
                     "cluster (pip install 'workbench[ray]'; N defaults to its CPUs)")
    run.add_argument("--address", metavar="ADDR",
                     help="with --executor ray: auto (a cluster started here with `ray start "
                     "--head`) or ray://HEAD:10001; default: a local Ray instance")
    run.add_argument("--budget", type=float, help="override budget_usd")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--allow-outside", action="append", default=[], metavar="PATH",
                     help="let the experiment's paths point into PATH, outside its folder "
                     "(repeatable)")
    run.add_argument("--no-mlflow", action="store_true",
                     help="do not log to MLflow (the file's mlflow_experiment)")
    run.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
                     "else sqlite:///mlflow.db here)")
    run.set_defaults(func=cmd_run)

    log = sub.add_parser(
        "log", help="log a saved comparison to MLflow (finish or redo an interrupted logging)",
        description="Logs the comparison saved in RUN_DIR (the --out folder of `workbench run`) "
        "with the experiment, tracking URI, roles, tables and tags `workbench run` recorded "
        "there before logging. A run whose logging did not finish (MLflow unreachable, a "
        "kill) is marked superseded by the new one. Exit codes: 0 logged (or already logged), "
        "2 configuration error, a damaged folder or MLflow unreachable, 1 crash.")
    log.add_argument("run_dir", help="folder of a saved comparison (comparison.json, ...)")
    log.add_argument("--experiment", help="MLflow experiment (default: the one recorded)")
    log.add_argument("--tracking-uri", help="MLflow tracking URI (default: the one recorded, "
                     "else $MLFLOW_TRACKING_URI, else sqlite:///mlflow.db here)")
    log.add_argument("--force", action="store_true", help="log again even if already logged")
    log.set_defaults(func=cmd_log)

    gate = sub.add_parser(
        "gate", help="decide PROMOTE / HOLD / REJECT for a candidate (a CI eval gate)",
        description="Runs the experiment (the cache makes a rerun free) or loads a logged "
        "comparison, applies the gates and prints the decision table. Exit codes: 0 PROMOTE, "
        "10 HOLD, 11 REJECT, 2 configuration error, 1 crash.",
    )
    gate.add_argument("experiment", nargs="?", help="experiment file (YAML) with a gates: key")
    gate.add_argument("--run-id", help="decide on a comparison logged to MLflow instead")
    gate.add_argument("--gates", help="gates file (YAML); default: the experiment's gates:")
    _role_options(gate, "MLflow tracking URI for --run-id")
    gate.add_argument("--json", help="also write the decision as JSON to this file")
    gate.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    gate.add_argument("--no-progress", action="store_true", help="no progress bar")
    gate.add_argument("--allow-outside", action="append", default=[], metavar="PATH",
                      help="let the experiment's paths point into PATH, outside its folder "
                      "(repeatable)")
    gate.set_defaults(func=cmd_gate)

    report = sub.add_parser(
        "report", help="build the migration (or shadow-test) report of a logged comparison",
        description="Rebuilds the report from MLflow alone: the comparison, its frozen golden "
        "set and roles. Writes OUT (.html) and the same name with .md, and logs both to the "
        "run: as reports/migration_report.html for the run's own roles and gates, else under "
        "a name that says the roles and gates (a logged report is never overwritten by one "
        "deciding something else). Exit codes: 0 written, 2 configuration error or a run "
        "that lacks what the report needs, 1 crash.")
    report.add_argument("run_id", help="the parent run id (workbench run / wb.compare prints it)")
    report.add_argument("--gates", help="gates file (YAML); default gates otherwise")
    _role_options(report, "MLflow tracking URI")
    report.add_argument("--out", default="migration_report.html", help="output HTML path")
    report.add_argument("--pdf", action="store_true",
                        help="also write OUT with .pdf: Chromium's print of the HTML")
    report.set_defaults(func=cmd_report)

    shadow = sub.add_parser(
        "shadow", help="replay production traffic against a candidate (shadow test)",
        description="Loads the traffic (a JSONL log, MLflow traces or OTLP/JSON exports, "
        "redacting personal data), replays every request against the candidate, judges it "
        "pairwise against what production served (both orders), applies the shadow gates and "
        "writes the report (OUT and OUT with .md). Traces that cannot be replayed (failed, "
        "tool calls, no chat request) are counted by reason and named in the report. "
        "Exit codes: 0 PROMOTE, 10 HOLD, 11 REJECT, 2 configuration error, 1 crash.")
    shadow.add_argument("--traffic", "--log", dest="traffic", required=True, metavar="SOURCE",
                        help="the traffic: a JSONL log (one request a line); "
                        "mlflow-traces:EXPERIMENT[?filter=...&since=DATE&until=DATE&max=N] "
                        "(MLflow traces); otlp:FILE[,FILE...] or otlp:FOLDER (OTLP/JSON)")
    shadow.add_argument("--candidate", required=True, metavar="MODEL[:VARIANT.yaml]",
                        help="the candidate model (any litellm model string, or sim/...); it "
                        "gets the logged messages as they were sent (MODEL:production), or "
                        "each request re-rendered by a variant file (MODEL:VARIANT.yaml)")
    shadow.add_argument("--variant", metavar="FILE",
                        help="a prompt variant file (YAML: name, system, user, as in an "
                        "experiment file's variants; templates use {{ system }}, {{ user }}, "
                        "{{ history }}), e.g. examples/shadow_variant.yaml")
    shadow.add_argument("--traces-uri", metavar="URI",
                        help="the MLflow store holding the traces (default: --tracking-uri, "
                        "else $MLFLOW_TRACKING_URI, else the project's store)")
    shadow.add_argument("--span", choices=["first", "last", "all"], default="first",
                        help="which LLM calls of a trace to replay (default first)")
    shadow.add_argument("--slice-tag", action="append", default=[], metavar="TAG",
                        help="a trace tag to slice the report by (repeatable), e.g. route")
    shadow.add_argument("--sample", type=int, metavar="N",
                        help="replay a reproducible sample of N requests")
    shadow.add_argument("--stratify-by", metavar="day|model|tag|tag:NAME",
                        help="with --sample: keep each day's / served model's / tag value's "
                        "share")
    shadow.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    shadow.add_argument("--gates", help="shadow gates (YAML, e.g. examples/shadow_gates.yaml); "
                        "default: win share ≥ 0.45, no format regression, errors ≤ 5%%")
    shadow.add_argument("--judge", metavar="MODEL",
                        help="pairwise judge (default sim/judge for a simulated candidate)")
    shadow.add_argument("--no-judge", action="store_true", help="skip the pairwise judge")
    shadow.add_argument("--served", metavar="MODEL",
                        help="the production model, when the log names several")
    shadow.add_argument("--out", default="shadow_report.html", help="output HTML path")
    shadow.add_argument("--pdf", action="store_true",
                        help="also write OUT with .pdf: Chromium's print of the HTML")
    shadow.add_argument("--experiment", help="log to this MLflow experiment")
    shadow.add_argument("--tracking-uri", help="MLflow tracking URI")
    shadow.add_argument("--budget", type=float, help="stop before spending more (USD)")
    shadow.add_argument("--period", choices=["day", "hour"], default="day",
                        help="time slices of the report (default day)")
    shadow.add_argument("--monthly-requests", type=int,
                        help="volume for monthly costs (default: the log's rate × 30)")
    shadow.add_argument("--json", help="also write the decision as JSON to this file")
    shadow.add_argument("--no-cache", action="store_true", help="do not read or write the cache")
    shadow.add_argument("--no-progress", action="store_true", help="no progress bar")
    shadow.set_defaults(func=cmd_shadow)

    ds = sub.add_parser("dataset", help="validate, inspect, check and freeze golden sets")
    ds_sub = ds.add_subparsers(dest="dataset_command", required=True, metavar="ACTION")

    def data_cmd(name: str, help_: str) -> argparse.ArgumentParser:
        p = ds_sub.add_parser(name, help=help_)
        p.add_argument("path", help="golden set file (.jsonl, .csv or .parquet)")
        p.add_argument(
            "--slices", nargs="*", default=None, help="slice columns (default: manifest)"
        )
        return p

    show = data_cmd("show", "validate a golden set and print its summary and first rows")
    show.add_argument("--head", type=int, default=5, help="rows to print (default 5)")
    show.set_defaults(func=cmd_show)

    check = data_cmd("check", "list duplicates, near duplicates and leakage")
    check.add_argument("--against", help="few-shot / training file to check for leakage")
    check.add_argument("--threshold", type=float, default=0.9, help="near-duplicate cosine (0.9)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(func=cmd_check)

    freeze = data_cmd("freeze", "write canonical JSONL + a manifest with the digest")
    freeze.add_argument("--out", required=True, help="output directory")
    freeze.add_argument("--stem", help="output file stem (default: the set's name)")
    freeze.set_defaults(func=cmd_freeze)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``workbench`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except WorkbenchError as exc:
        print(f"{type(exc).__name__}: {exc.for_cli()}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
