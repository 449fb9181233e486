"""A minimal reader for the PDFs Chromium prints (no PDF library is installed here).

Chromium (Skia) writes text as glyph ids of embedded Type0 fonts, each with a ToUnicode map;
the content streams are Flate-compressed. That is enough to read the text back for a test.
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path


def _objects(data: bytes) -> dict[int, bytes]:
    return {int(m.group(1)): m.group(2)
            for m in re.finditer(rb"(\d+) 0 obj(.*?)endobj", data, re.S)}


def _stream(body: bytes) -> bytes | None:
    m = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
    if m is None:
        return None
    raw = m.group(1)
    return zlib.decompress(raw) if b"/FlateDecode" in body else raw


def _to_unicode(cmap: bytes) -> dict[int, str]:
    table: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", cmap, re.S):
        for code, text in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            table[int(code, 16)] = bytes.fromhex(text.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", cmap, re.S):
        for lo, hi, start in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            first = int.from_bytes(bytes.fromhex(start.decode()), "big")
            for code in range(int(lo, 16), int(hi, 16) + 1):
                table[code] = chr(first + code - int(lo, 16))
    return table


def page_count(path: Path) -> int:
    """The number of page objects."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", path.read_bytes()))


def title(path: Path) -> str:
    """The document's title (Info dictionary), decoded."""
    m = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]*)>", path.read_bytes())
    if m:
        return bytes.fromhex(m.group(1).decode()).decode("utf-16-be")
    m = re.search(rb"/Title\s*\((.*?)\)", path.read_bytes())
    return m.group(1).decode("latin-1") if m else ""


def text(path: Path) -> str:
    """The text shown on the pages, in drawing order (no spaces between runs)."""
    objects = _objects(path.read_bytes())
    maps: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        m = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if m:
            maps[number] = _to_unicode(_stream(objects[int(m.group(1))]) or b"")
    fonts: dict[bytes, int] = {}
    for body in objects.values():
        for resources in re.findall(rb"/Font\s*<<(.*?)>>", body, re.S):
            for name, ref in re.findall(rb"/(\S+?) (\d+) 0 R", resources):
                fonts.setdefault(name, int(ref))
    out: list[str] = []
    for body in objects.values():
        if b"stream" not in body:
            continue
        try:
            content = _stream(body)
        except zlib.error:
            continue
        if not content or b" Tf" not in content:
            continue
        for font, chunk in re.findall(rb"/(\S+) [\d.]+ Tf(.*?)(?=/\S+ [\d.]+ Tf|$)", content,
                                      re.S):
            table = maps.get(fonts.get(font, -1), {})
            for hexa in re.findall(rb"<([0-9A-Fa-f]+)>", chunk):
                h = hexa.decode()
                out.append("".join(table.get(int(h[i:i + 4], 16), "?")
                                   for i in range(0, len(h) - 3, 4)))
    return "".join(out)
