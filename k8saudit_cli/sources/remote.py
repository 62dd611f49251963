"""Inputs named by URL (``s3://``, ``gs://``, ``az://``, ``file://``...), through fsspec.

A spec with a scheme is a URL: a single object, a prefix (every object
under it, at any depth: object stores have no real directories, and cloud
log exports nest by date) or a glob (``*``, ``?``, ``[``, and ``**`` across
levels). Each backend is an optional package, loaded only when a URL of its
scheme is met; a missing one is named in one line with the extra that
brings it. Credentials are the backend's business (environment, profiles,
instance metadata, fsspec's own configuration), never the command line's.

Everything else in ``sources`` sees a URL as a path: :func:`open_url`
gives a seekable binary file and its size, so compression sniffing, line
reading and byte ranges work unchanged.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from k8saudit_cli.errors import InputError

#: ``scheme://``; two letters at least, so that ``C:\\logs`` is never a URL.
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")
_GLOB_CHARS = frozenset("*?[")
#: Backends that are not part of fsspec: scheme -> (package, k8saudit extra).
BACKENDS = {
    "s3": ("s3fs", "s3"),
    "s3a": ("s3fs", "s3"),
    "gs": ("gcsfs", "gcs"),
    "gcs": ("gcsfs", "gcs"),
    "az": ("adlfs", "azure"),
    "abfs": ("adlfs", "azure"),
    "abfss": ("adlfs", "azure"),
}
#: Bytes fetched per request from an object store: big, so that a range of
#: 64 MiB costs a handful of round trips, not thousands.
BLOCK_SIZE = 8 << 20


def scheme_of(spec: str) -> str | None:
    """The URL scheme of ``spec`` (lower case), or ``None`` for a plain path."""
    m = _URL.match(spec)
    return m.group(1).lower() if m else None


def is_url(spec: str) -> bool:
    return scheme_of(spec) is not None


def missing_backend(scheme: str) -> str:
    """The one-line message for a scheme whose package is not installed."""
    package, extra = BACKENDS.get(scheme, ("fsspec", "dask"))
    return f"{scheme}:// inputs need {package}: pip install 'k8saudit[{extra}]'"


def filesystem(url: str) -> tuple[Any, str]:
    """The fsspec filesystem of ``url`` and the path within it; :class:`InputError`
    when the scheme is unknown or its package is missing."""
    scheme = scheme_of(url) or "file"
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        raise InputError(missing_backend(scheme)) from None
    try:
        fs, path = url_to_fs(url)
    except ImportError:
        raise InputError(missing_backend(scheme)) from None
    except ValueError as exc:
        raise InputError(f"cannot open '{url}': {exc}") from None
    return fs, str(path)


def expand_url(spec: str) -> list[str]:
    """The object URLs a URL spec names, in name order; :class:`InputError` if none."""
    fs, path = filesystem(spec)
    with _explained(spec):
        if _GLOB_CHARS & set(path):
            found = [p for p, info in fs.glob(path, detail=True).items() if _is_file(info)]
            if not found:
                raise InputError(f"no object matches '{spec}'")
            return [fs.unstrip_protocol(p) for p in sorted(found)]
        if fs.isfile(path):
            return [spec]
        if fs.isdir(path):
            return [fs.unstrip_protocol(p) for p in sorted(fs.find(path))]
    raise InputError(f"cannot open '{spec}': no such object or prefix")


def _is_file(info: dict[str, Any]) -> bool:
    return info.get("type") == "file"


@contextmanager
def _explained(spec: str) -> Iterator[None]:
    """A listing that fails (no credentials, no bucket, no network) as one :class:`InputError`."""
    try:
        yield
    except InputError:
        raise
    except Exception as exc:  # every backend has its own exceptions; all mean "cannot list"
        raise InputError(f"cannot open '{spec}': {error_text(exc)}") from None


def error_text(exc: BaseException) -> str:
    """A backend's exception in one line: its message, or its type when it has none."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def open_url(url: str) -> tuple[BinaryIO, int | None]:
    """``url`` opened for reading (seekable) and its size; :class:`OSError` on failure,
    whatever the backend raised, so the caller counts it as it counts a local file."""
    try:
        fs, path = filesystem(url)
        size = fs.size(path)
        fh = fs.open(path, "rb", block_size=BLOCK_SIZE)
    except OSError:
        raise
    except Exception as exc:
        raise OSError(error_text(exc)) from None
    return fh, (int(size) if size is not None else None)


def url_size(url: str) -> int:
    """The size of the object at ``url``, in bytes; :class:`OSError` on failure."""
    try:
        fs, path = filesystem(url)
        return int(fs.size(path) or 0)
    except OSError:
        raise
    except Exception as exc:
        raise OSError(error_text(exc)) from None


def size_of(path: str) -> int:
    """The size of a local file or of the object a URL names."""
    return url_size(path) if is_url(path) else os.path.getsize(path)


def open_binary(path: str) -> BinaryIO:
    """A local file or the object a URL names, opened for reading (seekable, buffered)."""
    if is_url(path):
        return open_url(path)[0]
    return open(path, "rb")
