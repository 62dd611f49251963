"""Where k8saudit keeps its caches, how it opens them safely, and the fingerprint.

The cache directory is ``$K8SAUDIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/k8saudit``,
else ``~/.cache/k8saudit``; ``K8SAUDIT_NO_CACHE=1`` turns caching off. Cache
file names carry a hash of the engine's grammar and code (every module of this
package), so any change to how conditions parse, or to the nodes they parse
into, starts fresh files instead of reading stale ones.

Those variables survive ``sudo -E``, and the directory may sit on a shared
machine, so the directory is used only when this user owns it and nobody else
can write it (it is created 0700 when missing); otherwise k8saudit warns once
and runs without a cache. Files are then opened relative to the checked
directory's descriptor (so it cannot be swapped for another), with
``O_NOFOLLOW`` (a planted symlink is never followed), read only when they are
regular files of this user that nobody else can write, and written to a fresh
temporary file that is renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from functools import cache
from pathlib import Path

from k8saudit_cli.escape import visible

_HERE = Path(__file__).resolve().parent
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)


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


def _private(st: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else."""
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


@cache
def _warn_once(message: str) -> None:
    sys.stderr.write(f"k8saudit: warning: {visible(message)}\n")


class CacheDir:
    """An open cache directory that passed the checks; files are named relative to it."""

    def __init__(self, fd: int, path: Path) -> None:
        self.fd = fd
        self.path = path

    def read(self, name: str, limit: int) -> bytes | None:
        """The content of a private regular file of at most ``limit`` bytes, else None."""
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK, dir_fd=self.fd)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not (stat.S_ISREG(st.st_mode) and _private(st)) or st.st_size > limit:
                return None
            data = fh.read(limit + 1)
        return data if len(data) <= limit else None

    def write(self, name: str, data: bytes) -> bool:
        """Replace ``name`` by a new file with ``data``, atomically; False when it failed."""
        tmp = f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW
        try:
            fd = os.open(tmp, flags, 0o600, dir_fd=self.fd)
        except OSError:
            return False
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
            return True
        except OSError:
            self.remove(tmp)
            return False

    def names(self) -> list[str]:
        try:
            return os.listdir(self.fd)
        except OSError:
            return []

    def remove(self, name: str) -> None:
        try:
            os.unlink(name, dir_fd=self.fd)
        except OSError:
            pass

    def close(self) -> None:
        os.close(self.fd)


def open_cache_dir() -> CacheDir | None:
    """The cache directory, created 0700 if missing; None (after one warning when it is
    not safe to use) when caching is off or the directory cannot be used."""
    path = cache_dir()
    if path is None:
        return None
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDONLY | _DIRECTORY)
    except OSError:
        return None
    st = os.fstat(fd)
    if stat.S_ISDIR(st.st_mode) and _private(st):
        return CacheDir(fd, path)
    os.close(fd)
    _warn_once(
        f"cache directory {path} is not private (owner uid {st.st_uid}, mode "
        f"{stat.S_IMODE(st.st_mode):04o}); running without a cache"
    )
    return None
