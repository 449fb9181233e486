"""A prompt variant on production traffic from the command line (#22: --candidate MODEL:VARIANT)."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.cli import main
from workbench.errors import ConfigError
from workbench.experiments import load_variant
from workbench.workflow import run_shadow

ROOT = Path(__file__).resolve().parents[2]
LOG = ROOT / "datasets" / "shadow" / "support_traffic.jsonl"
VARIANT = ROOT / "examples" / "shadow_variant.yaml"


def test_a_variant_file_re_renders_each_request(tmp_path: Path) -> None:
    result = run_shadow(LOG, "sim/small", variant=VARIANT, no_judge=True, sample=12,
                        progress=False, out=tmp_path / "shadow.html")
    record = result.comparison.record
    brief = next(v for v in record.variants if v.name == "brief")
    assert "Keep the answer short" in (brief.system or "") and brief.user == "{{ user }}"
    rows = result.comparison.results
    assert set(rows[rows.model == "sim/small"]["variant"]) == {"brief"}
    assert "--variant" in result.report.markdown()  # the rebuild command names the file


def test_the_command_line_takes_model_colon_variant_file(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    code = main(["shadow", "--traffic", str(LOG), "--candidate", f"sim/small:{VARIANT}",
                 "--no-judge", "--sample", "12", "--no-progress",
                 "--out", str(tmp_path / "shadow.html")])
    assert code in (0, 10, 11)
    assert "sim/small        brief" in capsys.readouterr().out
    code = main(["shadow", "--traffic", str(LOG), "--candidate", f"sim/small:{VARIANT}",
                 "--variant", str(VARIANT), "--no-judge", "--sample", "12", "--no-progress",
                 "--out", str(tmp_path / "again.html")])
    assert code == 2 and "Give the variant file once" in capsys.readouterr().err


def test_bad_variant_files_name_the_file_and_line(tmp_path: Path) -> None:
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("name: x\nuser: '{{ user'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown.yaml"):
        load_variant(unknown)
    few = tmp_path / "few.yaml"
    few.write_text("name: x\nuser: '{{ user }}'\nfew_shot: {sample: 2}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"few\.yaml, line 3"):
        load_variant(few)
    outside = tmp_path / "inner" / "v.yaml"
    outside.parent.mkdir()
    outside.write_text("name: x\nuser_file: ../../secret.j2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="outside"):
        load_variant(outside)


def test_a_variant_file_using_a_field_the_traffic_lacks_names_the_file(tmp_path: Path) -> None:
    """The check against the replay set's columns happens after loading: it still names the
    file the variant came from, not only the variant."""
    typo = tmp_path / "typo.yaml"
    typo.write_text("name: brief\nuser: 'Answer: {{ usr }}'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"prompt variant 'brief' \(.*typo\.yaml\).*usr"):
        run_shadow(LOG, "sim/small", variant=typo, no_judge=True, sample=4, progress=False,
                   out=tmp_path / "shadow.html")
    assert not (tmp_path / "shadow.html").exists()
