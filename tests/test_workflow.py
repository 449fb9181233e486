"""One workflow behind the CLI, notebooks and widgets (#20): typed results, real signatures."""

from __future__ import annotations

import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest

import workbench as wb
from workbench.workflow import ExperimentResult, QuietListener, run_experiment

ROOT = Path(__file__).resolve().parents[1]


def experiment(tmp_path: Path) -> Path:
    """A small experiment with a pairwise judge, gates and an MLflow experiment."""
    data = wb.GoldenSet.load(ROOT / "datasets" / "support_triage" / "golden.jsonl").sample(
        40, seed=3).freeze(tmp_path / "data")
    (tmp_path / "gates.yaml").write_text(textwrap.dedent("""\
        candidate: sim/fast:plain
        incumbent: sim/large:plain
        metrics: {json_valid: {margin: 0.5, min_informative: 0}}
        error_rate_max: 1.0
        error_rate_increase_max: 1.0
        """))
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(f"""\
        golden_set: {data.relative_to(tmp_path)}
        models: [sim/large, sim/fast]
        variants:
          - name: plain
            user: "Answer as JSON with an intent: {{{{ message }}}}"
        scorers: [json_valid]
        pairwise: {{candidate: [sim/fast, plain], incumbent: [sim/large, plain]}}
        mlflow_experiment: flow
        gates: gates.yaml
        """))
    return path


class Recorder(QuietListener):
    def __init__(self) -> None:
        self.steps: list[str] = []

    def planned(self, plan: Any) -> None:
        self.steps.append("planned")

    def ran(self, comparison: Any) -> None:
        self.steps.append("ran")

    def saved(self, path: Path) -> None:
        self.steps.append("saved")

    def judged(self, table: Any) -> None:
        self.steps.append("judged")

    def decided(self, decision: Any, gates: str) -> None:
        self.steps.append(f"decided {decision.outcome}")

    def logged(self, run_id: str, tracking_uri: str, experiment: str) -> None:
        self.steps.append(f"logged {experiment}")

    def reported(self, html: Path, markdown: Path, outcome: str, logged_as: str | None) -> None:
        self.steps.append(f"reported {html.name}")


def test_run_experiment_owns_the_whole_sequence_and_returns_a_typed_result(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    store = f"sqlite:///{tmp_path}/mlflow.db"
    seen = Recorder()
    result = run_experiment(experiment(tmp_path), out=tmp_path / "run", progress=False,
                            tracking_uri=store, listener=seen)
    assert isinstance(result, ExperimentResult) and result.comparison is not None
    cmp = result.comparison
    assert seen.steps == ["planned", "ran", "saved", "judged",
                          f"decided {result.decision.outcome}", "logged flow",
                          "reported migration_report.html"]
    assert result.saved == tmp_path / "run" and (tmp_path / "run" / "pairwise.csv").is_file()
    assert result.pairwise is not None and len(result.pairwise) == 40
    assert result.run_id is not None and result.log_error is None
    assert result.report == tmp_path / "run" / "migration_report.html"
    # every writer set its own section of the typed record
    assert cmp.record.decision is not None
    assert cmp.record.decision.outcome == result.decision.outcome
    assert cmp.record.tracking is not None and cmp.record.tracking.run_id == result.run_id
    assert cmp.record.roles.candidate == ("sim/fast", "plain")
    logged = wb.load_comparison(result.run_id, tracking_uri=store)
    assert logged.results.equals(cmp.results)


def test_dry_run_and_decide_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    path = experiment(tmp_path)
    dry = run_experiment(path, dry_run=True)
    assert dry.comparison is None and dry.plan.calls == 80
    gate = run_experiment(path, decide_only=True, progress=False, mlflow=False)
    assert gate.decision is not None and gate.saved is None and gate.pairwise is None
    assert gate.run_id is None and gate.report is None


@pytest.mark.parametrize("fn", [wb.compare, wb.acompare, wb.log_comparison, wb.shadow_test,
                                wb.shadow_report, wb.migration_report])
def test_public_functions_have_their_real_signatures(fn: Any) -> None:
    params = inspect.signature(fn).parameters.values()
    assert not [p for p in params if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)], fn
    if fn in (wb.compare, wb.acompare):
        names = [p.name for p in params]
        assert names[:4] == ["golden_set", "models", "variants", "scorers"]
        assert {"budget_usd", "resume", "experiment", "candidate"} <= set(names)
