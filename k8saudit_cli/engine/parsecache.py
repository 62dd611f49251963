"""Remember parsed conditions across runs, so a scan does not re-parse rules it has seen.

Rules files rarely change between runs, and parsing them (with the parser
import) is a good part of start-up. Results are kept per condition text in
the user's cache directory (``$K8SAUDIT_CACHE_DIR``, else
``$XDG_CACHE_HOME/k8saudit``, else ``~/.cache/k8saudit``), in a file whose
name carries a hash of the grammar and the parser code, so any change to
either starts a fresh cache. ``K8SAUDIT_NO_CACHE=1`` turns it off. The file
is only read when it belongs to the current user and is not writable by
others; any problem with it just means parsing again.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Any

from k8saudit_cli.engine.nodes import Expr, ListItem

_HERE = Path(__file__).resolve().parent
_SOURCES = ("condition.lark", "parser.py", "nodes.py", "parsecache.py")
_MAX_ENTRIES = 50_000


def cache_dir() -> Path | None:
    if os.environ.get("K8SAUDIT_NO_CACHE"):
        return None
    base = os.environ.get("K8SAUDIT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root if os.environ.get("K8SAUDIT_CACHE_DIR") else root / "k8saudit"


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update((_HERE / name).read_bytes())
    return digest.hexdigest()[:16]


class _Store:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], Any] = {}
        self.dirty = False
        self.path: Path | None = None
        directory = cache_dir()
        if directory is None:
            return
        self.path = directory / f"conditions-{_fingerprint()}.pickle"
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


def lark_cache_path() -> str | bool:
    """Where Lark may keep its parser tables (``False``: build them every time)."""
    directory = cache_dir()
    if directory is None:
        return False
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return str(directory / f"lark-{_fingerprint()}.cache")


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
    return _remembered("c", text, "parse_condition")  # type: ignore[no-any-return]


def parse_value_items(text: str) -> tuple[ListItem, ...]:
    """:func:`k8saudit_cli.engine.parser.parse_value_items`, remembered across runs."""
    return _remembered("v", text, "parse_value_items")  # type: ignore[no-any-return]
