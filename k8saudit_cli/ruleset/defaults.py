"""Where the built-in ruleset lives, installed or in a source checkout.

The built-in ruleset is two files, loaded in this order: the Falco rules
file ``k8s_audit_rules.yaml`` and our aggregations ``k8s_audit_aggregations.yaml``
(which use its macros, and which Falco skips item by item).
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

DEFAULT_RULES = "k8s_audit_rules.yaml"
DEFAULT_AGGREGATIONS = "k8s_audit_aggregations.yaml"
_keep_open = ExitStack()


def default_rules_path(name: str = DEFAULT_RULES) -> str:
    """A file of the packaged default ruleset (the rules file unless ``name`` says
    otherwise) as a real file path.

    Installed, it is package data (``k8saudit_cli.default_rules``, built
    from the top-level ``rules/`` folder); in a source checkout it is
    ``rules/`` itself.
    """
    packaged = Path(__file__).resolve().parents[1] / "default_rules" / name
    if packaged.is_file():  # installed as plain files: no need for importlib.resources
        return str(packaged)
    checkout = Path(__file__).resolve().parents[2] / "rules" / name
    if checkout.is_file():
        return str(checkout)
    from importlib import resources  # zipped installs; it imports tempfile, shutil, random

    try:
        ref = resources.files("k8saudit_cli.default_rules") / name
        if ref.is_file():
            return str(_keep_open.enter_context(resources.as_file(ref)))
    except ModuleNotFoundError:
        pass
    return str(Path(__file__).resolve().parents[2] / "rules" / name)


def default_rules_paths() -> list[str]:
    """The files of the built-in ruleset, in load order: rules, then aggregations."""
    return [default_rules_path(DEFAULT_RULES), default_rules_path(DEFAULT_AGGREGATIONS)]
