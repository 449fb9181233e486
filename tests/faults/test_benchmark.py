"""benchmarks/faults.py prints its table and ``faults_survived=N/N`` (DESIGN.md, Settled R6)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_faults_benchmark_prints_survivors(tmp_path: Path) -> None:
    env = {**os.environ, "MLFLOW_TRACKING_URI": ""}
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "faults.py"), "--only",
                           "fault: 500"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300, env=env, check=False)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("SURVIVED") for line in lines) == 1
    values = dict(line.split("=", 1) for line in lines if "=" in line and " " not in line)
    assert values["faults_survived"] == "1/1" and values["matrix_survived"] == "1/1"
    assert float(values["faults_seconds"]) > 0
    assert not list(tmp_path.iterdir())  # everything lived in its own temporary folder
