"""Remember parsed conditions across runs, so a scan does not re-parse rules it has seen.

Rules files rarely change between runs, and parsing them (with the parser
import) is a good part of start-up. Results are kept per condition text in
the user's cache directory (see :mod:`cachedir`), in a file whose name
carries the engine's fingerprint, so any change to the grammar, the parser
or the node classes starts a fresh cache. The file is only read when it
belongs to the current user and is not writable by others; any problem with
it just means parsing again.

Imports go one way: this module uses the parser (only on a miss, so a fully
cached run never imports Lark); the parser knows nothing of this cache.
"""

from __future__ import annotations

import atexit
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Any, cast

from k8saudit_cli.engine.cachedir import cache_dir, fingerprint, lark_cache_path
from k8saudit_cli.engine.nodes import Expr, ListItem

__all__ = ["cache_dir", "lark_cache_path", "parse_condition", "parse_value_items"]

_MAX_ENTRIES = 50_000


class _Store:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Any] = {}
        self.dirty = False
        self.path: Path | None = None
        directory = cache_dir()
        if directory is None:
            return
        self.path = directory / f"conditions-{fingerprint()}.pickle"
        self.entries = _load(self.path)
        atexit.register(self.save)

    def save(self) -> None:
        if not self.dirty or self.path is None:
            return
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".conditions-")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(
                    dict(list(self.entries.items())[-_MAX_ENTRIES:]), fh, pickle.HIGHEST_PROTOCOL
                )
            os.replace(tmp, self.path)
            self.dirty = False
        except OSError:
            pass


def _load(path: Path) -> dict[tuple[str, str], Any]:
    try:
        st = path.stat()
        if st.st_uid != os.getuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return {}
        with path.open("rb") as fh:
            data = pickle.load(fh)
        return data if isinstance(data, dict) else {}
    except Exception:
        return {}


_store: _Store | None = None


def _get() -> _Store:
    global _store
    if _store is None:
        _store = _Store()
    return _store


def _remembered(kind: str, text: str, parser_function: str) -> Any:
    """The cached result for ``text``, parsing (and importing the parser) only on a miss."""
    store = _get()
    key = (kind, text)
    found = store.entries.get(key)
    if found is None:
        from k8saudit_cli.engine import parser

        found = store.entries[key] = getattr(parser, parser_function)(text)
        store.dirty = True
    return found


def parse_condition(text: str) -> Expr:
    """:func:`k8saudit_cli.engine.parser.parse_condition`, remembered across runs."""
    return cast(Expr, _remembered("c", text, "parse_condition"))


def parse_value_items(text: str) -> tuple[ListItem, ...]:
    """:func:`k8saudit_cli.engine.parser.parse_value_items`, remembered across runs."""
    return cast("tuple[ListItem, ...]", _remembered("v", text, "parse_value_items"))
