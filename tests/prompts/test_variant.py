"""PromptVariant: sandboxed templates, variable checks, few-shot turns, content-hash version."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.datasets import GoldenSet
from workbench.errors import ConfigError
from workbench.prompts import PromptVariant


@pytest.fixture
def gs() -> GoldenSet:
    df = pd.DataFrame(
        {
            "id": ["t1", "t2", "t3"],
            "message": ["I was billed twice", "App crashes on start", "{{ 7*7 }} {% if x %}"],
            "channel": ["email", "chat", "chat"],
            "expected": [
                {"intent": "billing"},
                {"intent": "technical_issue"},
                {"intent": "feedback"},
            ],
            "language": ["en", "en", "en"],
            "difficulty": ["easy", "hard", "hard"],
        }
    )
    return GoldenSet.from_df(
        df, name="tiny", slices=["language", "difficulty"], routable=["language"]
    )


def test_render_messages_in_order(gs: GoldenSet) -> None:
    v = PromptVariant("guided", system="You triage {{ channel }} tickets.", user="{{ message }}")
    v.check(gs)
    row = gs.records()[0]
    assert v.render(row) == [
        {"role": "system", "content": "You triage email tickets."},
        {"role": "user", "content": "I was billed twice"},
    ]


def test_data_is_never_rendered_as_a_template(gs: GoldenSet) -> None:
    v = PromptVariant("terse", user="Classify: {{ message }}")
    assert v.render(gs.records()[2])[-1]["content"] == "Classify: {{ 7*7 }} {% if x %}"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ message.__class__.__mro__ }}",
        "{{ message|attr('__class__') }}",
        "{{ cycler['__init__'] }}",
    ],
)
def test_sandbox_escapes_are_refused_with_a_config_error(template: str) -> None:
    with pytest.raises(ConfigError, match="private attribute '__") as info:
        PromptVariant("evil", user=template)
    assert "prompt variant 'evil', user template" in str(info.value)


def test_runtime_sandbox_refusal_is_a_config_error() -> None:
    # a computed attribute name cannot be spotted statically; the sandbox refuses it at render
    v = PromptVariant("evil", user="{{ message|attr(name) }}")
    with pytest.raises(ConfigError, match="sandbox refused"):
        v.render({"message": "x", "name": "__class__"})


def test_missing_variable_names_variant_variable_and_columns(gs: GoldenSet) -> None:
    v = PromptVariant("typo", user="{{ mesage }}")
    with pytest.raises(ConfigError) as info:
        v.check(gs)
    text = str(info.value)
    assert text.startswith("prompt variant 'typo': uses {{ mesage }}, which is not a column")
    assert "['message', 'channel', 'language']" in text


@pytest.mark.parametrize("column", ["expected", "difficulty", "id"])
def test_answers_and_hidden_labels_are_refused(gs: GoldenSet, column: str) -> None:
    with pytest.raises(ConfigError, match=f"uses '{column}', which is .*must not see it"):
        PromptVariant("leaky", user="{{ message }} {{ " + column + " }}").check(gs)


def test_routable_slice_may_be_used(gs: GoldenSet) -> None:
    PromptVariant("lang", user="[{{ language }}] {{ message }}").check(gs)


def test_strict_undefined_at_render_names_the_case() -> None:
    v = PromptVariant("strict", user="{{ message }} via {{ channel }}")
    with pytest.raises(ConfigError, match=r"'channel' is undefined") as info:
        v.render({"id": "c9", "message": "hi"})
    assert "case 'c9'" in str(info.value)


def test_syntax_error_names_line() -> None:
    with pytest.raises(ConfigError, match=r"system template, line 2: template syntax error"):
        PromptVariant("broken", user="{{ message }}", system="ok\n{{ message ")


def test_few_shot_turns_and_ids(gs: GoldenSet) -> None:
    shots = gs.sample(2, seed=0)
    v = PromptVariant("shots", user="{{ message }}", few_shot=shots)
    v.check(gs)
    messages = v.render({"id": "new", "message": "Where is my parcel?"})
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    assert messages[1]["content"].startswith('{"intent": ')
    assert sorted(v.few_shot_ids) == sorted(shots.ids)
    assert messages[-1]["content"] == "Where is my parcel?"


def test_few_shot_without_answer_is_refused() -> None:
    with pytest.raises(ConfigError, match="few-shot example 'x' has no expected answer"):
        PromptVariant("s", user="{{ q }}", few_shot=[{"id": "x", "q": "hi", "expected": None}])


def test_version_is_a_content_hash(gs: GoldenSet) -> None:
    a = PromptVariant("a", user="{{ message }}")
    assert a.version == PromptVariant("renamed", user="{{ message }}").version
    assert len(a.version) == 12
    changed = [
        PromptVariant("a", user="{{ message }}!"),
        PromptVariant("a", user="{{ message }}", system="Be brief."),
        PromptVariant("a", user="{{ message }}", few_shot=gs.sample(1, seed=0)),
        PromptVariant("a", user="{{ message }}", response_format={"type": "json_object"}),
    ]
    assert len({a.version, *(v.version for v in changed)}) == 5


def test_variables_and_repr() -> None:
    v = PromptVariant("v", system="{{ a }}", user="{% for x in range(2) %}{{ b }}{% endfor %}")
    assert v.variables == ["a", "b"]
    assert repr(v).startswith("PromptVariant('v', version=")


def test_empty_name_or_template() -> None:
    with pytest.raises(ConfigError, match="non-empty name"):
        PromptVariant("", user="{{ x }}")
    with pytest.raises(ConfigError, match="user template is empty"):
        PromptVariant("n", user="  ")
