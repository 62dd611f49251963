"""Outputs never overwrite inputs (issue 10 item 4): same name, symlink, hard link, directory."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.errors import UsageError
from k8saudit_cli.outputs_guard import check_outputs, output_conflict, stdout_conflict
from tests.clirun import ROOT, command, process_env
from tests.test_scan_cli import AUDIT, RULES


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    shutil.copy(AUDIT, path)
    return path


# ------------------------------------------------------------------ the pure check


def test_same_name_symlink_and_hard_link_are_the_input(log: Path, tmp_path: Path) -> None:
    (tmp_path / "link").symlink_to(log)
    os.link(log, tmp_path / "hard")
    for out in (log, tmp_path / "link", tmp_path / "hard"):
        assert output_conflict(str(out), [str(log)], [str(log)]) == (
            f"'{out}' is the input file '{log}'"
        )


def test_a_new_file_in_an_input_directory_is_refused(log: Path, tmp_path: Path) -> None:
    why = output_conflict(str(tmp_path / "alerts.txt"), [str(tmp_path)], [str(log)])
    assert why == f"'{tmp_path / 'alerts.txt'}' is inside the input directory '{tmp_path}'"


def test_other_paths_stdin_and_stdout_pass(
    log: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "out"
    elsewhere.mkdir()
    check_outputs(
        [("--output", str(elsewhere / "a.txt")), ("--summary-json", "-"), ("--x", None)],
        ["-", str(log)],
        ["-", str(log)],
    )
    with pytest.raises(UsageError, match=r"--summary-json .in\.jsonl. is the input"):
        monkeypatch.chdir(tmp_path)
        check_outputs([("--summary-json", "in.jsonl")], [str(log)], [str(log)])


def test_stdout_onto_an_input_is_caught(log: Path) -> None:
    with open(log, "a") as fh:
        assert (
            stdout_conflict(fh.fileno(), [str(log)]) == f"standard output is the input file '{log}'"
        )
    read, write = os.pipe()
    assert stdout_conflict(write, [str(log)]) == ""
    os.close(read)
    os.close(write)


# ------------------------------------------------------------------ through scan


@pytest.mark.parametrize("option", ["-o", "--summary-json"])
@pytest.mark.parametrize("how", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_scan_refuses_and_leaves_the_input_whole(
    log: Path, tmp_path: Path, option: str, how: str, jobs: str
) -> None:
    target = {"same": log, "symlink": tmp_path / "s", "hardlink": tmp_path / "h"}[how]
    if how == "symlink":
        target.symlink_to(log)
    elif how == "hardlink":
        os.link(log, target)
    before = log.read_bytes()
    result = CliRunner().invoke(
        main, ["scan", str(log), "-r", RULES, "--jobs", jobs, option, str(target)]
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("k8saudit: error: --")
    assert "refusing to write over an input" in result.stderr
    assert log.read_bytes() == before


def test_scan_refuses_a_compressed_input_too(tmp_path: Path) -> None:
    gz = tmp_path / "in.jsonl.gz"
    gz.write_bytes(gzip.compress(Path(AUDIT).read_bytes()))
    before = gz.read_bytes()
    result = CliRunner().invoke(main, ["scan", str(gz), "-r", RULES, "-o", str(gz)])
    assert result.exit_code == 2 and gz.read_bytes() == before


def test_scan_refuses_an_output_inside_an_input_directory(log: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["scan", str(tmp_path), "-r", RULES, "-o", str(tmp_path / "alerts.txt")]
    )
    assert result.exit_code == 2
    assert not (tmp_path / "alerts.txt").exists()


def test_scan_refuses_stdout_appended_to_its_input(log: Path) -> None:
    before = log.read_bytes()
    with open(log, "a") as out:
        proc = subprocess.run(
            command("scan", str(log), "-r", RULES),
            stdout=out,
            stderr=subprocess.PIPE,
            cwd=ROOT,
            env=process_env(),
            timeout=60,
        )
    assert proc.returncode == 2
    assert b"standard output is the input file" in proc.stderr
    assert log.read_bytes() == before


def test_scan_to_another_file_still_works(log: Path, tmp_path: Path) -> None:
    out = tmp_path / "elsewhere" / "alerts.txt"
    out.parent.mkdir()
    result = CliRunner().invoke(main, ["scan", str(log), "-r", RULES, "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "Privileged" in out.read_text()
