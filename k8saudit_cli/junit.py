"""Rule-fixture results as JUnit XML, so CI systems show each case as a test of its own.

One ``<testsuite>`` per fixture file, one ``<testcase>`` per case; a failing
case carries a ``<failure>`` whose message is its first unmet expectation
and whose text lists them all. The schema is the common subset that
Jenkins, GitLab and GitHub test reporters read.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from k8saudit_cli.fixtures import CaseResult

#: Characters XML 1.0 cannot hold even escaped; written as visible \\xNN instead.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


@dataclass(frozen=True)
class TimedResult:
    """A case result and how long the case took, in seconds."""

    result: CaseResult
    seconds: float


def _testcase(timed: TimedResult) -> ET.Element:
    case = timed.result.case
    element = ET.Element(
        "testcase",
        name=_xml_text(case.name),
        classname=_xml_text(case.file),
        time=f"{timed.seconds:.6f}",
    )
    failures = timed.result.failures
    if failures:
        message = _xml_text(failures[0])
        failure = ET.SubElement(element, "failure", message=message, type="RuleExpectation")
        failure.text = _xml_text("\n".join(failures))
    return element


def _testsuite(name: str, timed: Sequence[TimedResult]) -> ET.Element:
    failed = sum(1 for t in timed if not t.result.passed)
    suite = ET.Element(
        "testsuite",
        name=_xml_text(name),
        tests=str(len(timed)),
        failures=str(failed),
        errors="0",
        skipped="0",
        time=f"{sum(t.seconds for t in timed):.6f}",
    )
    suite.extend(_testcase(t) for t in timed)
    return suite


def junit_tree(results: Sequence[TimedResult]) -> ET.ElementTree:
    """The report for every case run, grouped by fixture file in the order run."""
    files: dict[str, list[TimedResult]] = {}
    for timed in results:
        files.setdefault(timed.result.case.file, []).append(timed)
    root = ET.Element(
        "testsuites",
        name="k8saudit test",
        tests=str(len(results)),
        failures=str(sum(1 for t in results if not t.result.passed)),
        errors="0",
        time=f"{sum(t.seconds for t in results):.6f}",
    )
    root.extend(_testsuite(name, timed) for name, timed in files.items())
    ET.indent(root)
    return ET.ElementTree(root)


def write_junit(results: Sequence[TimedResult], path: str) -> None:
    """Write the report to ``path`` (UTF-8, with the XML declaration)."""
    junit_tree(results).write(path, encoding="utf-8", xml_declaration=True)
