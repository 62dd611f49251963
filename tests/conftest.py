"""Shared fixtures: where the read-only conformance corpus lives, and a CLI runner."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

# Keep the parse cache of the test run away from the user's own cache.
os.environ.setdefault("K8SAUDIT_CACHE_DIR", tempfile.mkdtemp(prefix="k8saudit-test-cache-"))

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
CONFORMANCE = SHARED / "conformance"
LEGACY = CONFORMANCE / "falco-legacy"


def need_conformance() -> Path:
    """Skip (cleanly) when the conformance corpus is not next to the checkout."""
    if not LEGACY.is_dir():
        pytest.skip("../shared/conformance is not available (fresh clone)")
    return CONFORMANCE


@pytest.fixture
def conformance() -> Path:
    return need_conformance()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()
