import xml.etree.ElementTree as ET

from servicerules._junit import JUnitCase, JUnitSuite, junit_xml


def test_junit_counts_and_escaping():
    xml = junit_xml([JUnitSuite("policy", [JUnitCase("a <b>", "x"), JUnitCase("c", "x", failure="expected 'r1' & more")])])
    root = ET.fromstring(xml.split("\n", 1)[1])
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")
    cases = suite.findall("testcase")
    assert cases[0].get("name") == "a <b>"
    assert cases[1].find("failure").get("message") == "expected 'r1' & more"
