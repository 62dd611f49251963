"""Run ``k8saudit`` as a real process: into a terminal (a pty), or into a pipe nobody reads.

Click's CliRunner replaces stdout with a buffer, which is never a terminal
and never breaks; these helpers cover what only a real process shows.
"""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def process_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child run: no colour overrides, a wide terminal, UTC."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update({"COLUMNS": "200", "TERM": "xterm", "TZ": "UTC", "PYTHONPATH": str(ROOT)})
    env.update(extra or {})
    return env


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "k8saudit_cli", *args]


def on_terminal(*args: str, env: Mapping[str, str] | None = None) -> tuple[str, int]:
    """stdout on a pseudo-terminal; returns what it showed (newlines as ``\\n``) and the code."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        command(*args),
        stdout=slave,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=process_env(env),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    code = proc.wait(timeout=60)
    return b"".join(chunks).decode().replace("\r\n", "\n"), code


def into_closed_pipe(*args: str, env: Mapping[str, str] | None = None) -> tuple[int, str]:
    """stdout a pipe whose reader is already gone (``| head`` after its line); (code, stderr)."""
    proc = subprocess.Popen(
        command(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
        env=process_env(env),
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    err = proc.stderr.read().decode()
    return proc.wait(timeout=60), err
