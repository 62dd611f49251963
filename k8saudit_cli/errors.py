"""Positions, diagnostics with stable codes, and the one exception root.

Every message a user sees about their input (a rules file, an audit log)
is built from these pieces, so that positions travel as data and the caret
rendering happens only at output time. Rendering escapes control characters
and line separators (file names, item names and snippets come from files of
many hands), so a diagnostic is always the lines it seems to be.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from k8saudit_cli.escape import visible


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Position:
    """A place in a file. ``line`` and ``col`` are 1-based, as editors show them."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True)
class Snippet:
    """Text to show under a diagnostic with a caret at ``col`` (1-based) of ``line``."""

    line: str
    col: int

    def render(self, indent: str = "  ") -> str:
        text = self.line.rstrip("\r\n")
        before = self.col - 1
        # The caret goes under the same character once escapes have widened the line.
        pad = len(visible(text[:before])) + max(before - len(text), 0)
        return f"{indent}{visible(text)}\n{indent}{' ' * pad}^"


@dataclass(frozen=True)
class Diagnostic:
    """One error or warning about a rules file, with Falco's code and our position."""

    code: str
    severity: Severity
    message: str
    position: Position | None = None
    item_type: str | None = None
    item_name: str | None = None
    snippet: Snippet | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def headline(self) -> str:
        where = f"{self.position}: " if self.position else ""
        item = ""
        if self.item_type:
            item = f" [{self.item_type}" + (f" '{self.item_name}'" if self.item_name else "") + "]"
        return visible(f"{where}{self.severity.value} {self.code}{item}: {self.message}")

    def render(self) -> str:
        text = self.headline()
        if self.snippet is not None:
            text += "\n" + self.snippet.render()
        return text

    def to_json(self) -> dict[str, object]:
        pos = self.position
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": pos.file if pos else None,
            "line": pos.line if pos else None,
            "column": pos.col if pos else None,
            "item_type": self.item_type,
            "item_name": self.item_name,
            "snippet": self.snippet.line if self.snippet else None,
            "caret_column": self.snippet.col if self.snippet else None,
        }


class K8sAuditError(Exception):
    """Root of every error this package raises on purpose (never a bug)."""

    code = "K8SAUDIT_ERROR"


class InputError(K8sAuditError):
    """An input could not be opened or read at all (missing file, permission)."""

    code = "INPUT_ERROR"


class UsageError(K8sAuditError):
    """The request itself is wrong (bad option value, unknown rule name)."""

    code = "USAGE_ERROR"


@dataclass
class ConditionSyntaxError(K8sAuditError):
    """A condition or output text that does not parse.

    ``offset`` is 0-based into the text; ``line``/``col`` are 1-based inside it.
    """

    message: str
    text: str = ""
    offset: int = 0
    line: int = 1
    col: int = 1

    code = "LOAD_ERR_COMPILE_CONDITION"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


@dataclass
class RulesError(K8sAuditError):
    """Rules could not be loaded; carries every diagnostic collected."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    code = "RULES_INVALID"

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        errors = [d for d in self.diagnostics if d.is_error]
        if not errors:
            return "invalid rules"
        first = errors[0].headline()
        more = f" (and {len(errors) - 1} more errors)" if len(errors) > 1 else ""
        return first + more


@dataclass
class ConditionError(K8sAuditError):
    """A condition that parses but cannot be compiled (unknown field, bad operator,
    undefined macro...). ``span`` is the offending node's span (an
    ``engine.nodes.Span``, whose ``origin`` says which text it is in)."""

    message: str
    span: object = None
    code: str = "LOAD_ERR_COMPILE_CONDITION"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message
