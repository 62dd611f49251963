"""Read a rules file into YAML nodes that keep their text as written and their position.

Falco reads rules with yaml-cpp, where a string field takes the scalar's text
as written (``yes`` stays ``yes``) and booleans accept y/yes/true/on. PyYAML's
composer gives exactly that: nodes with the original scalar text and marks,
before any type resolution. Nothing here knows what a rule is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

import yaml

from k8saudit_cli.errors import Position

try:  # libyaml is ~10x faster; fall back to the pure-Python loader when absent
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on the PyYAML build
    _Loader = yaml.SafeLoader

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
    """A rules file's name and text, kept for snippets and offset mapping."""

    name: str
    text: str

    def line_text(self, line: int) -> str:
        """The text of a 1-based line (empty when out of range)."""
        lines = self.text.splitlines()
        return lines[line - 1] if 1 <= line <= len(lines) else ""

    def position_of(self, offset: int) -> Position:
        offset = max(0, min(offset, len(self.text)))
        line = self.text.count("\n", 0, offset) + 1
        col = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Position(self.name, line, col)


Node = Union[yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode]


def compose_documents(src: SourceFile) -> list[Node | None]:
    """Every YAML document of the file as a node tree (``None`` for an empty document)."""
    try:
        return list(yaml.compose_all(src.text, Loader=_Loader))
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
    the texts disagree it falls back to the scalar's start.
    """
    text, value = src.text, node.value
    start = _line_offset(text, node.start_mark.line) + node.start_mark.column
    end = _line_offset(text, node.end_mark.line) + node.end_mark.column
    p = start
    if node.style in ("|", ">"):
        nl = text.find("\n", p)
        p = nl + 1 if nl >= 0 else p
    elif node.style in ('"', "'"):
        p += 1
    double = node.style == '"'
    for c in value[: max(0, offset)]:
        q = p
        while q < end and text[q] != c and text[q] in " \t\r\n\\'\"":
            if double and _escape_at(text, q, c):
                break
            q += 1
        width = _escape_at(text, q, c) if double and q < end else 0
        if width:
            p = q + width
        elif q < end and text[q] == c:
            p = q + 1
        elif c in " \n\t":
            continue
        else:
            return node_position(src, node)
    # Land on the next written character, unless the offset is past the value's end
    # (an error "at the end" points just after the last character).
    while (
        p < end and text[p] in " \t\r\n" and offset < len(value) and value[offset] not in " \t\r\n"
    ):
        p += 1
    return src.position_of(p)


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


def _line_offset(text: str, line0: int) -> int:
    off = 0
    for _ in range(line0):
        nl = text.find("\n", off)
        if nl < 0:
            return len(text)
        off = nl + 1
    return off
