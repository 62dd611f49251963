"""The persistent parse cache: same ASTs as the parser, survives runs, shrugs off bad files."""

from __future__ import annotations

import importlib
import os
import pickle

import pytest

from k8saudit_cli.engine import cachedir, parsecache
from k8saudit_cli.engine.parser import parse_condition as parse_direct
from k8saudit_cli.errors import ConditionSyntaxError


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A parse cache module bound to an empty cache directory."""
    monkeypatch.setenv("K8SAUDIT_CACHE_DIR", str(tmp_path))
    monkeypatch.delenv("K8SAUDIT_NO_CACHE", raising=False)
    module = importlib.reload(parsecache)
    yield module, tmp_path
    importlib.reload(parsecache)


TEXT = 'ka.verb in (create, update) and not ka.user.name startswith "system:"'


def test_cached_result_equals_the_parser(fresh):
    cache, _ = fresh
    assert cache.parse_condition(TEXT) == parse_direct(TEXT)
    assert cache.parse_condition(TEXT) is cache.parse_condition(TEXT)


def test_results_survive_a_new_process(fresh):
    cache, directory = fresh
    cache.parse_condition(TEXT)
    cache._get().save()
    files = list(directory.glob("conditions-*.pickle"))
    assert len(files) == 1
    stored = pickle.loads(files[0].read_bytes())
    assert stored[("c", TEXT)] == parse_direct(TEXT)
    reloaded = importlib.reload(parsecache)
    assert reloaded._get().entries[("c", TEXT)] == parse_direct(TEXT)


def test_syntax_errors_are_raised_every_time_and_not_stored(fresh):
    cache, _ = fresh
    for _ in range(2):
        with pytest.raises(ConditionSyntaxError):
            cache.parse_condition("ka.verb = (")
    assert not any(k[1] == "ka.verb = (" for k in cache._get().entries)


def test_a_corrupt_or_foreign_cache_file_is_ignored(fresh):
    _cache, directory = fresh
    path = directory / f"conditions-{cachedir.fingerprint()}.pickle"
    path.write_bytes(b"not a pickle")
    assert importlib.reload(parsecache).parse_condition(TEXT) == parse_direct(TEXT)
    path.write_bytes(pickle.dumps({("c", TEXT): "poisoned"}))
    os.chmod(path, 0o666)  # writable by others: never trusted
    assert importlib.reload(parsecache).parse_condition(TEXT) == parse_direct(TEXT)


def test_no_cache_switch(tmp_path, monkeypatch):
    monkeypatch.setenv("K8SAUDIT_NO_CACHE", "1")
    assert parsecache.cache_dir() is None
    assert parsecache.lark_cache_path() is False
