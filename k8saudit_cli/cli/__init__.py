"""The ``k8saudit`` command line: a thin Click layer over the library.

Each command lives in its own module; :data:`main` imports it on first use.
Commands parse options, call the library, pick a renderer and map
:class:`~k8saudit_cli.errors.K8sAuditError` to exit code 2 (or 1 where a
command defines "findings"/"invalid"). Data goes to stdout, diagnostics to
stderr.

:class:`K8sAuditGroup` gives every command the same ending: usage errors as
one ``k8saudit: error:`` line plus the help hint (exit 2), a closed pipe as
a quiet exit 0, and ``K8SAUDIT_<COMMAND>_<OPTION>`` environment defaults.
It is also the guard around every command: SIGINT and SIGTERM exit 130 and
143, a bug is one line and exit 2 (never 1, which means findings), and a
stderr that is closed or cannot be written is a silent one.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from k8saudit_cli import __version__
from k8saudit_cli.cli import interrupts, streams
from k8saudit_cli.cli.console import exit_on_broken_pipe, flush_stdout
from k8saudit_cli.cli.messages import ERROR_PREFIX, usage_error_text
from k8saudit_cli.errors import K8sAuditError

ENV_PREFIX = "K8SAUDIT"

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
    "auto_envvar_prefix": ENV_PREFIX,
}

#: Options whose environment variable ``--help`` shows: defaults a team sets once.
#: Every other option still reads its variable; the selection options read none,
#: because they apply in command-line order (see OrderedSelectionCommand).
ENV_SHOWN = frozenset(
    {
        "--rules",
        "--format",
        "--time-format",
        "--min-priority",
        "--rule-matching",
        "--fail-on",
        "--jobs",
        "--max-event-size",
        "--color",
        "--no-progress",
        "--all-rules",
    }
)


#: Command name -> (module, function): imported only when the command runs
#: (or when --help lists them), so ``scan`` does not pay for the others.
COMMANDS = {
    "scan": ("k8saudit_cli.cli.scan_cmd", "scan_command"),
    "fields": ("k8saudit_cli.cli.fields_cmd", "fields_command"),
    "validate": ("k8saudit_cli.cli.validate_cmd", "validate_command"),
    "rules": ("k8saudit_cli.cli.validate_cmd", "rules_command"),
    "explain": ("k8saudit_cli.cli.validate_cmd", "explain_command"),
    "test": ("k8saudit_cli.cli.test_cmd", "test_command"),
    "serve": ("k8saudit_cli.cli.serve_cmd", "serve_command"),
    "extract": ("k8saudit_cli.cli.extract_cmd", "extract_command"),
    "query": ("k8saudit_cli.cli.query_cmd", "query_command"),
    "stats": ("k8saudit_cli.cli.stats_cmd", "stats_command"),
}


def env_var(command: str, option: click.Option) -> str:
    """``K8SAUDIT_SCAN_MIN_PRIORITY`` for ``scan --min-priority``: named after the option as
    typed, not its Python name (``--format`` is ``fmt`` inside)."""
    long_name = max(option.opts, key=len).lstrip("-")
    return f"{ENV_PREFIX}_{command}_{long_name}".upper().replace("-", "_")


def wire_env_vars(command: click.Command) -> None:
    """Name each option's environment variable, and show it in ``--help`` where useful."""
    from k8saudit_cli.cli.common import SELECTION_OPTIONS  # loaded with the command anyway

    for param in command.params:
        if not isinstance(param, click.Option) or command.name is None:
            continue
        if any(opt in SELECTION_OPTIONS for opt in param.opts):
            param.allow_from_autoenv = False
            continue
        param.envvar = env_var(command.name, param)
        param.show_envvar = bool(ENV_SHOWN.intersection(param.opts))


def _import_paused(module: str) -> Any:
    """Import a command's module with the cyclic garbage collector paused: imports make
    classes and functions that live as long as the process (collecting is wasted work)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return importlib.import_module(module)
    finally:
        if enabled:
            gc.enable()


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name]
        command: click.Command = getattr(_import_paused(module), attr)
        wire_env_vars(command)
        return command


class K8sAuditGroup(LazyGroup):
    """The one way every command ends: errors in one style, closed pipes quietly."""

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
        except click.UsageError as exc:
            click.echo(usage_error_text(exc), err=True)
            return exc.exit_code
        except click.ClickException as exc:
            click.echo(f"{ERROR_PREFIX}{exc.format_message()}", err=True)
            return exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            click.echo("k8saudit: interrupted", err=True)
            return interrupts.exit_code()
        except K8sAuditError as exc:
            click.echo(f"{ERROR_PREFIX}{exc}", err=True)
            return 2
        except Exception as exc:
            _internal_error(exc)
        return rv if isinstance(rv, int) else 0

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:  # --help and --version print here, before invoke
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError:
            exit_on_broken_pipe()

    def invoke(self, ctx: click.Context) -> Any:
        try:
            rv = super().invoke(ctx)
            flush_stdout()
        except BrokenPipeError:
            exit_on_broken_pipe()
        except SystemExit:
            flush_stdout()  # a command's sys.exit must not hide a closed pipe behind exit 1
            raise
        return rv


def _internal_error(exc: Exception) -> NoReturn:
    """A bug: one line (the traceback with ``K8SAUDIT_DEBUG=1``), exit 2, never 1."""
    if os.environ.get("K8SAUDIT_DEBUG", "") not in ("", "0"):
        import traceback  # only for a crash: not on every start

        traceback.print_exception(exc)
        hint = ""
    else:
        hint = " (set K8SAUDIT_DEBUG=1 to see the traceback)"
    click.echo(f"k8saudit: internal error: {type(exc).__name__}: {exc}{hint}", err=True)
    sys.exit(2)


@click.group("k8saudit", cls=K8sAuditGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="k8saudit")
def main() -> None:
    """Falco-compatible detections over recorded Kubernetes audit logs.

    \b
    Typical use:
      k8saudit scan audit.log                  scan with the built-in rules
      k8saudit scan audit/ -r my_rules.yaml    scan a folder with your rules
      k8saudit scan gke.json PT1H.json         EKS, GKE and AKS exports as they come
      k8saudit scan s3://b/audit/ --cluster tcp://sched:8786
                                               on a Dask cluster, inputs by URL
      k8saudit query 'ka.verb=delete' audit/   the matching events, as JSON lines
      k8saudit fields --event 3 audit.log      every field of the 3rd event
      k8saudit validate -r my_rules.yaml       check a rules file like falco -V

    Alerts and tables go to stdout; warnings and the end-of-run report go to
    stderr. Exit codes: 0 ran, 1 findings at/above --fail-on (or invalid
    rules for validate), 2 could not do the job, 130/143 interrupted.

    \b
    Every option can also come from the environment, as
    K8SAUDIT_<COMMAND>_<OPTION>: K8SAUDIT_SCAN_MIN_PRIORITY=warning.
    Shell completion: eval "$(_K8SAUDIT_COMPLETE=bash_source k8saudit)".
    """
