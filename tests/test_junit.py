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


def test_characters_xml_cannot_hold_are_replaced_so_the_file_parses():
    # ids and texts come from the data: a control character or a lone surrogate in one made the file invalid
    bad = "id\x01\x0b\ud800\uffff"
    xml = junit_xml([JUnitSuite(f"s{bad}", [JUnitCase(bad, "x", failure=bad, failure_text=f"1 violation\n{bad}\tok"), JUnitCase("e", "x", error=bad)])])
    root = ET.fromstring(xml.split("\n", 1)[1].encode("utf-8"))
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    assert suite.get("name") == "sid\ufffd\ufffd\ufffd\ufffd"
    assert cases[0].get("name") == cases[0].find("failure").get("message") == "id\ufffd\ufffd\ufffd\ufffd"
    assert cases[0].find("failure").text == "1 violation\nid\ufffd\ufffd\ufffd\ufffd\tok"  # tab and newline stay
    assert cases[1].find("error").text == "id\ufffd\ufffd\ufffd\ufffd"
