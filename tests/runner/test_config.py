"""Experiment files and `workbench run`: validation with key paths and lines, exit codes."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from workbench.cli._main import main
from workbench.errors import ConfigError
from workbench.runner._config import load_experiment

from .conftest import small_set


def write(tmp_path: Path, body: str, base_url: str = "http://127.0.0.1:9/v1") -> Path:
    data = small_set(n=9).freeze(tmp_path / "data")
    (tmp_path / "prompts").mkdir(exist_ok=True)
    (tmp_path / "prompts" / "user.j2").write_text("Label: {{ message }}")
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(body).format(data=data.relative_to(tmp_path), url=base_url))
    return path


GOOD = """\
    golden_set: {data}
    models:
      - id: openai/a
        api_base: {url}
        api_key_env: FAKE_PROVIDER_KEY
        input_price_per_1m: 1.0
        output_price_per_1m: 2.0
    variants:
      - name: plain
        user: "{{{{ message }}}}"
      - name: filed
        user_file: prompts/user.j2
        few_shot: {{sample: 2, seed: 1}}
    scorers:
      - exact_match
      - {{scorer: label_match, name: label}}
    """


def test_a_good_file_builds_the_api_objects(tmp_path: Path) -> None:
    loaded = load_experiment(write(tmp_path, GOOD))
    assert [v.name for v in loaded.variants] == ["plain", "filed"]
    assert loaded.variants[1].user == "Label: {{ message }}"
    assert len(loaded.variants[1].few_shot_ids) == 2
    assert [s.name for s in loaded.scorers] == ["exact_match", "label"]
    assert loaded.models[0].api_key_env == "FAKE_PROVIDER_KEY"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("    repeats", "    repeatz"), None),
        (("input_price_per_1m: 1.0", "input_price_per_1m: cheap"), "models.0.input_price_per_1m"),
        (("- exact_match", "- no_such_scorer"), "unknown scorer 'no_such_scorer'"),
        (("- exact_match", "- nowhere.module:fn"), "cannot import scorer"),
        (("user_file: prompts/user.j2", "user_file: prompts/none.j2"), "cannot read template"),
        (('user: "{{{{ message }}}}"', 'user: "{{{{ body }}}}"'), "not a column"),
    ],
)
def test_errors_name_the_key_and_line(tmp_path: Path, edit: tuple[str, str],
                                      message: str | None) -> None:
    body = GOOD.rstrip(" ") + "    repeats: 1\n" if edit[0] == "    repeats" else GOOD
    body = body.replace(*edit)
    path = write(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert str(path) in text and "line " in text
    if message is None:
        assert "repeatz" in text and "Extra inputs" in text and "line 17" in text
    else:
        assert message in text


def test_pinned_digest_must_match(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("golden_set: {data}",
                                        "golden_set: {{path: {data}, digest: 'sha256:00'}}"))
    with pytest.raises(ConfigError, match="digest"):
        load_experiment(path)


def test_run_dry_run_prints_the_plan_and_calls_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fake_key: str
) -> None:
    assert main(["run", str(write(tmp_path, GOOD)), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "1 model × 2 variants × 7 cases = 14 calls" in out
    assert "dry run: nothing was called" in out and "few-shot" in out


def test_run_exit_codes(server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                        fake_key: str) -> None:
    path = write(tmp_path, GOOD, server.base_url)
    out_dir = tmp_path / "saved"
    assert main(["run", str(path), "--out", str(out_dir), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "14/14 calls recorded" in printed and "Wilson 95%" in printed
    assert (out_dir / "results.parquet").is_file()
    assert main(["run", str(path), "--budget", "0.0000001", "--no-cache", "--no-progress"]) == 12
    assert "STOPPED" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("models: [\n")
    assert main(["run", str(bad)]) == 2
    assert "malformed YAML" in capsys.readouterr().err


def test_model_entries_take_exactly_the_model_spec_fields() -> None:
    import dataclasses

    from workbench.models import ModelSpec
    from workbench.runner._config import ModelEntry

    spec_fields = {f.name: f.default for f in dataclasses.fields(ModelSpec)}
    entry_fields = {n: f.default for n, f in ModelEntry.model_fields.items()}
    assert entry_fields.keys() == spec_fields.keys()
    assert {k: v for k, v in entry_fields.items() if k != "id"} == {
        k: v for k, v in spec_fields.items() if k != "id"}


JUDGED = GOOD.rstrip(" ") + """\
      - {{scorer: judge, name: jc, args: {{rubric: correctness, model: sim/judge, scale: [1, 3]}}}}
    pairwise: {{candidate: [openai/a, filed], incumbent: [openai/a, plain]}}
    """


def test_judge_scorers_and_pairwise_entries(tmp_path: Path) -> None:
    from workbench.scorers import Judge

    loaded = load_experiment(write(tmp_path, JUDGED))
    jc = loaded.scorers[-1]
    assert isinstance(jc, Judge) and jc.name == "jc" and jc.scale == (1, 3)
    assert jc.model.label == "sim/judge" and jc.reference  # correctness needs the reference
    pw = loaded.experiment.pairwise
    assert pw is not None and pw.candidate == ("openai/a", "filed") and pw.judge == "sim/judge"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("scale: [1, 3]", "colour: red"), "bad judge arguments"),
        (("scale: [1, 3]", "scale: [3, 1]"), "scale"),
        (("candidate: [openai/a, filed]", "candidate: [openai/b, filed]"),
         "candidate openai/b/filed is not a configuration"),
        (("candidate: [openai/a, filed]", "candidate: [openai/a, plain]"), "the same"),
    ],
)
def test_bad_judge_and_pairwise_entries_name_the_line(
    tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    path = write(tmp_path, JUDGED.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert message in text and str(path) in text and "line " in text


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "cannot read the human-label file"),
        ("case_id,label\nc000,3\n", "lacks columns"),
        ("case_id,model,variant,repeat,scorer,output_sha256,reviewer,label\n"
         "c000,openai/a,plain,0,judge_other,ab,ana,3\n", "no judge scorer of this experiment"),
    ],
)
def test_human_labels_are_checked_when_the_file_is_loaded(
    tmp_path: Path, labels: str | None, message: str
) -> None:
    if labels is not None:
        (tmp_path / "labels.csv").write_text(labels)
    path = write(tmp_path, JUDGED.rstrip(" ") + "    human_labels: labels.csv\n")
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert message in text and str(path) in text and "line 19" in text


def test_human_labels_for_a_judge_scorer_load(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text(
        "case_id,model,variant,repeat,scorer,output_sha256,reviewer,label\n"
        "c000,openai/a,plain,0,jc,ab,ana,3\n")
    loaded = load_experiment(write(tmp_path, JUDGED.rstrip(" ") + "    human_labels: labels.csv\n"))
    assert loaded.human_labels is not None and list(loaded.human_labels["label"]) == [3.0]
