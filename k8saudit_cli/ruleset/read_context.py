"""What reading one rules file carries: the file, its diagnostics, and the item error.

Item readers raise :class:`ItemError` for a problem that ends the item and
call :meth:`ReadContext.warn` for one that does not; the reader turns both
into :class:`Diagnostic` records so that one run reports every problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from k8saudit_cli.errors import Diagnostic, Position, Severity
from k8saudit_cli.ruleset.yamlio import SourceFile, node_position


class ItemError(Exception):
    """A decoding error inside one item; ``node`` says where."""

    def __init__(
        self,
        message: str,
        node: yaml.Node | None,
        item_type: str | None = None,
        code: str = "LOAD_ERR_YAML_VALIDATE",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.node = node
        self.item_type = item_type
        self.code = code


@dataclass
class ReadContext:
    """The file being read and the diagnostics found in it so far."""

    src: SourceFile
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def pos(self, node: yaml.Node) -> Position:
        return node_position(self.src, node)

    def error(
        self,
        code: str,
        message: str,
        pos: Position,
        item_type: str | None = None,
        item_name: str | None = None,
    ) -> None:
        self._add(code, Severity.ERROR, message, pos, item_type, item_name)

    def warn(
        self,
        code: str,
        message: str,
        pos: Position,
        item_type: str | None = None,
        item_name: str | None = None,
    ) -> None:
        self._add(code, Severity.WARNING, message, pos, item_type, item_name)

    def _add(
        self,
        code: str,
        severity: Severity,
        message: str,
        pos: Position,
        item_type: str | None,
        item_name: str | None,
    ) -> None:
        self.diagnostics.append(Diagnostic(code, severity, message, pos, item_type, item_name))
