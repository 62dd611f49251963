"""Generated code a maintainer can read: named slots, one commented term per line,
source kept in linecache so tracebacks and ``inspect`` show the generated lines."""

from __future__ import annotations

import gc
import inspect
import linecache
import traceback

import pytest

from k8saudit_cli.engine.codegen import generate, generate_group
from k8saudit_cli.engine.index import residual
from k8saudit_cli.event import AuditEvent
from k8saudit_cli.ruleset import load_texts

RULES = """\
- macro: kcreate
  condition: ka.verb = create
- list: sensitive
  items: [secrets, configmaps]
- rule: Read Sensitive
  desc: d
  condition: >
    kcreate and ka.target.resource in (sensitive)
    and (ka.uri startswith /api or ka.uri startswith /apis)
    and not tolower(ka.user.name) = admin
  output: o
  priority: WARNING
  source: k8s_audit
- rule: Other Rule
  desc: d
  condition: ka.verb = create and ka.user.name exists
  output: o
  priority: WARNING
  source: k8s_audit
"""


@pytest.fixture(scope="module")
def rules():
    ruleset = load_texts([("rules.yaml", RULES)])
    assert ruleset.ok, [d.render() for d in ruleset.errors]
    return ruleset.rules


def test_slots_are_named_after_fields_and_terms_carry_their_origin(rules):
    _, source = generate_group([(r, r.bound) for r in rules], first_only=False)
    assert "ka_verb = ka_target_resource = ka_uri = tolower_ka_user_name = ka_user_name" in source
    assert "(ka_verb := read_ka_verb(e))) == 'create'  # ka.verb = create  [macro kcreate]" in (
        source
    )
    assert "in {'configmaps', 'secrets'}  # ka.target.resource in (secrets, configmaps)" in source
    # The two startswith checks are fused into one call with a tuple.
    fused = "ka_uri.startswith(('/api', '/apis')))  # ka.uri startswith /api or ka.uri startswith"
    assert fused in source
    assert "    # Read Sensitive\n    if (\n" in source
    assert "h.append(rule_read_sensitive)" in source and "h.append(rule_other_rule)" in source
    # Later rules read what earlier ones certainly extracted directly.
    assert "        ka_verb == 'create'  # ka.verb = create\n" in source


def test_one_term_per_line(rules):
    _, source = generate_group([(rules[0], rules[0].bound)], first_only=True)
    terms = [line for line in source.splitlines() if "  # " in line]
    assert len(terms) == 5  # the two startswith checks share one line
    assert all(line.count("  # ") == 1 for line in terms)
    assert "return [rule_read_sensitive]" in source


def test_source_is_in_linecache_under_its_own_name(rules):
    fn, source = generate_group([(rules[0], residual(rules[0].bound))], first_only=False)
    filename = fn.__code__.co_filename
    assert filename.startswith("<k8saudit-rules:group-") and filename.endswith(">")
    assert inspect.getsource(fn) == source
    other, _ = generate(rules[0].bound, "rule")
    assert other.__code__.co_filename != filename
    del fn, other
    gc.collect()
    assert filename not in linecache.cache


def test_a_traceback_inside_a_rule_shows_the_generated_line(rules):
    fn, _ = generate_group([(rules[1], rules[1].bound)], first_only=False)
    broken = AuditEvent({"auditID": "1", "verb": "create"}, 0)
    broken.ka = 42  # type: ignore[assignment]  # no field can be read from it
    with pytest.raises(AttributeError) as info:
        fn(broken)
    text = "".join(traceback.format_exception(info.value))
    assert "<k8saudit-rules:group-" in text
    assert "# ka.verb = create" in text  # the generated line itself


def test_single_condition_function_reads_each_field_in_place(rules):
    fn, source = generate(rules[1].bound, "rule")
    assert source.startswith("def rule(e):\n    return (\n")
    assert "read_ka_verb(e) == 'create'  # ka.verb = create" in source
    assert fn(AuditEvent({"auditID": "1", "verb": "create", "user": {"username": "u"}}, 0))
