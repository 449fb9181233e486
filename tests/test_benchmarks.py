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


@pytest.mark.slow
def test_traces_benchmark_prints_load_time_and_memory(tmp_path: Path) -> None:
    out = run("traces.py", "--traces", "300", "--page-size", "50", "--no-reference",
              cwd=tmp_path)
    assert out["traces"] == "300" and out["page_size"] == "50"
    assert out["records"] == "294"  # 1 trace in 50 failed: counted, not replayed
    assert float(out["load_s"]) > 0 and 0 <= float(out["rss_above_baseline_mb"]) < 300
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_peer_benchmark_prints_its_ratios(tmp_path: Path) -> None:
    out = run("peer.py", "--rows", "40", "--stock-rows", "8", "--rounds", "1", "--latency-ms",
              "5", cwd=tmp_path)
    assert (out["rows"], out["mlflow_rows"], out["stock_rows"]) == ("40", "40", "8")
    for key in ("ratio_vs_raw_litellm", "ratio_workers2_vs_raw_litellm",
                "ratio_vs_mlflow_genai_evaluate", "ratio_vs_mlflow_stock",
                "raw_litellm_rows_per_s", "workbench_w2_logged_rows_per_s",
                "mlflow_best_rows_per_s", "mlflow_stock_rows_per_s",
                "raw_litellm_cpu_ms_per_row", "workbench_w2_cpu_ms_per_row"):
        assert float(out[key]) > 0, key
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_scale_benchmark_prints_time_and_memory_per_phase(tmp_path: Path) -> None:
    out = run("scale.py", "--cases", "100", cwd=tmp_path)
    assert out["cases"] == "100" and out["rows"] == "400"
    for key in ("run_s", "log_s", "report_s", "baseline_rss_mb", "run_peak_rss_mb",
                "log_peak_rss_mb", "report_peak_rss_mb", "peak_rss_mb"):
        assert float(out[key]) > 0, key
    assert float(out["peak_rss_mb"]) >= float(out["baseline_rss_mb"])
    assert out["outcome"] in {"PROMOTE", "HOLD", "REJECT"}
    assert not list(tmp_path.iterdir())
