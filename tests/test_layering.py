"""Imports flow one way: decoding -> fields -> engine -> rules -> scan -> cli, with no cycles.

Reads every module's imports with ``ast`` (absolute and relative, at module
level and inside functions) and fails when a module imports from a layer
above its own, or when modules import each other in a cycle.

Imports under ``if TYPE_CHECKING:`` never run, so they cannot make an import
cycle and the cycle check leaves them out; they still count for layering,
since a type from an upper layer is still a dependency on it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = "k8saudit_cli"
PACKAGE = Path(__file__).resolve().parent.parent / ROOT

LAYERS = [
    {"errors", "priority", "event", "jsontext", "timestamps", "escape"},
    {"sources", "outputs_guard"},
    {"formats"},
    {"problems", "linedecode", "decode"},
    {"empty_inputs"},
    {"fields"},
    {"engine"},
    {"output_format"},
    {"ruleset", "default_rules"},
    {"selection", "detect", "aggregate"},
    {"output_code", "alerts", "run_options", "run_stats", "aggregate_run"},
    {"worker_pool", "chunk_worker", "fused_loop"},
    {"parallel_run"},
    {"cluster"},
    {"detection_run"},
    {"fixtures", "report", "forensics"},
    {"junit"},
    {"serve"},
    {"cli", "__main__"},
]


Graph = Mapping[str, set[str]]


# ---------------------------------------------------------------- reading imports


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the package (``__init__`` as the package)."""
    found = {}
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _in_type_checking(tree: ast.AST) -> set[ast.AST]:
    """Import nodes that sit under ``if TYPE_CHECKING:`` (or ``typing.TYPE_CHECKING``)."""
    hidden: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and _names_type_checking(node.test):
            for child in node.body:
                hidden.update(ast.walk(child))
    return hidden


def _names_type_checking(test: ast.expr) -> bool:
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def _base_of(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module a ``from <dots><target> import`` refers to."""
    if level == 0:
        return target or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, target] if target else parts)


def imports_of(
    source: str,
    module: str,
    is_package: bool,
    known: Iterable[str],
    runtime_only: bool = False,
) -> set[str]:
    """The package modules ``source`` (the text of ``module``) imports.

    ``from pkg import name`` counts as importing ``pkg.name`` when that is a
    module, else ``pkg`` itself; relative imports are made absolute first.
    """
    known = set(known)
    tree = ast.parse(source)
    hidden = _in_type_checking(tree) if runtime_only else set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if node in hidden:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base_of(module, is_package, node.level, node.module)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m == ROOT or m.startswith(ROOT + ".")}


def import_graph(runtime_only: bool = False) -> dict[str, set[str]]:
    """Module -> the package modules it imports (itself excluded)."""
    modules = package_modules()
    graph = {}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        deps = imports_of(path.read_text(), name, is_package, modules, runtime_only)
        graph[name] = deps - {name}
    return graph


# ---------------------------------------------------------------- the checks


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    for i, names in enumerate(LAYERS):
        if top in names:
            return i
    raise AssertionError(f"module {module!r} is in no layer; add it to LAYERS")


def _relative(module: str) -> str:
    return module[len(ROOT) + 1 :] if module.startswith(ROOT + ".") else ""


def upward_imports(graph: Graph) -> list[str]:
    """Every import of a module from a layer above the importer's own."""
    wrong = []
    for module, deps in sorted(graph.items()):
        own = _relative(module)
        if not own:  # the package root only holds the version
            continue
        for target in sorted(deps):
            sub = _relative(target)
            if sub and layer_of(sub) > layer_of(own):
                wrong.append(f"{module}: imports {target}")
    return wrong


def import_cycles(graph: Graph) -> list[frozenset[str]]:
    """Groups of modules that import each other, directly or through others.

    These are the strongly connected components with more than one module
    (Tarjan's algorithm, written iteratively so deep graphs are fine).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    found += _pop_component(node, stack, on_stack)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _pop_component(root: str, stack: list[str], on_stack: set[str]) -> list[frozenset[str]]:
    members = set()
    while True:
        member = stack.pop()
        on_stack.discard(member)
        members.add(member)
        if member == root:
            break
    return [frozenset(members)] if len(members) > 1 else []


# ---------------------------------------------------------------- the tests


def test_every_module_imports_downward_only():
    assert upward_imports(import_graph()) == []


def test_no_import_cycles():
    cycles = import_cycles(import_graph(runtime_only=True))
    assert [sorted(c) for c in cycles] == []


def test_the_reader_sees_every_form_of_import():
    known = {
        "k8saudit_cli",
        "k8saudit_cli.errors",
        "k8saudit_cli.fields",
        "k8saudit_cli.fields.base",
    }
    known |= {"k8saudit_cli.priority", "k8saudit_cli.engine", "k8saudit_cli.engine.nodes"}
    source = "\n".join(
        [
            "from .nodes import Expr",  # sibling module
            "from . import nodes",  # sibling through its package
            "from ..errors import Position",  # parent's module
            "from ..fields import base",  # module through another package
            "from k8saudit_cli import priority",  # module through the root package
            "from k8saudit_cli import __version__",  # a name of the root package itself
            "import k8saudit_cli.fields",
            "def late():",
            "    from k8saudit_cli.engine import nodes",  # function-level
            "import json",  # not ours
        ]
    )
    found = imports_of(source, "k8saudit_cli.engine.bind", False, known)
    assert found == {
        "k8saudit_cli",
        "k8saudit_cli.engine.nodes",
        "k8saudit_cli.errors",
        "k8saudit_cli.fields",
        "k8saudit_cli.fields.base",
        "k8saudit_cli.priority",
    }
    # In a package's __init__, one dot is the package itself.
    assert imports_of("from .base import X", "k8saudit_cli.fields", True, known) == {
        "k8saudit_cli.fields.base"
    }


def test_type_checking_imports_do_not_make_cycles():
    source = (
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from k8saudit_cli.cli import x\n"
    )
    known = {"k8saudit_cli.cli"}
    assert imports_of(source, "k8saudit_cli.report", False, known) == {"k8saudit_cli.cli"}
    assert imports_of(source, "k8saudit_cli.report", False, known, runtime_only=True) == set()


def test_the_checks_can_fail():
    assert layer_of("cli.scan_cmd") > layer_of("engine.bind") > layer_of("decode")
    graph = {
        "k8saudit_cli.decode": {"k8saudit_cli.cli.scan_cmd"},  # upward
        "k8saudit_cli.engine.a": {"k8saudit_cli.engine.b"},  # a -> b -> c -> a
        "k8saudit_cli.engine.b": {"k8saudit_cli.engine.c"},
        "k8saudit_cli.engine.c": {"k8saudit_cli.engine.a", "k8saudit_cli.errors"},
        "k8saudit_cli.fields.x": {"k8saudit_cli.fields.y"},  # x <-> y
        "k8saudit_cli.fields.y": {"k8saudit_cli.fields.x"},
        "k8saudit_cli.errors": set(),
    }
    assert upward_imports(graph) == ["k8saudit_cli.decode: imports k8saudit_cli.cli.scan_cmd"]
    assert sorted(sorted(c) for c in import_cycles(graph)) == [
        ["k8saudit_cli.engine.a", "k8saudit_cli.engine.b", "k8saudit_cli.engine.c"],
        ["k8saudit_cli.fields.x", "k8saudit_cli.fields.y"],
    ]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_timestamps_is_the_bottom():
    """Time parsing and rendering depend on nothing else in the package."""
    graph = import_graph()
    assert graph["k8saudit_cli.timestamps"] == set()
