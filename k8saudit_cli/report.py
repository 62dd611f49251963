"""The end-of-run report: Falco's three sections, then our own counters.

Plain text is byte-compatible with Falco's summary (tools parse it); the
rich form is for humans at a terminal; the JSON form is for CI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from k8saudit_cli import priority as prio
from k8saudit_cli.decode import KEPT_REASONS, REASONS
from k8saudit_cli.empty_inputs import notes
from k8saudit_cli.escape import visible
from k8saudit_cli.run_stats import RunStats

if TYPE_CHECKING:  # rich is imported only when a terminal needs it
    from rich.console import Console


def _rules_in_order(stats: RunStats) -> list[tuple[str, int]]:
    names = sorted(stats.by_rule, key=lambda n: stats.rule_order.get(n, 0))
    return [(n, stats.by_rule[n]) for n in names if stats.by_rule[n] > 0]


def _rate(stats: RunStats) -> float:
    return stats.events_read / stats.elapsed if stats.elapsed > 0 else 0.0


def falco_lines(stats: RunStats) -> list[str]:
    """Falco's own summary, exactly: totals, severities (most severe first), rules by id."""
    lines = [f"Events detected: {stats.alerts}", "Rule counts by severity:"]
    for level in sorted(stats.by_priority):
        if stats.by_priority[level]:
            lines.append(f"   {prio.summary_name(level)}: {stats.by_priority[level]}")
    lines.append("Triggered rules by rule name:")
    lines.extend(f"   {visible(name)}: {n}" for name, n in _rules_in_order(stats))
    return lines


def extra_lines(stats: RunStats) -> list[str]:
    """What Falco does not print: input accounting and speed."""
    skipped = {r: n for r, n in sorted(stats.problems.counts.items()) if r not in KEPT_REASONS}
    kept = {r: n for r, n in sorted(stats.problems.counts.items()) if r in KEPT_REASONS}
    lines = [
        f"Events read: {stats.events_read}",
        f"Events in time window: {stats.events_in_window}",
        f"Input skipped: {sum(skipped.values())}",
    ]
    lines.extend(f"   {REASONS.get(r, r)}: {n}" for r, n in skipped.items())
    lines.extend(f"Warnings: {REASONS.get(r, r)}: {n}" for r, n in kept.items())
    lines.extend(aggregation_lines(stats))
    lines.append(f"Files read: {len(stats.files)}")
    lines.extend(file_lines(stats))
    lines.append(f"Elapsed: {stats.elapsed:.3f} s ({_rate(stats):.0f} events/s)")
    return lines


def file_lines(stats: RunStats) -> list[str]:
    """Notes on single files, only when there is something to say: one of several
    inputs that gave no event, files that grew while they were read."""
    lines: list[str] = []
    # A run stopped part-way may not have reached what is in the rest of a file.
    if len(stats.files) > 1 and not (stats.interrupted or stats.error):
        lines.extend(
            f"   no audit events in {visible(name)}: {what}"
            for name, what in notes(stats.problems).items()
        )
    if stats.grown:
        lines.append(
            "Files that grew during the scan (read up to their size at the start): "
            + ", ".join(visible(name) for name in stats.grown)
        )
    return lines


def aggregation_lines(stats: RunStats) -> list[str]:
    """What the aggregations counted, when the run had any (docs/rules-language.md)."""
    agg = stats.aggregation
    if not agg:
        return []
    return [
        f"Aggregation events counted: {agg['events_counted']} ({agg['aggregations']} "
        f"aggregations; groups evicted: {agg['groups_evicted']}; timeline restarts: "
        f"{agg['timeline_restarts']})"
    ]


def plain_text(stats: RunStats) -> str:
    return "\n".join(falco_lines(stats) + extra_lines(stats)) + "\n"


def print_rich(stats: RunStats, console: Console) -> None:
    """The same numbers as tables, for a terminal (rule names as text, never as markup)."""
    from rich.table import Table
    from rich.text import Text

    console.print(f"[bold]Events detected:[/bold] {stats.alerts}")
    if stats.by_priority:
        console.print("[bold]Rule counts by severity:[/bold]")
        sev = Table()
        sev.add_column("Severity")
        sev.add_column("Alerts", justify="right")
        for level in sorted(stats.by_priority):
            sev.add_row(prio.summary_name(level), str(stats.by_priority[level]))
        console.print(sev)
    rules = _rules_in_order(stats)
    if rules:
        console.print("[bold]Triggered rules by rule name:[/bold]")
        tab = Table()
        tab.add_column("Rule")
        tab.add_column("Alerts", justify="right")
        for name, n in rules:
            tab.add_row(Text(visible(name)), str(n))
        console.print(tab)
    for line in extra_lines(stats):
        console.print(line, highlight=False)


def summary_json(stats: RunStats) -> dict[str, Any]:
    out = _summary(stats)
    if stats.aggregation:
        out["aggregations"] = dict(sorted(stats.aggregation.items()))
    return out


def _summary(stats: RunStats) -> dict[str, Any]:
    return {
        "events_detected": stats.alerts,
        "rule_counts_by_severity": {
            prio.summary_name(lv): n for lv, n in sorted(stats.by_priority.items()) if n
        },
        "triggered_rules": dict(_rules_in_order(stats)),
        "events_read": stats.events_read,
        "events_in_window": stats.events_in_window,
        "input_skipped": {
            r: n for r, n in sorted(stats.problems.counts.items()) if r not in KEPT_REASONS
        },
        "input_warnings": {
            r: n for r, n in sorted(stats.problems.counts.items()) if r in KEPT_REASONS
        },
        "files_read": list(stats.files),
        "inputs_without_events": notes(stats.problems),
        "files_grown": list(stats.grown),
        "elapsed_seconds": round(stats.elapsed, 6),
        "events_per_second": round(_rate(stats), 1),
        # A run that stopped part-way: its numbers cover only what it scanned.
        "interrupted": stats.interrupted,
        "error": stats.error,
    }
