"""A smoke run of ``bench/fuzz.py``'s targets on their seeds and a few hostile inputs.

The fuzzing itself runs outside CI (``python bench/fuzz.py --seconds N``);
this keeps its targets importable and passing on known-good input.
"""

from __future__ import annotations

import pytest

from bench.fuzz_targets import SEEDS, TARGETS

HOSTILE = {
    "decoder": [
        b'{"kind":"Event","auditID":"1","verb":"get","userAgent":"\\u001b[2J\\u2028x"}',
        b'{"kind":"EventList","items":[{"auditID":"1","requestURI":"/x?command=%0A%1B"}]}',
        b"\xff\xfe not json",
    ],
    "parser": [
        b'ka.useragent glob "*a*a*a*b"',
        b'ka.verb regex "(a)\\1"',
        b"((((",
        b"\xe2\x80\xa8",
    ],
    "rules": [b'- rule: "\\e[2J"\n  condition: ka.verb =\n', b'- list: l\n  items: ["\\n"]\n'],
}


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_targets_pass_on_seeds_and_hostile_inputs(name: str) -> None:
    check = TARGETS[name]
    for data in [*SEEDS[name][:20], *HOSTILE[name]]:
        check(data)
