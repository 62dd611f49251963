"""Imports flow one way: decoding -> fields -> engine -> rules -> scan -> cli.

Reads every module's imports with ``ast`` and fails when a module imports
from a layer above its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "k8saudit_cli"

LAYERS = [
    {"errors", "priority", "event", "jsontext", "timestamps"},
    {"sources"},
    {"decode"},
    {"fields"},
    {"engine"},
    {"output_format"},
    {"ruleset", "default_rules"},
    {"selection", "detect"},
    {"alerts", "run_options", "run_stats"},
    {"parallel_run"},
    {"detection_run"},
    {"fixtures", "report"},
    {"cli", "__main__"},
]


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"module {module!r} is in no layer; add it to LAYERS")


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.module.startswith("k8saudit_cli")
        ):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("k8saudit_cli")]
    return found


def test_every_module_imports_downward_only():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).with_suffix("")
        if rel.name == "__init__" and len(rel.parts) == 1:
            continue
        own = layer_of(".".join(rel.parts))
        for target in imports(path):
            sub = target[len("k8saudit_cli.") :] if target != "k8saudit_cli" else ""
            if not sub:
                continue
            if layer_of(sub) > own:
                wrong.append(f"{rel}: imports {target}")
    assert wrong == []


def test_the_check_can_fail():
    assert layer_of("cli.scan_cmd") > layer_of("engine.bind") > layer_of("decode")


def test_timestamps_is_the_bottom():
    assert imports(PACKAGE / "timestamps.py") == []
