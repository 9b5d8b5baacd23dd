from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from servicerules.errors import Location, RulesetError
from servicerules.loader import load_yaml


def test_positions_of_keys_and_values_are_one_based():
    doc = load_yaml("ruleset: a\nrules:\n  - id: r1\n    when: x > 1\n", "f.yaml")
    assert doc.data == {"ruleset": "a", "rules": [{"id": "r1", "when": "x > 1"}]}
    assert doc.location(("rules", 0, "when")) == Location("f.yaml", 4, 11)
    assert doc.location(("rules", 0, "when"), key=True) == Location("f.yaml", 4, 5)
    assert doc.location(("rules", 0)) == Location("f.yaml", 3, 5)


def test_location_of_a_missing_path_is_its_nearest_ancestor():
    doc = load_yaml("rules:\n  - id: r1\n", "f.yaml")
    assert doc.location(("rules", 0, "violated_if")) == Location("f.yaml", 2, 5)


def test_offsets_inside_plain_and_quoted_scalars():
    doc = load_yaml('a: foo > bar\nb: "foo > bar"\n', None)
    assert doc.scalar_location(("a",), 6) == Location(None, 1, 10)
    assert doc.scalar_location(("b",), 6) == Location(None, 2, 11)


def test_offsets_inside_a_literal_block_scalar():
    text = "rule:\n  when: |\n    a > 1\n    and b\n"
    doc = load_yaml(text, "f.yaml")
    assert doc.data["rule"]["when"] == "a > 1\nand b\n"
    # "b" is on the second content line (file line 4), after "and " at indentation 4
    assert doc.scalar_location(("rule", "when"), doc.data["rule"]["when"].index("b")) == Location("f.yaml", 4, 9)


def test_duplicate_keys_are_rejected_with_both_positions():
    with pytest.raises(RulesetError) as info:
        load_yaml("a: 1\nb: 2\na: 3\n", "dup.yaml")
    (diag,) = info.value.diagnostics
    assert diag.code == "SR101"
    assert diag.location == Location("dup.yaml", 3, 1)
    assert diag.message == "duplicate key 'a' (first defined at line 1)"


def test_duplicate_keys_in_nested_mappings_are_all_reported():
    with pytest.raises(RulesetError) as info:
        load_yaml("x:\n  a: 1\n  a: 2\ny:\n  b: 1\n  b: 1\n", None)
    assert [(d.code, d.location.line) for d in info.value.diagnostics] == [("SR101", 3), ("SR101", 6)]


def test_syntax_error_has_code_location_and_caret():
    with pytest.raises(RulesetError) as info:
        load_yaml("a: [1, 2\nb: 3\n", "bad.yaml")
    (diag,) = info.value.diagnostics
    assert diag.code == "SR100"
    assert diag.location is not None and diag.location.file == "bad.yaml"
    assert "^" in diag.render()


@pytest.mark.parametrize(
    ("text", "location", "hint"),
    [
        ("message: Note: the reply\n", "x.yaml:1:14",
         'quote a value that holds ": ", which YAML reads as a key: message: "Note: the reply"'),
        ("fields:\n  - x: Answered: Y/N\n", "x.yaml:2:16",
         'quote a value that holds ": ", which YAML reads as a key: - x: "Answered: Y/N"'),
        ("a: {column: Resolved?}\n", "x.yaml:1:21",
         """inside {…} and […], '?' is YAML syntax: quote a text that holds it ({column: "Resolved?"}, {column: "Answered: Y/N"})"""),
        ("a: {column: Answered: Y/N}\n", "x.yaml:1:21",
         """inside {…} and […], ':' is YAML syntax: quote a text that holds it ({column: "Resolved?"}, {column: "Answered: Y/N"})"""),
        ("a: [Resolved?, b]\n", "x.yaml:1:13",
         """inside {…} and […], '?' is YAML syntax: quote a text that holds it ({column: "Resolved?"}, {column: "Answered: Y/N"})"""),
        ("a: {column: Note #1, type: int}\nb: 2\n", "x.yaml:2:1",  # the comment hid the brace: PyYAML stops a line later
         """the '{' at line 1, column 4 is not closed: ' #' starts a comment, which hid the rest of that line; """
         'quote a text that holds " #" ({column: "Note #1"})'),
        ("a: b\n  c: d\n", "x.yaml:2:4", None),  # a key indented too far: quoting would not help
        ("a: {x: 1, y: 2\nb: 3\n", "x.yaml:2:2",  # an unclosed brace, or a ':' inside it on the next line
         """the '{' at line 1, column 4 is not closed; or, inside {…} and […], ':' is YAML syntax: """
         """quote a text that holds it ({column: "Resolved?"}, {column: "Answered: Y/N"})"""),
        ("a: [1, 2\n", "x.yaml:2:1", "the '[' at line 1, column 4 is not closed"),
    ],
)
def test_syntax_errors_from_unquoted_text_say_how_to_quote_it(text: str, location: str, hint: str | None):
    with pytest.raises(RulesetError) as info:
        load_yaml(text, "x.yaml")
    (diag,) = info.value.diagnostics
    assert (diag.code, str(diag.location), diag.hint) == ("SR100", location, hint)


def test_merge_keys_are_resolved():
    doc = load_yaml("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n", None)
    assert doc.data["derived"] == {"x": 1, "y": 2}


@pytest.mark.parametrize(
    "text",
    [
        "s: &s {column: a, required: true}\nteam: {<<: *s, column: tm}\n",  # a written key overrides a merged one
        "s: &s {column: a}\nteam: {column: tm, <<: *s}\n",  # wherever the merge key stands
        "a: &a {x: 1, y: 1}\nb: &b {x: 2, z: 2}\nc: {<<: [*a, *b]}\n",  # the first merged mapping wins
        "a: &a {x: 1}\nb: &b {<<: *a, x: 2}\nc: *b\nd: *b\n",  # a merging node reached through aliases
        "a: &a {x: {p: 1}}\nb: {<<: *a, x: {q: 2}}\n",  # an override replaces, it does not merge deeper
    ],
)
def test_merge_keys_resolve_as_pyyaml_resolves_them(text):
    assert load_yaml(text, None).data == yaml.safe_load(text)


def test_a_key_overriding_a_merged_one_is_located_where_it_is_written():
    doc = load_yaml("s: &s {column: a}\nteam:\n  <<: *s\n  column: tm\n", "m.yaml")
    assert doc.location(("team", "column")) == Location("m.yaml", 4, 11)


def test_a_key_written_twice_beside_a_merge_key_is_still_a_duplicate():
    with pytest.raises(RulesetError) as info:
        load_yaml("a: &a {x: 0}\nt: {<<: *a, x: 1, x: 2}\n", "dup.yaml")
    (diag,) = info.value.diagnostics
    assert (diag.code, diag.location, diag.message) == (
        "SR101", Location("dup.yaml", 2, 19), "duplicate key 'x' (first defined at line 2)"
    )


@settings(max_examples=100, deadline=None)
@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        st.one_of(st.integers(-1000, 1000), st.text(alphabet="abc xyz_-.", min_size=1, max_size=10).map(str.strip).filter(bool)),
        min_size=1,
        max_size=6,
    )
)
def test_loaded_data_and_key_lines_match_what_was_written(mapping):
    lines = [f"{k}: {v!r}" if isinstance(v, str) else f"{k}: {v}" for k, v in mapping.items()]
    doc = load_yaml("\n".join(lines) + "\n", None)
    assert doc.data == mapping
    for line_no, key in enumerate(mapping, start=1):
        assert doc.location((key,), key=True) == Location(None, line_no, 1)


def test_only_true_and_false_are_booleans_as_in_yaml_1_2():
    # YAML 1.1 read these as booleans: a Norwegian lexicon (no:) or a locale "no" would silently break
    doc = load_yaml("no: [hei]\nlocale: no\nflags: [yes, on, off, y, n, NO]\nreal: [true, False, TRUE]\n", None)
    assert doc.data == {"no": ["hei"], "locale": "no", "flags": ["yes", "on", "off", "y", "n", "NO"],
                        "real": [True, False, True]}
    assert doc.location(("no",), key=True) == Location(None, 1, 1)


def test_aliases_of_aliases_stop_at_the_value_limit(monkeypatch):
    # Nine lines of aliases of aliases stand for 10**9 values: building them hung lint and check for hours.
    import servicerules.loader as loader

    monkeypatch.setattr(loader, "MAX_VALUES", 5_000)
    lines = ["x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(RulesetError) as info:
        load_yaml("\n".join(lines) + "\n", "laughs.yaml")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == "SR100" and "more than 5,000 values" in diagnostic.message
    assert diagnostic.location is not None and diagnostic.location.file == "laughs.yaml"
    # the same aliases used a few times stay well within it, and build as PyYAML builds them
    text = "\n".join(lines[:3]) + "\n"
    assert load_yaml(text).data == yaml.safe_load(text)


def test_an_empty_string_is_no_ruleset_path():
    # Path("") is the current directory: load("") raised IsADirectoryError "Is a directory: '.'"
    from servicerules.loader import read_source

    with pytest.raises(FileNotFoundError, match=r"no ruleset: the path \(or YAML text\) is an empty string"):
        read_source("")
