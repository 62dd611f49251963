"""The rules of a run as data a Dask worker can rebuild them from: file texts and selection.

Compiled rules hold generated code and closures: they are rebuilt, not
shipped. A :class:`RuleSpec` carries what the client loaded (each rules
file's name and text, in order), the selection steps and the priority
threshold, and the client's host name (``evt.hostname`` binds to it when a
rule is compiled); a worker turns it into the same compiled rules with
:meth:`RuleSpec.load`, once, and keeps them under :attr:`RuleSpec.digest`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from k8saudit_cli.errors import K8sAuditError
from k8saudit_cli.fields.evt import hostname
from k8saudit_cli.priority import DEBUG
from k8saudit_cli.ruleset import RuleSet, load_texts
from k8saudit_cli.ruleset.compile import CompiledRule
from k8saudit_cli.ruleset.defaults import default_rules_paths
from k8saudit_cli.selection import Step, select_rules


class RulesDiffer(K8sAuditError):
    """A worker's rules are not the client's (the files cannot give them): never a wrong answer."""

    code = "RULES_DIFFER"


@dataclass(frozen=True)
class RuleSpec:
    """``files``: ``(name, text)`` pairs in load order; ``steps`` and ``min_priority`` as
    :func:`~k8saudit_cli.selection.select_rules` takes them."""

    files: tuple[tuple[str, str], ...]
    steps: tuple[Step, ...] = ()
    min_priority: int = DEBUG
    host: str | None = None

    @classmethod
    def from_paths(
        cls, paths: Sequence[str], steps: Sequence[Step] = (), min_priority: int = DEBUG
    ) -> RuleSpec:
        """The rules files at ``paths`` (none: the built-in ruleset), read now."""
        files = []
        for path in list(paths) or default_rules_paths():
            with open(path, encoding="utf-8") as fh:
                files.append((path, fh.read()))
        return cls(tuple(files), tuple(steps), min_priority, hostname())

    @cached_property
    def digest(self) -> str:
        """Tells specs apart: a worker keeps what it built from each under this key."""
        h = hashlib.sha256()
        for name, text in self.files:
            h.update(f"{len(name)}:{name}{len(text)}:".encode())
            h.update(text.encode("utf-8", "surrogatepass"))
        h.update(repr((self.steps, self.min_priority, self.host)).encode())
        return h.hexdigest()

    def ruleset(self) -> RuleSet:
        """The files loaded as the client loaded them (its host name for ``evt.hostname``)."""
        with _host_name(self.host):
            ruleset = load_texts(self.files)
        if not ruleset.ok:
            first = ruleset.errors[0].render().splitlines()[0]
            raise RulesDiffer(f"the rules do not load on a worker: {first}")
        return ruleset

    def load(self) -> list[CompiledRule]:
        """The selected rules, in order, as :func:`select_rules` gives them."""
        return select_rules(self.ruleset().rules, self.steps, self.min_priority)


def check_names(rules: Sequence[CompiledRule], expected: Sequence[str]) -> None:
    """Raise :class:`RulesDiffer` unless ``rules`` are the client's rules, in order."""
    names = [r.name for r in rules]
    if names != list(expected):
        raise RulesDiffer(
            f"a worker built {len(names)} rules from the rules files where the client has "
            f"{len(expected)}, or in another order: the scan would not be the same"
        )


@contextmanager
def _host_name(name: str | None) -> Iterator[None]:
    """``FALCO_HOSTNAME`` set to ``name`` while rules compile (``evt.hostname`` reads it)."""
    if name is None:
        yield
        return
    before = os.environ.get("FALCO_HOSTNAME")
    os.environ["FALCO_HOSTNAME"] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ["FALCO_HOSTNAME"]
        else:
            os.environ["FALCO_HOSTNAME"] = before
