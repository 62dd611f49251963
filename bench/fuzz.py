"""Fuzz the three parsers of untrusted input for a bounded time: events, conditions, rules.

Targets (each takes bytes and raises only on a bug):

* ``decoder``: one input line -> ``Decoder.decode_line`` -> the default rules on
  both evaluators (which must agree) -> the text and JSON alerts (each one line,
  no raw control character, JSON that parses back);
* ``parser``: condition text -> ``parse_condition`` (nodes, or a
  ``ConditionSyntaxError``); what parses must render to text that parses to the
  same nodes; then the condition is loaded as a rule (errors are data);
* ``rules``: a rules file -> ``load_texts`` (never an exception) -> every
  diagnostic renders as lines free of raw control characters.

Engines: atheris (coverage-guided; ``pip install atheris``) when it imports,
else hypothesis, whose structured strategies (audit-event-like JSON, condition
tokens, YAML rule items) run in batches until the time is up. ``--engine``
picks one. A crash is printed with its input and kept under ``bench/out/``.

    python bench/fuzz.py --seconds 300                  # each target for 5 minutes
    python bench/fuzz.py --target parser --seconds 60 --engine hypothesis
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
os.environ.setdefault("K8SAUDIT_NO_CACHE", "1")  # fuzzing writes no cache files

from bench.fuzz_targets import RAW_CONTROLS, SEEDS, TARGETS  # noqa: E402


def run_hypothesis(name: str, seconds: float) -> list[str]:
    """Batches of generated examples until ``seconds`` pass; distinct failures found."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    from bench.fuzz_strategies import STRATEGIES

    check, strategy = TARGETS[name], STRATEGIES[name]
    found: dict[str, str] = {}
    deadline = time.monotonic() + seconds
    batch = 0
    examples = 0
    while time.monotonic() < deadline:
        batch += 1

        @seed(batch * 7919 + int(time.time()))
        @settings(
            max_examples=200,
            deadline=None,
            database=None,
            phases=[Phase.generate, Phase.shrink],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def probe(data: bytes) -> None:
            nonlocal examples
            examples += 1
            check(data)

        try:
            probe()
        except Exception as exc:  # a bug: keep the shrunk input, go on with a new seed
            inner = getattr(exc, "exceptions", None)  # an ExceptionGroup (3.11+ or backport)
            group = inner if isinstance(inner, tuple) else (exc,)
            for one in group:  # hypothesis reports several distinct bugs as a group
                key = _signature(one)
                if key not in found:
                    found[key] = _report(name, one, getattr(one, "__notes__", []))
    print(f"{name}: {examples} examples in {batch} batches, {len(found)} distinct failures")
    return list(found.values())


def _signature(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    last = next((f for f in reversed(frames) if "k8saudit_cli" in f.filename), frames[-1])
    return f"{type(exc).__name__} at {Path(last.filename).name}:{last.lineno}"


def _report(name: str, exc: BaseException, notes: list[str]) -> str:
    OUT.mkdir(parents=True, exist_ok=True)
    text = "".join(traceback.format_exception(exc)) + "\n".join(notes)
    path = OUT / f"fuzz-{name}-{abs(hash(_signature(exc))) % 10**8}.txt"
    path.write_text(text)
    return f"{_signature(exc)} (see {path})"


def run_atheris(name: str, seconds: float) -> list[str]:
    """libFuzzer in a child process (it exits on a crash), seeded with our samples."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"fuzz-{name}-") as corpus:
        for i, data in enumerate(SEEDS[name]):
            Path(corpus, f"seed-{i}").write_bytes(data)
        args = [
            sys.executable,
            __file__,
            "--atheris-child",
            name,
            corpus,
            f"-max_total_time={int(seconds)}",
            "-timeout=20",
            "-rss_limit_mb=2048",
            f"-artifact_prefix={OUT}/fuzz-{name}-",
            "-print_final_stats=1",
        ]
        result = subprocess.run(args, capture_output=True, text=True)
    tail = "\n".join(result.stderr.splitlines()[-25:])
    stats = [line for line in result.stderr.splitlines() if "number_of_executed_units" in line]
    runs = stats[0].split(":")[-1].strip() if stats else "?"
    print(f"{name}: atheris exit {result.returncode}; {runs} runs")
    return [] if result.returncode == 0 else [f"crash in {name}:\n{tail}"]


def atheris_child(name: str, argv: list[str]) -> None:
    import atheris

    with atheris.instrument_imports(include=["k8saudit_cli"]):
        import k8saudit_cli.cli  # noqa: F401  the whole package, instrumented
    check = TARGETS[name]
    atheris.Setup([sys.argv[0], *argv], check)
    atheris.Fuzz()


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--atheris-child":
        atheris_child(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="per target (default 60)")
    parser.add_argument("--target", choices=[*TARGETS, "all"], default="all")
    parser.add_argument("--engine", choices=["auto", "atheris", "hypothesis"], default="auto")
    opts = parser.parse_args()
    engine = opts.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    run: Callable[[str, float], list[str]] = run_atheris if engine == "atheris" else run_hypothesis
    names = list(TARGETS) if opts.target == "all" else [opts.target]
    failures = [f for name in names for f in run(name, opts.seconds)]
    for failure in failures:
        print("FAILURE:", failure)
    print(json.dumps({"engine": engine, "targets": names, "failures": len(failures)}))
    return 1 if failures else 0


if __name__ == "__main__":
    assert RAW_CONTROLS  # the targets module is importable on its own too
    sys.exit(main())
