"""The ``k8saudit`` command line: a thin Click layer over the library.

Each command lives in its own module; :data:`main` imports it on first use.
Commands parse options, call the library, pick a renderer and map
:class:`~k8saudit_cli.errors.K8sAuditError` to exit code 2 (or 1 where a
command defines "findings"/"invalid"). Data goes to stdout, diagnostics to
stderr.
"""

from __future__ import annotations

import importlib

import click

from k8saudit_cli import __version__

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
    "extract": ("k8saudit_cli.cli.extract_cmd", "extract_command"),
    "query": ("k8saudit_cli.cli.query_cmd", "query_command"),
    "stats": ("k8saudit_cli.cli.stats_cmd", "stats_command"),
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
