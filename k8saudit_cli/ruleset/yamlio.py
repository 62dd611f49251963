"""Read a rules file into YAML nodes that keep their text as written and their position.

Falco reads rules with yaml-cpp, where a string field takes the scalar's text
as written (``yes`` stays ``yes``) and booleans accept y/yes/true/on. PyYAML's
composer gives exactly that: nodes with the original scalar text and marks,
before any type resolution (composed under a size bound, see
:mod:`yaml_compose`). Nothing here knows what a rule is.

Lines are counted as YAML counts them: ``\r\n``, ``\r``, ``\n``, U+0085,
U+2028 and U+2029 each end a line, so a position we compute from a text
offset always agrees with the parser's marks.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Union

import yaml

from k8saudit_cli.errors import Position
from k8saudit_cli.ruleset.yaml_compose import DuplicateKey, compose_bounded

#: What YAML takes for a line break (YAML 1.1, as PyYAML and libyaml read it).
LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")
_BREAK_CHARS = "\r\n\x85\u2028\u2029"
_BOM = "\ufeff"

NULL_TAG = "tag:yaml.org,2002:null"
_TRUE = {"y", "yes", "true", "on"}
_FALSE = {"n", "no", "false", "off"}


class YamlError(Exception):
    """The file is not valid YAML; ``position`` points at the problem."""

    def __init__(self, message: str, position: Position) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class SourceFile:
    """A rules file's name and text, kept for snippets and offset mapping.

    A leading byte-order mark is dropped: editors do not count it as a column,
    and libyaml leaves it out of its mark offsets.
    """

    name: str
    text: str

    def __post_init__(self) -> None:
        if self.text.startswith(_BOM):
            object.__setattr__(self, "text", self.text[1:])

    @cached_property
    def _line_starts(self) -> list[int]:
        return [0, *(m.end() for m in LINE_BREAK.finditer(self.text))]

    def line_text(self, line: int) -> str:
        """The text of a 1-based line, without its line break (empty when out of range)."""
        starts = self._line_starts
        if not 1 <= line <= len(starts):
            return ""
        end = starts[line] if line < len(starts) else len(self.text)
        return self.text[starts[line - 1] : end].rstrip(_BREAK_CHARS)

    def position_of(self, offset: int) -> Position:
        """The 1-based line and column of a character offset into :attr:`text`."""
        offset = max(0, min(offset, len(self.text)))
        starts = self._line_starts
        line = bisect.bisect_right(starts, offset)
        return Position(self.name, line, offset - starts[line - 1] + 1)


Node = Union[yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode]


def compose_documents(src: SourceFile) -> tuple[list[Node | None], list[DuplicateKey]]:
    """Every YAML document of the file as a node tree (``None`` for an empty document),
    and the keys written twice in a mapping."""
    try:
        return compose_bounded(src.text)
    except yaml.reader.ReaderError as exc:
        # A character YAML refuses: no mark, but its offset into the text.
        what = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        offset = _reader_offset(src.text, exc)
        raise YamlError(
            f"unacceptable character {what}: {exc.reason}", src.position_of(offset)
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = (
            Position(src.name, mark.line + 1, mark.column + 1) if mark else Position(src.name, 1, 1)
        )
        problem = exc.problem or exc.context or "invalid YAML"
        context = f" ({exc.context})" if exc.context and exc.problem else ""
        raise YamlError(f"{problem}{context}", pos) from None
    except yaml.YAMLError as exc:
        raise YamlError(str(exc), Position(src.name, 1, 1)) from None


def _reader_offset(text: str, exc: yaml.reader.ReaderError) -> int:
    """The character offset of a reader error: PyYAML's reader counts characters
    (and says ``unicode``), libyaml counts bytes of the UTF-8 it was fed."""
    if exc.encoding == "unicode":
        return int(exc.position)
    head = text.encode("utf-8", "surrogatepass")[: exc.position]
    return len(head.decode("utf-8", "ignore"))


def node_position(src: SourceFile, node: yaml.Node) -> Position:
    return Position(src.name, node.start_mark.line + 1, node.start_mark.column + 1)


def is_null(node: yaml.Node | None) -> bool:
    return node is None or (
        isinstance(node, yaml.ScalarNode) and node.tag == NULL_TAG and not node.style
    )


def scalar_bool(text: str) -> bool | None:
    """yaml-cpp's boolean spellings, in lower, UPPER or Capitalized case."""
    if text not in (text.lower(), text.upper(), text.capitalize()):
        return None
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def mapping_items(node: yaml.MappingNode) -> list[tuple[str, yaml.Node, yaml.Node]]:
    """``(key_text, key_node, value_node)`` for each entry with a scalar key, in file order."""
    out = []
    for key, value in node.value:
        if isinstance(key, yaml.ScalarNode):
            out.append((key.value, key, value))
    return out


def scalar_offset_position(src: SourceFile, node: yaml.ScalarNode, offset: int) -> Position:
    """Where in the file the character at ``offset`` of the scalar's value was written.

    Walks the value and the file text side by side, skipping what YAML
    removes (indentation, line folding, quotes, escapes). Good enough to put
    a caret under the right token of a plain, quoted or block condition; if
    the texts disagree it falls back to the scalar's start. The scalar's
    extent comes from the parser's character offsets, so it needs no line
    arithmetic of its own.
    """
    text, value = src.text, node.value
    start = min(node.start_mark.index, len(text))
    end = min(node.end_mark.index, len(text))
    p = start
    if node.style in ("|", ">"):
        brk = LINE_BREAK.search(text, p, end)
        p = brk.end() if brk else p
    elif node.style in ('"', "'"):
        p += 1
    double = node.style == '"'
    for c in value[: max(0, offset)]:
        q = p
        while q < end and text[q] != c and text[q] in _SKIPPABLE:
            if double and _escape_at(text, q, c):
                break
            q += 1
        width = _escape_at(text, q, c) if double and q < end else 0
        if width:
            p = q + width
        elif q < end and text[q] == c:
            p = q + 1
        elif c in _FOLDED:
            continue
        else:
            return node_position(src, node)
    # Land on the next written character, unless the offset is past the value's end
    # (an error "at the end" points just after the last character).
    while p < end and text[p] in _BLANK and offset < len(value) and value[offset] not in _BLANK:
        p += 1
    return src.position_of(p)


#: Characters of the file YAML may drop from a scalar's value.
_SKIPPABLE = frozenset(" \t\\'\"" + _BREAK_CHARS)
#: What folding and line joining leave in a value where the file had a line break.
_FOLDED = frozenset(" \t" + _BREAK_CHARS)
_BLANK = frozenset(" \t" + _BREAK_CHARS)


_YAML_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX_ESCAPES = {"x": 2, "u": 4, "U": 8}


def _escape_at(text: str, q: int, char: str) -> int:
    """Width of a double-quoted YAML escape at ``q`` that stands for ``char`` (0 if none)."""
    if text[q] != "\\" or q + 1 >= len(text):
        return 0
    kind = text[q + 1]
    if _YAML_ESCAPES.get(kind) == char:
        return 2
    digits = _HEX_ESCAPES.get(kind, 0)
    code = text[q + 2 : q + 2 + digits]
    if digits and len(code) == digits and all(h in "0123456789abcdefABCDEF" for h in code):
        return 2 + digits if chr(int(code, 16)) == char else 0
    return 0
