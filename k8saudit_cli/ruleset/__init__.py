"""Falco rules files: reading, merging (append/override), compiling, selecting."""

from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.ruleset.loader import (
    ENGINE_VERSION,
    PLUGIN_VERSIONS,
    RuleSet,
    load_rules,
    load_texts,
)

__all__ = [
    "ENGINE_VERSION",
    "PLUGIN_VERSIONS",
    "CompiledRule",
    "RuleSet",
    "load_rules",
    "load_texts",
]
