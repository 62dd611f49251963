"""Imports inside the engine go one way, and a fully cached run never loads the parser.

The parse cache uses the parser (on a miss); the parser must not use the
cache, nor any engine module import one that imports it back.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from k8saudit_cli.engine.cachedir import fingerprint_sources

ENGINE = Path(__file__).resolve().parent.parent / "k8saudit_cli" / "engine"
PREFIX = "k8saudit_cli.engine."


def engine_imports(path: Path) -> set[str]:
    """Engine modules ``path`` imports, at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PREFIX):
                found.add(node.module[len(PREFIX) :])
            elif node.module == "k8saudit_cli.engine":
                found.update(alias.name for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    return {p.stem: engine_imports(p) for p in ENGINE.glob("*.py")}


def reachable(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(edges.get(start, ()))
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo.extend(edges.get(name, ()))
    return seen


def test_engine_imports_have_no_cycle():
    edges = graph()
    cycles = [name for name in edges if name in reachable(name, edges)]
    assert cycles == []


def test_the_parser_knows_nothing_of_the_parse_cache():
    edges = graph()
    assert "parsecache" not in reachable("parser", edges)
    assert "parser" in edges["parsecache"]


def test_the_fingerprint_covers_everything_a_parse_depends_on():
    """A change to the node classes (or the grammar, or any module the parser
    uses) must start a fresh cache file instead of unpickling stale nodes."""
    covered = {p.name for p in fingerprint_sources()}
    needed = {f"{m}.py" for m in reachable("parser", graph()) | {"parser", "parsecache"}}
    assert needed | {"condition.lark", "nodes.py"} <= covered


def test_a_fully_cached_run_does_not_import_lark(tmp_path):
    script = (
        "import sys\n"
        "from k8saudit_cli.ruleset import load_rules\n"
        "from k8saudit_cli.ruleset.defaults import default_rules_path\n"
        "from k8saudit_cli.detect import Detector\n"
        "from k8saudit_cli.event import AuditEvent\n"
        "rules = load_rules([default_rules_path()])\n"
        "assert rules.ok\n"
        "Detector(rules.rules).match(AuditEvent({'auditID': '1', 'verb': 'get'}, 0))\n"
        "print('lark' in sys.modules)\n"
    )
    env = {**os.environ, "K8SAUDIT_CACHE_DIR": str(tmp_path)}
    env.pop("K8SAUDIT_NO_CACHE", None)
    runs = [
        subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert runs == ["True", "False"]
    assert list(tmp_path.glob("conditions-*.json"))
