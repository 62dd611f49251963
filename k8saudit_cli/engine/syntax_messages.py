"""Lark's parse failures as libs' syntax-error messages, placed where libs puts the caret.

libs' recursive descent says what it expected at the place it stopped
("expected a valid check operator: one of ..."). Lark's LALR parser tells
us which terminals it would have accepted there; a table maps those to
libs' words, and a few cases (a finished check followed by junk, a bad field
argument) need a look at the text or at the parser's stack.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from lark import Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from k8saudit_cli.engine.depth import DEPTH_MESSAGE, stack_too_deep
from k8saudit_cli.engine.operators import OPERATORS
from k8saudit_cli.engine.positions import syntax_error
from k8saudit_cli.engine.strings import BLANKS, FIELD_ARG_VALUE, BadEscape, unescape
from k8saudit_cli.engine.transformers import TRANSFORMS
from k8saudit_cli.errors import ConditionSyntaxError

# libs' display order of its operators (the table's) and transformers.
_TRANSFORMERS = ("val", *TRANSFORMS)


def _quoted_list(words: Iterable[str]) -> str:
    return ", ".join(f"'{w}'" for w in words)


_WITH_TRANSFORMER = "or a field with a valid transformer: " + _quoted_list(_TRANSFORMERS)

#: What libs says when a place in the grammar gets something else, by the
#: terminals that place accepts. The first row whose terminals are all
#: acceptable wins, so the more specific rows come first.
_EXPECTATIONS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"IDENT", "FIELD"}), "expected a '(' token, a field check, or an identifier"),
    (frozenset({"EXISTS"}), "expected a valid check operator: one of " + _quoted_list(OPERATORS)),
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

_AND_OR = re.compile(r"and|or")


def describe_failure(text: str, exc: UnexpectedInput) -> ConditionSyntaxError:
    """libs' message for what the parser wanted where the input went wrong."""
    offset = _failure_offset(text, exc)
    interactive = getattr(exc, "interactive_parser", None)
    if interactive is None:  # Lark attaches one to every LALR failure; be safe anyway
        return syntax_error("syntax error", text, offset)
    stack = interactive.parser_state.value_stack
    too_deep = stack_too_deep(stack)
    if too_deep is not None:
        return syntax_error(DEPTH_MESSAGE, text, too_deep)
    message, offset = _explain(text, offset, interactive.accepts(), stack)
    return syntax_error(message, text, offset)


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
    argument = FIELD_ARG_VALUE.match(text, start)
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
            return unescape(str(token))
        except BadEscape:
            return str(token)
    return str(token).rstrip(BLANKS + "\v\f")
