"""Where k8saudit keeps its caches, and the fingerprint that ties them to this code.

The user's cache directory is ``$K8SAUDIT_CACHE_DIR``, else
``$XDG_CACHE_HOME/k8saudit``, else ``~/.cache/k8saudit``;
``K8SAUDIT_NO_CACHE=1`` turns caching off. Cache file names carry a hash
of the engine's grammar and code (every module of this package), so any
change to how conditions parse, or to the shape of the nodes they parse
into, starts fresh files instead of reading stale ones.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is turned off."""
    if os.environ.get("K8SAUDIT_NO_CACHE"):
        return None
    base = os.environ.get("K8SAUDIT_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    root = Path(base) if base else Path.home() / ".cache"
    return root if os.environ.get("K8SAUDIT_CACHE_DIR") else root / "k8saudit"


def fingerprint_sources() -> list[Path]:
    """The files whose content the fingerprint covers: the grammar and every engine module."""
    return sorted([_HERE / "condition.lark", *_HERE.glob("*.py")])


@cache
def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in fingerprint_sources():
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def lark_cache_path() -> str | bool:
    """Where Lark may keep its parser tables (``False``: build them every time)."""
    directory = cache_dir()
    if directory is None:
        return False
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError:
        return False
    return str(directory / f"lark-{fingerprint()}.cache")
