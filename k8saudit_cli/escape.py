"""The one escaping of untrusted text for output: control characters made visible.

Audit events carry text an attacker chose (user agents, URIs, object names),
and rules files and file names come from many hands. Printed raw, a newline
forges a second alert or warning line, an ESC sequence rewrites the
terminal, and U+2028/U+2029/U+0085 split lines in many log tools. Every
renderer (alert text, warnings, diagnostics, tables) passes such text
through :func:`visible`; JSON output goes through :func:`json_line_safe`.

What is escaped: C0 controls, DEL and C1 controls (``\\n``, ``\\r``,
``\\t``, else ``\\xNN``), the line and paragraph separators (``\\u2028``,
``\\u2029``), and lone surrogates, which stand for bytes that are not UTF-8
(``b64`` decodes to any bytes; ``\\xNN`` is the byte). The backslash itself
is left alone, so text without control characters (every ordinary event)
prints exactly as Falco prints it; the price is that ``\\n`` in the output
may also be a backslash and an ``n`` written by the client.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

__all__ = ["json_line_safe", "json_safe", "tsv_cell", "visible"]

#: Everything :func:`visible` rewrites (a character class: one linear pass).
_UNSAFE = "[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]"
_SURROGATE = "[\ud800-\udfff]"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_one(found: re.Match[str]) -> str:
    c = found.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    code = ord(c)
    if code < 0x100:
        return f"\\x{code:02x}"
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\u{code:04x}"


@cache
def _compiled(pattern: str) -> re.Pattern[str]:
    """Compiled on first use: these classes take a millisecond to compile, at every start."""
    return re.compile(pattern)


def visible(text: str) -> str:
    """``text`` with every control character, line separator and undecodable byte escaped."""
    if text.isprintable():  # every character :data:`_UNSAFE` names is unprintable
        return text
    return _compiled(_UNSAFE).sub(_escape_one, text)


def tsv_cell(text: str) -> str:
    """One TSV cell: the backslash doubled (so the escaping can be undone), then every
    character :func:`visible` escapes (tab, newline and carriage return among them)."""
    if text.isprintable() and "\\" not in text:
        return text
    return visible(text.replace("\\", "\\\\"))


def json_safe(value: Any) -> Any:
    """``value`` with lone surrogates in its strings made visible (``\\xNN``), so JSON
    encoders accept it; other characters stay as they are (JSON escapes them)."""
    if isinstance(value, str):
        return _compiled(_SURROGATE).sub(_escape_one, value)
    if isinstance(value, list):
        return [json_safe(v) for v in value]
    if isinstance(value, dict):
        return {json_safe(k): json_safe(v) for k, v in value.items()}
    return value


_JSON_BREAKS = re.compile(b"\xe2\x80[\xa8\xa9]|\xc2\x85")
_JSON_ESCAPES = {b"\xe2\x80\xa8": b"\\u2028", b"\xe2\x80\xa9": b"\\u2029", b"\xc2\x85": b"\\u0085"}


def json_line_safe(encoded: bytes) -> bytes:
    """UTF-8 JSON text with U+2028, U+2029 and U+0085 written as ``\\uXXXX``.

    JSON allows them raw (orjson writes them so), but many line splitters
    treat them as line ends. In valid UTF-8 these byte sequences only ever
    encode those characters, so replacing bytes is exact.
    """
    if _JSON_BREAKS.search(encoded) is None:
        return encoded
    return _JSON_BREAKS.sub(lambda m: _JSON_ESCAPES[m.group()], encoded)
