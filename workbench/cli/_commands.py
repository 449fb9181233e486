"""The ``workbench`` commands: each calls a workflow and formats what it returns."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workbench._atomic import write_text
from workbench._version import __version__
from workbench.errors import ConfigError

from ._print import PrintingListener

__all__ = ["EXIT_BUDGET", "EXIT_CRASH", "EXIT_ERRORS", "EXIT_INTERRUPTED", "EXIT_OK",
           "EXIT_USAGE", "MAX_ERROR_RATE", "cmd_check", "cmd_demo", "cmd_freeze", "cmd_gate",
           "cmd_log", "cmd_report", "cmd_run", "cmd_shadow", "cmd_show"]

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


def _role(text: str | None, flag: str) -> tuple[str, str] | None:
    """``--candidate MODEL:VARIANT``, read the way gates files read roles."""
    from workbench.stats import Role

    if text is None:
        return None
    parsed = Role.parse(text)
    if not isinstance(parsed, dict) or not parsed["model"] or not parsed["variant"]:
        raise ConfigError(f"{flag} {text!r}", fix=f"Write {flag} MODEL:VARIANT, e.g. "
                          "sim/small:guided.")
    return (parsed["model"], parsed["variant"])


def _run(path: Path, *, dry_run: bool, out: Path | None, resume: bool, no_cache: bool,
         budget: float | None, progress: bool = True, mlflow: bool = True,
         tracking_uri: str | None = None, decisions: list[Any] | None = None,
         report_dir: Path | None = None, retry_errors: bool = False,
         max_error_rate: float = MAX_ERROR_RATE, wait_s: float = 0.0,
         allow_outside: list[str | Path] | None = None, show_decision: bool = True,
         workers: int | None = None, executor: str = "local", address: str | None = None
         ) -> int:
    """``workbench run``: the experiment workflow, printed; returns the exit code."""
    from workbench.workflow import run_experiment

    listener = PrintingListener(show_decision=show_decision)
    listener.max_error_rate = max_error_rate
    result = run_experiment(path, dry_run=dry_run, out=out, resume=resume, cache=not no_cache,
                            budget_usd=budget, progress=progress, mlflow=mlflow,
                            tracking_uri=tracking_uri, report_dir=report_dir,
                            retry_errors=retry_errors, lock_timeout_s=wait_s,
                            allow_outside=list(allow_outside or ()), listener=listener,
                            workers=workers, executor=executor,  # type: ignore[arg-type]
                            address=address)
    if dry_run:
        print("dry run: nothing was called")
        return EXIT_OK
    cmp = result.comparison
    if decisions is not None and result.decision is not None:
        decisions.append(result.decision)
    if listener.errors_over:
        print(f"TOO MANY ERRORS: {listener.errors_over}. Fix the cause, then rerun with "
              "--resume --retry-errors (recorded successes are not paid again).",
              file=sys.stderr)
        return EXIT_ERRORS
    if result.log_error is not None:
        return EXIT_USAGE
    if cmp is not None and cmp.status == "budget_stopped":
        print(f"STOPPED: {cmp.stop_reason}. Partial results kept; raise budget_usd and rerun "
              "with --resume to finish.", file=sys.stderr)
        return EXIT_BUDGET
    if cmp is not None and cmp.status == "interrupted":
        print(f"INTERRUPTED: {cmp.stop_reason}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


def _shadow(log: str | Path, candidate: str, *, gates_path: Path | None, judge: str | None,
            no_judge: bool, out: Path, experiment: str | None, tracking_uri: str | None,
            served: str | None = None, budget: float | None = None, no_cache: bool = False,
            progress: bool = True, period: str = "day", monthly: int | None = None,
            json_path: str | None = None, pdf: bool = False, **traffic: Any) -> Any:
    """``workbench shadow``: the shadow workflow, printed; returns the report.

    ``traffic``: ``run_shadow``'s trace options (traces_uri, span, slice_tags, sample, ...).
    """
    from workbench.workflow import run_shadow

    result = run_shadow(log, candidate, gates_path=gates_path, judge=judge, no_judge=no_judge,
                        served=served, budget_usd=budget, cache=not no_cache,
                        progress=progress, period=period,  # type: ignore[arg-type]
                        monthly_requests=monthly, out=out, experiment=experiment,
                        tracking_uri=tracking_uri, listener=PrintingListener(shadow=True),
                        **traffic)
    report = result.report
    logged = " (also logged to the MLflow run)" if result.run_id else ""
    print(f"\nshadow decision ({gates_path or 'default shadow gates'}):")
    print(report.headline)
    for g in report.gates:
        print(f"  {g['status'].upper():<12} {g['gate']}  {g['evidence']}")
    print(f"\nshadow report: {result.html} and {result.markdown}{logged}: {report.outcome}")
    if pdf:
        print(f"shadow report as PDF: {_pdf(result.html)}")
    if json_path:
        write_text(Path(json_path), json.dumps({"outcome": report.outcome,
                                                "gates": report.gates}, indent=2, default=str))
    return report


def _pdf(html: Path) -> Path:
    """``--pdf``: Chromium's print of a report written as HTML, beside it."""
    from workbench.reports import write_pdf

    return write_pdf(html)


def cmd_demo(args: argparse.Namespace) -> int:
    """The offline demo: the shipped sets, two experiments, a decision, a shadow test."""
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
    decisions: list[Any] = []
    for stem, what in (("triage", "models x prompt variants, heuristics, a rubric judge and a "
                                  "pairwise judge"),
                       ("qa", "a rubric judge calibrated against the shipped human labels")):
        experiment = _examples_dir() / f"{stem}_experiment.yaml"
        print(f"\n=== {experiment.name}: {what} (cost preview first)\n")
        code = _run(experiment, dry_run=False, out=out / f"{stem}-comparison", resume=False,
                    no_cache=False, budget=None, progress=not args.no_progress,
                    decisions=decisions, report_dir=out / "reports", allow_outside=[root],
                    show_decision=False)
        if code != EXIT_OK:
            return code
    for decision in decisions:
        print(f"\n=== decision: may the candidate replace the incumbent? "
              f"(examples/triage_gates.yaml; `workbench gate examples/triage_experiment.yaml` "
              f"exits {decision.exit_code} on it)\n")
        print(decision.paired)
        print()
        print(decision)
    log = root / "shadow" / "support_traffic.jsonl"
    print(f"\n=== shadow test: replay production traffic ({log.name}, SIMULATED, served by "
          "sim/large) against the candidate sim/small, judged pairwise in both orders\n")
    _shadow(log, "sim/small", gates_path=_examples_dir() / "shadow_gates.yaml", judge=None,
            no_judge=False, out=out / "reports" / "shadow_report.html",
            experiment="support-triage-shadow", tracking_uri=None, progress=not args.no_progress,
            pdf=args.pdf)
    if args.pdf:
        print(f"migration report as PDF: {_pdf(out / 'reports' / 'migration_report.html')}")
    print(f"\nNext: open the reports, inspect {out}/triage-comparison/ and {out}/qa-comparison/ "
          "(Comparison.load), or copy an experiment file from examples/ and run `workbench run` "
          "on it with your own models.")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """``workbench run``."""
    if not 0 <= args.max_error_rate <= 1:
        raise ConfigError(f"--max-error-rate {args.max_error_rate}",
                          fix="Give a share between 0 and 1, e.g. --max-error-rate 0.2.")
    if args.wait < 0:
        raise ConfigError(f"--wait {args.wait}", fix="Give seconds ≥ 0 (0: do not wait).")
    return _run(Path(args.experiment), dry_run=args.dry_run,
                out=Path(args.out) if args.out else None,
                resume=args.resume or args.retry_errors, no_cache=args.no_cache,
                budget=args.budget, progress=not args.no_progress, mlflow=not args.no_mlflow,
                tracking_uri=args.tracking_uri, retry_errors=args.retry_errors,
                max_error_rate=args.max_error_rate, wait_s=args.wait,
                allow_outside=args.allow_outside, workers=args.workers,
                executor=args.executor, address=args.address)


def cmd_log(args: argparse.Namespace) -> int:
    """``workbench log RUN_DIR``."""
    from workbench.workflow import log_saved

    run_id, logged = log_saved(Path(args.run_dir), experiment=args.experiment,
                               tracking_uri=args.tracking_uri, force=args.force)
    if not logged:
        print(f"{args.run_dir} is already logged: parent run {run_id} (pass --force to log it "
              "again)")
        return EXIT_OK
    print(f"logged {args.run_dir} to MLflow: parent run {run_id}")
    return EXIT_OK


def cmd_gate(args: argparse.Namespace) -> int:
    """``workbench gate``: decide on an experiment (run, the cache makes it free) or a run."""
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
        from workbench.workflow import run_experiment

        loaded = load_experiment(Path(args.experiment), allow_outside=args.allow_outside)
        gates = gates or loaded.gates
        if gates is None:
            raise ConfigError("no gates: the experiment file has no gates: key",
                              where=str(args.experiment),
                              fix="Pass --gates GATES.yaml or add gates: to the experiment.")
        result = run_experiment(Path(args.experiment), cache=not args.no_cache,
                                progress=not args.no_progress, gates=gates, decide_only=True,
                                allow_outside=args.allow_outside)
        assert result.comparison is not None  # not a dry run
        cmp = result.comparison
        source = (f"{args.experiment} ({cmp.record.run.calls_recorded} calls, "
                  f"{int(cmp.results['cache_hit'].sum())} from the cache, "
                  f"billed ${cmp.spent_usd:.4f})")
    decision = decide(cmp, gates, candidate=roles["candidate"], incumbent=roles["incumbent"])
    print(f"gate on {source}\n")
    print(decision.paired)
    print()
    print(decision)
    if args.json:
        write_text(Path(args.json), json.dumps(decision.to_dict(), indent=2, default=str))
    return decision.exit_code


def cmd_report(args: argparse.Namespace) -> int:
    """``workbench report RUN_ID``: the migration (or shadow) report rebuilt from MLflow."""
    from workbench.stats import Gates
    from workbench.tracking import client, load_comparison, load_table
    from workbench.workflow import migration_report, shadow_report

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
    out = Path(args.out)
    command = f"workbench report {args.run_id}" + (
        f" --gates {args.gates}" if args.gates else "") + f" --out {out.name}"
    if cmp.record.shadow is not None:  # a shadow test: its own report, from the run alone
        report: Any = shadow_report(cmp, gates, rebuild_command=command)
        kind = "shadow report"
    else:
        logged = {a.path for a in client(args.tracking_uri).list_artifacts(args.run_id)}
        calibration = {
            j.scorer: load_table(args.run_id, args.tracking_uri, f"calibration_{j.scorer}.json")
            for j in cmp.record.judges if f"calibration_{j.scorer}.json" in logged}
        report = migration_report(cmp, _role(args.candidate, "--candidate"),
                                  _role(args.incumbent, "--incumbent"), gates,
                                  rebuild_command=command, calibration=calibration)
        kind = "migration report"
    html_path, md_path = report.to_html(out), report.to_markdown(out.with_suffix(".md"))
    path = cmp.record.tracking.report if cmp.record.tracking else None
    also = f" (also logged to the MLflow run as {path})" if path else ""
    print(f"{kind}: {html_path} and {md_path}{also}: {report.outcome}")
    if args.pdf:
        print(f"{kind} as PDF: {report.to_pdf(out.with_suffix('.pdf'))}")
    return EXIT_OK


def cmd_shadow(args: argparse.Namespace) -> int:
    """``workbench shadow``: exit 0 PROMOTE, 10 HOLD, 11 REJECT."""
    from workbench.shadow import PRODUCTION
    from workbench.stats import EXIT_CODES

    candidate, variant = args.candidate, args.variant
    if candidate.endswith(f":{PRODUCTION}"):  # MODEL:production, the logged messages as sent
        candidate = candidate[: -len(PRODUCTION) - 1]
    elif candidate.rpartition(":")[2].endswith((".yaml", ".yml")):  # MODEL:VARIANT.yaml
        if variant is not None:
            raise ConfigError(f"--candidate {candidate} names a variant file and so does "
                              f"--variant {variant}", fix="Give the variant file once.")
        candidate, _, variant = candidate.rpartition(":")
    if args.sample is not None and args.sample < 1:
        raise ConfigError(f"--sample {args.sample}", fix="Give a positive number of requests.")
    report = _shadow(args.traffic, candidate,
                     gates_path=Path(args.gates) if args.gates else None, judge=args.judge,
                     no_judge=args.no_judge, out=Path(args.out), experiment=args.experiment,
                     tracking_uri=args.tracking_uri, served=args.served, budget=args.budget,
                     no_cache=args.no_cache, progress=not args.no_progress, period=args.period,
                     monthly=args.monthly_requests, json_path=args.json, pdf=args.pdf,
                     traces_uri=args.traces_uri, span=args.span,
                     slice_tags=tuple(args.slice_tag), sample=args.sample,
                     stratify_by=args.stratify_by, seed=args.seed, variant=variant)
    return EXIT_CODES[report.outcome]


def cmd_show(args: argparse.Namespace) -> int:
    """``workbench dataset show``."""
    from workbench.datasets import GoldenSet

    gs = GoldenSet.load(args.path, slices=args.slices)
    print(gs.describe())
    print(gs.df.head(args.head).to_string(max_colwidth=60))
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """``workbench dataset check``."""
    from workbench.datasets import GoldenSet

    gs = GoldenSet.load(args.path, slices=args.slices)
    print(gs.check(against=args.against, threshold=args.threshold,
                   progress=False if args.no_progress else None))
    return EXIT_OK


def cmd_freeze(args: argparse.Namespace) -> int:
    """``workbench dataset freeze``."""
    from workbench.datasets import GoldenSet

    gs = GoldenSet.load(args.path, slices=args.slices, verify=False)
    out = gs.freeze(args.out, stem=args.stem)
    print(f"froze {gs.name}: {len(gs)} cases, {gs.digest}\n  {out}\n  {out.with_suffix('.yaml')}")
    return EXIT_OK


