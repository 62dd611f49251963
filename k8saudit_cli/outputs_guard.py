"""Check outputs before a run: none may be one of the inputs, each must be writable.

``scan in.jsonl -o in.jsonl`` would truncate the log before reading it.
Files are compared by device and inode, so a symlink or a hard link to an
input is caught as well as the same name; an output inside an input
directory is refused too, since the next scan of that directory would read
it back. Standard output redirected onto an input (``>> in.jsonl``) is
refused as ``cat`` refuses it. An output in a missing or read-only
directory is refused as well, so that a long scan does not end in "cannot
write". The checks only stat, and run before anything is opened for writing.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence

from k8saudit_cli.errors import UsageError
from k8saudit_cli.sources import STDIN

FileId = tuple[int, int]


def _file_id(path: str) -> FileId | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _ids(paths: Iterable[str]) -> dict[FileId, str]:
    """Existing paths by file identity (the first name given for each)."""
    found: dict[FileId, str] = {}
    for path in paths:
        ident = _file_id(path) if path != STDIN else None
        if ident is not None:
            found.setdefault(ident, path)
    return found


def output_conflict(output: str, input_specs: Sequence[str], input_files: Sequence[str]) -> str:
    """Why writing ``output`` would harm an input (``""`` when it would not).

    ``input_specs`` are the inputs as given (directories included),
    ``input_files`` the files they expanded to.
    """
    files = _ids(input_files)
    same = files.get(_file_id(output) or (-1, -1))
    if same is not None:
        return f"'{output}' is the input file '{same}'"
    dirs = _ids(s for s in input_specs if s != STDIN and os.path.isdir(s))
    parent = _file_id(os.path.dirname(os.path.abspath(output)))
    if parent is not None and parent in dirs:
        return f"'{output}' is inside the input directory '{dirs[parent]}'"
    return ""


def unwritable(path: str, replace: bool = False) -> str:
    """Why ``path`` cannot be written (``""`` when, as far as ``stat`` and ``access`` tell,
    it can). ``replace``: a regular file is to be replaced through a new file in its
    directory, so that directory must be writable too."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as exc:  # a symlink loop, a file used as a directory...
        return getattr(exc, "strerror", None) or str(exc)
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            return "Is a directory"
        if not os.access(path, os.W_OK):
            return "Permission denied"
        if not (replace and stat.S_ISREG(st.st_mode)):
            return ""
    folder = os.path.dirname(os.path.realpath(path))
    if not os.path.isdir(folder):
        return f"no such directory '{os.path.dirname(path)}'"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"Permission denied (directory '{folder}')"
    return ""


def check_outputs(
    outputs: Iterable[tuple[str, str | None]],
    input_specs: Sequence[str],
    input_files: Sequence[str],
) -> None:
    """Raise :class:`UsageError` when any ``(option, path)`` output would write over an input.

    A ``None`` path (option not given) and ``-`` (stdout) are skipped.
    """
    for option, path in outputs:
        if not path or path == STDIN:
            continue
        why = output_conflict(path, input_specs, input_files)
        if why:
            raise UsageError(f"{option} {why}: refusing to write over an input")


def stdout_conflict(fd: int, input_files: Sequence[str]) -> str:
    """Why writing to the open descriptor ``fd`` (stdout) would harm an input, else ``""``.

    Only a regular file can be an input; a terminal or a pipe never is.
    """
    try:
        st = os.fstat(fd)
    except (OSError, ValueError):
        return ""
    if not stat.S_ISREG(st.st_mode):
        return ""
    same = _ids(input_files).get((st.st_dev, st.st_ino))
    return f"standard output is the input file '{same}'" if same is not None else ""
