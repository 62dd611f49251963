"""Say what an input that gave no audit event held, so an empty scan never looks clean.

A scan of a README, of a cloud provider's export or of a pretty-printed
array reads no event and raises no alert: without a word it would pass for
a quiet log. The words come from the per-input counts that
:class:`~k8saudit_cli.decode.Problems` keeps (lines, events, skipped items
by reason), nothing per line: "412 lines, all JSON but no audit event".
"""

from __future__ import annotations

from collections import Counter

from k8saudit_cli.decode import KEPT_REASONS, REASONS, Problems

#: Where inputs in other formats are explained.
FORMATS_HINT = "is this a cloud provider export or another format? see docs/input-formats.md"
#: Reasons that point to another format rather than to damage or a limit.
_FORMAT_REASONS = frozenset({"invalid_json", "not_audit_event", "no_timestamp", "too_deep"})
#: "412 lines, all ...": how an input reads when every item was skipped for one reason.
_ALL: dict[str, str] = {
    "invalid_json": "all invalid JSON",
    "not_audit_event": "all JSON but none an audit event (kind Event or EventList)",
    "legacy_format": "all in the legacy text audit format "
    "(use --audit-log-format=json on the API server)",
    "too_large": "all events larger than --max-event-size",
    "no_timestamp": "all events without a usable timestamp",
    "invalid_utf8": "all with invalid UTF-8",
    "nul_byte": "all with NUL bytes",
    "too_deep": "all JSON nested too deep",
}
#: Inputs named one by one in the one-line error; more are counted.
_NAMED = 3
#: Skipped records it takes to call a scan empty rather than a log with one bad record.
#: A lone record that is not an event is damage as Falco sees it: its conformance
#: suite replays such a trace (fal_01_003) and expects success, the warning naming
#: the record. A file in another format (an export, a README, a pretty-printed
#: array) holds more.
MIN_SKIPPED = 2
#: Reasons that concern a whole input (it could not be read as text): always counted.
_WHOLE_INPUT = frozenset({"binary_input", "read_error", "truncated_stream", "decompression_bomb"})


def skipped_by_input(problems: Problems) -> dict[str, Counter[str]]:
    """The skipped items of each input, by reason (warnings that kept the event left out)."""
    found: dict[str, Counter[str]] = {}
    for (name, reason), n in problems.by_file.items():
        if reason not in KEPT_REASONS:
            found.setdefault(name, Counter())[reason] += n
    return found


def inputs_without_events(problems: Problems) -> dict[str, Counter[str]]:
    """The inputs read to their end that held something but gave no event, with what
    was skipped in them; an empty input (or one of blank lines) is not among them."""
    skipped = skipped_by_input(problems)
    return {
        name: skipped[name]
        for name, tally in problems.inputs.items()
        if tally.events == 0 and skipped.get(name)
    }


def describe(lines: int, skipped: Counter[str]) -> str:
    """What an input held: ``412 lines, all invalid JSON``, ``3 lines: 2 invalid JSON, ...``."""
    counted = f"{lines} line{'' if lines == 1 else 's'}" if lines else ""
    if len(skipped) == 1:
        ((reason, n),) = skipped.items()
        if counted and reason in _ALL:  # fewer items than lines: the others were blank
            return f"{counted}, {_ALL[reason]}" + (" or blank" if n < lines else "")
        what = REASONS.get(reason, reason)
    else:
        what = ", ".join(f"{n} {REASONS.get(r, r)}" for r, n in skipped.most_common())
    return f"{counted}: {what}" if counted else what


def notes(problems: Problems) -> dict[str, str]:
    """Each input that held something but gave no event, with its description."""
    return {
        name: describe(problems.inputs[name].lines, skipped)
        for name, skipped in inputs_without_events(problems).items()
    }


def no_events_error(events_read: int, problems: Problems) -> str | None:
    """The one-line error of a run that read not one event while some input held
    something (``None`` when events were read, or every input was empty)."""
    if events_read:
        return None
    empty = inputs_without_events(problems)
    records = sum(sum(s.values()) for s in empty.values())
    if records < MIN_SKIPPED and not any(_WHOLE_INPUT.intersection(s) for s in empty.values()):
        return None
    described = [(name, describe(problems.inputs[name].lines, s)) for name, s in empty.items()]
    if len(described) == 1:
        name, what = described[0]
        text = f"no audit events in {name}: {what}"
    else:
        shown = "; ".join(f"{name}: {what}" for name, what in described[:_NAMED])
        more = len(described) - _NAMED
        text = f"no audit events in any of {len(described)} inputs: {shown}"
        text += f"; and {more} more" if more > 0 else ""
    if any(_FORMAT_REASONS.intersection(s) for s in empty.values()):
        text += f"; {FORMATS_HINT}"
    return text
