"""Where the built-in ruleset lives, installed or in a source checkout."""

from __future__ import annotations

from contextlib import ExitStack
from importlib import resources
from pathlib import Path

DEFAULT_RULES = "k8s_audit_rules.yaml"
_keep_open = ExitStack()


def default_rules_path() -> str:
    """The packaged default ruleset as a real file path.

    Installed, it is package data (``k8saudit_cli.default_rules``, built
    from the top-level ``rules/`` folder); in a source checkout it is
    ``rules/`` itself.
    """
    try:
        ref = resources.files("k8saudit_cli.default_rules") / DEFAULT_RULES
        if ref.is_file():
            return str(_keep_open.enter_context(resources.as_file(ref)))
    except ModuleNotFoundError:
        pass
    return str(Path(__file__).resolve().parents[2] / "rules" / DEFAULT_RULES)
