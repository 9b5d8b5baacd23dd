"""JUnit XML output (for CI systems), shared by ``servicerules check`` and ``servicerules test``."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Sequence

__all__ = ["JUnitCase", "JUnitSuite", "junit_xml"]

# What XML 1.0 cannot hold, even escaped: control characters but tab, newline and carriage return;
# surrogates; U+FFFE and U+FFFF. Ids and texts from the data may have them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


@dataclass(frozen=True)
class JUnitCase:
    name: str
    classname: str
    time: float = 0.0
    failure: str | None = None
    """Failure message (the case failed); its details go into ``failure_text``."""
    failure_text: str = ""
    error: str | None = None
    """Error message (the case could not run)."""
    skipped: str | None = None


@dataclass(frozen=True)
class JUnitSuite:
    name: str
    cases: Sequence[JUnitCase] = field(default_factory=tuple)
    time: float = 0.0


def junit_xml(suites: Sequence[JUnitSuite]) -> str:
    """A ``<testsuites>`` document; counts are computed from the cases."""
    root = ET.Element("testsuites")
    for suite in suites:
        node = ET.SubElement(
            root,
            "testsuite",
            name=_xml(suite.name),
            tests=str(len(suite.cases)),
            failures=str(sum(c.failure is not None for c in suite.cases)),
            errors=str(sum(c.error is not None for c in suite.cases)),
            skipped=str(sum(c.skipped is not None for c in suite.cases)),
            time=f"{suite.time:.3f}",
        )
        for case in suite.cases:
            element = ET.SubElement(node, "testcase", name=_xml(case.name), classname=_xml(case.classname), time=f"{case.time:.3f}")
            if case.failure is not None:
                ET.SubElement(element, "failure", message=_xml(case.failure)).text = _xml(case.failure_text or case.failure)
            if case.error is not None:
                ET.SubElement(element, "error", message=_xml(case.error)).text = _xml(case.error)
            if case.skipped is not None:
                ET.SubElement(element, "skipped", message=_xml(case.skipped))
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
