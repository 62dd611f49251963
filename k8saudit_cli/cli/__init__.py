"""The ``k8saudit`` command line: a thin Click layer over the library.

Each command lives in its own module and registers itself on :data:`main`.
Commands parse options, call the library, pick a renderer and map
:class:`~k8saudit_cli.errors.K8sAuditError` to exit code 2 (or 1 where a
command defines "findings"/"invalid"). Data goes to stdout, diagnostics to
stderr.
"""

from __future__ import annotations

import click

from k8saudit_cli import __version__

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(context_settings=CONTEXT_SETTINGS)
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


def _register() -> None:
    """Import command modules so they attach themselves to :data:`main`."""
    import importlib

    for name in ("scan", "validate_cmd", "test_cmd", "fields"):
        importlib.import_module(f"k8saudit_cli.cli.{name}")


_register()
