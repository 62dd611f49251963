"""The ``k8saudit`` command line: a thin Click layer over the library.

Each command lives in its own module; :data:`main` imports it on first use.
Commands parse options, call the library, pick a renderer and map
:class:`~k8saudit_cli.errors.K8sAuditError` to exit code 2 (or 1 where a
command defines "findings"/"invalid"). Data goes to stdout, diagnostics to
stderr. :meth:`LazyGroup.main` is the guard around every command: SIGINT and
SIGTERM exit 130 and 143, a bug is one line and exit 2 (never 1, which means
findings), and a stderr that is closed or cannot be written is a silent one.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from k8saudit_cli import __version__
from k8saudit_cli.cli import interrupts, streams
from k8saudit_cli.errors import K8sAuditError

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


#: Command name -> (module, function): imported only when the command runs
#: (or when --help lists them), so ``scan`` does not pay for the others.
COMMANDS = {
    "scan": ("k8saudit_cli.cli.scan_cmd", "scan_command"),
    "fields": ("k8saudit_cli.cli.fields_cmd", "fields_command"),
    "validate": ("k8saudit_cli.cli.validate_cmd", "validate_command"),
    "rules": ("k8saudit_cli.cli.validate_cmd", "rules_command"),
    "explain": ("k8saudit_cli.cli.validate_cmd", "explain_command"),
    "test": ("k8saudit_cli.cli.test_cmd", "test_command"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Click's standalone mode, with our exit codes for interrupts and bugs."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        # ``args`` is None for the process's own command line (not a test runner).
        with streams.tolerant_std_streams(), interrupts.handled(exiting_after=args is None):
            code = self._guarded(args, prog_name, complete_var, extra)
        sys.exit(code)

    def _guarded(
        self,
        args: Sequence[str] | None,
        prog_name: str | None,
        complete_var: str | None,
        extra: dict[str, Any],
    ) -> int:
        """The command's exit code; ``SystemExit`` from a command passes through."""
        try:
            rv = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as exc:
            exc.show()
            return exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("k8saudit: interrupted", err=True)
            return interrupts.exit_code()
        except K8sAuditError as exc:
            click.echo(f"k8saudit: error: {exc}", err=True)
            return 2
        except Exception as exc:
            _internal_error(exc)
        return rv if isinstance(rv, int) else 0


def _internal_error(exc: Exception) -> NoReturn:
    """A bug: one line (the traceback with ``K8SAUDIT_DEBUG=1``), exit 2, never 1."""
    if os.environ.get("K8SAUDIT_DEBUG", "") not in ("", "0"):
        traceback.print_exception(exc)
        hint = ""
    else:
        hint = " (set K8SAUDIT_DEBUG=1 to see the traceback)"
    click.echo(f"k8saudit: internal error: {type(exc).__name__}: {exc}{hint}", err=True)
    sys.exit(2)


@click.group(cls=LazyGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="k8saudit")
def main() -> None:
    """Falco-compatible detections over recorded Kubernetes audit logs.

    \b
    Typical use:
      k8saudit scan audit.log                  scan with the built-in rules
      k8saudit scan audit/ -r my_rules.yaml    scan a folder with your rules
      k8saudit fields --event 3 audit.log      every field of the 3rd event
      k8saudit validate -r my_rules.yaml       check a rules file like falco -V

    Alerts and tables go to stdout; warnings and the end-of-run report go to
    stderr. Exit codes: 0 ran, 1 findings at/above --fail-on (or invalid
    rules for validate), 2 could not do the job.
    """
