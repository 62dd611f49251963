"""The persistent parse cache: same ASTs as the parser, survives runs, shrugs off bad files,
never runs code from a file, and stays bounded.

Tests run as root in CI; "another user" is uid 65534 (nobody), given files and
directories made here with ``os.chown``.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from k8saudit_cli.engine import cachedir, nodecodec, parsecache
from k8saudit_cli.engine.parser import parse_condition as parse_direct
from k8saudit_cli.errors import ConditionSyntaxError

NOBODY = 65534
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@pytest.fixture
def fresh(tmp_path, monkeypatch):
    """A parse cache module bound to an empty cache directory."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("K8SAUDIT_CACHE_DIR", str(directory))
    monkeypatch.delenv("K8SAUDIT_NO_CACHE", raising=False)
    module = importlib.reload(parsecache)
    yield module, directory
    importlib.reload(parsecache)


TEXT = 'ka.verb in (create, update) and not ka.user.name startswith "system:"'
OTHER = "ka.verb = delete"


def cache_file(directory: Path) -> Path:
    return directory / f"conditions-{cachedir.fingerprint()}.json"


def stored(directory: Path) -> dict[tuple[str, str], object]:
    doc = json.loads(cache_file(directory).read_text())
    return {(kind, text): nodecodec.decode(node) for kind, text, node in doc["entries"]}


def test_cached_result_equals_the_parser(fresh):
    cache, _ = fresh
    assert cache.parse_condition(TEXT) == parse_direct(TEXT)
    assert cache.parse_condition(TEXT) is cache.parse_condition(TEXT)


def test_results_survive_a_new_process(fresh):
    cache, directory = fresh
    cache.parse_condition(TEXT)
    cache._get().save()
    assert stored(directory) == {("c", TEXT): parse_direct(TEXT)}
    reloaded = importlib.reload(parsecache)
    assert reloaded._get().get(("c", TEXT)) == parse_direct(TEXT)


def test_spans_survive_too(fresh):
    cache, _directory = fresh
    cache.parse_condition(TEXT)
    cache._get().save()
    again = importlib.reload(parsecache).parse_condition(TEXT)
    assert repr(again) == repr(parse_direct(TEXT))
    assert again.items[1].span == parse_direct(TEXT).items[1].span


def test_syntax_errors_are_raised_every_time_and_not_stored(fresh):
    cache, _ = fresh
    for _ in range(2):
        with pytest.raises(ConditionSyntaxError):
            cache.parse_condition("ka.verb = (")
    assert not any(k[1] == "ka.verb = (" for k in cache._get().entries)


def test_a_corrupt_or_writable_by_others_cache_file_is_ignored(fresh):
    _cache, directory = fresh
    directory.mkdir(mode=0o700)
    path = cache_file(directory)
    path.write_bytes(b"not json")
    assert importlib.reload(parsecache).parse_condition(TEXT) == parse_direct(TEXT)
    poisoned = {"format": 1, "entries": [["c", TEXT, nodecodec.encode(parse_direct(OTHER))]]}
    path.write_text(json.dumps(poisoned))
    os.chmod(path, 0o666)  # writable by others: never trusted
    assert importlib.reload(parsecache).parse_condition(TEXT) == parse_direct(TEXT)


@as_root
def test_a_cache_file_of_another_user_is_ignored(fresh):
    _cache, directory = fresh
    directory.mkdir(mode=0o700)
    path = cache_file(directory)
    poisoned = {"format": 1, "entries": [["c", TEXT, nodecodec.encode(parse_direct(OTHER))]]}
    path.write_text(json.dumps(poisoned))
    os.chmod(path, 0o600)
    os.chown(path, NOBODY, NOBODY)
    assert importlib.reload(parsecache).parse_condition(TEXT) == parse_direct(TEXT)


def test_no_cache_switch(monkeypatch):
    monkeypatch.setenv("K8SAUDIT_NO_CACHE", "1")
    assert cachedir.cache_dir() is None
    assert cachedir.open_cache_dir() is None


def test_the_directory_is_created_private(fresh):
    cache, directory = fresh
    cache.parse_condition(TEXT)
    cache._get().save()
    assert (directory.stat().st_mode & 0o777) == 0o700
    assert (cache_file(directory).stat().st_mode & 0o777) == 0o600


# ---------------------------------------------------------------- as another user would attack


def run_load(directory: Path, extra: str = "") -> subprocess.CompletedProcess[str]:
    """Load the default rules (conditions parsed, the parser built) in a fresh process."""
    script = (
        "from k8saudit_cli.ruleset import load_rules\n"
        "from k8saudit_cli.ruleset.defaults import default_rules_path\n"
        "from k8saudit_cli.ruleset import load_texts\n"
        "assert load_rules([default_rules_path()]).ok\n"
        "rs = load_texts([('x.yaml', '- macro: m\\n  condition: ka.verb = frobnicate\\n')])\n"
        "assert not rs.errors, rs.errors\n" + extra
    )
    env = {**os.environ, "K8SAUDIT_CACHE_DIR": str(directory)}
    env.pop("K8SAUDIT_NO_CACHE", None)
    return subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )


class Payload:
    """Unpickling this creates ``marker``: proof that a file was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_nothing_is_ever_unpickled(tmp_path):
    """The old cache names (Lark's grammar cache, the conditions pickle) hold code."""
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    marker = tmp_path / "code-ran"
    evil = pickle.dumps(Payload(marker))
    fp = cachedir.fingerprint()
    (directory / f"lark-{fp}.cache").write_bytes(b"0" * 64 + b"\n" + evil)
    (directory / f"conditions-{fp}.pickle").write_bytes(evil)
    for name in os.listdir(directory):
        os.chmod(directory / name, 0o600)
    run_load(directory)
    assert not marker.exists()


@as_root
@pytest.mark.parametrize("how", ["owner", "mode 0777", "mode 0770"])
def test_a_directory_others_can_write_is_refused_with_one_warning(tmp_path, how):
    directory = tmp_path / "cache"
    directory.mkdir()
    if how == "owner":
        os.chmod(directory, 0o700)
        os.chown(directory, NOBODY, NOBODY)
    else:
        os.chmod(directory, int(how.split()[1], 8))
    result = run_load(directory)
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1, result.stderr
    assert "not private" in warnings[0] and "running without a cache" in warnings[0]
    assert os.listdir(directory) == []


@as_root
def test_a_planted_symlink_never_makes_us_write_elsewhere(tmp_path):
    """Another user's 0777 directory, with links at every cache file name: refused."""
    directory = tmp_path / "cache"
    directory.mkdir()
    os.chmod(directory, 0o777)
    victim = tmp_path / "victim"
    victim.write_text("precious")
    fp = cachedir.fingerprint()
    for name in (f"lark-{fp}.cache", f"conditions-{fp}.pickle", f"conditions-{fp}.json"):
        os.symlink(victim, directory / name)
        os.lchown(directory / name, NOBODY, NOBODY)
    os.chown(directory, NOBODY, NOBODY)
    run_load(directory)
    assert victim.read_text() == "precious"


def test_a_symlink_in_our_own_directory_is_neither_read_nor_written_through(tmp_path):
    directory = tmp_path / "cache"
    directory.mkdir(mode=0o700)
    victim = tmp_path / "victim.json"
    poisoned = {
        "format": 1,
        "entries": [["c", "ka.verb = get", nodecodec.encode(parse_direct(OTHER))]],
    }
    victim.write_text(json.dumps(poisoned))
    os.chmod(victim, 0o600)
    before = victim.read_text()
    os.symlink(victim, cache_file(directory))
    check = (
        "from k8saudit_cli.engine.parsecache import parse_condition\n"
        "assert parse_condition('ka.verb = get').value.text == 'get'\n"
    )
    run_load(directory, check)
    assert victim.read_text() == before
    assert not cache_file(directory).is_symlink()  # replaced by a file of ours


# ---------------------------------------------------------------- bounds


def test_a_huge_condition_is_not_stored(fresh):
    cache, directory = fresh
    huge = "ka.verb in (" + ", ".join(f"v{i}" for i in range(20_000)) + ")"
    assert len(huge) > parsecache.MAX_TEXT
    cache.parse_condition(huge)
    cache.parse_condition(TEXT)
    cache._get().save()
    assert set(stored(directory)) == {("c", TEXT)}


def test_entry_count_and_size_are_bounded_keeping_the_recently_used(fresh, monkeypatch):
    cache, directory = fresh
    monkeypatch.setattr(cache, "MAX_ENTRIES", 5)
    for i in range(10):
        cache.parse_condition(f"ka.verb = v{i}")
    cache._get().save()
    assert set(stored(directory)) == {("c", f"ka.verb = v{i}") for i in range(5, 10)}
    # A later run that uses v0 again keeps it; the entries it did not use go first.
    again = importlib.reload(parsecache)
    monkeypatch.setattr(again, "MAX_ENTRIES", 5)
    again.parse_condition("ka.verb = v0")
    again.parse_condition("ka.verb = new")
    again._get().save()
    assert set(stored(directory)) == {("c", f"ka.verb = v{i}") for i in (7, 8, 9, 0)} | {
        ("c", "ka.verb = new")
    }
    monkeypatch.setattr(again, "MAX_BYTES", 400)
    again.parse_condition("ka.verb = newer")
    again._get().save()
    assert cache_file(directory).stat().st_size <= 400
    assert ("c", "ka.verb = newer") in stored(directory)


def test_old_versions_and_pickles_are_pruned(fresh):
    cache, directory = fresh
    directory.mkdir(mode=0o700)
    for i in range(5):
        old = directory / f"conditions-{i:016x}.json"
        old.write_text("{}")
        os.utime(old, (1000 + i, 1000 + i))
    (directory / "lark-0123456789abcdef.cache").write_bytes(b"x")
    (directory / "conditions-0123456789abcdef.pickle").write_bytes(b"x")
    unrelated = ["notes.tmp", "conditions-mine.json", "lark.cache", ".x.tmp"]
    for name in unrelated:  # the directory may be one the user keeps other files in
        (directory / name).write_text("mine")
        os.utime(directory / name, (1000, 1000))
    cache.parse_condition(TEXT)
    cache._get().save()
    assert sorted(os.listdir(directory)) == sorted(
        [
            cache_file(directory).name,
            f"conditions-{4:016x}.json",
            f"conditions-{3:016x}.json",
            *unrelated,
        ]
    )
