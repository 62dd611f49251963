"""The wheel ships every subpackage and data file the code needs.

Tests run against the source tree, so a package missing from pyproject.toml
would only show up for users of ``pip install .``; this test reads the
declaration and compares it with the tree.
"""

from __future__ import annotations

from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+; the declaration is the same on 3.10

ROOT = Path(__file__).resolve().parent.parent


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_declared():
    declared = set(setuptools_config()["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "k8saudit_cli").rglob("__init__.py")
    }
    assert on_disk - declared == set()


def test_data_files_are_declared():
    config = setuptools_config()
    assert config["package-dir"]["k8saudit_cli.default_rules"] == "rules"
    assert "k8saudit_cli.default_rules" in config["packages"]
    assert "*.yaml" in config["package-data"]["k8saudit_cli.default_rules"]
    assert "*.lark" in config["package-data"]["k8saudit_cli.engine"]
    assert (ROOT / "rules" / "k8s_audit_rules.yaml").is_file()
    assert (ROOT / "rules" / "k8s_audit_aggregations.yaml").is_file()
    assert (ROOT / "k8saudit_cli" / "engine" / "condition.lark").is_file()


def test_console_script_points_at_the_cli():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"k8saudit": "k8saudit_cli.cli:main"}
