"""Falco's eight priorities: parsing, ordering and the names each output uses."""

from __future__ import annotations

#: Long names, in Falco's numeric order (0 = most severe).
NAMES = ("Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug")
#: Upper-case short names, as the end-of-run report prints them.
SUMMARY_NAMES = ("EMERGENCY", "ALERT", "CRITICAL", "ERROR", "WARNING", "NOTICE", "INFO", "DEBUG")

_BY_NAME = {n.lower(): i for i, n in enumerate(NAMES)}
_BY_NAME["info"] = NAMES.index("Informational")

DEBUG = len(NAMES) - 1


def parse_priority(text: str) -> int | None:
    """Case-insensitive, as Falco 0.32+: the eight names plus ``info``; else ``None``."""
    return _BY_NAME.get(text.strip().lower()) if isinstance(text, str) else None


def name(level: int) -> str:
    """The long name (``Warning``, ``Informational``) used in alerts and JSON."""
    return NAMES[level]


def summary_name(level: int) -> str:
    """The short upper-case name (``WARNING``, ``INFO``) used in the run summary."""
    return SUMMARY_NAMES[level]


CHOICES = (*tuple(n.lower() for n in NAMES), "info")
