"""docs/architecture.md names every module of the package, and nothing that is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "k8saudit_cli"
DOC = ROOT / "docs" / "architecture.md"

ROW = re.compile(r"^\| `([\w/.]+)` \|", re.MULTILINE)


def documented() -> set[str]:
    return set(ROW.findall(DOC.read_text(encoding="utf-8")))


def modules() -> set[str]:
    return {p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")}


def test_every_module_has_a_row():
    assert sorted(modules() - documented()) == []


def test_every_row_names_a_file_that_exists():
    assert sorted(name for name in documented() if not (PACKAGE / name).exists()) == []


def test_the_check_can_fail():
    assert "no_such_module.py" not in documented()
    assert ROW.findall("| `cli/scan_cmd.py` | x |\n") == ["cli/scan_cmd.py"]
