"""Where results go: ``-`` is stdout, outputs are checked before input is read, a refused
run truncates nothing, and ``--summary-json`` is written whole or not at all.

Issue 12 items 4 and 5, issue 10 item 4 (the part about opening outputs), and a
closed stdin as input.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from k8saudit_cli.cli import scan_output as scan_output_module
from k8saudit_cli.cli.scan_output import write_whole
from tests.test_scan_cli import AUDIT, RULES

OLD = "evidence of an earlier run\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def scan(*args: str):
    return run("scan", AUDIT, "-r", RULES, "--no-progress", *args)


@pytest.fixture
def in_tmp(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- '-' is stdout


def test_dash_output_is_stdout(in_tmp):
    result = scan("-o", "-", "--no-summary")
    assert result.exit_code == 0, result.stderr
    assert len(result.stdout.splitlines()) == 6
    assert not (in_tmp / "-").exists()


def test_dash_summary_goes_to_stdout_when_alerts_go_to_a_file(in_tmp):
    result = scan("-o", "alerts.txt", "--summary-json", "-")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["events_detected"] == 6
    assert len((in_tmp / "alerts.txt").read_text().splitlines()) == 6
    assert "Events detected: 6" in result.stderr  # the report stays on stderr
    assert not (in_tmp / "-").exists()


@pytest.mark.parametrize("alerts", [[], ["-o", "-"]])
def test_dash_summary_with_alerts_on_stdout_is_refused_before_the_scan(in_tmp, alerts):
    result = scan(*alerts, "--summary-json", "-")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr == (
        "k8saudit: error: --summary-json -: stdout already carries the alerts; send them to a "
        "file with -o FILE, or the summary to a file\nTry 'k8saudit scan -h' for help.\n"
    )


@pytest.mark.parametrize(
    "command",
    [["extract", AUDIT], ["query", "ka.verb=get", AUDIT], ["stats", "--by", "ka.verb", AUDIT]],
)
def test_forensic_commands_take_dash_as_stdout(in_tmp, command):
    result = run(*command, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout
    assert not (in_tmp / "-").exists()


def test_parquet_to_dash_is_refused(in_tmp):
    result = run("extract", AUDIT, "--format", "parquet", "-o", "-")
    assert result.exit_code == 2
    assert result.stderr == "k8saudit: error: --format parquet writes a file: give -o FILE\n"


# ---------------------------------------------------------------- checked before reading


def test_summary_in_a_missing_directory_fails_before_anything_is_written(in_tmp):
    result = scan("--summary-json", str(in_tmp / "nope" / "s.json"), "-o", "alerts.txt")
    assert result.exit_code == 2
    assert result.stderr == (
        f"k8saudit: error: --summary-json: cannot write '{in_tmp / 'nope' / 's.json'}': "
        f"no such directory '{in_tmp / 'nope'}'\n"
    )
    assert not (in_tmp / "alerts.txt").exists()


def test_output_under_a_file_fails_before_the_scan(in_tmp):
    (in_tmp / "plain").write_text("")
    result = scan("-o", "plain/alerts.txt")
    assert result.exit_code == 2
    assert result.stderr == (
        "k8saudit: error: --output: cannot write 'plain/alerts.txt': Not a directory\n"
    )
    assert "Events detected" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_summary_in_a_read_only_directory_fails_before_the_scan(in_tmp):
    folder = in_tmp / "ro"
    folder.mkdir()
    (folder / "s.json").write_text(OLD)
    folder.chmod(0o555)
    try:
        result = scan("--summary-json", str(folder / "s.json"), "-o", "alerts.txt")
    finally:
        folder.chmod(0o755)
    assert result.exit_code == 2
    assert "Permission denied (directory" in result.stderr
    assert not (in_tmp / "alerts.txt").exists()


@pytest.mark.parametrize(
    "refusal",
    [
        ["--jobs", "foo"],  # checked after the rules were loaded: it used to truncate -o
        ["--summary-json", "/nonexistent/s.json"],
        ["--summary-json", "-", "-o", "-"],  # the last -o wins: alerts and summary on stdout
        ["--since", "2030-01-01", "--until", "2020-01-01"],
        ["-r", "/nonexistent/rules.yaml"],
    ],
)
def test_a_refused_run_truncates_nothing(in_tmp, refusal):
    alerts = in_tmp / "alerts.txt"
    alerts.write_text(OLD)
    result = scan("-o", str(alerts), *refusal)
    assert result.exit_code == 2, result.stderr
    assert alerts.read_text() == OLD


def test_a_refused_run_leaves_the_summary_alone(in_tmp):
    summary = in_tmp / "s.json"
    summary.write_text(OLD)
    assert scan("--summary-json", str(summary), "--jobs", "0").exit_code == 2
    assert summary.read_text() == OLD


# ---------------------------------------------------------------- --summary-json whole


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_summary_replaces_the_old_one_whole(in_tmp):
    summary = in_tmp / "s.json"
    summary.write_text(OLD)
    summary.chmod(0o640)
    assert scan("--summary-json", str(summary), "--no-summary").exit_code == 0
    assert json.loads(summary.read_text())["events_detected"] == 6
    assert stat.S_IMODE(summary.stat().st_mode) == 0o640  # the old file's mode kept
    assert temporaries(in_tmp) == []


def test_a_new_summary_gets_the_mode_open_would_give(in_tmp):
    mask = os.umask(0o027)
    try:
        assert scan("--summary-json", "s.json", "--no-summary").exit_code == 0
    finally:
        os.umask(mask)
    assert stat.S_IMODE((in_tmp / "s.json").stat().st_mode) == 0o640


def test_a_failed_summary_write_leaves_the_old_file_and_no_temporary(in_tmp, monkeypatch):
    summary = in_tmp / "s.json"
    summary.write_text(OLD)

    def full_disk(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(scan_output_module.os, "fsync", full_disk)
    result = scan("--summary-json", str(summary), "--no-summary")
    assert result.exit_code == 2
    assert result.stderr.endswith(
        f"k8saudit: error: cannot write '{summary}': No space left on device\n"
    )
    assert summary.read_text() == OLD
    assert temporaries(in_tmp) == []


def test_an_interrupted_summary_write_leaves_the_old_file_and_no_temporary(in_tmp, monkeypatch):
    summary = in_tmp / "s.json"
    summary.write_text(OLD)

    def interrupted(src: str, dst: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(scan_output_module.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_whole(str(summary), b"{}\n")
    assert summary.read_text() == OLD
    assert temporaries(in_tmp) == []


def test_summary_through_a_symlink_replaces_its_target(in_tmp):
    (in_tmp / "real").mkdir()
    target = in_tmp / "real" / "s.json"
    target.write_text(OLD)
    (in_tmp / "link.json").symlink_to(target)
    assert scan("--summary-json", "link.json", "--no-summary").exit_code == 0
    assert (in_tmp / "link.json").is_symlink()
    assert json.loads(target.read_text())["events_detected"] == 6


def test_a_device_is_written_not_replaced(tmp_path):
    # /dev/null must stay a device (root could otherwise replace it with a file)
    before = os.stat("/dev/null")
    write_whole("/dev/null", b"{}\n")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_a_fifo_is_written_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_whole(str(fifo), b'{"a": 1}\n')
    out, _ = reader.communicate(timeout=30)
    assert out == b'{"a": 1}\n'
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# ---------------------------------------------------------------- closed stdin


@pytest.mark.parametrize(
    "command", [["scan", "-"], ["query", "ka.verb=get", "-"], ["extract", "-"]]
)
def test_closed_stdin_as_input_is_refused(command):
    proc = subprocess.run(
        [sys.executable, "-m", "k8saudit_cli", *command],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(0),
    )
    assert (proc.returncode, proc.stderr) == (
        2,
        "k8saudit: error: cannot read '<stdin>': stdin is closed\n",
    )
    assert proc.stdout == ""
