"""Experiment files and `workbench run`: validation with key paths and lines, exit codes."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from workbench.cli._main import main
from workbench.errors import ConfigError
from workbench.experiments import load_experiment

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

    from workbench.experiments import ModelEntry
    from workbench.models import ModelSpec

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


# ---------------------------------------------------------------- hostile files (issue #19)
BOMB = """\
    golden_set: {data}
    models: [sim/large]
    laughs:
      a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
      f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
      g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    variants:
      - name: v
        user: "{{{{ message }}}}"
        response_format: {{type: json_schema, json_schema: {{schema: *g}}}}
    """


def test_alias_bomb_in_response_format_is_refused_fast_even_on_dry_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BOMB)
    start = time.monotonic()
    assert main(["run", str(path), "--dry-run"]) == 2
    assert time.monotonic() - start < 5
    err = capsys.readouterr().err
    assert f"{path}, line 8: aliases expand to more than 10,000 nodes" in err


def test_duplicate_top_level_key_names_both_lines(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.rstrip(" ") + "    models: [sim/small]\n")
    with pytest.raises(ConfigError, match=r"line 17: duplicate key 'models' on lines 2 and 17"):
        load_experiment(path)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (("user_file: prompts/user.j2", "user_file: ../../../../../../../../etc/passwd"),
         "variants.1.user_file"),
        (("user_file: prompts/user.j2", "user_file: prompts/user.j2\n        system_file: "
          "/etc/hostname"), "variants.1.system_file"),
        (("golden_set: {data}", "golden_set: ../outside/golden.jsonl"), "golden_set"),
    ],
)
def test_paths_must_resolve_inside_the_experiment_folder(
    tmp_path: Path, edit: tuple[str, str], key: str
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    path = write(root, GOOD.replace(*edit))
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert f"{path}, line " in text and f"{key}: " in text
    assert "outside the experiment's folder" in text and "--allow-outside" in text


def test_gates_and_labels_outside_and_symlinks_out_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2 {{ message }}")
    path = write(root, GOOD.replace("user_file: prompts/user.j2", "user_file: prompts/link.j2")
                 .rstrip(" ") + "    gates: ../gates.yaml\n    human_labels: /etc/passwd\n")
    (root / "prompts" / "link.j2").symlink_to(secret)
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert "variants.1.user_file: 'prompts/link.j2' resolves to " + str(secret) in text
    assert "gates: '../gates.yaml' resolves to" in text
    assert "human_labels: '/etc/passwd' resolves to /etc/passwd" in text
    assert "hunter2" not in text


def test_allow_outside_lets_a_shared_folder_in(tmp_path: Path, fake_key: str,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared"
    data = small_set(n=9).freeze(shared)
    exp_dir = tmp_path / "experiments"
    exp_dir.mkdir()
    path = exp_dir / "exp.yaml"
    path.write_text(textwrap.dedent(GOOD).format(data=f"../shared/{data.name}",
                                                 url="http://127.0.0.1:9/v1")
                    .replace("user_file: prompts/user.j2", f"user_file: {shared}/user.j2"))
    (shared / "user.j2").write_text("Label: {{ message }}")
    with pytest.raises(ConfigError, match="outside the experiment's folder"):
        load_experiment(path)
    loaded = load_experiment(path, allow_outside=[shared])
    assert loaded.golden_set.digest == small_set(n=9).digest
    assert main(["run", str(path), "--dry-run"]) == 2
    assert "--allow-outside" in capsys.readouterr().err
    assert main(["run", str(path), "--dry-run", "--allow-outside", str(shared)]) == 0
    assert "dry run: nothing was called" in capsys.readouterr().out


SIDE_EFFECT_MODULE = '''\
from pathlib import Path

Path({marker!r}).write_text("imported")


def plain(case, output):
    return 1.0
'''

SCORER_MODULE = '''\
import workbench as wb


@wb.scorer(name="shouty")
def shouty(case, output, *, min_len: int = 1):
    return output.isupper() and len(output) >= min_len


def helper(case, output):
    return 0.0
'''


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("os:system", "'os:system' is not a scorer"),
        ("subprocess:run", "subprocess.run is a plain function, not decorated with @wb.scorer"),
        ("wb_side_effects:plain", "wb_side_effects.plain is a plain function"),
        ("wb_side_effects:nothing", "the module 'wb_side_effects' defines no 'nothing'"),
        ("wb_user_scorers:helper", "wb_user_scorers.helper is a plain function"),
        ("json:JSONDecoder", "'json:JSONDecoder' is not a scorer (it is a type)"),
        ("wb_broken_module:fn", "importing the scorer module 'wb_broken_module' failed: "
                                "ZeroDivisionError"),
    ],
)
def test_module_function_scorers_must_be_decorated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ref: str, message: str
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    marker = tmp_path / "imported.txt"
    (modules / "wb_side_effects.py").write_text(SIDE_EFFECT_MODULE.format(marker=str(marker)))
    (modules / "wb_user_scorers.py").write_text(SCORER_MODULE)
    (modules / "wb_broken_module.py").write_text("fn = 1 / 0\n")
    monkeypatch.syspath_prepend(str(modules))
    path = write(tmp_path, GOOD.replace("- exact_match", f"- {ref!r}"))
    with pytest.raises(ConfigError) as err:
        load_experiment(path)
    text = str(err.value)
    assert message in text and f"{path}, line 15" in text
    assert not marker.exists()  # refused from the source, before the module ran


def test_a_decorated_scorer_in_a_user_module_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    modules = tmp_path / "modules"
    modules.mkdir()
    (modules / "wb_user_scorers.py").write_text(SCORER_MODULE)
    monkeypatch.syspath_prepend(str(modules))
    path = write(tmp_path, GOOD.replace(
        "- exact_match", "- {{scorer: 'wb_user_scorers:shouty', args: {{min_len: 2}}}}"))
    loaded = load_experiment(path)
    assert loaded.scorers[0].name == "shouty" and loaded.scorers[0].args == {"min_len": 2}
