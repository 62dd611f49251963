"""Parse Falco condition text into the AST of :mod:`k8saudit_cli.engine.nodes`.

The grammar lives in ``condition.lark`` (LALR, contextual lexer, built once).
This module turns Lark's tree into our frozen nodes and Lark's failures into
:class:`ConditionSyntaxError` with libs' messages, so the Lark tree and Lark's
exceptions never leave it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError
from lark.visitors import Transformer_NonRecursive

from k8saudit_cli.engine.nodes import (
    And,
    Check,
    Expr,
    FieldRef,
    ListItem,
    MacroRef,
    Not,
    Num,
    Or,
    Span,
    Str,
    Transform,
    Val,
    ValueList,
)
from k8saudit_cli.engine.parsecache import lark_cache_path
from k8saudit_cli.errors import ConditionSyntaxError

__all__ = [
    "FIELD_ARG_BARE",
    "MAX_LEVELS",
    "lexical_pattern",
    "parse_condition",
    "parse_value_items",
]

#: Falco's blanks; a condition made only of these is "empty".
BLANKS = " \t\b\r\n"

#: How deep a condition may nest, counted two ways, each stopping at this:
#: parentheses, as libs does (its recursive descent spends about five steps per
#: group and stops at 1000, hence its message), and nested and/or/not/transformer
#: nodes, which is what every later recursive pass walks (so `not not ... a`
#: cannot blow Python's stack either). Rendering puts parentheses only around
#: such nodes, so canonical text of a parsed condition always parses again.
MAX_LEVELS = 200
DEPTH_MESSAGE = "exceeded max depth limit of 1000"

#: A field argument that needs no quotes (the grammar's FIELD_ARG, which Lark
#: folds into FIELD and so cannot hand out on its own).
FIELD_ARG_BARE = re.compile(r"[^\]\[\"' \t\n\r\v\f]+")
_FIELD_ARG_VALUE = re.compile(
    r"\"(?:[^\"\\]|\\[\s\S])*\"|'(?:[^'\\]|\\[\s\S])*'|" + FIELD_ARG_BARE.pattern
)

# Display order of libs' ``supported_operators()`` and transformer lists.
_OPERATORS = (
    "exists", "<=", "<", ">=", ">", "==", "=", "!=", "glob", "iglob", "contains", "icontains",
    "bcontains", "startswith", "bstartswith", "endswith", "regex", "intersects", "in", "pmatch",
)  # fmt: skip
_TRANSFORMERS = ("val", "tolower", "toupper", "b64", "basename", "len")


def _quoted_list(words: Iterable[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


_WITH_TRANSFORMER = "or a field with a valid transformer: " + _quoted_list(_TRANSFORMERS)

#: What libs says when a place in the grammar gets something else, by the
#: terminals that place accepts. The first row whose terminals are all
#: acceptable wins, so the more specific rows come first.
_EXPECTATIONS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"IDENT", "FIELD"}), "expected a '(' token, a field check, or an identifier"),
    (frozenset({"EXISTS"}), "expected a valid check operator: one of " + _quoted_list(_OPERATORS)),
    (frozenset({"NUMBER"}), "expected a number value " + _WITH_TRANSFORMER),
    (frozenset({"MODIFIER"}), "expected a string value " + _WITH_TRANSFORMER),
    (frozenset({"LPAR", "IDENT", "VAL"}), "expected a list, an identifier, " + _WITH_TRANSFORMER),
    # libs swallows a bad first list item and then wants the closing parenthesis.
    (frozenset({"BARE", "RPAR"}), "expected a ')' token"),
    (frozenset({"BARE"}), "expected a string value"),
    (frozenset({"_COMMA"}), "expected a ')' token"),
    (
        frozenset({"FIELD", "TRANSFORMER"}),
        "expected a field or a nested valid transformer: " + _quoted_list(_TRANSFORMERS),
    ),
    (frozenset({"FIELD"}), "expected a field within 'val' transformer"),
    (frozenset({"RPAR"}), "expected a ')' token closing the transformer"),
)

# Tree nodes that become nested AST nodes (parentheses are counted apart).
_NODE_RULES = frozenset({"and_expr", "or_expr", "negation", "transformer"})


# ---------------------------------------------------------------- the Lark parser


@cache
def _lark() -> Lark:
    """The LALR parser, built on first use and then shared.

    Lark keeps the built tables in our private cache directory (see
    :mod:`parsecache`): about 0.1 s saved on every later start.
    """
    return Lark.open_from_package(
        "k8saudit_cli.engine",
        "condition.lark",
        parser="lalr",
        lexer="contextual",
        start=["start", "value_items"],
        maybe_placeholders=False,
        cache=lark_cache_path(),
    )


@cache
def lexical_pattern(terminal: str) -> re.Pattern[str]:
    """The compiled regex of a grammar terminal (``BARE``, ``IDENT``, ``FIELD``...).

    Lets the renderer decide what may stay unquoted from the grammar itself,
    so the two cannot drift apart.
    """
    return re.compile(_lark().get_terminal(terminal).pattern.to_regexp())


# ---------------------------------------------------------------- entry points


def parse_condition(text: str) -> Expr:
    """Parse a whole condition into nodes with spans.

    Any text whatsoever either parses or raises :class:`ConditionSyntaxError`
    with libs' message and the offending position, so callers can report
    every bad macro or rule and go on. Blank text counts as empty.
    """
    if not text.strip(BLANKS):
        raise ConditionSyntaxError("filter input string is empty", text, 0, 1, 1)
    result: Expr = _build(text, "start")
    return result


def parse_value_items(text: str) -> tuple[ListItem, ...]:
    """Parse one raw rules-file list item as if pasted inside ``( ... )``.

    Falco pastes list items into the condition text, so an item may really
    be several (``a,b``) or a quoted one (``'"*"'``). An item with a space
    that does not start with a quote is wrapped in double quotes first, as
    Falco does; its content is then unescaped like any quoted string.
    """
    if " " in text and not text.startswith(('"', "'")):
        return _wrapped_item(text)
    if not text.strip(BLANKS):
        raise ConditionSyntaxError("expected a string value", text, 0, 1, 1)
    items: tuple[ListItem, ...] = _build(text, "value_items")
    return items


def _wrapped_item(text: str) -> tuple[ListItem, ...]:
    """Parse ``"text"`` and report spans and errors against ``text`` itself."""
    try:
        items: tuple[ListItem, ...] = _build(f'"{text}"', "value_items")
    except ConditionSyntaxError as exc:
        offset = min(max(exc.offset - 1, 0), len(text))
        raise _error(exc.message, text, offset) from None
    # Usually one item, but a quote inside the text ends it early, as in Falco.
    return tuple(
        ListItem(item.text, item.quoted, _span_at(text, *_unwrapped(item.span, len(text))))
        for item in items
    )


def _unwrapped(span: Span, length: int) -> tuple[int, int]:
    """Offsets in the text before the added opening quote."""
    return max(span.start - 1, 0), min(span.end - 1, length)


def _build(text: str, start: str) -> Any:
    """Parse, check the nesting depth, then turn the tree into nodes."""
    try:
        tree = _lark().parse(text, start=start)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    too_deep = _too_deep([tree])
    if too_deep is not None:
        raise _error(DEPTH_MESSAGE, text, too_deep)
    try:
        return _Builder(text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ConditionSyntaxError):
            raise exc.orig_exc from None
        raise


# ---------------------------------------------------------------- positions


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of ``offset``, counting ``\\n`` as Lark does."""
    line_start = text.rfind("\n", 0, offset) + 1
    return text.count("\n", 0, offset) + 1, offset - line_start + 1


def _span_at(text: str, start: int, end: int) -> Span:
    return Span(start, end, *_line_col(text, start))


def _error(message: str, text: str, offset: int) -> ConditionSyntaxError:
    return ConditionSyntaxError(message, text, offset, *_line_col(text, offset))


def _token_span(token: Token) -> Span:
    return Span(token.start_pos or 0, token.end_pos or 0, token.line or 1, token.column or 1)


# ---------------------------------------------------------------- strings


class _BadEscape(Exception):
    """An escape libs rejects; ``index`` is its backslash's offset in the token."""

    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


_ESCAPE = re.compile(r"\\([\s\S])")
# ``\<space>`` gives a backslash: libs keeps it for old, wrongly escaped rules.
_SIMPLE_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "\\": "\\", "/": "/"}
_SIMPLE_ESCAPES[" "] = "\\"


def _unescape(quoted: str) -> str:
    """The value of a quoted token (delimiters included), with libs' escapes.

    Raises ``_BadEscape`` for an escape libs rejects; ``\\"`` is only valid in
    a "-string and ``\\'`` only in a '-string.
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
            raise _BadEscape("invalid \\\" escape in '-quoted string", index)
        if char == "'":
            raise _BadEscape("invalid \\' escape in \"-quoted string", index)
        raise _BadEscape(f"unsupported string escape sequence: \\{char}", index)

    return _ESCAPE.sub(replace, body)


def _unescape_at(text: str, quoted: str, start: int) -> str:
    """Unescape ``quoted``, found at offset ``start`` of ``text``, for error positions."""
    try:
        return _unescape(quoted)
    except _BadEscape as bad:
        raise _error(bad.message, text, start + bad.index) from None


# ---------------------------------------------------------------- tree -> nodes


class _Builder(Transformer_NonRecursive):  # type: ignore[type-arg]
    """Turns Lark's tree into nodes, bottom-up and without recursion.

    One per parse: it holds the text so that escape errors get positions,
    and the spans of parenthesised operands including their parentheses, so
    that ``(a) and b`` spans from ``(`` without changing the span of ``a``.
    """

    def __init__(self, text: str) -> None:
        super().__init__(visit_tokens=False)
        self._text = text
        self._grouped: dict[int, Span] = {}

    def _span_of(self, part: Any) -> Span:
        if isinstance(part, Token):
            return _token_span(part)
        span: Span = self._grouped.get(id(part), part.span)
        return span

    def _cover(self, first: Any, last: Any) -> Span:
        """From the start of ``first`` to the end of ``last`` (tokens or nodes)."""
        head, tail = self._span_of(first), self._span_of(last)
        return Span(head.start, tail.end, head.line, head.col)

    # booleans
    def start(self, children: list[Any]) -> Expr:
        return children[0]  # type: ignore[no-any-return]

    def or_expr(self, children: list[Any]) -> Or:
        return Or(tuple(children), self._cover(children[0], children[-1]))

    def and_expr(self, children: list[Any]) -> And:
        return And(tuple(children), self._cover(children[0], children[-1]))

    def negation(self, children: list[Any]) -> Not:
        return Not(children[1], self._cover(children[0], children[1]))

    def group(self, children: list[Any]) -> Expr:
        inner: Expr = children[1]
        self._grouped[id(inner)] = self._cover(children[0], children[2])
        return inner

    def macro(self, children: list[Token]) -> MacroRef:
        return MacroRef(children[0].value, _token_span(children[0]))

    # checks
    def unary_check(self, children: list[Any]) -> Check:
        lhs, op = children
        return Check(lhs, op.value, None, None, self._cover(lhs, op))

    def binary_check(self, children: list[Any]) -> Check:
        lhs, op, value = children
        return Check(lhs, op.value, value, None, self._cover(lhs, value))

    def modifier_check(self, children: list[Any]) -> Check:
        lhs, op, modifier, value = children
        return Check(lhs, op.value, value, modifier.value.rstrip(BLANKS), self._cover(lhs, value))

    # operands
    def field(self, children: list[Token]) -> FieldRef:
        return self._field(children[0])

    def transformer(self, children: list[Any]) -> Transform:
        opener, operand, closer = children
        return Transform(opener.value[:-1], operand, self._cover(opener, closer))

    def val(self, children: list[Token]) -> Val:
        opener, name, closer = children
        return Val(self._field(name), self._cover(opener, closer))

    def _field(self, token: Token) -> FieldRef:
        name, bracket, rest = token.value.partition("[")
        arg = rest[:-1] if bracket else None
        if arg and arg[0] in "'\"":
            arg = _unescape_at(self._text, arg, (token.start_pos or 0) + len(name) + 1)
        return FieldRef(name, arg, _token_span(token))

    # values
    def _unquote(self, token: Token) -> str:
        return _unescape_at(self._text, token.value, token.start_pos or 0)

    def number(self, children: list[Token]) -> Num:
        return Num(children[0].value, _token_span(children[0]))

    def quoted(self, children: list[Token]) -> Str:
        return Str(self._unquote(children[0]), True, _token_span(children[0]))

    def bare(self, children: list[Token]) -> Str:
        return Str(children[0].value, False, _token_span(children[0]))

    def quoted_item(self, children: list[Token]) -> ListItem:
        return ListItem(self._unquote(children[0]), True, _token_span(children[0]))

    def bare_item(self, children: list[Token]) -> ListItem:
        return ListItem(children[0].value, False, _token_span(children[0]))

    def value_list(self, children: list[Any]) -> ValueList:
        return ValueList(tuple(children[1:-1]), False, self._cover(children[0], children[-1]))

    def list_ref(self, children: list[Token]) -> ValueList:
        item = ListItem(children[0].value, False, _token_span(children[0]))
        return ValueList((item,), True, item.span)

    def value_items(self, children: list[ListItem]) -> tuple[ListItem, ...]:
        return tuple(children)


# ---------------------------------------------------------------- nesting depth


def _first_offset(node: Any) -> int:
    """Start offset of the leftmost token under ``node``."""
    while isinstance(node, Tree) and node.children:
        node = node.children[0]
    return (node.start_pos or 0) if isinstance(node, Token) else 0


def _too_deep(items: Iterable[Any], groups: int = 0, nodes: int = 0) -> int | None:
    """Offset where nesting under ``items`` (already inside ``groups`` parentheses
    and ``nodes`` nodes) reaches :data:`MAX_LEVELS`, or None.

    Iterative on purpose: it guards against trees too deep to recurse into.
    """
    stack = [(item, groups, nodes) for item in items]
    while stack:
        node, inside_groups, inside_nodes = stack.pop()
        if not isinstance(node, Tree):
            continue
        inside_groups += node.data == "group"
        inside_nodes += node.data in _NODE_RULES
        if max(inside_groups, inside_nodes) >= MAX_LEVELS:
            return _first_offset(node)
        stack.extend((child, inside_groups, inside_nodes) for child in node.children)
    return None


def _stack_too_deep(stack: list[Any]) -> int | None:
    """Like :func:`_too_deep` for an unfinished parse, whose value stack holds the
    still-open ``(``, ``not`` and transformer tokens between finished subtrees."""
    openers: list[str] = []
    groups = nodes = 0
    for item in stack:
        if isinstance(item, Tree):
            where = _too_deep([item], groups, nodes)
            if where is not None:
                return where
            continue
        kind = getattr(item, "type", "")
        if kind == "RPAR" and openers:
            closed = openers.pop()
            groups -= closed == "LPAR"
            nodes -= closed == "TRANSFORMER"
            continue
        if kind in ("LPAR", "TRANSFORMER", "VAL"):
            openers.append(kind)
        groups += kind == "LPAR"
        nodes += kind in ("NOT", "TRANSFORMER")
        if max(groups, nodes) >= MAX_LEVELS:
            return int(item.start_pos or 0)
    return None


# ---------------------------------------------------------------- Lark failures


_AND_OR = re.compile(r"and|or")


def _syntax_error(text: str, exc: UnexpectedInput) -> ConditionSyntaxError:
    """libs' message for what the parser wanted where the input went wrong."""
    offset = _failure_offset(text, exc)
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is None:  # Lark attaches one to every LALR failure; be safe anyway
        return _error("syntax error", text, offset)
    stack = interactive.parser_state.value_stack
    too_deep = _stack_too_deep(stack)
    if too_deep is not None:
        return _error(DEPTH_MESSAGE, text, too_deep)
    message, offset = _explain(text, offset, interactive.accepts(), stack)
    return _error(message, text, offset)


def _failure_offset(text: str, exc: UnexpectedInput) -> int:
    if isinstance(exc, UnexpectedToken):
        return len(text) if exc.token.type == "$END" else (exc.token.start_pos or 0)
    if isinstance(exc, UnexpectedCharacters) and exc.pos_in_stream is not None:
        return exc.pos_in_stream
    return len(text)


def _explain(text: str, offset: int, accepts: set[str], stack: list[Any]) -> tuple[str, int]:
    """Message and offset for a failure at ``offset`` where ``accepts`` would do."""
    last = _last_token(stack)
    if _check_is_complete(accepts, stack):
        return _after_check(text, offset, accepts, last)
    if _field_argument_follows(text, offset, last):
        return _bad_field_argument(text, offset + 1)
    for required, message in _EXPECTATIONS:
        if required <= accepts:
            return message, offset
    return "syntax error", offset


def _check_is_complete(accepts: set[str], stack: list[Any]) -> bool:
    """Whether only ``and``/``or`` and the end of the condition or group may follow.

    Lark may have reduced the last check before noticing the failure, after
    which ``and``/``or`` are no longer acceptable; the innermost opener on the
    stack then tells a group's ``)`` from a transformer's.
    """
    if accepts & {"_AND", "_OR"}:
        return True
    if not accepts or not accepts <= {"$END", "RPAR"}:
        return False
    opener = _innermost_opener(stack)
    return opener is None or opener.type == "LPAR"


def _innermost_opener(stack: list[Any]) -> Token | None:
    """The last ``(``, transformer or ``val(`` token still waiting for its ``)``."""
    closed = 0
    for item in reversed(stack):
        if not isinstance(item, Token):
            continue
        if item.type == "RPAR":
            closed += 1
        elif item.type in ("LPAR", "TRANSFORMER", "VAL"):
            if not closed:
                return item
            closed -= 1
    return None


def _after_check(text: str, offset: int, accepts: set[str], last: Token | None) -> tuple[str, int]:
    """A check is complete: only ``and``, ``or`` or the end (or ``)``) may follow."""
    keyword = _AND_OR.match(text, offset)
    if keyword is not None:  # `andx`: the keyword needs a blank or `(` after it
        return f"expected blank or '(' after '{keyword.group()}'", keyword.end()
    if "RPAR" in accepts:
        return "expected a ')' token", offset
    return f"unexpected token after '{_token_value(last)}', expecting 'or', 'and'", offset


def _field_argument_follows(text: str, offset: int, last: Token | None) -> bool:
    """A ``[`` right after a field name that the FIELD token could not take in."""
    return (
        last is not None
        and last.type == "FIELD"
        and "[" not in last.value
        and last.end_pos == offset
        and text.startswith("[", offset)
    )


def _bad_field_argument(text: str, start: int) -> tuple[str, int]:
    argument = _FIELD_ARG_VALUE.match(text, start)
    if argument is None:
        return "expected a valid field argument: a quoted string or a bare string", start
    return "expected a ']' token", argument.end()


def _last_token(stack: list[Any]) -> Token | None:
    """The last token read before the failure: the rightmost leaf of the stack top."""
    node = stack[-1] if stack else None
    while isinstance(node, Tree) and node.children:
        node = node.children[-1]
    return node if isinstance(node, Token) else None


def _token_value(token: Token | None) -> str:
    """A token as libs names it in messages: strings unquoted, no trailing blanks."""
    if token is None:
        return ""
    if token.type == "QUOTED":
        try:
            return _unescape(str(token))
        except _BadEscape:
            return str(token)
    return str(token).rstrip(BLANKS + "\v\f")
