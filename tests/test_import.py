"""``import workbench`` stays light (DESIGN.md, Settled 6: tested by absence, not by time)."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("litellm", "mlflow", "plotly", "ipywidgets", "pandas", "sklearn")


def run(code: str) -> dict[str, bool]:
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_import_workbench_imports_no_heavy_library() -> None:
    loaded = run(
        "import json, sys, workbench; "
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    assert loaded == dict.fromkeys(HEAVY, False)


def test_golden_set_access_does_not_pull_model_or_tracking_libraries() -> None:
    loaded = run(
        "import json, sys, workbench as wb; wb.GoldenSet; "
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r}}}))"
    )
    assert loaded["pandas"] is True
    assert not any(loaded[m] for m in ("litellm", "mlflow", "plotly", "ipywidgets", "sklearn"))


def test_public_names_resolve() -> None:
    import workbench as wb

    for name in wb.__all__:
        assert getattr(wb, name) is not None
    assert "GoldenSet" in dir(wb)
