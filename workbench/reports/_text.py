"""Text helpers of the reports: Markdown escaping, numbers, YAML, paths, word diffs.

Everything from model output or a dataset goes through ``markdown_escape`` (Markdown) or
Jinja2's autoescape (HTML) before it reaches a report.
"""

from __future__ import annotations

import difflib
import json
import math
import os
import re
import shlex
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

__all__ = ["as_text", "display_path", "format_number", "json_safe", "markdown_escape",
           "relative_command", "resolve_command", "to_yaml", "word_diff"]

# Inline markup that works anywhere on a line: code, emphasis, links and images (`[`), table
# cells (`|`), strikethrough (`~`) and backslash escapes themselves.
_INLINE = re.compile(r"([\\`*\[\]|~])")
# `_` opens or closes emphasis only next to a non-word character (CommonMark's flanking
# rules): `json_valid` is left alone, `_x_` is escaped.
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
# A value that would start a block: heading, list item, thematic break, setext underline.
_BLOCK_START = re.compile(r"^(\s*)(#{1,6}(?=\s|$)|[-+>](?=\s|$)|>|\d{1,9}(?=[.)](?:\s|$))|"
                          r"[=-](?=[=-]*\s*$))")
# `<` opens HTML (a tag, comment, declaration) or an autolink only before these
_HTML_OPEN = re.compile(r"<(?=[A-Za-z/!?])")
# Bare URLs and e-mail addresses (GitHub links them even without <...>)
_URL = re.compile(r"(?i)\b(https?|ftp)://")
_WWW = re.compile(r"(?i)\bwww\.")
_EMAIL = re.compile(r"(?<=[0-9A-Za-z._%+-])@(?=[0-9A-Za-z-]+\.)")
_ENTITY = re.compile(r"&(?=#?[0-9A-Za-z]+;)")


def markdown_escape(value: Any, *, block: bool = True) -> str:
    r"""Text that GitHub Markdown shows as itself: no markup, links, images or HTML.

    Only what Markdown would read as markup is escaped: backslashes, backticks, ``*``,
    brackets, table pipes, tildes, ``_`` at a word's edge, a block marker at the start
    (``#``, ``-``, ``>``, ``1.``), ``<`` where it would open HTML, entities, and bare URLs and
    e-mail addresses so that nothing becomes a link. Dates, versions, numbers and comparisons
    (``p < 0.05``) stay as they are.
    Line breaks become `` ⏎ `` so a value stays on its table row. ``block=False`` is for a
    value inside a table cell or after other text on its line, where no block can start: a
    threshold ``> -0.05`` stays as it is there.

    Example:
        >>> markdown_escape("v0.1.0 on 2026-12-01, json_valid: a|b ![x](http://e/i.png) <img>")
        'v0.1.0 on 2026-12-01, json_valid: a\\|b !\\[x\\](http\\://e/i.png) &lt;img>'
        >>> markdown_escape("# not a heading\nnext"), markdown_escape("1. not a list")
        ('\\# not a heading ⏎ next', '1\\. not a list')
        >>> markdown_escape("-0.5 and 0.75"), markdown_escape("> -0.05", block=False)
        ('-0.5 and 0.75', '> -0.05')
    """
    text = "" if value is None else str(value)
    text = re.sub(r"\r\n|\r|\n", " ⏎ ", text)
    text = _ENTITY.sub("&amp;", text)
    text = _INLINE.sub(r"\\\1", text)
    text = _UNDERSCORE.sub(r"\\_", text)
    text = _URL.sub(lambda m: f"{m.group(1)}\\://", text)
    text = _WWW.sub(lambda m: f"{m.group(0)[:3]}\\.", text)
    text = _EMAIL.sub(r"\\@", text)
    if block:
        text = _BLOCK_START.sub(_escape_block, text)
    return _HTML_OPEN.sub("&lt;", text)


def _escape_block(match: re.Match[str]) -> str:
    lead, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # `1.` starts a list: the escape goes before the `.`
        return f"{lead}{marker}\\"
    return f"{lead}\\{marker}"


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """Word-level diff as (op, text) with op in ``=``, ``-``, ``+``.

    Example:
        >>> word_diff("the cat sat", "the dog sat")
        [('=', 'the'), ('-', 'cat'), ('+', 'dog'), ('=', 'sat')]
    """
    a, b = (old or "").split(), (new or "").split()
    out: list[tuple[str, str]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(("=", " ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(("-", " ".join(a[i1:i2])))
        if op in ("insert", "replace"):
            out.append(("+", " ".join(b[j1:j2])))
    return out


def format_number(value: Any, digits: int = 3, signed: bool = False) -> str:
    """A number for the templates (``num`` filter): ``n/a`` for None/NaN, ints with commas."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    if isinstance(value, int | np.integer) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def json_safe(value: Any) -> Any:
    """JSON-safe plain Python values (NaN → None)."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def as_text(value: Any) -> str:
    """A table cell as display text: empty for missing, JSON for objects and lists."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def to_yaml(value: Any) -> str:
    r"""Settings as the YAML a user would write (``yaml`` filter): no ``null`` entries.

    Example:
        >>> print(to_yaml({"alpha": 0.05, "metrics": {"intent": {"margin": 0.05}},
        ...                "cost_ratio_max": None}), end="")
        alpha: 0.05
        metrics:
          intent:
            margin: 0.05
        >>> print(to_yaml({"user": "Channel: {{ channel }}\nMessage: {{ message }}\n"}), end="")
        user: |
          Channel: {{ channel }}
          Message: {{ message }}
    """
    def drop_none(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: drop_none(x) for k, x in v.items() if x is not None}
        if isinstance(v, list | tuple):
            return [drop_none(x) for x in v]
        return v

    data = drop_none(json_safe(value))
    if data in ({}, [], None):
        return "{}\n" if isinstance(data, dict) or data is None else "[]\n"
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True,
                     default_flow_style=False, width=88)


class _Dumper(yaml.SafeDumper):
    """Safe YAML with multi-line strings (prompts) as literal ``|`` blocks, as written."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None  # PyYAML falls back to quotes when `|` cannot hold it
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def display_path(path: str | Path, base: str | Path) -> str:
    """``path`` as shown in a report: relative to ``base`` (the report's folder), never absolute.

    A relative ``path`` is taken as given. Paths that share no folder with ``base`` other than
    the file system's root are shown relative to it all the same (``../../…``).

    Example:
        >>> display_path("/data/proj/examples/gates.yaml", "/data/proj/out/reports")
        '../../examples/gates.yaml'
    """
    given = Path(path)
    if not given.is_absolute():
        return given.as_posix()
    try:
        return Path(os.path.relpath(given, Path(base).resolve())).as_posix()
    except ValueError:  # another drive (Windows): the name alone
        return given.name


def resolve_command(command: str) -> str:
    """A command line whose existing input files are made absolute (output names are kept).

    Reports store their rebuild command this way and show it relative to where they are
    written (:func:`relative_command`).
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    out: list[str] = []
    for i, word in enumerate(words):
        output = i > 0 and words[i - 1] == "--out"
        if not output and not word.startswith("-") and Path(word).expanduser().is_file():
            word = str(Path(word).expanduser().resolve())
        out.append(word)
    return shlex.join(out)


def relative_command(command: str, base: str | Path) -> str:
    """A command line with its absolute paths shown relative to ``base`` (:func:`display_path`).

    Example:
        >>> relative_command("workbench report abc --gates /p/examples/g.yaml --out r.html",
        ...                  "/p/out")
        'workbench report abc --gates ../examples/g.yaml --out r.html'
    """
    try:
        words = shlex.split(command)
    except ValueError:
        return command
    return shlex.join([display_path(w, base) if w.startswith("/") else w for w in words])
