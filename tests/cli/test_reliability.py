"""`workbench run` makes failures visible (#19 items 8 and 9): exit 13, errors named."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from workbench.cli import main
from workbench.cli._main import EXIT_ERRORS, build_parser
from workbench.testing import FaultRates, serve

from ..runner.conftest import small_set

EXPERIMENT = """\
    golden_set: {data}
    models:
      - id: openai/good
        api_base: {good}
        api_key_env: FAKE_PROVIDER_KEY
        input_price_per_1m: 1.0
        output_price_per_1m: 2.0
      - id: openai/bad
        api_base: {bad}
        api_key_env: FAKE_PROVIDER_KEY
        input_price_per_1m: 1.0
        output_price_per_1m: 2.0
    variants:
      - name: plain
        user: "{{{{ message }}}}"
    scorers: [exact_match]
    concurrency: 2
    """


@pytest.fixture
def servers() -> Iterator[tuple[Any, Any]]:
    with serve() as good, serve(rates=FaultRates(rate_401=1.0)) as bad:
        yield good, bad


def experiment(tmp_path: Path, good: str, bad: str, n: int = 20,
               markers: dict[int, str] | None = None) -> Path:
    data = small_set(n=n, markers=markers).freeze(tmp_path / "data")
    path = tmp_path / "exp.yaml"
    path.write_text(textwrap.dedent(EXPERIMENT).format(
        data=data.relative_to(tmp_path), good=good, bad=bad))
    return path


def test_a_configuration_that_always_fails_exits_13_and_names_its_error(
    tmp_path: Path, servers: tuple[Any, Any], fake_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good, bad = servers
    exp = experiment(tmp_path, good.base_url, bad.base_url)
    code = main(["run", str(exp), "--no-progress", "--no-mlflow"])
    out, err = capsys.readouterr()
    assert code == EXIT_ERRORS == 13
    assert bad.fake.requests <= 5 + 2  # fail fast: K calls plus those in flight, not 20
    line = next(x for x in out.splitlines() if x.startswith("  openai/bad · plain:"))
    assert "20 of 20 calls failed (100%)" in line
    assert "most often AuthenticationError" in line and "Incorrect API key provided" in line
    assert "not called (configuration stopped)" in line
    assert "openai/good · plain:" not in out  # no errors, no line
    assert "TOO MANY ERRORS: openai/bad · plain 100% > 50%" in err
    # the threshold is the user's: a bad configuration tolerated is still reported
    assert main(["run", str(exp), "--no-progress", "--no-mlflow", "--max-error-rate",
                 "1"]) == 130  # the stopped configuration left cells uncalled
    assert "INTERRUPTED: configuration openai/bad · plain stopped" in capsys.readouterr().err


def test_resume_with_retry_errors_calls_only_the_failed_cells(
    tmp_path: Path, servers: tuple[Any, Any], fake_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good, _ = servers
    exp = experiment(tmp_path, good.base_url, good.base_url, n=10, markers={3: "emptyx4"})
    text = exp.read_text()
    exp.write_text(text[: text.index("  - id: openai/bad")] + text[text.index("variants:"):])
    assert main(["run", str(exp), "--no-progress", "--no-mlflow"]) == 0  # 10% < 50%
    out = capsys.readouterr().out
    assert "1 of 10 calls failed (10%); most often EmptyResponse (1×)" in out
    before = good.fake.requests
    assert main(["run", str(exp), "--no-progress", "--no-mlflow", "--resume"]) == 0
    assert good.fake.requests == before  # a plain resume keeps the recorded failure
    assert "1 of 10 calls failed" in capsys.readouterr().out
    assert main(["run", str(exp), "--no-progress", "--no-mlflow", "--resume",
                 "--retry-errors"]) == 0
    assert good.fake.requests == before + 1
    assert "errors by configuration" not in capsys.readouterr().out


def test_the_new_exit_code_and_options_are_documented(capsys: pytest.CaptureFixture[str]
                                                      ) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "13 too many errors" in text and "--max-error-rate" in text
    assert "--retry-errors" in text and "--wait SECONDS" in text
    with pytest.raises(SystemExit):
        build_parser().parse_args(["log", "--help"])
    assert "superseded" in capsys.readouterr().out


def test_bad_thresholds_are_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    assert main(["run", "nowhere.yaml", "--max-error-rate", "2"]) == 2
    assert "--max-error-rate 2" in capsys.readouterr().err
