"""Pieces several commands share: rules options, input formats, error exits, time window,
output guard."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from k8saudit_cli import priority as prio
from k8saudit_cli.cli.console import COLOR_CHOICES
from k8saudit_cli.cli.hints import render_diagnostic
from k8saudit_cli.cli.messages import ERROR_PREFIX, WARNING_PREFIX
from k8saudit_cli.decode import DEFAULT_MAX_EVENT_SIZE, DecodeOptions
from k8saudit_cli.errors import Diagnostic, InputError, UsageError
from k8saudit_cli.escape import visible
from k8saudit_cli.formats import INPUT_FORMATS
from k8saudit_cli.outputs_guard import check_outputs, stdout_conflict, unwritable
from k8saudit_cli.ruleset import RuleSet, load_rules
from k8saudit_cli.ruleset.defaults import default_rules_paths
from k8saudit_cli.selection import Step
from k8saudit_cli.sources import STDIN, expand_inputs
from k8saudit_cli.timestamps import TimeFormatError, parse_when


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``k8saudit: error: ...`` on stderr and exit; never a traceback."""
    click.echo(f"{ERROR_PREFIX}{visible(message)}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"{WARNING_PREFIX}{visible(message)}", err=True)


_F = TypeVar("_F", bound=Callable[..., Any])


def rules_option(required: bool = False) -> Callable[[_F], _F]:
    help_text = (
        "Rules file (Falco YAML). Repeat to load several, in order: later files "
        "override and append to earlier ones."
    )
    if not required:
        help_text += " Default: the built-in ruleset."
    return click.option(
        "-r",
        "--rules",
        "rules",
        multiple=True,
        required=required,
        metavar="FILE",
        # Checked by check_rules_files, so every command words a missing file alike.
        type=click.Path(),
        help=help_text,
    )


def check_rules_files(paths: Sequence[str]) -> None:
    """Exit 2 with one message when a rules file cannot be read (missing, a directory...)."""
    for path in paths:
        try:
            with open(path, "rb"):
                pass
        except OSError as exc:
            fail(f"cannot read rules file '{path}': {exc.strerror or exc}")


def load_ruleset(paths: Sequence[str]) -> RuleSet:
    """Load rules for a command that needs valid rules; exits 2 with every error otherwise."""
    files = list(paths) or default_rules_paths()
    check_rules_files(files)
    ruleset = load_rules(files)
    if not ruleset.ok:
        for d in ruleset.errors:
            click.echo(render_diagnostic(d), err=True)
        fail(
            f"invalid rules: {len(ruleset.errors)} error(s); see 'k8saudit validate -r FILE' for "
            "details"
        )
    report_load_warnings(ruleset.warnings)
    return ruleset


def report_load_warnings(warnings: list[Diagnostic]) -> None:
    """Skipped-source notes are shown; other warnings are summarised in one line."""
    others = 0
    for d in warnings:
        if d.code == "LOAD_UNKNOWN_SOURCE":
            warn(f"{d.position.file if d.position else ''}: {d.message}")
        else:
            others += 1
    if others:
        warn(f"{others} rules warning(s); run 'k8saudit validate -r FILE' to see them")


def parse_when_option(text: str | None, option: str = "--since") -> int | None:
    """``--since``/``--until`` to ns (``None`` when not given); bad text is a usage error."""
    if not text:
        return None
    try:
        return parse_when(text)
    except TimeFormatError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def parse_window(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    """``--since`` and ``--until`` to ns; an empty window (since >= until) is a usage error."""
    start, end = parse_when_option(since, "--since"), parse_when_option(until, "--until")
    if start is not None and end is not None and start >= end:
        raise click.UsageError(
            f"--since '{since}' is not before --until '{until}': no event can be in that window"
        )
    return start, end


def output_path(path: str | None) -> str | None:
    """An ``-o`` value as a file path, ``None`` for stdout (not given, or ``-``)."""
    return None if not path or path == STDIN else path


def expanded(inputs: Sequence[str]) -> list[str]:
    """The input files (directories and globs expanded), or exit 2 before anything is done."""
    try:
        paths = expand_inputs(inputs)
    except InputError as exc:
        fail(str(exc))
    check_stdin(paths)
    return paths


def output_option() -> Callable[[_F], _F]:
    """``-o/--output FILE``, as every command that writes a data stream takes it."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, writable=True, allow_dash=True),
        metavar="FILE",
        help="Write to FILE instead of stdout ('-': stdout).",
    )


def check_stdin(paths: Sequence[str]) -> None:
    """Exit 2 before anything is read when ``-`` is an input and stdin is closed (``<&-``)."""
    if STDIN in paths and sys.stdin is None:
        fail("cannot read '<stdin>': stdin is closed")


def guard_outputs(
    input_specs: Sequence[str], input_files: Sequence[str], outputs: dict[str, str | None]
) -> None:
    """Exit 2, before anything is opened for writing, when an output is one of the
    inputs or cannot be written.

    ``outputs`` maps option names (``--output``) to their paths, ``-`` for
    stdout; with no ``--output`` the alerts go to stdout. stdout must then be
    open, and not an input either. ``--summary-json`` is written through a
    new file in its directory (see ``write_whole``), which must be writable.
    """
    try:
        check_outputs(outputs.items(), input_specs, input_files)
    except UsageError as exc:
        fail(str(exc))
    for option, path in outputs.items():
        if path and path != STDIN:
            why = unwritable(path, replace=option == "--summary-json")
            if why:
                fail(f"{option}: cannot write '{path}': {why}")
    if not outputs.get("--output") or STDIN in outputs.values():
        _guard_stdout(input_files)


def _guard_stdout(input_files: Sequence[str]) -> None:
    if sys.stdout is None:  # started with stdout closed (>&-)
        fail("cannot write '<stdout>': stdout is closed")
    try:
        why = stdout_conflict(sys.stdout.fileno(), input_files)
    except (OSError, ValueError, AttributeError):
        why = ""  # no file descriptor (a test runner's buffer)
    if why:
        fail(f"{why}: refusing to write over an input")


def input_format_options(command: _F) -> _F:
    """``--input-format``, ``--salvage-truncated``, ``--gke-faithful``: how every command
    that reads events reads them (docs/input-formats.md)."""
    options = (
        click.option(
            "--input-format",
            type=click.Choice(INPUT_FORMATS),
            default="auto",
            show_default=True,
            help="'auto': audit JSON lines, whole JSON documents and the EKS, GKE and AKS "
            "exports, recognised per file and per record. 'k8s': the API server's JSON lines "
            "only, read as they always were. 'eks', 'gke', 'aks': that provider's exports only.",
        ),
        click.option(
            "--salvage-truncated",
            is_flag=True,
            help="Scan what an event cut by its provider (EKS '[Truncated...]', AKS's 16 KiB "
            "properties.log) still says: verb, user, objectRef, times; alerts from it are marked.",
        ),
        click.option(
            "--gke-faithful",
            is_flag=True,
            help="Rebuild GKE events with the entry's operation id, timestamp and status code "
            "(default: as Falco's k8saudit-gke plugin does).",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def decode_options(
    opts: dict[str, Any], max_event_size: int = DEFAULT_MAX_EVENT_SIZE
) -> DecodeOptions:
    """The decoding choices of :func:`input_format_options` (and ``--max-event-size``)."""
    return DecodeOptions(
        max_event_size,
        input_format=opts["input_format"],
        salvage_truncated=opts["salvage_truncated"],
        gke_faithful=opts["gke_faithful"],
    )


def color_option() -> Callable[[_F], _F]:
    return click.option(
        "--color",
        type=click.Choice(COLOR_CHOICES),
        default="auto",
        show_default=True,
        help="Colour alerts by priority: 'auto' on a terminal only (not when NO_COLOR is set).",
    )


if TYPE_CHECKING:  # generic in click's type hints since 8.2, a plain class before
    from click.shell_completion import CompletionItem

    _IntParamType = click.ParamType[int, Any]
else:
    _IntParamType = click.ParamType


class PriorityType(_IntParamType):
    name = "PRIORITY"

    def convert(self, value: Any, param: Any, ctx: Any) -> int:
        if isinstance(value, int):
            return value
        level = prio.parse_priority(value)
        if level is None:
            self.fail(
                f"'{value}' is not a priority; use one of: {', '.join(prio.CHOICES)}", param, ctx
            )
        return level

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[CompletionItem]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(c) for c in prio.CHOICES if c.startswith(incomplete.lower())]


SELECTION_OPTIONS = {
    "--disable-rule": ("disable", "rule"),
    "--enable-rule": ("enable", "rule"),
    "--disable-tag": ("disable", "tag"),
    "--enable-tag": ("enable", "tag"),
}


class OrderedSelectionCommand(click.Command):
    """Keeps the raw arguments so selection options apply in the order given."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["raw_args"] = list(args)
        return super().parse_args(ctx, args)


def selection_steps(raw_args: Sequence[str]) -> list[Step]:
    """``--disable-rule X --enable-tag Y ...`` in command-line order."""
    steps: list[Step] = []
    it = iter(enumerate(raw_args))
    for _, arg in it:
        if arg == "--":
            break
        name, _, inline = arg.partition("=")
        if name in SELECTION_OPTIONS:
            action, by = SELECTION_OPTIONS[name]
            if inline or "=" in arg:
                steps.append(Step(action, by, inline))
            else:
                nxt = next(it, None)
                if nxt is not None:
                    steps.append(Step(action, by, nxt[1]))
    return steps
