"""Worst CPU time per event of the pathological regex/glob cases, on both evaluators.

Runs the cases of ``tests/test_security_patterns.py`` (100 KB attacker values,
event-supplied 100 KB patterns) and ``tests/test_globs.py`` (the matcher alone)
several times and prints the worst time of each, then the worst overall.

    python bench/patterns.py --repeat 5
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from k8saudit_cli.engine.globs import compile_glob, glob_matches  # noqa: E402
from k8saudit_cli.ruleset import load_texts  # noqa: E402
from tests.test_globs import PATHOLOGICAL  # noqa: E402
from tests.test_security_patterns import CASES, event, rules_for  # noqa: E402


def cpu(fn: object) -> float:
    start = time.process_time()
    fn()  # type: ignore[operator]
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    worst_all = 0.0
    for i, (condition, useragent, name) in enumerate(CASES):
        rule = load_texts([("r.yaml", rules_for(condition))]).rule("r")
        assert rule is not None
        ev = event(useragent, name)
        worst = max(
            cpu(lambda f=f, ev=ev: f(ev))
            for _ in range(opts.repeat)
            for f in (rule.match, rule.match_reference)
        )
        worst_all = max(worst_all, worst)
        print(f"event case {i:2}: {worst * 1000:7.1f} ms  {condition[:60]}")
    for i, (pattern, text) in enumerate(PATHOLOGICAL):

        def once(pattern: str = pattern, text: str = text) -> None:
            compile_glob.cache_clear()
            glob_matches(text, pattern)

        worst = max(cpu(once) for _ in range(opts.repeat))
        worst_all = max(worst_all, worst)
        sizes = f"{len(pattern)}-char pattern, {len(text)}-char text"
        print(f"glob case  {i:2}: {worst * 1000:7.1f} ms  {sizes}")
    print(f"worst per event: {worst_all * 1000:.1f} ms of CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
