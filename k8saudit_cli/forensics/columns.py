"""Columns of a forensic table: a field expression, its value type, and how to read it.

``-f``/``--by`` take the field syntax of conditions (``ka.user.name``,
``ka.uri.param[watch]``, ``json.value[/user/username]``, ``tolower(ka.verb)``),
parsed and bound by the condition machinery, so a column and a ``--where``
agree on every field. Each column has one of five kinds, which every writer
maps to its own types (text cells, JSON values, Parquet types): the event
time (nanoseconds, rendered as the field renders it), text, a list of texts,
an integer, a boolean.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Literal

from k8saudit_cli.engine.bind import BField, Binder
from k8saudit_cli.engine.nodes import Check
from k8saudit_cli.engine.parsecache import parse_condition
from k8saudit_cli.errors import ConditionError, ConditionSyntaxError
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import MISSING
from k8saudit_cli.fields.evt import TIME_STRING_FIELDS
from k8saudit_cli.forensics.condition import ConditionProblem, field_hint, text_diagnostic
from k8saudit_cli.timestamps import NS

ColumnKind = Literal["time", "text", "list", "int", "bool"]

#: Fields whose value is the event time itself: a timestamp column in Parquet.
EVENT_TIME_FIELDS = TIME_STRING_FIELDS | {"evt.rawtime"}
#: Text fields whose values are numbers (the plugin gives the HTTP status as text):
#: integer columns, so SQL compares them as numbers.
NUMERIC_TEXT_FIELDS = frozenset({"ka.response.code"})

#: ``extract``'s columns when no ``-f`` is given: who did what to which object, and how it went.
DEFAULT_COLUMNS: tuple[str, ...] = (
    "evt.time.iso8601",
    "ka.user.name",
    "ka.user.groups",
    "ka.verb",
    "ka.target.resource",
    "ka.target.subresource",
    "ka.target.namespace",
    "ka.target.name",
    "ka.response.code",
    "ka.sourceips",
    "ka.useragent",
    "ka.auth.decision",
)

NOT_A_FIELD = "expected a field: name, name[argument] or transformer(field)"

_KINDS: dict[str, ColumnKind] = {"string": "text", "list": "list", "numeric": "int", "bool": "bool"}


@dataclass(frozen=True)
class Column:
    """One column. ``get(event)`` gives the value (``MISSING`` when not available);
    a ``time`` column gives nanoseconds and ``time_text`` renders them."""

    name: str
    kind: ColumnKind
    get: Callable[[AuditEvent], Any]
    time_text: Callable[[int], str] | None = None


class _TimeOnly:
    """Just enough of an event for a time field's extractor to render a time."""

    __slots__ = ("time_ns",)

    def __init__(self) -> None:
        self.time_ns = 0


def _time_renderer(extract: Callable[[Any], Any]) -> Callable[[int], str]:
    """A time field's rendering of nanoseconds, remembered per second.

    Logs are in time order, so most events fall in the second before them:
    the text of the second is kept and only the nine digits of the fraction
    change (checked once on a sample, else every time is rendered in full).
    """
    holder = _TimeOnly()

    def render(time_ns: int) -> str:
        holder.time_ns = time_ns
        return str(extract(holder))

    sample = 1_700_000_000 * NS
    whole, fraction = render(sample), render(sample + 123_456_789)
    if whole == fraction:  # whole seconds only
        return _per_second(render, lambda text, ns: text)
    head, dot, tail = whole.partition(".000000000")
    if not dot or fraction != f"{head}.123456789{tail}":
        return render
    return _per_second(render, lambda text, ns: text.replace(".000000000", f".{ns:09d}", 1))


def _per_second(
    render: Callable[[int], str], with_ns: Callable[[str, int], str]
) -> Callable[[int], str]:
    last = [-1, ""]

    def cached(time_ns: int) -> str:
        sec, ns = divmod(time_ns, NS)
        if sec != last[0]:
            last[0], last[1] = sec, render(sec * NS)
        return with_ns(last[1], ns)  # type: ignore[arg-type]

    return cached


def row_reader(columns: Sequence[Column]) -> Callable[[AuditEvent], list[Any]]:
    """``event -> [value of each column]``."""
    getters = [c.get for c in columns]

    def row(ev: AuditEvent) -> list[Any]:
        return [get(ev) for get in getters]

    return row


def column_of(spec: str, label: str = "-f") -> Column:
    """The column for one field expression; raises :class:`ConditionProblem` with a caret."""
    return field_column(spec, _bound_field(spec, label))


def field_column(name: str, bfield: BField) -> Column:
    """The column called ``name`` holding a bound field's values."""
    if bfield.plain and bfield.fdef.name in EVENT_TIME_FIELDS:
        return Column(name, "time", attrgetter("time_ns"), _time_renderer(bfield.extract))
    if bfield.plain and bfield.fdef.name in NUMERIC_TEXT_FIELDS:
        return Column(name, "int", _integer(bfield.get))
    return Column(name, _KINDS[bfield.kind], bfield.get)


def _integer(get: Callable[[AuditEvent], Any]) -> Callable[[AuditEvent], Any]:
    """``get`` with its decimal text as an integer (anything else: not available)."""

    def get_int(ev: AuditEvent) -> Any:
        v = get(ev)
        return int(v) if v.__class__ is str and v.isascii() and v.isdigit() else MISSING

    return get_int


def columns_of(specs: Sequence[str], label: str = "-f") -> list[Column]:
    """Columns for ``specs`` in order; every bad one is reported, not only the first."""
    out: list[Column] = []
    problems = []
    for spec in specs:
        try:
            out.append(column_of(spec, label))
        except ConditionProblem as exc:
            problems.extend(exc.diagnostics)
    if problems:
        raise ConditionProblem(problems)
    return out


def _bound_field(spec: str, label: str) -> BField:
    """``spec`` parsed as the left side of ``SPEC exists`` and bound to the field table."""
    text = spec.strip()
    try:
        ast = parse_condition(f"{text} exists")
    except ConditionSyntaxError as exc:
        offset = exc.offset if exc.offset < len(text) else _after_first_word(text)
        raise ConditionProblem([_field_diag(NOT_A_FIELD, spec, offset, label)]) from None
    if not isinstance(ast, Check) or ast.op != "exists" or ast.lhs.span.end != len(text):
        raise ConditionProblem([_field_diag(NOT_A_FIELD, spec, 0, label)])
    try:
        return Binder().field_expr(ast.lhs)
    except ConditionError as exc:
        start = getattr(exc.span, "start", 0)
        message = exc.message + field_hint(exc.message)
        raise ConditionProblem([_field_diag(message, spec, start, label)]) from None


def _after_first_word(text: str) -> int:
    """Where something that is not part of a field starts (the parser only complains
    at the ``exists`` we appended)."""
    m = re.match(r"\S+\s*", text)
    return min(m.end() if m else 0, len(text))


def _field_diag(message: str, spec: str, offset: int, label: str) -> Any:
    return text_diagnostic(message, spec.strip(), offset, label)
