"""Remember parsed conditions across runs, so a scan does not re-parse rules it has seen.

Rules files rarely change between runs, and parsing them (with the parser
import) is a good part of start-up. Results are kept per condition text in
one JSON file of the cache directory (``conditions-<fingerprint>.json``, see
:mod:`cachedir` for how the directory and its files are checked). The file
holds plain data (:mod:`nodecodec`), never a pickle: whoever could write it
could at worst describe a wrong condition, never run code.

The cache is bounded: a condition longer than :data:`MAX_TEXT` is never
stored, and the file keeps at most :data:`MAX_ENTRIES` entries and
:data:`MAX_BYTES` bytes, dropping first the entries this run did not use.
Files of other fingerprints (other versions) are pruned to the newest few.
Any problem with the file just means parsing again.

Imports go one way: this module uses the parser (only on a miss, so a fully
cached run never imports Lark); the parser knows nothing of this cache.
"""

from __future__ import annotations

import atexit
import os
import re
import time
from typing import Any, cast

import orjson

from k8saudit_cli.engine import nodecodec
from k8saudit_cli.engine.cachedir import CacheDir, fingerprint, open_cache_dir
from k8saudit_cli.engine.nodes import Expr, ListItem

__all__ = ["parse_condition", "parse_value_items"]

FORMAT = 1
#: Longest condition text worth remembering (in characters).
MAX_TEXT = 64 << 10
#: Bounds of the cache file.
MAX_ENTRIES = 8192
MAX_BYTES = 2 << 20
#: Cache files of other fingerprints kept (newest first); older ones are removed.
KEEP_OTHER_VERSIONS = 2
#: Left behind by an interrupted writer after this long.
STALE_TEMP_SECONDS = 3600

Key = tuple[str, str]


class _Store:
    def __init__(self) -> None:
        self.entries: dict[Key, Any] = {}
        self.raw: dict[Key, Any] = {}  # read from the file, decoded on first use
        self.used: dict[Key, None] = {}  # in order of first use in this run
        self.dirty = False
        self.name = f"conditions-{fingerprint()}.json"
        self.directory: CacheDir | None = open_cache_dir()
        if self.directory is not None:
            self.raw = _load(self.directory, self.name)
            atexit.register(self.save)

    def get(self, key: Key) -> Any:
        found = self.entries.get(key)
        if found is None and key in self.raw:
            try:
                found = self.entries[key] = nodecodec.decode(self.raw.pop(key))
            except (nodecodec.CodecError, RecursionError):  # a damaged file: parse again
                found = None
        if found is not None:
            self.used[key] = None
        return found

    def put(self, key: Key, value: Any) -> None:
        self.entries[key] = value
        self.used[key] = None
        if len(key[1]) <= MAX_TEXT:
            self.dirty = True

    def save(self) -> None:
        if not self.dirty or self.directory is None:
            return
        self.directory.write(self.name, _file_bytes(self._rows()))
        _prune(self.directory, self.name)
        self.dirty = False

    def _rows(self) -> list[bytes]:
        """Encoded entries to keep, the least recently used first."""
        rows: dict[Key, bytes] = {}
        for key, data in self.raw.items():
            if key not in self.used:
                rows[key] = orjson.dumps([*key, data])
        for key in self.used:
            value = self.entries.get(key)
            if value is not None and len(key[1]) <= MAX_TEXT:
                try:
                    rows[key] = orjson.dumps([*key, nodecodec.encode(value)])
                except nodecodec.CodecError:
                    continue
        return _newest_within_bounds(list(rows.values()))


def _newest_within_bounds(rows: list[bytes]) -> list[bytes]:
    """The last rows (the most recently used) that fit :data:`MAX_ENTRIES` and
    :data:`MAX_BYTES`; a single row too big for the file is never kept."""
    kept: list[bytes] = []
    size = 64
    for row in reversed(rows):
        if len(kept) >= MAX_ENTRIES or size + len(row) + 1 > MAX_BYTES:
            continue
        kept.append(row)
        size += len(row) + 1
    kept.reverse()
    return kept


def _file_bytes(rows: list[bytes]) -> bytes:
    return b'{"format":%d,"entries":[' % FORMAT + b",".join(rows) + b"]}"


def _load(directory: CacheDir, name: str) -> dict[Key, Any]:
    """Entries of the cache file, not yet decoded; empty when it is absent or not ours."""
    data = directory.read(name, MAX_BYTES)
    if data is None:
        return {}
    try:
        doc = orjson.loads(data)
        if doc.get("format") != FORMAT:
            return {}
        return {(kind, text): node for kind, text, node in doc["entries"]}
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError, ValueError):
        return {}


#: Names this module (or an older release) writes, and nothing else: the directory may be
#: one the user also keeps other files in.
_OURS = {
    "current": r"conditions-[0-9a-f]{16}\.json",
    "legacy": r"lark-[0-9a-f]{16}\.cache|conditions-[0-9a-f]{16}\.pickle",
    "temporary": r"\.conditions-[0-9a-f]{16}\.json\.[0-9]+\.[0-9a-f]{8}\.tmp",
}


def _prune(directory: CacheDir, current: str) -> None:
    """Remove older versions' cache files (beyond the newest few), the pickles of
    releases before this format, and temporary files an interrupted run left."""
    others: list[tuple[float, str]] = []
    now = time.time()
    for name in directory.names():
        kind = next((k for k, rx in _OURS.items() if re.fullmatch(rx, name)), None)
        if kind is None or name == current:
            continue
        try:
            st = os.stat(name, dir_fd=directory.fd, follow_symlinks=False)
        except OSError:
            continue
        if kind == "current":
            others.append((st.st_mtime, name))
        elif kind == "legacy" or now - st.st_mtime > STALE_TEMP_SECONDS:
            directory.remove(name)
    for _, name in sorted(others, reverse=True)[KEEP_OTHER_VERSIONS:]:
        directory.remove(name)


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
    found = store.get(key)
    if found is None:
        from k8saudit_cli.engine import parser

        found = getattr(parser, parser_function)(text)
        store.put(key, found)
    return found


def parse_condition(text: str) -> Expr:
    """:func:`k8saudit_cli.engine.parser.parse_condition`, remembered across runs."""
    return cast(Expr, _remembered("c", text, "parse_condition"))


def parse_value_items(text: str) -> tuple[ListItem, ...]:
    """:func:`k8saudit_cli.engine.parser.parse_value_items`, remembered across runs."""
    return cast("tuple[ListItem, ...]", _remembered("v", text, "parse_value_items"))
