"""``--cluster`` mistakes, each one line and exit 2, before any cluster is started."""

from __future__ import annotations

import importlib
import sys

import pytest
from click.testing import CliRunner

from k8saudit_cli.cli import main
from tests.test_scan_cli import AUDIT


def run(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("command", [["scan"], ["extract"], ["stats", "--by", "ka.verb"]])
def test_without_the_dask_extra_the_error_names_it(monkeypatch, command):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed fails
    result = run(*command, AUDIT, "--cluster", "local:2")
    assert result.exit_code == 2
    assert result.output == (
        "k8saudit: error: --cluster needs dask.distributed: pip install 'k8saudit[dask]'\n"
    )


def test_query_without_the_dask_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    result = run("query", "ka.verb=get", AUDIT, "--cluster", "tcp://127.0.0.1:1")
    assert result.exit_code == 2 and "pip install 'k8saudit[dask]'" in result.output


def test_local_needs_a_number_of_workers():
    pytest.importorskip("distributed")
    result = run("scan", AUDIT, "--cluster", "local:0")
    assert result.exit_code == 2
    assert result.output == (
        "k8saudit: error: --cluster local:N needs a number of workers, not 'local:0'\n"
    )


def test_an_unreachable_scheduler_is_one_line(monkeypatch):
    pytest.importorskip("distributed")
    connect_module = importlib.import_module("k8saudit_cli.cluster.connect")

    monkeypatch.setattr(connect_module, "CONNECT_TIMEOUT", 1)
    result = run("scan", AUDIT, "--cluster", "tcp://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.output.startswith("k8saudit: error: cannot reach the Dask scheduler ")
    assert result.output.count("\n") == 1


@pytest.mark.parametrize("command", [["scan", "--no-summary"], ["query", "ka.verb=get"]])
def test_stdin_keeps_the_command_here_with_a_warning(command):
    data = open(AUDIT, "rb").read()
    here = CliRunner().invoke(main, [*command, "-"], input=data)
    result = CliRunner().invoke(main, [*command, "-", "--cluster", "local:2"], input=data)
    assert result.exit_code == here.exit_code == 0
    assert result.stdout == here.stdout and here.stdout
    warning = (
        "k8saudit: warning: --cluster needs files or URLs; scanning here (a pipe is read once)\n"
    )
    assert result.stderr == warning + here.stderr
