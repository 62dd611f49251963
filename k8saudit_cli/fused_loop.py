"""The fused run loop: lines -> events -> window -> index key -> rules -> alerts in one function.

The reference pipeline of a run is a chain of small pieces: the decoder's
generator, :func:`~k8saudit_cli.run_stats.match_in_window`, the detector's
index lookup and, with aggregations, two wrappers around it. Each event
crosses a dozen Python calls on the way. The fast path runs the same steps
in one generated function per kind of run (with or without a time window,
aggregations, a text sink, progress reports), written only with the steps
that run needs: the common line (one ``Event`` with a good
``stageTimestamp``) is decoded inline, the index key is read inline, and an
event costs two calls besides ``orjson.loads``: the time parser and its
group of rules. Anything unusual (arrays, ``EventList``, junk, odd keys)
goes to the same functions the reference uses.

``--no-fast-path`` (``evaluator="reference"``) keeps the reference pipeline,
and the equivalence tests run both. The generated source is registered with
:mod:`linecache` like the rule groups (``<k8saudit-rules:scan_lines-3>``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import Any, NamedTuple

import orjson

from k8saudit_cli.aggregate_run import CountStep
from k8saudit_cli.decode import Decoder
from k8saudit_cli.detect import Alert, Detector
from k8saudit_cli.engine.codegen import compile_function
from k8saudit_cli.engine.index import event_key
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.run_options import AlertSink, TextSink
from k8saudit_cli.run_stats import RunStats, StopRequest
from k8saudit_cli.timestamps import parse_time_ns

#: Groups kept per run before the table is cleared (odd logs have endless keys).
MAX_KEYS = 65536
#: Events between two progress reports.
PROGRESS_EVERY = 2048

Group = Callable[[AuditEvent], list[CompiledRule]]


class Shape(NamedTuple):
    """What a generated loop is written for."""

    lines: bool  # decode lines (else: iterate events)
    since: bool  # the window has a start
    until: bool  # the window has an end
    aggregations: bool
    text: bool  # the sink renders and writes (TextSink)
    progress: bool


class LoopRun:
    """What a generated loop reads: the run's state, gathered once per input.

    ``count`` turns the aggregations one event matched into the alerts
    they raise now (a serial run) or records them (a worker), returning
    nothing to alert on.
    """

    def __init__(
        self,
        detector: Detector,
        stats: RunStats,
        sink: AlertSink,
        stop: StopRequest,
        window: tuple[int | None, int | None] = (None, None),
        aggregations: tuple[Detector, CountStep] | None = None,
        progress: Callable[[], object] | None = None,
    ) -> None:
        self.detector, self.stats, self.stop = detector, stats, stop
        self.since, self.until = window
        self.agg_detector: Detector | None = None
        self.count: CountStep | None = None
        if aggregations is not None:
            self.agg_detector, self.count = aggregations
        self.progress = progress
        self.on_alert: Callable[[Alert], object] = sink
        self.text = isinstance(sink, TextSink)
        if isinstance(sink, TextSink):
            self.render, self.write = sink.render, sink.write
        #: By index key: the rules' group, and the aggregations' (``None``: none can match).
        self.dispatch: dict[tuple[Any, ...], Any] = {}

    def shape(self, lines: bool) -> Shape:
        return Shape(
            lines,
            self.since is not None,
            self.until is not None,
            self.agg_detector is not None,
            self.text,
            self.progress is not None,
        )

    def groups_for(self, key: tuple[Any, ...]) -> Any:
        """The entry of :attr:`dispatch` for a key not seen yet."""
        entry: Any = self.detector.matcher_for(key)
        if self.agg_detector is not None:
            entry = (entry, self.agg_detector.candidates_for(key))
        if len(self.dispatch) >= MAX_KEYS:
            self.dispatch.clear()
        self.dispatch[key] = entry
        return entry

    def scan_lines(self, lines: Iterable[tuple[int, bytes]], file: str, decoder: Decoder) -> bool:
        """Decode and match an input's numbered lines; ``False`` if the run was stopped."""
        done: bool = loop_for(self.shape(True))(lines, file, decoder, self)
        return done

    def scan_events(self, events: Iterable[AuditEvent]) -> bool:
        """Match decoded events; ``False`` if the run was stopped."""
        done: bool = loop_for(self.shape(False))(events, self)
        return done


@cache
def loop_for(shape: Shape) -> Callable[..., bool]:
    """The loop of one shape, written and compiled once per process."""
    name = "scan_lines" if shape.lines else "scan_events"
    globals_ = {
        "loads": orjson.loads,
        "JSONDecodeError": orjson.JSONDecodeError,
        "parse_time": parse_time_ns,
        "AuditEvent": AuditEvent,
        "Alert": Alert,
        "event_key": event_key,
    }
    return compile_function(loop_source(shape), name, globals_)


def loop_source(shape: Shape) -> str:
    """The source of the loop of ``shape`` (``k8saudit explain --loop`` could print it)."""
    head = _LINES_HEAD if shape.lines else _EVENTS_HEAD
    setup = [*_SETUP, *(_SETUP_AGGREGATIONS if shape.aggregations else ())]
    setup += _SETUP_TEXT if shape.text else ["    on_alert = run.on_alert"]
    if shape.progress:
        setup.append("    progress = run.progress")
    if shape.lines:
        setup += ["    max_size, other_events = decoder.max_size, decoder.other_events"]
        setup += ["    count = decoder.count"]
        body = _decode(shape)
        tail = ["        decoder.count = count"]
    else:
        body = ["        for ev in events:", "            raw, t = ev.raw, ev.time_ns"]
        body += _event_block(shape, 12)
        tail = []
    return (
        "\n".join(
            [
                *head,
                *setup,
                "    read = in_window = 0",
                "    try:",
                *body,
                "        return True",
                "    finally:",
                *tail,
                "        stats.events_read += read",
                "        stats.events_in_window += in_window",
            ]
        )
        + "\n"
    )


_LINES_HEAD = [
    "def scan_lines(lines, file, decoder, run):",
    "    # The run loop: decode, time window, index key, rules, alerts (fused_loop.py).",
]
_EVENTS_HEAD = [
    "def scan_events(events, run):",
    "    # The run loop over decoded events: time window, index key, rules, alerts.",
]
_SETUP = [
    "    stats, stop, since, until = run.stats, run.stop, run.since, run.until",
    "    dispatch, groups_for = run.dispatch, run.groups_for",
    "    by_rule, by_priority, rule_order = stats.by_rule, stats.by_priority, stats.rule_order",
]
_SETUP_AGGREGATIONS = ["    count_aggregations = run.count"]
_SETUP_TEXT = ["    render, write = run.render, run.write"]


def _decode(shape: Shape) -> list[str]:
    """The decoder's inline path (see ``Decoder.events``), each event matched where it
    is made; every other line goes to ``Decoder.other_events``, as in the decoder."""
    return [
        "        for lineno, line in lines:",
        '            if line[0] == 123:  # "{": one Event per line is the common case',
        "                try:",
        "                    raw = loads(line)",
        "                except JSONDecodeError as exc:",
        "                    found = other_events(line, exc, file, lineno)",
        "                else:",
        "                    t = None",
        '                    if raw.__class__ is dict and raw.get("kind") == "Event":',
        "                        if len(line) <= max_size:",
        '                            t = parse_time(raw.get("stageTimestamp"))',
        "                    if t is not None:",
        "                        count += 1",
        "                        ev = AuditEvent(raw, t, count, file, lineno, None)",
        *_event_block(shape, 24),
        "                        continue",
        "                    found = other_events(line, raw, file, lineno)",
        "            else:",
        "                found = other_events(line, None, file, lineno)",
        "            for ev in found:  # arrays, EventLists, fallback times: numbered here",
        "                count += 1",
        "                ev.num = count",
        "                raw, t = ev.raw, ev.time_ns",
        *_event_block(shape, 16),
    ]


def _event_block(shape: Shape, indent: int) -> list[str]:
    """One event, in ``raw``, ``t`` and ``ev``: the window, the key, the rules, the alerts."""
    window = " or ".join(
        test for test, given in (("t < since", shape.since), ("t >= until", shape.until)) if given
    )
    lines = [
        "if stop.requested:",
        "    return False",
        "read += 1",
        *(["if not read % {every}:", "    progress()"] if shape.progress else []),
        *([f"if {window}:", "    continue"] if window else []),
        "in_window += 1",
        'stage, verb, ref = raw.get("stage"), raw.get("verb"), raw.get("objectRef")',
        'resource = ref.get("resource") if ref.__class__ is dict else None',
        "if stage.__class__ is str and verb.__class__ is str and resource.__class__ is str:",
        "    key = (stage, verb, resource, ev.ka is raw)",
        "else:  # absent or not text: rendered as the fields render them",
        "    key = event_key(ev.ka, raw)",
        *(_MATCH_BOTH if shape.aggregations else _MATCH_RULES),
        "if hits:",
        "    for rule in hits:",
        *_alert_lines("Alert(rule, ev)", shape.text, "        "),
        *(_aggregation_alerts(shape.text) if shape.aggregations else []),
    ]
    pad = " " * indent
    return [pad + line.format(every=PROGRESS_EVERY) for line in lines]


_MATCH_RULES = ["hits = (dispatch.get(key) or groups_for(key))(ev)"]
_MATCH_BOTH = [
    "rules, aggregations = dispatch.get(key) or groups_for(key)",
    "hits = rules(ev)",
    "# aggregations count the event before its rule alerts go out (as the reference does)",
    "counted = aggregations(ev) if aggregations is not None else None",
    "fired = count_aggregations(counted, ev) if counted else None",
]


def _alert_lines(alert: str, text: bool, pad: str) -> list[str]:
    """Count an alert, and hand it to the sink (a text sink: rendered and written here)."""
    emit = f"write(render({alert}))" if text else f"on_alert({alert})"
    return [
        pad + line
        for line in (
            "name = rule.name",
            "by_rule[name] += 1",
            "by_priority[rule.priority] += 1",
            "if name not in rule_order:",
            "    rule_order[name] = rule.index",
            emit,
        )
    ]


def _aggregation_alerts(text: bool) -> list[str]:
    return [
        "if fired:",
        "    for alert in fired:",
        "        rule = alert.rule",
        *_alert_lines("alert", text, "        "),
    ]
