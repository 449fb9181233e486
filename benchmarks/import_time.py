"""How long ``import workbench`` takes, against ``import pandas`` and an empty interpreter.

Runs fresh interpreters, alternating the three commands (5 rounds by default) and prints
medians and ratios. ``import workbench`` is lazy, so it should cost about as much as an empty
interpreter; first use of ``wb.GoldenSet`` pays for pandas.

    python benchmarks/import_time.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "empty": "pass",
    "workbench": "import workbench",
    "workbench+GoldenSet": "import workbench; workbench.GoldenSet",
    "pandas": "import pandas",
}


def timed(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    samples: dict[str, list[float]] = {k: [] for k in COMMANDS}
    for _ in range(max(3, args.rounds)):
        for name, code in COMMANDS.items():
            samples[name].append(timed(code))
    med = {k: statistics.median(v) for k, v in samples.items()}
    for name, value in med.items():
        print(f"{name:22s} median {value * 1000:7.1f} ms")
    extra = med["workbench"] - med["empty"]
    print(f"import_workbench_extra_ms={extra * 1000:.1f}")
    print(f"ratio_import_workbench_vs_pandas={med['workbench'] / med['pandas']:.3f}")


if __name__ == "__main__":
    main()
