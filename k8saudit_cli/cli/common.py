"""Pieces several commands share: rules options, error exits, diagnostics printing."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from k8saudit_cli import priority as prio
from k8saudit_cli.decode import parse_time_ns
from k8saudit_cli.errors import Diagnostic
from k8saudit_cli.ruleset import RuleSet, load_rules
from k8saudit_cli.ruleset.defaults import default_rules_path
from k8saudit_cli.selection import Step


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``k8saudit: error: ...`` on stderr and exit; never a traceback."""
    click.echo(f"k8saudit: error: {message}", err=True)
    sys.exit(code)


def warn(message: str) -> None:
    click.echo(f"k8saudit: warning: {message}", err=True)


def rules_option(required: bool = False) -> Any:
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


_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhdw])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_when(text: str, now: float | None = None) -> int:
    """RFC 3339 (``2024-05-01T10:00:00Z``, a bare date) or relative (``90m``, ``7d``) to ns."""
    m = _RELATIVE.match(text.strip())
    if m:
        now = time.time() if now is None else now
        return int((now - float(m.group(1)) * _UNIT[m.group(2)]) * 1_000_000_000)
    candidate = text.strip()
    if len(candidate) == 10:
        candidate += "T00:00:00Z"
    value = parse_time_ns(candidate.replace(" ", "T", 1))
    if value is None:
        raise click.BadParameter(
            f"'{text}' is neither RFC 3339 (2024-05-01T10:00:00Z) nor relative (2h, 30m, 7d)"
        )
    return value


class PriorityType(click.ParamType):
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
