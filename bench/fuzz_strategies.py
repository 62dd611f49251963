"""Hypothesis strategies for ``bench/fuzz.py``: inputs shaped like the real thing, as bytes.

Mostly well-formed (so the fuzzing gets past the first check) with hostile
text inside: control characters, line separators, quotes, backslashes,
huge and odd numbers, deep nesting, and sometimes plain random bytes.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from hypothesis import strategies as st

#: Characters that have broken parsers and output before.
NASTY = list("\x00\x1b\x07\r\n\t\x0b\x0c\x7f\x85\u2028\u2029\ufeff\"'\\()[]{},=%*?!^-/ ")
text = st.text(st.one_of(st.sampled_from(NASTY), st.characters()), max_size=40)
name = st.one_of(
    st.sampled_from(["get", "create", "kube-system", "pods", "secrets", "admin"]), text
)

# ---------------------------------------------------------------- audit events

scalar = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(), text
)
json_value = st.recursive(
    scalar,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(name, text), inner, max_size=4)
    ),
    max_leaves=20,
)
container = st.fixed_dictionaries(
    {},
    optional={
        "image": st.one_of(name, scalar),
        "securityContext": st.one_of(json_value, st.just({"privileged": True})),
        "name": name,
    },
)
audit_event = st.fixed_dictionaries(
    {"kind": st.sampled_from(["Event", "event", "EventList"]), "auditID": st.one_of(name, scalar)},
    optional={
        "apiVersion": st.sampled_from(["audit.k8s.io/v1", "audit.k8s.io/v1beta1"]),
        "stage": st.sampled_from(["ResponseComplete", "RequestReceived", "Panic"]),
        "verb": name,
        "requestURI": st.one_of(
            text, st.builds(lambda q: f"/api/v1/namespaces/x/pods/p/exec?command={q}", text)
        ),
        "userAgent": st.one_of(text, st.just("Y3VybA=="), st.just("//79")),
        "user": st.fixed_dictionaries(
            {}, optional={"username": name, "groups": st.lists(name, max_size=3)}
        ),
        "sourceIPs": st.one_of(st.lists(text, max_size=3), scalar),
        "objectRef": st.fixed_dictionaries(
            {},
            optional={"resource": name, "namespace": name, "name": name, "subresource": name},
        ),
        "responseStatus": st.one_of(json_value, st.fixed_dictionaries({"code": scalar})),
        "requestObject": st.one_of(
            json_value,
            st.fixed_dictionaries(
                {"spec": st.fixed_dictionaries({"containers": st.lists(container)})}
            ),
        ),
        "annotations": st.dictionaries(name, text, max_size=3),
        "stageTimestamp": st.one_of(text, st.just("2026-03-16T01:00:00.123456Z")),
        "requestReceivedTimestamp": st.one_of(text, scalar),
    },
)


def _line(value: Any, wrap: str) -> bytes:
    if wrap == "list":
        value = {"kind": "EventList", "items": [value, value]}
    elif wrap == "array":
        value = [value]
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


decoder_input = st.one_of(
    st.builds(_line, audit_event, st.sampled_from(["plain", "plain", "list", "array"])),
    st.builds(_line, json_value, st.just("plain")),
    st.binary(max_size=300),
)

# ---------------------------------------------------------------- conditions

FIELDS = ["ka.verb", "ka.user.name", "ka.uri", "ka.useragent", "ka.target.name",
          "ka.req.pod.containers.image", "ka.uri.param[command]", "json.value[/a/0]",
          "jevt.value[/kind]", "evt.num", "ka.response.code", "ka.nosuch",
          "ka.uri.param"]  # fmt: skip
OPS = ["=", "!=", "<", ">=", "contains", "icontains", "startswith", "endswith", "glob",
       "iglob", "regex", "in", "intersects", "pmatch", "exists", "bcontains"]  # fmt: skip
WORDS = ["and", "or", "not", "(", ")", ",", "val(", "tolower(", "b64(", "len(", "oneof",
         "anyof", "allof", "my_macro", "'", '"', "\\", "\n", "\t", "\u2028"]  # fmt: skip
value = st.one_of(
    name,
    st.builds(json.dumps, text),
    st.sampled_from(["(a, b)", "()", "(a,(b))", '"(a)\\1(?=x)"', '"*a*a*a*b"', "[z-a]", "0x10"]),
)
token = st.one_of(st.sampled_from(FIELDS), st.sampled_from(OPS), st.sampled_from(WORDS), value)
condition_text = st.one_of(
    st.builds(" ".join, st.lists(token, max_size=14)),
    st.builds(lambda f, o, v: f"{f} {o} {v}", st.sampled_from(FIELDS), st.sampled_from(OPS), value),
    text,
)
parser_input = st.builds(lambda t: t.encode("utf-8", "surrogatepass"), condition_text)

# ---------------------------------------------------------------- rules files

rule_item = st.fixed_dictionaries(
    {"rule": name},
    optional={
        "desc": text,
        "condition": st.one_of(condition_text, scalar),
        "output": st.one_of(
            text, st.builds(lambda t: f"%ka.verb {t} %b64(ka.useragent) %ka.nosuch", text)
        ),
        "priority": st.one_of(st.sampled_from(["WARNING", "info", "Critical", "nope"]), scalar),
        "source": st.sampled_from(["k8s_audit", "syscall", "aws_cloudtrail"]),
        "tags": st.one_of(st.lists(name, max_size=3), scalar),
        "enabled": st.one_of(st.booleans(), scalar),
        "append": st.booleans(),
        "override": st.dictionaries(st.sampled_from(["condition", "output", "nope"]), name),
        "exceptions": st.lists(
            st.fixed_dictionaries(
                {"name": name},
                optional={
                    "fields": st.one_of(st.lists(st.sampled_from(FIELDS), max_size=3), name),
                    "comps": st.one_of(st.lists(st.sampled_from(OPS), max_size=3), name),
                    "values": st.lists(st.lists(st.one_of(name, text), max_size=3), max_size=3),
                },
            ),
            max_size=2,
        ),
    },
)
other_item = st.one_of(
    st.fixed_dictionaries({"macro": name}, optional={"condition": condition_text}),
    st.fixed_dictionaries({"list": name}, optional={"items": st.lists(st.one_of(name, scalar))}),
    st.fixed_dictionaries({"required_engine_version": st.one_of(text, scalar)}),
    json_value,
)
items = st.lists(st.one_of(rule_item, rule_item, other_item), max_size=5)


def _yaml(doc: Any, noise: str, at: int) -> bytes:
    try:
        body = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        body = repr(doc)
    at = at % (len(body) + 1)
    return (body[:at] + noise + body[at:]).encode("utf-8", "surrogatepass")


rules_input = st.one_of(
    st.builds(_yaml, items, st.just(""), st.just(0)),
    st.builds(_yaml, items, text, st.integers(min_value=0)),
    st.binary(max_size=300),
)

STRATEGIES = {"decoder": decoder_input, "parser": parser_input, "rules": rules_input}
