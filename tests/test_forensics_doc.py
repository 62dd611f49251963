"""docs/forensics.md works as written: every ``console`` block's commands give the output shown.

A block holds ``$ command`` lines, each followed by the output it prints
(stdout, and stderr where the command says ``2>&1``). A command may go on
over lines ending in ``\\``, and may carry a here-document up to its end
marker. Commands run in bash from the repository root, with this
interpreter's ``bin`` first on PATH (so ``k8saudit`` and ``python3`` are
the ones under test) and ``TZ=UTC``; ``/tmp/`` in a command is replaced by
a private temporary directory. ``UPDATE_GOLDEN=1`` writes the outputs back
into the document (review the diff).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "forensics.md"
BLOCK = re.compile(r"^```console\n(.*?)^```\n", re.M | re.S)
HEREDOC = re.compile(r"<<-?'?(\w+)'?")


@dataclass
class Step:
    command: str
    expected: str


def parse_block(body: str) -> list[Step]:
    """The ``$ command`` / output pairs of one console block."""
    steps: list[Step] = []
    lines = body.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        assert line.startswith("$ "), f"output before any command in a block: {line!r}"
        command = [line[2:]]
        i += 1
        while command[-1].rstrip("\n").endswith("\\") and i < len(lines):
            command.append(lines[i])
            i += 1
        marker = HEREDOC.search(command[0])
        if marker:
            while i < len(lines) and lines[i].strip() != marker.group(1):
                command.append(lines[i])
                i += 1
            command.append(lines[i])
            i += 1
        output = []
        while i < len(lines) and not lines[i].startswith("$ "):
            output.append(lines[i])
            i += 1
        steps.append(Step("".join(command), "".join(output)))
    return steps


def doc_steps(text: str) -> list[list[Step]]:
    return [parse_block(m.group(1)) for m in BLOCK.finditer(text)]


def run_step(step: Step, tmp: Path) -> str:
    env = dict(os.environ, TZ="UTC", COLUMNS="120", FALCO_HOSTNAME="host")
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = step.command.replace("/tmp/", f"{tmp}/")
    done = subprocess.run(
        ["bash", "-c", "set -o pipefail\n" + command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode in (0, 2), f"{step.command}: exit {done.returncode}\n{done.stderr}"
    return done.stdout


def test_the_parser_reads_commands_outputs_and_heredocs():
    body = "$ echo a \\\n  b\na b\n$ python3 - <<'EOF'\nprint(1)\nEOF\n1\n$ true\n"
    assert parse_block(body) == [
        Step("echo a \\\n  b\n", "a b\n"),
        Step("python3 - <<'EOF'\nprint(1)\nEOF\n", "1\n"),
        Step("true\n", ""),
    ]


def test_the_walkthrough_gives_the_output_it_shows(tmp_path):
    pytest.importorskip("pyarrow")  # the Parquet step (the test extra has both)
    pytest.importorskip("duckdb")
    text = DOC.read_text()
    blocks = doc_steps(text)
    assert sum(len(b) for b in blocks) >= 10
    if os.environ.get("UPDATE_GOLDEN"):
        DOC.write_text(_rewritten(text, tmp_path))
        return
    for block in blocks:
        for step in block:
            assert run_step(step, tmp_path) == step.expected, step.command


def _rewritten(text: str, tmp: Path) -> str:
    def block(m: re.Match[str]) -> str:
        steps = parse_block(m.group(1))
        body = "".join(f"$ {s.command}{run_step(s, tmp)}" for s in steps)
        return f"```console\n{body}```\n"

    return BLOCK.sub(block, text)


@pytest.mark.skipif(not DOC.exists(), reason="no walk-through")
def test_every_command_of_the_walkthrough_is_a_k8saudit_command_or_a_tool():
    tools = {"k8saudit", "python3", "cut", "head", "wc", "sort"}
    for block in doc_steps(DOC.read_text()):
        for step in block:
            for part in re.split(r"\|", step.command.split("<<")[0]):
                assert part.split()[0] in tools, step.command
