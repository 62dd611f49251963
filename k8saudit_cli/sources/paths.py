"""Command-line inputs to paths, and what kind of file each path is.

A spec is a file, a directory (its regular files), a glob, or ``-`` for
stdin. Everything that cannot be found is reported before any event is
read, each with its real cause (a symlink loop is not "no such file").
Whether a path is a regular file decides whether a scan may split it
across processes: pipes, FIFOs, process substitutions and devices are read
once, front to back, by one process.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
from collections.abc import Sequence

from k8saudit_cli.errors import InputError
from k8saudit_cli.sources.remote import expand_url, is_url

STDIN = "-"
_GLOB_CHARS = frozenset("*?[")


def expand_inputs(specs: Sequence[str]) -> list[str]:
    """Turn command-line inputs into an ordered list of readable paths.

    A directory gives its regular files (not recursing) in name order; a
    pattern with ``* ? [`` gives its matches in name order; ``-`` is stdin.
    Raises :class:`InputError` for a path that does not exist or a pattern
    that matches nothing, before any event is read.
    """
    paths: list[str] = []
    for spec in specs:
        if spec == STDIN:
            paths.append(STDIN)
            continue
        if is_url(spec):  # s3://, gs://, az://, file://...: see sources/remote.py
            paths.extend(expand_url(spec))
            continue
        try:
            st = os.stat(spec)
        except OSError as exc:
            if exc.errno == errno.ENOENT and _GLOB_CHARS & set(spec):
                paths.extend(_glob(spec))
                continue
            raise InputError(f"cannot open '{spec}': {_why(spec, exc)}") from None
        if stat.S_ISDIR(st.st_mode):
            paths.extend(_dir_files(spec))
        elif not os.access(spec, os.R_OK):
            raise InputError(f"cannot open '{spec}': permission denied")
        else:
            paths.append(spec)
    return paths


def _why(spec: str, exc: OSError) -> str:
    """The cause of a failed ``stat``, in words a user can act on."""
    if exc.errno == errno.ELOOP:
        return "symlink loop (too many levels of symbolic links)"
    if exc.errno == errno.ENOENT and os.path.islink(spec):
        return f"broken symlink (its target '{os.readlink(spec)}' does not exist)"
    if exc.errno == errno.ENOENT:
        return "no such file or directory"
    return exc.strerror or str(exc)


def _glob(spec: str) -> list[str]:
    matches = sorted(p for p in glob.glob(spec) if os.path.isfile(p))
    if not matches:
        raise InputError(f"no file matches '{spec}'")
    return matches


def _dir_files(path: str) -> list[str]:
    try:
        names = sorted(os.listdir(path))
    except OSError as exc:
        raise InputError(f"cannot read directory '{path}': {exc.strerror}") from None
    return [os.path.join(path, n) for n in names if os.path.isfile(os.path.join(path, n))]


def is_regular_file(path: str) -> bool:
    """Whether ``path`` is a regular file (following symlinks); stdin never is."""
    if path == STDIN:
        return False
    if is_url(path):  # an object: sized and seekable, so it can be split too
        return True
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def needs_single_process(paths: Sequence[str]) -> bool:
    """Whether some input can only be read once, front to back (stdin, a pipe, a FIFO,
    a process substitution, a device): then the whole scan runs in one process."""
    return not all(is_regular_file(p) for p in paths)
