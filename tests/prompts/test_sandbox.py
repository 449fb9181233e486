"""Hostile templates (issue #19, item 12): every one is a ConfigError naming variant, line, case.

Before the bounded sandbox these raised raw OverflowError / TypeError / RecursionError
tracebacks, or ran until the machine ran out of memory or time.
"""

from __future__ import annotations

import time

import pytest

from workbench.errors import ConfigError
from workbench.prompts import PromptVariant, RenderLimits

ROW = {"id": "c7", "message": "I was billed twice"}
FAST = RenderLimits(time_s=0.5)

HOSTILE = {
    "range": ("{{ range(10**9)|list }}", "range(1000000000) has 1,000,000,000 numbers"),
    "repeat": ("{{ 'a' * 10**9 }}", "a * repetition would hold"),
    "repeat_list": ("{{ [message] * 10**8 }}", "a * repetition would hold"),
    "nested_loops": (
        "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
        "the render took longer than 0.5 s",
    ),
    "recursive_macro": (
        "{% macro f() %}{{ f() }}{% endmacro %}\n{{ f() }}", "calls nest deeper than 50"),
    "branching_macro": (
        "{% macro f(n) %}{% if n %}{{ f(n-1) }}{{ f(n-1) }}{% endif %}{% endmacro %}{{ f(40) }}",
        "the render took longer than 0.5 s",
    ),
    "doubling": (
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% endif %}{% endmacro %}"
        "{{ d(message, 60) }}",
        "a ~ concatenation would hold",
    ),
    "set_block": (
        "{% set x %}{% for i in range(100000) %}{{ message * 100 }}{% endfor %}{% endset %}",
        "the rendered text would hold",
    ),
    "center": ("{{ message|center(10**9) }}", "a centred text would hold"),
    "indent": ("{{ ((message ~ '\\n') * 100000)|indent(10**6) }}", "an indent would hold"),
    "ljust": ("{{ message.ljust(10**9) }}", "a .ljust() would hold"),
    "to_bytes": ("{{ (1).to_bytes(10**9, 'big') }}", "a .to_bytes() would hold"),
    "printf_width": ("{{ '%0999999999d' % 1 }}", "a %-format width"),
    "format_width": ("{{ '{:>999999999}'.format(1) }}", "a format width"),
    "format_filter": ("{{ '%999999999s'|format(message) }}", "a %-format width"),
    "join": ("{{ range(100000)|join(message * 1000) }}", "a join would hold"),
    "replace": ("{{ (message * 1000)|replace('i', message * 1000) }}", "a replace() would hold"),
    "power": ("{{ 2 ** (10 ** 9) }}", "a power would hold"),
    "batch_fill": ("{{ [1]|batch(10**9, 0)|list }}", "|batch(1000000000) makes"),
    "zero_division": ("{{ 1 / 0 }}", "ZeroDivisionError: division by zero"),
    "attribute_at_render": ("{{ message|attr('__cla' ~ 'ss__') }}", "the sandbox refused"),
    "undefined": ("{{ missing }}", "'missing' is undefined"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_templates_are_config_errors_naming_variant_line_and_case(name: str) -> None:
    template, message = HOSTILE[name]
    variant = PromptVariant("evil", user=template, limits=FAST)
    start = time.monotonic()
    with pytest.raises(ConfigError) as info:
        variant.render(ROW)
    assert time.monotonic() - start < 3
    text = str(info.value)
    assert message in text, text
    assert text.startswith("prompt variant 'evil', user template, line ") and "case 'c7'" in text


@pytest.mark.parametrize(
    ("template", "tag"),
    [
        ("ok\n{% include 'other.j2' %}", "{% include %}"),
        ("{% import 'macros.j2' as m %}{{ m.x() }}", "{% import %}"),
        ("{% from 'macros.j2' import x %}", "{% from ... import %}"),
        ("{% extends '/etc/passwd' %}", "{% extends %}"),
    ],
)
def test_templates_may_not_read_other_templates(template: str, tag: str) -> None:
    with pytest.raises(ConfigError) as info:
        PromptVariant("reader", system=template, user="{{ message }}")
    text = str(info.value)
    assert f"{tag} is not available" in text and "prompt variant 'reader', system template" in text
    assert ", line " in text


def test_unknown_filter_is_a_config_error_at_construction() -> None:
    with pytest.raises(ConfigError, match=r"user template, line 2: template error: No filter"):
        PromptVariant("typo", user="hi\n{{ message|shout }}")


def test_deeply_nested_template_source_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="nested too deeply|cannot be compiled"):
        PromptVariant("deep", user="{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}")


def test_ordinary_templates_still_render() -> None:
    template = (
        "{% macro item(i, w) %}{{ i }}. {{ w|title }}{% endmacro %}"
        "{% for w in message.split() %}{{ item(loop.index, w) }}{{ ', ' if not loop.last }}"
        "{% endfor %} | {{ '%-5s|' % 'ab' }}{{ '{:>4}'.format(7) }} | "
        "{{ range(3)|join('-') }} | {{ (message ~ '!') * 2 }} | "
        "{{ message|replace('twice', '2x') }}"
    )
    out = PromptVariant("fine", user=template).render(ROW)[-1]["content"]
    assert out == (
        "1. I, 2. Was, 3. Billed, 4. Twice | ab   |   7 | 0-1-2 | "
        "I was billed twice!I was billed twice! | I was billed 2x"
    )


def test_limits_can_be_raised_for_a_template_that_needs_it() -> None:
    template = "{{ range(200000)|length }}"
    with pytest.raises(ConfigError, match="at most 100,000"):
        PromptVariant("big", user=template).render(ROW)
    roomy = PromptVariant("big", user=template, limits=RenderLimits(max_range=300_000))
    assert roomy.render(ROW)[-1]["content"] == "200000"


def test_output_limit_names_the_case_of_an_oversized_value() -> None:
    variant = PromptVariant("v", user="{{ message }}", limits=RenderLimits(max_output_chars=10))
    assert variant.render({"id": "short", "message": "tiny"})[-1]["content"] == "tiny"
    with pytest.raises(ConfigError, match=r"case 'long'.*the rendered text would hold"):
        variant.render({"id": "long", "message": "x" * 11})


def test_a_failure_in_a_few_shot_example_names_the_example() -> None:
    shots = [{"id": "fs1", "message": "hi", "expected": "greeting"}]
    variant = PromptVariant("v", user="{{ message * n }}", few_shot=shots)
    with pytest.raises(ConfigError, match="few-shot example 'fs1'"):
        variant.render({"id": "c1", "message": "x", "n": 2})
