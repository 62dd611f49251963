"""The output of an aggregation: the group's fields, the crossing event's, and ``agg.*``.

An aggregation alert stands for a group of events, so its output format
reads three kinds of value:

* a field listed in ``group_by``: the group's value;
* ``%agg.count``, ``%agg.threshold``, ``%agg.window``, ``%agg.first_time``,
  ``%agg.values``: the count and its window (:data:`AGG_FIELDS`);
* any other field: its value on the event that made the count reach the
  threshold, taken when that event was counted (a snapshot, so a worker
  process can take it and the parent render the alert). ``evt.num`` is the
  exception: only the parent of a parallel run knows it, so it is read from
  the alert's event at render time.

The values travel in an :class:`AggregateHit`, carried by the alert's event
(:class:`AggregateEvent`), so the renderers of rule alerts render these too.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from k8saudit_cli.engine.bind import BField, Binder
from k8saudit_cli.engine.nodes import Span
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import Value, to_json, to_text
from k8saudit_cli.fields.valuetext import NA, list_text
from k8saudit_cli.output_format import OutputError, OutputFormat, Token, compile_output
from k8saudit_cli.timestamps import evt_iso8601_text

#: The fields only an aggregation output has, and what they show.
AGG_FIELDS = {
    "agg.count": "The count that reached the threshold: events, or distinct values.",
    "agg.threshold": "The aggregation's threshold.",
    "agg.window": "The window as written (5m).",
    "agg.first_time": "Time of the earliest event the count rests on (ISO 8601, UTC).",
    "agg.values": "For a distinct count: the distinct values counted, oldest first.",
}
_AGG_TOKEN = re.compile(r"%(agg\.[A-Za-z_]*)")

#: A group key: the group_by values, lists made tuples so that they hash.
Key = tuple[Hashable, ...]


@dataclass(frozen=True)
class AggregateHit:
    """What an aggregation alert shows besides the crossing event's own fields."""

    key: Key
    count: int
    first_ns: int
    values: tuple[Hashable, ...] | None
    snapshot: tuple[Value, ...]


class AggregateEvent(AuditEvent):
    """The event of an aggregation alert: the crossing event, with the hit."""

    __slots__ = ("hit",)

    def __init__(
        self,
        raw: dict[str, Any],
        time_ns: int,
        num: int,
        file: str,
        line: int,
        index: int | None,
        hit: AggregateHit,
    ) -> None:
        super().__init__(raw, time_ns, num, file, line, index)
        self.hit = hit


def freeze(value: Value) -> Hashable:
    """A field value as part of a key: lists become tuples."""
    return tuple(value) if isinstance(value, list) else value


def thaw(value: Hashable) -> Value:
    if isinstance(value, tuple):
        return list(value)
    return value  # type: ignore[return-value]


@dataclass(frozen=True)
class Part:
    """One piece of the format. ``kind``: text, group, event, late or agg."""

    kind: str
    literal: str = ""
    token: Token | None = None
    index: int = 0


class AggregateOutput(OutputFormat):
    """An aggregation's compiled output; renders like a rule's for the alert renderers."""

    def __init__(
        self,
        text: str,
        parts: list[Part],
        window: str,
        threshold: int,
        distinct: BField | None,
    ) -> None:
        super().__init__(text, [p.token or Token(p.literal) for p in parts if p.kind != "agg"])
        self.parts = parts
        self.window = window
        self.threshold = threshold
        self.distinct = distinct
        self.event_fields = [
            p.token.field
            for p in parts
            if p.kind == "event" and p.token is not None and p.token.field is not None
        ]
        self.agg_names = [p.literal for p in parts if p.kind == "agg"]

    def snapshot(self, event: AuditEvent) -> tuple[Value, ...]:
        """The crossing event's values of the fields neither grouped nor ``agg.*``."""
        return tuple(f.get(event) for f in self.event_fields)

    def render(self, event: AuditEvent) -> str:
        hit: AggregateHit | None = getattr(event, "hit", None)
        out = []
        for part in self.parts:
            if part.kind == "text":
                out.append(part.literal)
            elif part.kind == "agg":
                out.append(self._agg_text(part.literal, hit))
            else:
                assert part.token is not None and part.token.field is not None
                text = to_text(self._value(part, event, hit), part.token.field.fdef)
                width = part.token.width
                out.append(text if width is None else text[:width].ljust(width))
        return "".join(out)

    def output_fields(self, event: AuditEvent) -> dict[str, Any]:
        hit: AggregateHit | None = getattr(event, "hit", None)
        out: dict[str, Any] = {}
        for part in self.parts:
            if part.kind == "agg":
                out[part.literal] = self._agg_json(part.literal, hit)
            elif part.token is not None and part.token.key and part.token.field is not None:
                value = self._value(part, event, hit)
                out[part.token.key] = to_json(value, part.token.field.fdef, event)
        return out

    def _value(self, part: Part, event: AuditEvent, hit: AggregateHit | None) -> Value:
        if hit is not None and part.kind == "group":
            return thaw(hit.key[part.index])
        if hit is not None and part.kind == "event":
            return hit.snapshot[part.index]
        assert part.token is not None and part.token.field is not None
        value: Value = part.token.field.get(event)  # late fields, or an event without a hit
        return value

    def _value_texts(self, hit: AggregateHit) -> list[str]:
        fdef = self.distinct.fdef if self.distinct is not None else None
        assert hit.values is not None and fdef is not None
        return [to_text(thaw(v), fdef) for v in hit.values]

    def _agg_text(self, name: str, hit: AggregateHit | None) -> str:
        value = self._agg_json(name, hit)
        if value is None:
            return NA
        if name == "agg.first_time":
            return evt_iso8601_text(value)
        if name == "agg.values":
            return list_text(value)
        return str(value)

    def _agg_json(self, name: str, hit: AggregateHit | None) -> Any:
        if name == "agg.threshold":
            return self.threshold
        if name == "agg.window":
            return self.window
        if hit is None:
            return None
        if name == "agg.count":
            return hit.count
        if name == "agg.first_time":
            return hit.first_ns
        return self._value_texts(hit) if hit.values else None


def compile_aggregate_output(
    text: str,
    binder: Binder,
    group_by: Sequence[BField],
    window: str,
    threshold: int,
    distinct: BField | None,
) -> AggregateOutput:
    """Compile a format; raises :class:`OutputError` with the offset in ``text``."""
    groups = {f.text: i for i, f in enumerate(group_by)}
    parts: list[Part] = []
    snapshots = 0
    pos = 0
    for m in [*_AGG_TOKEN.finditer(text), None]:
        end = m.start() if m is not None else len(text)
        for tok in _segment(text, pos, end, binder):
            part = _classify(tok, groups, snapshots)
            snapshots += part.kind == "event"
            parts.append(part)
        if m is None:
            break
        if m.group(1) not in AGG_FIELDS:
            raise OutputError(
                f"invalid formatting token %{m.group(1)}: aggregation outputs know "
                + ", ".join(f"%{n}" for n in AGG_FIELDS),
                Span(m.start(), m.end()),
            )
        parts.append(Part("agg", m.group(1)))
        pos = m.end()
    return AggregateOutput(text, parts, window, threshold, distinct)


def _segment(text: str, start: int, end: int, binder: Binder) -> list[Token]:
    """The tokens of ``text[start:end]``, errors moved to offsets in ``text``."""
    if start == end:
        return []
    try:
        return compile_output(text[start:end], binder).tokens
    except OutputError as exc:
        span = exc.span if isinstance(exc.span, Span) else Span(0, 1)
        raise OutputError(exc.message, Span(span.start + start, span.end + start)) from None


def _classify(tok: Token, groups: dict[str, int], snapshots: int) -> Part:
    if tok.field is None:
        return Part("text", tok.literal)
    if tok.field.text in groups:
        return Part("group", token=tok, index=groups[tok.field.text])
    if tok.field.fdef.name == "evt.num":
        return Part("late", token=tok)
    return Part("event", token=tok, index=snapshots)
