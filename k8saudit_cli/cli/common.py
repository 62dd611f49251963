"""Pieces several commands share: rules options, error exits, diagnostics printing."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from k8saudit_cli import priority as prio
from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.escape import visible
from k8saudit_cli.ruleset import RuleSet, load_rules
from k8saudit_cli.ruleset.defaults import default_rules_path
from k8saudit_cli.selection import Step
from k8saudit_cli.timestamps import TimeFormatError, parse_when


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``k8saudit: error: ...`` on stderr and exit; never a traceback."""
    click.echo(f"k8saudit: error: {visible(message)}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"k8saudit: warning: {visible(message)}", err=True)


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
        type=click.Path(dir_okay=False),
        help=help_text,
    )


def load_ruleset(paths: Sequence[str]) -> RuleSet:
    """Load rules for a command that needs valid rules; exits 2 with every error otherwise."""
    files = list(paths) or [default_rules_path()]
    ruleset = load_rules(files)
    if not ruleset.ok:
        for d in ruleset.errors:
            click.echo(d.render(), err=True)
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


def parse_when_option(text: str | None) -> int | None:
    """``--since``/``--until`` to ns (``None`` when not given); bad text is a usage error."""
    if not text:
        return None
    try:
        return parse_when(text)
    except TimeFormatError as exc:
        raise click.BadParameter(str(exc)) from None


if TYPE_CHECKING:  # generic in click's type hints since 8.2, a plain class before
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
