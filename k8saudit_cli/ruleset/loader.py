"""Load rules files into a :class:`RuleSet`: read, collect, check versions, compile.

This is the library entry point for rules::

    ruleset = load_rules(["k8s_audit_rules.yaml", "my_overrides.yaml"])
    if not ruleset.ok:
        for d in ruleset.errors: print(d.render())

Unlike Falco, loading never stops at the first problem: every file is read
and every rule compiled, so one run lists every error and warning.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from k8saudit_cli.errors import Diagnostic, Position, Severity
from k8saudit_cli.ruleset.collector import Collector
from k8saudit_cli.ruleset.compile import K8S_SOURCE, CompiledRule, Compiler
from k8saudit_cli.ruleset.compile_aggregations import compile_aggregations
from k8saudit_cli.ruleset.items import PluginRequirement
from k8saudit_cli.ruleset.read_requirements import SEMVER
from k8saudit_cli.ruleset.reader import Reader
from k8saudit_cli.ruleset.states import Collection
from k8saudit_cli.ruleset.yamlio import SourceFile

#: The Falco engine version whose rules language we implement (Falco 0.44).
ENGINE_VERSION = (0, 62, 0)
#: The plugin versions we present ourselves as, for required_plugin_versions.
PLUGIN_VERSIONS = {"k8saudit": "0.18.0", "json": "0.7.4"}


@dataclass
class RuleSet:
    """Every ``k8s_audit`` rule of a set of files, compiled, in definition order.

    Aggregations (our extension) follow the rules in ``rules``, as
    :class:`~k8saudit_cli.ruleset.compile_aggregations.CompiledAggregation`.
    """

    files: list[str]
    rules: list[CompiledRule]
    diagnostics: list[Diagnostic]
    collection: Collection
    skipped: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def rule(self, name: str) -> CompiledRule | None:
        return next((r for r in self.rules if r.name == name), None)


def load_rules(paths: Sequence[str], read_text: Callable[[str], str] | None = None) -> RuleSet:
    """Load ``paths`` in order into one ruleset (later files override earlier ones).

    The cyclic garbage collector is paused meanwhile: loading makes tens of
    thousands of small objects that nearly all live on, and collecting while
    they are made took a third of the load time of the built-in ruleset.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(paths, read_text)
    finally:
        if enabled:
            gc.enable()


def _load(paths: Sequence[str], read_text: Callable[[str], str] | None) -> RuleSet:
    collector = Collector()
    diagnostics: list[Diagnostic] = []
    for path in paths:
        src = _read_source(path, read_text, diagnostics)
        if src is None:
            continue
        reader = Reader(src).read()
        diagnostics.extend(reader.diagnostics)
        for item in reader.items:
            collector.add(item)
    coll = collector.c
    diagnostics.extend(coll.diagnostics)
    diagnostics.extend(check_versions(coll))
    compiler = Compiler(coll, (compile_aggregations,)).run()
    diagnostics.extend(compiler.diagnostics)
    return RuleSet(list(paths), compiler.rules, diagnostics, coll, compiler.skipped)


def load_texts(texts: Sequence[tuple[str, str]]) -> RuleSet:
    """Load rules given as ``(name, text)`` pairs (tests, embedded rules)."""
    table = dict(texts)
    return load_rules([name for name, _ in texts], read_text=table.__getitem__)


def _read_source(
    path: str, read_text: Callable[[str], str] | None, diags: list[Diagnostic]
) -> SourceFile | None:
    try:
        if read_text is not None:
            return SourceFile(path, read_text(path))
        with open(path, encoding="utf-8") as fh:
            return SourceFile(path, fh.read())
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        diags.append(
            Diagnostic(
                "LOAD_ERR_FILE_READ",
                Severity.ERROR,
                f"Could not open file {path} for reading: {reason}",
                Position(path, 1, 1),
            )
        )
        return None


def _semver(text: str) -> tuple[int, int, int] | None:
    m = SEMVER.match(text)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _fmt(v: tuple[int, int, int]) -> str:
    return ".".join(map(str, v))


def check_versions(coll: Collection) -> list[Diagnostic]:
    """``required_engine_version`` and ``required_plugin_versions``, with Falco's messages."""
    out = []
    for req in coll.engine_versions:
        if req.version[0] != ENGINE_VERSION[0] or req.version > ENGINE_VERSION:
            out.append(
                Diagnostic(
                    "LOAD_ERR_VALIDATE",
                    Severity.ERROR,
                    f"Rules require engine version {_fmt(req.version)}, but engine version is "
                    f"{_fmt(ENGINE_VERSION)}",
                    req.pos,
                    "required_engine_version",
                )
            )
    for block in coll.plugin_versions:
        for group in block.groups:
            message = _plugin_group_problem(group)
            if message:
                out.append(
                    Diagnostic(
                        "LOAD_ERR_VALIDATE",
                        Severity.ERROR,
                        message,
                        block.pos,
                        "required plugin versions",
                    )
                )
    return out


def _plugin_group_problem(group: list[PluginRequirement]) -> str | None:
    for req in group:
        have = PLUGIN_VERSIONS.get(req.name)
        if have is None:
            continue
        need, got = _semver(req.version), _semver(have)
        if need is None or got is None or need[0] != got[0] or got < need:
            return (
                f"Plugin '{req.name}' version '{have}' is not compatible with required plugin "
                f"version '{req.version}'"
            )
        return None
    names = ", ".join(f"{r.name} (>= {r.version})" for r in group)
    return f"Plugin requirement not satisfied, must load one of: {names}"


__all__ = [
    "ENGINE_VERSION",
    "K8S_SOURCE",
    "PLUGIN_VERSIONS",
    "CompiledRule",
    "RuleSet",
    "load_rules",
    "load_texts",
]
