"""The benchmark scripts still run (tiny sizes) and print the figures the README quotes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str, cwd: Path) -> dict[str, str]:
    env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return dict(part.split("=", 1) for line in proc.stdout.splitlines()
                for part in line.split() if "=" in part)


@pytest.mark.slow
def test_mlflow_logging_benchmark_prints_its_ratio_and_round_trips(tmp_path: Path) -> None:
    out = run("mlflow_logging.py", "--cases", "300", "--rounds", "1", cwd=tmp_path)
    assert out["cases"] == "300" and out["configs"] == "4" and out["rows"] == "1200"
    assert float(out["ratio_vs_reference"]) > 0 and float(out["workbench_log_s"]) > 0
    assert out["roundtrip_equal"] == "True"
    assert not list(tmp_path.iterdir())  # the store lived in its own temp dir


@pytest.mark.slow
def test_throughput_benchmark_prints_its_ratios(tmp_path: Path) -> None:
    out = run("throughput.py", "--calls", "60", "--rounds", "1", "--latency-ms", "5",
              cwd=tmp_path)
    for key in ("ratio_vs_raw_litellm", "cached_rerun_ratio", "overhead_ms_per_case"):
        float(out[key])
    assert float(out["ratio_vs_raw_litellm"]) > 0
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_stats_calibration_benchmark_prints_worst_rates(tmp_path: Path) -> None:
    out = run("stats_calibration.py", "--sims", "60", "--n", "100", cwd=tmp_path)
    assert 0.8 < float(out["coverage_min"]) <= float(out["coverage_max"]) <= 1
    assert 0 <= float(out["worst_false_promote"]) < 0.2
    assert out["degenerate_ok"] == "7/7"


@pytest.mark.slow
def test_report_build_benchmark_prints_its_time(tmp_path: Path) -> None:
    out = run("report_build.py", "--cases", "300", "--rounds", "1", cwd=tmp_path)
    assert float(out["report_build_s"]) > 0 and float(out["html_mb"]) > 1
    assert out["outcome"] in {"PROMOTE", "HOLD", "REJECT"}


@pytest.mark.slow
def test_explorer_benchmark_prints_its_times(tmp_path: Path) -> None:
    out = run("explorer.py", "--cases", "400", "--rounds", "1", cwd=tmp_path)
    assert out["rows"] == "1600" and int(out["selected"]) > 0
    assert float(out["build_s"]) > 0 and float(out["ratio_filter_vs_reference"]) > 0
    assert not list(tmp_path.iterdir())
