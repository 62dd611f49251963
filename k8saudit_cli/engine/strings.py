"""How strings are written in condition text: blanks, quoted strings, field arguments.

libs' escapes (``\\n``, ``\\"`` only in a "-string...), which characters
count as blanks, and what a field argument may hold without quotes. The
parser reads with these; the renderer writes what they read back.
"""

from __future__ import annotations

import re

#: Falco's blanks; a condition made only of these is "empty".
BLANKS = " \t\b\r\n"

#: A field argument that needs no quotes (the grammar's FIELD_ARG, which Lark
#: folds into FIELD and so cannot hand out on its own).
FIELD_ARG_BARE = re.compile(r"[^\]\[\"' \t\n\r\v\f]+")
#: Any field argument: quoted either way, or bare.
FIELD_ARG_VALUE = re.compile(
    r"\"(?:[^\"\\]|\\[\s\S])*\"|'(?:[^'\\]|\\[\s\S])*'|" + FIELD_ARG_BARE.pattern
)


class BadEscape(Exception):
    """An escape libs rejects; ``index`` is its backslash's offset in the token."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


_ESCAPE = re.compile(r"\\([\s\S])")
# ``\<space>`` gives a backslash: libs keeps it for old, wrongly escaped rules.
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "/": "/"}
_SIMPLE_ESCAPES[" "] = "\\"


def unescape(quoted: str) -> str:
    """The value of a quoted token (delimiters included), with libs' escapes.

    Raises :class:`BadEscape` for an escape libs rejects; ``\\"`` is only
    valid in a "-string and ``\\'`` only in a '-string.
    """
    delimiter, body = quoted[0], quoted[1:-1]
    if "\\" not in body:
        return body

    def replace(match: re.Match[str]) -> str:
        char = match.group(1)
        if char in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[char]
        if char == delimiter:
            return char
        index = match.start() + 1
        if char == '"':
            raise BadEscape("invalid \\\" escape in '-quoted string", index)
        if char == "'":
            raise BadEscape("invalid \\' escape in \"-quoted string", index)
        raise BadEscape(f"unsupported string escape sequence: \\{char}", index)

    return _ESCAPE.sub(replace, body)
