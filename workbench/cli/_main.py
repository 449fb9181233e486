"""``workbench`` commands.

Exit codes (DESIGN.md, Settled 17): 0 success, 2 a usage or configuration error (bad input, with
a message saying what, where and how to fix it; also MLflow unreachable, the results saved), 1
only for a crash; ``run`` 12 when stopped by the budget and 13 when a configuration's error rate
passes ``--max-error-rate`` (default 0.5); ``gate`` and ``shadow`` 0 PROMOTE, 10 HOLD, 11 REJECT.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workbench._atomic import write_text
from workbench._version import __version__
from workbench.errors import WorkbenchError

EXIT_OK = 0
EXIT_CRASH = 1
EXIT_USAGE = 2
EXIT_BUDGET = 12
EXIT_ERRORS = 13
"""``workbench run``: a configuration's error rate passed ``--max-error-rate``."""
EXIT_INTERRUPTED = 130
MAX_ERROR_RATE = 0.5

SHIPPED_SETS = ("support_triage", "invoice_extraction", "grounded_qa")


def _datasets_dir(given: str | None) -> Path:
    if given:
        return Path(given)
    here = Path.cwd() / "datasets"
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[2] / "datasets"


def _examples_dir() -> Path:
    here = Path.cwd() / "examples"
    if (here / "triage_experiment.yaml").is_file() and (here / "qa_experiment.yaml").is_file():
        return here
    return Path(__file__).resolve().parents[2] / "examples"


def _cmd_demo(args: argparse.Namespace) -> int:
    from workbench.datasets import GoldenSet

    root = _datasets_dir(args.datasets)
    print(f"workbench {__version__} demo: offline, with SIMULATED models (sim/...), which are "
          "stand-ins computed from the prompt text, not real LLMs.\n")
    print(f"Shipped golden sets in {root}:")
    for name in SHIPPED_SETS:
        gs = GoldenSet.load(root / name / "golden.jsonl")
        print(f"  {gs.name}: {len(gs)} cases, version {gs.version}, digest verified; "
              + gs.check().summary)
    out = Path(args.out)
    code = EXIT_OK
    decisions: list[Any] = []
    for stem, what in (("triage", "models x prompt variants, heuristics, a rubric judge and a "
                                  "pairwise judge"),
                       ("qa", "a rubric judge calibrated against the shipped human labels")):
        experiment = _examples_dir() / f"{stem}_experiment.yaml"
        print(f"\n=== {experiment.name}: {what} (cost preview first)\n")
        code = _run_experiment(experiment, dry_run=False, out=out / f"{stem}-comparison",
                               resume=False, no_cache=False, budget=None,
                               progress=not args.no_progress, decisions=decisions,
                               report_dir=out / "reports", allow_outside=[root])
        if code != EXIT_OK:
            return code
    for decision in decisions:
        print(f"\n=== decision: may the candidate replace the incumbent? "
              f"(examples/triage_gates.yaml; `workbench gate examples/triage_experiment.yaml` "
              f"exits {decision.exit_code} on it)\n")
        print(decision.paired)
        print()
        print(decision)
    print(f"\nMigration report: {out}/reports/migration_report.html (and .md)")
    log = root / "shadow" / "support_traffic.jsonl"
    print(f"\n=== shadow test: replay production traffic ({log.name}, SIMULATED, served by "
          "sim/large) against the candidate sim/small, judged pairwise in both orders\n")
    _shadow(log, "sim/small", gates_path=_examples_dir() / "shadow_gates.yaml", judge=None,
            no_judge=False, out=out / "reports" / "shadow_report.html",
            experiment="support-triage-shadow", tracking_uri=None, progress=not args.no_progress)
    print(f"\nNext: open the reports, inspect {out}/triage-comparison/ and {out}/qa-comparison/ "
          "(Comparison.load), or copy an experiment file from examples/ and run `workbench run` "
          "on it with your own models.")
    return code


def _run_experiment(path: Path, *, dry_run: bool, out: Path | None, resume: bool,
                    no_cache: bool, budget: float | None, progress: bool = True,
                    mlflow: bool = True, tracking_uri: str | None = None,
                    decisions: list[Any] | None = None,
                    report_dir: Path | None = None, retry_errors: bool = False,
                    max_error_rate: float = MAX_ERROR_RATE, wait_s: float = 0.0,
                    allow_outside: Sequence[str | Path] = ()) -> int:
    from workbench.experiments import load_experiment
    from workbench.runner import run_plan

    loaded = load_experiment(path, allow_outside=allow_outside)
    opts = loaded.options()
    p = loaded.plan(budget_usd=budget)
    print(p)
    print()
    if dry_run:
        print("dry run: nothing was called")
        return EXIT_OK
    cmp = run_plan(p, concurrency=opts["concurrency"], cache=opts["cache"] and not no_cache,
                   resume=resume, progress=progress, retry_errors=retry_errors,
                   lock_timeout_s=wait_s)
    print()
    print(cmp.summary_text())
    too_many = _print_errors(cmp, max_error_rate)
    stats = cmp.record.run
    print(f"\n{stats.calls_recorded}/{stats.calls_planned} calls recorded, "
          f"{int(cmp.results['cache_hit'].sum())} from the cache, billed ${cmp.spent_usd:.4f} "
          f"in {stats.duration_s:.1f} s")
    experiment = loaded.experiment.mlflow_experiment
    logging = bool(mlflow and experiment)
    saved: Path | None = None
    if out is not None or logging:  # results are saved before anything is logged
        from workbench.models import default_cache_dir

        saved = cmp.save(out if out is not None else
                         default_cache_dir() / "runs" / f"{p.fingerprint()}.comparison")
        print(f"saved to {saved}/ (results.parquet, comparison.json)")
    pw_config = loaded.experiment.pairwise
    tables: dict[str, Any] = {}
    if pw_config is not None and cmp.status == "complete":
        from workbench.runner import pairwise

        pw = pairwise(cmp, candidate=pw_config.candidate, incumbent=pw_config.incumbent,
                      judge=pw_config.judge, rubric=pw_config.rubric,
                      golden_set=loaded.golden_set, cache=opts["cache"] and not no_cache)
        a = pw.attrs
        sim = " (SIMULATED judge)" if a["simulated_judge"] else ""
        print(f"\npairwise {a['rubric']} by {a['judge']}{sim}: candidate "
              f"{'/'.join(a['candidate'])} vs incumbent {'/'.join(a['incumbent'])} on {a['n']} "
              f"cases: {a['wins']} wins, {a['losses']} losses, {a['ties']} ties; both orders "
              f"agreed on {a['consistency_rate']:.0%}; judge cost ${a['judge_cost_usd']:.4f}")
        if out is not None:
            write_text(out / "pairwise.csv", pw.to_csv(index=False))
        tables["pairwise.json"] = pw
    labels = loaded.human_labels
    if labels is not None and cmp.status == "complete":
        from workbench.stats import calibrate

        for name in [s.name for s in loaded.scorers if s.name in set(labels["scorer"])]:
            cal = calibrate(cmp, labels, scorer=name)
            sim_judge = cmp.simulated_judges.get(name)
            note = f"\n  ({name} is the SIMULATED judge {sim_judge})" if sim_judge else ""
            print(f"\n{cal}{note}")
            if out is not None:
                write_text(out / f"calibration_{name}.csv", cal.to_frame().to_csv())
            tables[f"calibration_{name}.json"] = cal.to_frame().rename_axis(
                "figure").reset_index().astype({"value": str})
    decision = None
    if loaded.gates is not None:
        from workbench.stats import decide

        decision = decide(cmp, loaded.gates)
        print(f"\ndecision ({loaded.experiment.gates}):\n{decision}")
        if out is not None:
            write_text(out / "decision.csv", decision.table().to_csv(index=False))
        tables["decision.json"] = decision.table()
        if decisions is not None:
            decisions.append(decision)
    log_failed = None
    if logging:
        from workbench.tracking import DECISION_KEY_TAG, DECISION_TAG, TrackingError, report_key

        roles = ((decision.candidate, decision.incumbent) if decision is not None
                 else (None, None) if pw_config is None
                 else (pw_config.candidate, pw_config.incumbent))
        tags = {} if decision is None else {
            DECISION_TAG: decision.outcome,
            DECISION_KEY_TAG: report_key("migration_report", decision.candidate,
                                         decision.incumbent,
                                         decision.config.model_dump(mode="json"))}
        try:
            _log_to_mlflow(cmp, str(experiment), tracking_uri, roles, tables, tags,
                           paired=decision.paired if decision is not None else None,
                           saved=saved)
        except TrackingError as exc:  # the results are saved: say so, and how to log them later
            log_failed = exc
            print(f"\n{type(exc).__name__}: {exc}", file=sys.stderr)
    if decision is not None and (report_dir or out) is not None:
        _write_report(cmp, loaded.gates, Path(report_dir or out),  # type: ignore[arg-type]
                      decision.candidate, decision.incumbent, gates_path=loaded.path.parent / str(
                          loaded.experiment.gates), decision=decision)
    if too_many:
        print(f"TOO MANY ERRORS: {too_many}. Fix the cause, then rerun with --resume "
              "--retry-errors (recorded successes are not paid again).", file=sys.stderr)
        return EXIT_ERRORS
    if log_failed is not None:
        return EXIT_USAGE
    if cmp.status == "budget_stopped":
        print(f"STOPPED: {cmp.stop_reason}. Partial results kept; raise budget_usd and rerun "
              "with --resume to finish.", file=sys.stderr)
        return EXIT_BUDGET
    if cmp.status == "interrupted":
        print(f"INTERRUPTED: {cmp.stop_reason}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _print_errors(cmp: Any, max_error_rate: float) -> str:
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


def _log_to_mlflow(cmp: Any, experiment: str, tracking_uri: str | None, roles: tuple[Any, Any],
                   tables: dict[str, Any], tags: dict[str, str], paired: Any = None,
                   saved: Path | None = None) -> str:
    """Log the comparison, its extra tables and decision tags, and say how to look at it.

    The tables (pairwise, calibration, decision) and tags join the run before it is marked
    logged; ``saved`` is where the comparison was saved (``workbench log`` finishes from it).
    """
    import os

    from workbench._api import log_comparison
    from workbench.records import TrackingRef
    from workbench.tracking import client

    run_id = log_comparison(cmp, experiment, tracking_uri=tracking_uri, candidate=roles[0],
                            incumbent=roles[1], paired=paired, tables=tables, tags=tags,
                            saved=saved)
    c = client(tracking_uri)
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or "sqlite:///mlflow.db"
    cmp.record.tracking = TrackingRef(run_id=run_id, experiment=experiment, tracking_uri=uri)
    print(f"\nlogged to MLflow ({uri}), experiment {experiment!r}: parent run {run_id}")
    if uri.startswith("http"):
        print(f"  open {uri.rstrip('/')}/#/experiments/{c.get_run(run_id).info.experiment_id}")
    else:
        print(f"  open the UI: mlflow ui --backend-store-uri {uri} --host 127.0.0.1 "
              "(or: make ui), then http://127.0.0.1:5000")
    return str(run_id)


def _write_report(cmp: Any, gates: Any, directory: Path, candidate: Any, incumbent: Any,
                  gates_path: Path | None = None, stem: str = "migration_report",
                  calibration: dict[str, Any] | None = None, decision: Any = None) -> Path:
    """Build the migration report, write HTML + Markdown, log both to the parent run."""
    from workbench._api import migration_report

    run_id = cmp.record.tracking.run_id if cmp.record.tracking else None
    command = None
    if run_id:
        command = f"workbench report {run_id}"
        if gates_path is not None:
            command += f" --gates {gates_path}"
        command += f" --out {stem}.html"
    report = migration_report(cmp, candidate, incumbent, gates, rebuild_command=command,
                              calibration=calibration, decision=decision)
    html_path: Path = report.to_html(directory / f"{stem}.html")
    md_path = report.to_markdown(directory / f"{stem}.md")
    print(f"\nmigration report: {html_path} and {md_path}{_logged_as(cmp)}: {report.outcome}")
    return html_path


def _logged_as(cmp: Any) -> str:
    """`` (also logged to the MLflow run as reports/...)`` when the report was logged."""
    path = cmp.record.tracking.report if cmp.record.tracking else None
    return f" (also logged to the MLflow run as {path})" if path else ""


def _cmd_report(args: argparse.Namespace) -> int:
    from workbench.errors import ConfigError
    from workbench.stats import Gates
    from workbench.tracking import load_comparison

    cmp = load_comparison(args.run_id, tracking_uri=args.tracking_uri)
    missing = []
    try:
        cmp.golden_set()
    except ConfigError:
        missing.append("the frozen golden set (golden_set/ artifact)")
    if not cmp.scorers:
        missing.append("scores (the comparison has no scorer)")
    if missing:
        raise ConfigError(f"the run lacks {', '.join(missing)}", where=f"MLflow run {args.run_id}",
                          fix="Log the comparison again with this workbench "
                          "(wb.log_comparison) from its saved results.")
    gates = Gates.load(args.gates) if args.gates else None
    roles = {"candidate": _role(args.candidate, "--candidate"),
             "incumbent": _role(args.incumbent, "--incumbent")}
    out = Path(args.out)
    if cmp.record.shadow is not None:  # a shadow test: its own report, from the run alone
        from workbench._api import shadow_report

        command = f"workbench report {args.run_id}" + (
            f" --gates {args.gates}" if args.gates else "") + f" --out {out.name}"
        report = shadow_report(cmp, gates, rebuild_command=command)
        html_path, md_path = report.to_html(out), report.to_markdown(out.with_suffix(".md"))
        print(f"shadow report: {html_path} and {md_path}{_logged_as(cmp)}: {report.outcome}")
        return EXIT_OK
    _write_report(cmp, gates, out.parent, roles["candidate"], roles["incumbent"],
                  gates_path=Path(args.gates) if args.gates else None, stem=out.stem,
                  calibration=_logged_calibrations(cmp, args.run_id, args.tracking_uri))
    return EXIT_OK


def _logged_calibrations(cmp: Any, run_id: str, tracking_uri: str | None) -> dict[str, Any]:
    """The judges' calibration tables logged with the run (``workbench run`` logs them)."""
    from workbench.tracking import client, load_table

    logged = {a.path for a in client(tracking_uri).list_artifacts(run_id)}
    return {j.scorer: load_table(run_id, tracking_uri, f"calibration_{j.scorer}.json")
            for j in cmp.record.judges if f"calibration_{j.scorer}.json" in logged}


def _cmd_run(args: argparse.Namespace) -> int:
    from workbench.errors import ConfigError

    if not 0 <= args.max_error_rate <= 1:
        raise ConfigError(f"--max-error-rate {args.max_error_rate}",
                          fix="Give a share between 0 and 1, e.g. --max-error-rate 0.2.")
    if args.wait < 0:
        raise ConfigError(f"--wait {args.wait}", fix="Give seconds ≥ 0 (0: do not wait).")
    return _run_experiment(Path(args.experiment), dry_run=args.dry_run,
                           out=Path(args.out) if args.out else None,
                           resume=args.resume or args.retry_errors,
                           no_cache=args.no_cache, budget=args.budget,
                           progress=not args.no_progress, mlflow=not args.no_mlflow,
                           tracking_uri=args.tracking_uri, retry_errors=args.retry_errors,
                           max_error_rate=args.max_error_rate, wait_s=args.wait,
                           allow_outside=args.allow_outside)


def _cmd_log(args: argparse.Namespace) -> int:
    from workbench._api import log_saved

    run_id, logged = log_saved(Path(args.run_dir), experiment=args.experiment,
                               tracking_uri=args.tracking_uri, force=args.force)
    if not logged:
        print(f"{args.run_dir} is already logged: parent run {run_id} (pass --force to log it "
              "again)")
        return EXIT_OK
    print(f"logged {args.run_dir} to MLflow: parent run {run_id}")
    return EXIT_OK


def _role(text: str | None, flag: str) -> tuple[str, str] | None:
    from workbench.errors import ConfigError
    from workbench.stats._gates import Role

    if text is None:
        return None
    parsed = Role.parse(text)  # the same MODEL:VARIANT reading as gates files
    if not isinstance(parsed, dict) or not parsed["model"] or not parsed["variant"]:
        raise ConfigError(f"{flag} {text!r}", fix=f"Write {flag} MODEL:VARIANT, e.g. "
                          "sim/small:guided.")
    return (parsed["model"], parsed["variant"])


def _cmd_gate(args: argparse.Namespace) -> int:
    from workbench.errors import ConfigError
    from workbench.stats import Gates, decide

    if (args.experiment is None) == (args.run_id is None):
        raise ConfigError("gate needs an experiment file or --run-id (one of them)",
                          fix="workbench gate EXPERIMENT.yaml, or workbench gate --run-id ID "
                          "--gates GATES.yaml")
    roles = {"candidate": _role(args.candidate, "--candidate"),
             "incumbent": _role(args.incumbent, "--incumbent")}
    gates = Gates.load(args.gates) if args.gates else None
    if args.run_id is not None:
        from workbench.tracking import load_comparison

        if gates is None:
            raise ConfigError("--run-id needs --gates GATES.yaml",
                              fix="Give the gates file to decide with.")
        cmp = load_comparison(args.run_id, tracking_uri=args.tracking_uri)
        source = f"MLflow run {args.run_id}"
    else:
        from workbench.experiments import load_experiment
        from workbench.runner import run_plan

        loaded = load_experiment(Path(args.experiment), allow_outside=args.allow_outside)
        gates = gates or loaded.gates
        if gates is None:
            raise ConfigError("no gates: the experiment file has no gates: key",
                              where=str(args.experiment),
                              fix="Pass --gates GATES.yaml or add gates: to the experiment.")
        opts = loaded.options()
        cmp = run_plan(loaded.plan(), concurrency=opts["concurrency"], cache=opts["cache"] and not
                       args.no_cache, progress=not args.no_progress)
        source = f"{args.experiment} ({cmp.record.run.calls_recorded} calls, "
        source += f"{int(cmp.results['cache_hit'].sum())} from the cache, "
        source += f"billed ${cmp.spent_usd:.4f})"
    decision = decide(cmp, gates, candidate=roles.get("candidate"),
                      incumbent=roles.get("incumbent"))
    print(f"gate on {source}\n")
    print(decision.paired)
    print()
    print(decision)
    if args.json:
        import json

        Path(args.json).write_text(json.dumps(decision.to_dict(), indent=2, default=str))
    return decision.exit_code


def _shadow(log: Path, candidate: str, *, gates_path: Path | None, judge: str | None,
            no_judge: bool, out: Path, experiment: str | None, tracking_uri: str | None,
            served: str | None = None, budget: float | None = None, no_cache: bool = False,
            progress: bool = True, period: str = "day", monthly: int | None = None,
            json_path: str | None = None) -> Any:
    """Replay, judge, decide and write the shadow report; returns the report."""
    from workbench._api import shadow_report, shadow_test
    from workbench.errors import ConfigError
    from workbench.models import ModelSpec
    from workbench.shadow import TrafficLog
    from workbench.stats import Gates

    gates = Gates.load(gates_path) if gates_path else None
    spec = ModelSpec(candidate)
    if no_judge:
        judge = None
    elif judge is None:
        if not spec.simulated:
            raise ConfigError("a real candidate needs a real judge",
                              where="--judge", fix="Pass --judge MODEL (e.g. openai/gpt-4o), "
                              "or --no-judge to skip the pairwise comparison.")
        judge = "sim/judge"
    traffic = TrafficLog.load(log)
    print(traffic.describe())
    cmp = shadow_test(traffic, spec, judge=judge, served=served, budget_usd=budget,
                      cache=not no_cache, progress=progress, period=period,
                      experiment=experiment, tracking_uri=tracking_uri)
    print()
    print(cmp.summary_text())
    shadow = cmp.record.shadow
    pw = shadow.pairwise_summary if shadow else None
    if pw:
        sim = " (SIMULATED judge)" if pw.simulated_judge else ""
        print(f"\npairwise {pw.rubric} by {pw.judge}{sim}, both orders: {pw.wins} wins, "
              f"{pw.losses} losses, {pw.ties} ties on {pw.n} requests; orders agreed "
              f"on {pw.consistency_rate or 0:.0%}; judge cost ${pw.judge_cost_usd:.4f}")
    run_id = cmp.record.tracking.run_id if cmp.record.tracking else None
    if run_id:
        print(f"\nlogged to MLflow, experiment {experiment!r}: parent run {run_id}")
    command = (f"workbench shadow --log {log} --candidate {candidate}"
               + (f" --gates {gates_path}" if gates_path else "")
               + (f" --judge {judge}" if judge and not spec.simulated else "")
               + f" --out {out.name}")
    report = shadow_report(cmp, gates, monthly_requests=monthly, rebuild_command=command)
    html_path = report.to_html(out)
    md_path = report.to_markdown(out.with_suffix(".md"))
    logged = " (also logged to the MLflow run)" if run_id else ""
    print(f"\nshadow decision ({gates_path or 'default shadow gates'}):")
    print(report.headline)
    for g in report.gates:
        print(f"  {g['status'].upper():<12} {g['gate']}  {g['evidence']}")
    print(f"\nshadow report: {html_path} and {md_path}{logged}: {report.outcome}")
    if json_path:
        import json

        Path(json_path).write_text(json.dumps({"outcome": report.outcome,
                                               "gates": report.gates}, indent=2, default=str))
    return report


def _cmd_shadow(args: argparse.Namespace) -> int:
    from workbench.stats._gates import EXIT_CODES

    report = _shadow(Path(args.log), args.candidate,
                     gates_path=Path(args.gates) if args.gates else None, judge=args.judge,
                     no_judge=args.no_judge, out=Path(args.out), experiment=args.experiment,
                     tracking_uri=args.tracking_uri, served=args.served, budget=args.budget,
                     no_cache=args.no_cache, progress=not args.no_progress, period=args.period,
                     monthly=args.monthly_requests, json_path=args.json)
    return EXIT_CODES[report.outcome]


def _cmd_show(args: argparse.Namespace) -> int:
    from workbench.datasets import GoldenSet

    gs = GoldenSet.load(args.path, slices=args.slices)
    print(gs.describe())
    print(gs.df.head(args.head).to_string(max_colwidth=60))
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    from workbench.datasets import GoldenSet

    gs = GoldenSet.load(args.path, slices=args.slices)
    print(gs.check(against=args.against, threshold=args.threshold,
                   progress=False if args.no_progress else None))
    return EXIT_OK


def _cmd_freeze(args: argparse.Namespace) -> int:
    from workbench.datasets import GoldenSet

    gs = GoldenSet.load(args.path, slices=args.slices, verify=False)
    out = gs.freeze(args.out, stem=args.stem)
    print(f"froze {gs.name}: {len(gs)} cases, {gs.digest}\n  {out}\n  {out.with_suffix('.yaml')}")
    return EXIT_OK


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
    demo.set_defaults(func=_cmd_demo)

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
    run.add_argument("--budget", type=float, help="override budget_usd")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--allow-outside", action="append", default=[], metavar="PATH",
                     help="let the experiment's paths point into PATH, outside its folder "
                     "(repeatable)")
    run.add_argument("--no-mlflow", action="store_true",
                     help="do not log to MLflow (the file's mlflow_experiment)")
    run.add_argument("--tracking-uri", help="MLflow tracking URI (default: $MLFLOW_TRACKING_URI, "
                     "else sqlite:///mlflow.db here)")
    run.set_defaults(func=_cmd_run)

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
    log.set_defaults(func=_cmd_log)

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
    gate.set_defaults(func=_cmd_gate)

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
    report.set_defaults(func=_cmd_report)

    shadow = sub.add_parser(
        "shadow", help="replay a production traffic log against a candidate (shadow test)",
        description="Loads the traffic log (redacting personal data), replays every request "
        "against the candidate, judges it pairwise against what production served (both "
        "orders), applies the shadow gates and writes the report (OUT and OUT with .md). "
        "Exit codes: 0 PROMOTE, 10 HOLD, 11 REJECT, 2 configuration error, 1 crash.")
    shadow.add_argument("--log", required=True, help="traffic log (JSONL, one request a line)")
    shadow.add_argument("--candidate", required=True, metavar="MODEL",
                        help="the candidate model (any litellm model string, or sim/...)")
    shadow.add_argument("--gates", help="shadow gates (YAML, e.g. examples/shadow_gates.yaml); "
                        "default: win share ≥ 0.45, no format regression, errors ≤ 5%%")
    shadow.add_argument("--judge", metavar="MODEL",
                        help="pairwise judge (default sim/judge for a simulated candidate)")
    shadow.add_argument("--no-judge", action="store_true", help="skip the pairwise judge")
    shadow.add_argument("--served", metavar="MODEL",
                        help="the production model, when the log names several")
    shadow.add_argument("--out", default="shadow_report.html", help="output HTML path")
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
    shadow.set_defaults(func=_cmd_shadow)

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
    show.set_defaults(func=_cmd_show)

    check = data_cmd("check", "list duplicates, near duplicates and leakage")
    check.add_argument("--against", help="few-shot / training file to check for leakage")
    check.add_argument("--threshold", type=float, default=0.9, help="near-duplicate cosine (0.9)")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(func=_cmd_check)

    freeze = data_cmd("freeze", "write canonical JSONL + a manifest with the digest")
    freeze.add_argument("--out", required=True, help="output directory")
    freeze.add_argument("--stem", help="output file stem (default: the set's name)")
    freeze.set_defaults(func=_cmd_freeze)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``workbench`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except WorkbenchError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
