"""``k8saudit fields``: list the field table, or show every field's value for one event."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import click

from k8saudit_cli.cli.common import fail
from k8saudit_cli.cli.console import plain_format, tsv_line
from k8saudit_cli.cli.hints import field_hint
from k8saudit_cli.decode import DecodeOptions, Problems, read_events
from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.escape import json_safe, visible
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.fields import (
    FIELDS,
    Extractor,
    FieldDef,
    FieldError,
    resolve,
    to_json,
    to_text,
)

Bound = tuple[str, FieldDef, Extractor]  # (text as written, field, extractor)


# ------------------------------------------------------------- pure renderers


def arg_text(fdef: FieldDef) -> str:
    if fdef.arg is None:
        return ""
    return f"{fdef.arg.kind.value}, {'required' if fdef.arg.required else 'optional'}"


def field_json(fdef: FieldDef) -> dict[str, Any]:
    arg = None if fdef.arg is None else {"kind": fdef.arg.kind.value, "required": fdef.arg.required}
    return {
        "name": fdef.name,
        "type": fdef.type.value,
        "is_list": fdef.is_list,
        "arg": arg,
        "desc": fdef.desc,
    }


def markdown_table(fields: Sequence[FieldDef] = FIELDS) -> str:
    """The field table as Markdown; docs/fields.md holds exactly this text."""
    rows = ["| Field | Type | List | Argument | Description |", "|---|---|---|---|---|"]
    for f in fields:
        desc = f.desc.replace("|", "\\|")
        rows.append(
            f"| `{f.name}` | {f.type.value} | {'yes' if f.is_list else ''} "
            f"| {arg_text(f)} | {desc} |"
        )
    return "\n".join(rows) + "\n"


def split_spec(spec: str) -> tuple[str, str | None]:
    """``ka.uri.param[watch]`` -> (``ka.uri.param``, ``watch``); no brackets -> no argument."""
    start = spec.find("[")
    if start > 0 and spec.endswith("]"):
        return spec[:start], spec[start + 1 : -1]
    return spec, None


# ------------------------------------------------------------------- command

_HELP = """List the fields conditions and outputs can use, or show their values for one event.

\b
Examples:
  k8saudit fields                                  the whole table
  k8saudit fields --format json                    the table as JSON
  k8saudit fields --field ka.user.name             one row of the table
  k8saudit fields --event 3 audit.log              every field of the 3rd event
  k8saudit fields -e 3 audit.log --format json     the same as one JSON object
  k8saudit fields -e 3 audit.log | grep ka.user    "field<TAB>value" lines, whole
  k8saudit fields -e 1 audit.log -f ka.verb -f 'ka.uri.param[watch]' \\
      -f 'json.value[/user/username]'              only these fields

Events are counted from 1 across all inputs, as evt.num counts them (lines
that hold an EventList give one event per item). Fields that need an
argument (ka.uri.param, json.value, ...) are shown only when asked for with
--field. "<NA>" (null in JSON) means not available: a rule comparing it is
false and `exists` is false.

On a terminal the output is a table; in a pipe or a file (or with --format
tsv) it is one line per field, columns separated by tabs, never wrapped
(name, type, list, argument, description; with --event: field, value).
Tabs, newlines and backslashes inside values are written as \\t, \\n, \\\\.
"""


@click.command("fields", help=_HELP)
@click.argument("inputs", metavar="[FILE]...", nargs=-1)
@click.option(
    "-e",
    "--event",
    "event_num",
    type=click.IntRange(min=1),
    metavar="N",
    help="Show the values for the N-th event of FILE... (1-based).",
)
@click.option(
    "-f",
    "--field",
    "specs",
    multiple=True,
    metavar="NAME[ARG]",
    help="Only this field; repeatable; may carry an argument: 'ka.uri.param[watch]'.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "tsv", "json", "markdown"]),
    help="Output format; default: table on a terminal, tsv otherwise "
    "(markdown: the table docs/fields.md holds).",
)
def fields_command(
    inputs: tuple[str, ...], event_num: int | None, specs: tuple[str, ...], fmt: str | None
) -> None:
    fmt = plain_format(fmt, "table")
    bound = [bind_spec(s) for s in specs]
    if event_num is None:
        if inputs:
            fail("FILE given without --event N: say which event to show")
        chosen = [b[1] for b in bound] if bound else list(FIELDS)
        print_table(chosen, fmt)
        return
    if not inputs:
        fail("--event needs at least one FILE ('-' reads standard input)")
    if fmt == "markdown":
        fail("--format markdown prints the field table; use table, tsv or json with --event")
    ev = find_event(inputs, event_num)
    print_values(ev, bound or default_bindings(), fmt)


def bind_spec(spec: str) -> Bound:
    name, arg = split_spec(spec)
    try:
        fdef, extractor = resolve(name, arg)
    except FieldError as err:
        if err.kind == "unknown":
            hint = f"{field_hint(name)} " if field_hint(name) else ""
            fail(f"unknown field '{spec}' ({err}); {hint}'k8saudit fields' lists them")
        fail(str(err))
    return spec, fdef, extractor


def default_bindings() -> list[Bound]:
    """Every field that can be used without an argument."""
    return [(f.name, f, f.bind(None)) for f in FIELDS if not (f.arg and f.arg.required)]


def find_event(inputs: Sequence[str], num: int) -> AuditEvent:
    problems = Problems(emit=lambda line: click.echo(line, err=True))
    seen = 0
    try:
        for ev in read_events(list(inputs), DecodeOptions(), problems):
            seen = ev.num
            if ev.num == num:
                return ev
    except K8sAuditError as err:
        fail(str(err))
    fail(f"there is no event {num}: the input holds {seen} event{'s' if seen != 1 else ''}")


def print_table(fields: Sequence[FieldDef], fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps([field_json(f) for f in fields], indent=2, ensure_ascii=False))
        return
    if fmt == "markdown":
        click.echo(markdown_table(fields), nl=False)
        return
    if fmt == "tsv":
        for f in fields:
            cells = (f.name, f.type.value, "yes" if f.is_list else "", arg_text(f), f.desc)
            click.echo(tsv_line(cells), nl=False)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    table.add_column("Field", overflow="fold")
    for header in ("Type", "List", "Argument"):
        table.add_column(header, no_wrap=True)
    table.add_column("Description", overflow="fold")
    for f in fields:
        listed = "yes" if f.is_list else ""
        table.add_row(Text(f.name), f.type.value, listed, arg_text(f), Text(f.desc))
    Console().print(table)


def print_values(ev: AuditEvent, bound: Sequence[Bound], fmt: str) -> None:
    if fmt == "json":
        out = {spec: json_safe(to_json(ex(ev), fdef)) for spec, fdef, ex in bound}
        click.echo(json.dumps(out, indent=2, ensure_ascii=False))
        return
    if fmt == "tsv":
        for spec, fdef, ex in bound:
            click.echo(tsv_line((spec, to_text(ex(ev), fdef))), nl=False)
        return
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table()
    table.add_column("Field", overflow="fold")
    table.add_column("Value", overflow="fold")
    for spec, fdef, ex in bound:
        table.add_row(Text(visible(spec)), Text(visible(to_text(ex(ev), fdef))))
    console = Console()
    console.print(Text(visible(f"event {ev.num} ({ev.where})")))
    console.print(table)
