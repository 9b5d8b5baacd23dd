"""Tests for servicerules.batch.mapping: declarative mappings from CSV/JSON exports onto interactions.

Every export and mapping is a small file written by the test itself to tmp_path (the real exports in
../shared/data are never copied here; see the module's docs for how they were tried by hand).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import textwrap
from pathlib import Path
from typing import Any, Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import servicerules
from servicerules.batch.mapping import (
    MAPPINGS_DIR,
    Mapping,
    MappingError,
    apply_mapping,
    load_mapping,
    mapping_json_schema,
    join_paths,
    mapping_path,
    read_mapped,
    shipped_mappings,
)
from servicerules.batch.readers import RawRecord, SourcePosition, read_records
from servicerules.batch.runner import check_files, check_records
from servicerules.errors import RulesetError
from servicerules.loader import load_yaml
from servicerules.measures.catalogue import CATALOGUE, InteractionContext
from servicerules.model.interaction import EVENT_TYPES, Interaction

ROOT = Path(__file__).resolve().parents[2]

# ----------------------------------------------------------------------------------------------- helpers


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]], delimiter: str = ",") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def mapping(text: str) -> Mapping:
    return load_mapping(textwrap.dedent(text))


def run(m: Mapping, path: Path, **kwargs: Any) -> list[RawRecord]:
    return list(read_mapped(m, str(path), **kwargs))


def good(records: list[RawRecord]) -> list[dict[str, Any]]:
    return [r.data for r in records if r.data is not None]


def bad(records: list[RawRecord]) -> list[tuple[int, str | None, str | None]]:
    return [(r.position.line, r.code, r.error) for r in records if r.error is not None]


def rows_of(data: list[dict[str, Any]]) -> list[RawRecord]:
    """In-memory records, as a reader yields them (line n+1 for row n)."""
    return [RawRecord(SourcePosition("mem.csv", i + 2, i + 1), d, None, None, 10) for i, d in enumerate(data)]


def diagnostics(text: str, file: Path | None = None) -> list[str]:
    """Rendered first lines (``file:line:col: CODE message``) and hints of a bad mapping."""
    source: str | Path = textwrap.dedent(text)
    if file is not None:
        file.write_text(textwrap.dedent(text), encoding="utf-8")
        source = file
    with pytest.raises(MappingError) as info:
        load_mapping(source)
    out = []
    for d in info.value.diagnostics:
        line = f"{d.location}: {d.code} {d.message}" if d.location else f"{d.code} {d.message}"
        out.append(line + (f" [{d.hint}]" if d.hint else ""))
    return out


MINIMAL = """\
layout: per_interaction
fields:
  id: ticket
  channel: {const: email}
  created_at: opened
"""


# ------------------------------------------------------------------------------------ loading mappings


def test_shipped_mappings_are_listed_and_found_by_name() -> None:
    assert shipped_mappings() == ["bank-calls", "twcs", "zendesk"]
    assert mapping_path("twcs") == MAPPINGS_DIR / "twcs.yaml"
    assert load_mapping("twcs").mapping == "twcs"
    assert load_mapping("zendesk").source_file == str(MAPPINGS_DIR / "zendesk.yaml")


def test_unknown_mapping_name_or_path_is_file_not_found() -> None:
    with pytest.raises(FileNotFoundError, match=r"no shipped mapping named 'nope'; shipped mappings: bank-calls, twcs, zendesk"):
        mapping_path("nope")
    with pytest.raises(FileNotFoundError, match=r"mapping file not found: 'nope.yaml' \(shipped mappings: bank-calls, twcs, zendesk\)"):
        load_mapping("nope.yaml")
    with pytest.raises(FileNotFoundError):
        mapping_path("../mappings/twcs")


def test_load_from_path_text_and_str_path(tmp_path: Path) -> None:
    file = tmp_path / "m.yaml"
    file.write_text(MINIMAL, encoding="utf-8")
    for source in (file, str(file), MINIMAL):
        m = load_mapping(source)
        assert m.layout == "per_interaction"
    assert load_mapping(file).source_file == str(file)
    assert load_mapping(MINIMAL).source_file is None


def test_every_shipped_mapping_has_a_name_matching_its_file() -> None:
    for name in shipped_mappings():
        assert load_mapping(name).mapping == name


def test_json_schema_accepts_the_shorthands() -> None:
    schema = mapping_json_schema()
    fields = schema["properties"]["fields"]["additionalProperties"]["anyOf"]
    assert {"type": ["string", "number", "boolean"]} in fields and {"$ref": "#/$defs/Value"} in fields
    assert schema["$defs"]["Condition"]["properties"]["in"]  # the alias, as written in files
    assert schema["$defs"]["Value"]["additionalProperties"] is False


def _schema_errors(text: str) -> list[str]:
    """What the published JSON Schema says of a mapping file, read as an editor reads YAML."""
    jsonschema = pytest.importorskip("jsonschema")
    data = load_yaml(textwrap.dedent(text), None).data
    validator = jsonschema.Draft202012Validator(json.loads((ROOT / "schemas" / "mapping.schema.json").read_text()))
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


# Unquoted scalars the loader reads as the text written (mapping.md, "Unquoted scalars stay text"): an editor
# with the schema must not flag them.
_SCALARS_AS_TEXT = """\
mapping: 2017
layout: per_message
group_by: 1
null_values: '-'
fields:
  id: 1
  channel: {const: email}
  subject: 5
  events[].at: at
  events[].type: {const: message}
  events[].text: {column: body, null_values: [0, n/a], when: {column: kind, in: x}}
  events[].author.role:
    - {column: inbound, when: {column: inbound, equals: True}, map: {True: customer}}
    - {const: agent, when: {column: inbound, not_in: [True, 1]}}
  events[].public: {const: true, when: [{column: kind, equals: 0}]}
"""


def test_json_schema_takes_unquoted_scalars_as_the_loader_does() -> None:
    assert _schema_errors(_SCALARS_AS_TEXT) == []
    mapping = load_mapping(_SCALARS_AS_TEXT)
    assert (mapping.mapping, mapping.group_by, mapping.null_values) == ("2017", "1", ["-"])
    assert mapping.fields["subject"][0].column == "5"
    condition = mapping.fields["events[].text"][0].when[0]
    assert condition.in_ == ["x"] and mapping.fields["events[].text"][0].null_values == ["0", "n/a"]


@pytest.mark.parametrize("name", shipped_mappings())
def test_shipped_mappings_satisfy_the_json_schema(name: str) -> None:
    assert _schema_errors(mapping_path(name).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("change", "flagged"),
    [
        ("layout: per_message", "layout: sideways"),  # not one of the layouts
        ("null_values: [0, n/a]", "nul_values: [0, n/a]"),  # a Value has no such key
        ("{column: kind, in: x}", "{column: kind, inside: x}"),  # no such condition key
    ],
)
def test_json_schema_still_flags_what_the_loader_refuses(change: str, flagged: str) -> None:
    text = _SCALARS_AS_TEXT.replace(change, flagged)
    assert text != _SCALARS_AS_TEXT
    assert _schema_errors(text)
    with pytest.raises(RulesetError):
        load_mapping(text)


@pytest.mark.parametrize(
    ("where", "written", "problem"),
    [
        ("timestamp_format", "'%Q %Y'", "'Q' is a bad directive in format '%Q %Y'"),
        ("date_format", "'%d.%m.%'", "stray % in format '%d.%m.%'"),
    ],
)
def test_a_bad_strptime_directive_is_an_error_when_the_mapping_loads(where: str, written: str, problem: str) -> None:
    # not once per row during check (SR310 on every one of them)
    text = f"layout: per_interaction\n{where}: {written}\nfields:\n  id: a\n  channel: {{const: email}}\n  created_at: t\n"
    column = len(where) + 3
    assert diagnostics(text) == [
        f"<string>:2:{column}: SR112 '{where}': {problem} (strptime directives: %Y %m %d %H %M %S %z %b %p …; %% is a literal %)"
    ]


@pytest.mark.parametrize(
    ("where", "written"),
    [
        # strptime reads these without an error, and wrongly: 12-hour clock times without AM/PM are all
        # morning ones ('12:30' is 00:30, '03:30' meant in the afternoon is 03:30), and a week number without
        # a weekday is ignored ('2026-W10' is 1 January)
        ("time_format", "'%I:%M'"),
        ("timestamp_format", "'%d/%m/%Y %I:%M'"),
        ("date_format", "'%Y-W%W'"),
        ("date_format", "'%Y %U'"),
        # an ISO week needs its ISO year and a weekday, or strptime fails on every row
        ("date_format", "'%G-W%V'"),
    ],
)
def test_a_strptime_format_that_reads_wrong_times_without_an_error_is_an_error_when_the_mapping_loads(where: str, written: str) -> None:
    text = f"layout: per_interaction\n{where}: {written}\nfields:\n  id: a\n  channel: {{const: email}}\n  created_at: t\n"
    [problem] = diagnostics(text)
    assert problem.startswith(f"<string>:2:{len(where) + 3}: SR112 '{where}': ")


@pytest.mark.parametrize(
    "written", ["'%I:%M %p'", "'%Y-W%W-%w'", "'%Y %U %a'", "'%G-W%V-%u'", "'%Y %j'", "'%H:%M'", "'100%% %H'"]
)
def test_strptime_formats_with_what_their_directives_need_load(written: str) -> None:
    load_mapping(f"layout: per_interaction\ntime_format: {written}\nfields:\n  id: a\n  channel: {{const: email}}\n  created_at: t\n")


def test_naive_times_in_a_daylight_saving_change_take_the_offset_before_it(tmp_path: Path) -> None:
    export = tmp_path / "dst.csv"
    export.write_text("a,t\n1,2026-03-29T02:30:00\n2,2026-10-25T02:30:00\n", encoding="utf-8")
    mapping = load_mapping("layout: per_interaction\ntimezone: Europe/Berlin\nfields:\n  id: a\n  channel: {const: email}\n  created_at: t\n")
    # 02:30 does not exist on the spring-forward night (read as 03:30 CEST), and is there twice on the fall-back night
    assert [r.data["created_at"] for r in read_mapped(mapping, export)] == ["2026-03-29T02:30:00+01:00", "2026-10-25T02:30:00+02:00"]


def test_event_types_match_the_interaction_model() -> None:
    schema = mapping_json_schema()
    assert tuple(schema["$defs"]["EventSpec"]["properties"]["type"]["enum"]) == EVENT_TYPES


# ---------------------------------------------------------------------------- mapping file diagnostics


def test_unknown_field_with_position_and_hint(tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    text = """\
    layout: per_interaction
    fields:
      id: ticket
      channel: {const: email}
      created_at: {column: opened, formt: "%d/%m/%Y"}
    """
    assert diagnostics(text, file) == [f"{file}:5:32: SR110 unknown field 'formt' [did you mean 'format'?]"]


def test_unknown_top_level_field() -> None:
    assert diagnostics(MINIMAL + "timezon: UTC\n") == ["<string>:6:1: SR110 unknown field 'timezon' [did you mean 'timezone'?]"]


def test_a_target_beside_fields_is_unknown_with_a_hint_to_move_it_under_fields() -> None:
    text = MINIMAL.replace("  created_at: opened\n", "") + "created_at: opened\nevents:\n  - {type: note, at: opened, text: body}\n"
    assert diagnostics(text) == [
        "<string>:5:1: SR110 unknown field 'created_at' [did you mean 'fields.created_at'? Targets go under the mapping's 'fields:']",
        "<string>:7:30: SR110 unknown field 'text' [did you mean 'fields.text'? Targets go under the event's 'fields:']",
    ]


def test_unknown_target_field_with_hint() -> None:
    text = MINIMAL + "  custmer.name: name\n  events[].auther.role: {const: agent}\n  answered: a\n  customer.vip: v\n  events[].queue: q\n"
    assert diagnostics(text) == [
        "<string>:6:3: SR110 target 'custmer.name': the interaction has no field 'custmer' [did you mean 'customer'?]",
        "<string>:7:3: SR110 target 'events[].auther.role': the event has no field 'auther' [did you mean 'author'?]",
        "<string>:8:3: SR110 target 'answered': the interaction has no field 'answered' "
        "[a value the model has no field for goes under attributes: attributes.answered]",
        "<string>:9:3: SR110 target 'customer.vip': the customer has no field 'vip' [a value the model has no field for goes under attributes: customer.attributes.vip]",
        "<string>:10:3: SR110 target 'events[].queue': the event has no field 'queue' "
        "[a value the model has no field for goes under attributes: events[].attributes.queue]",
    ]


@pytest.mark.parametrize("written", ["null", "~", "1.5", "true"])
def test_a_target_written_as_a_yaml_scalar_that_is_no_text_is_reported_at_its_key(written: str) -> None:
    # 'null: x' was reported at the line of 'fields:' (line 2), not at the key
    [problem] = diagnostics(MINIMAL + f"  {written}: x\n")
    assert problem.startswith(f"<string>:6:3: SR110 target '{written}': the interaction has no field")


def test_bad_target_shapes() -> None:
    text = MINIMAL + (
        "  customer[].name: a\n"
        "  events[]: b\n"
        "  subject.text: c\n"
        "  attributes.tags[].x: d\n"
        "  customer: {column: cust, type: json}\n"
        "  customer.name: e\n"
    )
    assert diagnostics(text) == [
        "<string>:6:3: SR112 target 'customer[].name': '[]' is only allowed on events and agents",
        "<string>:7:3: SR112 target 'events[]': name a field of the element, e.g. events[].at",
        "<string>:8:3: SR112 target 'subject.text': 'subject' is a single value, it has no fields",
        "<string>:9:3: SR112 target 'attributes.tags[].x': '[]' is only allowed on events and agents",
        "<string>:11:3: SR112 target 'customer.name' lies inside 'customer', which is mapped as a whole",
    ]


def test_event_field_targets_are_checked() -> None:
    text = MINIMAL + """\
events:
  - type: note
    at: opened
    fields:
      txt: body
      at: opened
"""
    assert diagnostics(text) == [
        "<string>:10:7: SR110 target 'txt': the event has no field 'txt' [did you mean 'text'?]",
        "<string>:11:7: SR112 target 'at': give the event's at as its own 'at:'",
    ]


def test_missing_and_invalid_values() -> None:
    text = """\
    layout: per_chat
    fields:
      channel: {const: chat}
    events:
      - at: opened
    """
    assert diagnostics(text) == [
        "<string>:1:9: SR112 invalid value 'per_chat' for 'layout': input should be 'per_message' or 'per_interaction'",
        "<string>:5:5: SR111 missing required field 'type' in events[0]",
    ]


def test_invalid_event_type_has_a_hint() -> None:
    text = MINIMAL + "events:\n  - type: call.answerd\n    at: opened\n"
    [message] = diagnostics(text)
    assert message.startswith("<string>:7:11: SR112 invalid value 'call.answerd' for 'type': input should be 'message'")
    assert message.endswith("[did you mean 'call.answered'?]")


def test_value_problems_point_at_the_value() -> None:
    text = """\
    layout: per_interaction
    timezone: Europe/Berln
    fields:
      id: {column: a, const: b}
      channel: {const: email, type: string}
      created_at: {column: opened, format: "YYYY-MM-DD"}
      solved_at: {time: t}
      subject: {template: "{a}-{"}
      closed_at: {date: d, time: t, format: "%d %H"}
      attributes.x: {column: x, type: int, format: "%Y"}
    """
    assert diagnostics(text) == [
        "<string>:2:11: SR112 'timezone': unknown time zone 'Europe/Berln'; use an IANA name such as Europe/Berlin or UTC",
        "<string>:4:7: SR112 'id': give exactly one source: 'column', 'const', 'template' or 'date' (found 'column', 'const')",
        "<string>:5:12: SR112 'channel': a constant is used as written: 'type' does not apply",
        "<string>:6:40: SR112 'format': 'YYYY-MM-DD' is not a time format: write iso, epoch, epoch_ms, excel or a strptime format such as %Y-%m-%d %H:%M",
        "<string>:7:14: SR112 'solved_at': 'time' needs 'date' (the column with the date); a time alone is not a timestamp",
        "<string>:8:23: SR112 'template': unbalanced '{' at character 5 of the template (write {{ for a brace)",
        "<string>:9:14: SR112 'closed_at': with 'date' and 'time' columns give 'date_format' and 'time_format', not 'format'",
        "<string>:10:17: SR112 'attributes.x': 'format' makes a timestamp, but type is 'int'",
    ]


def test_epoch_is_no_format_of_a_date_or_time_column() -> None:
    text = """\
    layout: per_interaction
    time_format: epoch_ms
    fields:
      id: ticket
      channel: {const: email}
      created_at: {date: d, time: t, date_format: epoch}
    """
    whole = "reads a whole timestamp, not a date or a time of day: give it as 'format' of one column; a date or time column takes iso, excel or a strptime format"
    assert diagnostics(text) == [
        f"<string>:2:14: SR112 'time_format': 'epoch_ms' {whole}",
        f"<string>:6:47: SR112 'date_format': 'epoch' {whole}",
    ]


def test_structure_problems() -> None:
    assert diagnostics("layout: per_message\nfields:\n  events[].at: t\n") == [
        "<string>:1:9: SR111 layout per_message needs 'group_by' (a column) or 'thread' to group rows into interactions",
        "<string>:2:1: SR111 missing required field 'channel' in fields [map it from a column or set a constant: channel: {const: email}]",
    ]
    text = """\
    layout: per_message
    group_by: ticket
    grouping: buffered
    thread: {id: a, parent: b}
    fields: {channel: {const: chat}}
    """
    assert diagnostics(text) == ["<string>:4:9: SR112 give either 'group_by' or 'thread', not both"]
    text = """\
    layout: per_message
    grouping: buffered
    thread: {id: a, parent: b}
    fields: {channel: {const: chat}}
    """
    assert diagnostics(text) == ["<string>:2:11: SR112 'grouping' goes with 'group_by' (a thread is held until it is complete)"]
    text = """\
    layout: per_interaction
    group_by: ticket
    fields: {channel: {const: chat}}
    """
    assert diagnostics(text) == [
        "<string>:2:1: SR112 'group_by' needs layout per_message; with per_interaction every row is one interaction",
        "<string>:3:1: SR111 missing required field 'id' in fields [with one row per interaction, map the interaction id from a column]",
    ]


def test_checks_across_fields_are_reported_with_the_schema_problems() -> None:
    text = """\
    layout: per_interaction
    group_by: ticket
    fields:
      subject: {colum: title}
    """
    assert diagnostics(text) == [
        "<string>:2:1: SR112 'group_by' needs layout per_message; with per_interaction every row is one interaction",
        "<string>:3:1: SR111 missing required field 'id' in fields [with one row per interaction, map the interaction id from a column]",
        "<string>:3:1: SR111 missing required field 'channel' in fields [map it from a column or set a constant: channel: {const: email}]",
        "<string>:4:13: SR110 unknown field 'colum' [did you mean 'column'?]",
    ]


def test_join_problems() -> None:
    text = MINIMAL + """\
joins:
  users: {file: u.csv, key: id, on: tickets.requester}
  tickets: {file: t.csv, key: id, on: ticket, extra: 1}
"""
    assert diagnostics(text) == [
        "<string>:7:37: SR112 join 'users' looks up 'tickets.requester', but join 'tickets' is not declared before it",
        "<string>:8:47: SR110 unknown field 'extra'",
    ]
    text = MINIMAL + """\
joins:
  users: {file: u.csv, key: id, on: tickets.requester}
  tickets: {file: t.csv, key: id, on: ticket}
  "bad name": {file: t.csv, key: id, on: ticket}
"""
    assert diagnostics(text) == [
        "<string>:7:37: SR112 join 'users' looks up 'tickets.requester', but join 'tickets' is not declared before it",
        "<string>:9:3: SR112 join name 'bad name': use letters, digits, '_' and '-' (columns are read as bad name.column)",
    ]


def test_bad_csv_options_and_encoding() -> None:
    [message] = diagnostics(MINIMAL + "input: {csv: {delimeter: ';'}}\n")
    assert message.startswith("<string>:6:8: SR112 'input': unknown csv_dialect option(s) ['delimeter']")
    [message] = diagnostics(MINIMAL + "input: {encoding: klingon}\n")
    assert message.startswith("<string>:6:8: SR112 'input': unknown text encoding 'klingon'")


def test_yaml_errors_and_non_mapping_documents() -> None:
    assert diagnostics("layout: per_message\nlayout: per_interaction\n") == [
        "<string>:2:1: SR101 duplicate key 'layout' (first defined at line 1) [each key may appear once in a mapping; merge the two entries]"
    ]
    [syntax] = diagnostics("fields: {a: [1, 2}\n")
    assert syntax.startswith("<string>:1:") and " SR100 " in syntax
    assert diagnostics("- layout\n") == [
        "<string>:1:1: SR102 a mapping must be a YAML mapping, this document is a list "
        "[start with 'layout: per_message' or 'layout: per_interaction' and 'fields:']"
    ]
    with pytest.raises(MappingError) as info:
        load_mapping("  \n")
    assert info.value.codes == ["SR102"]


def test_an_alias_inside_the_node_it_names_is_a_yaml_error_not_a_traceback() -> None:
    # a recursive alias made the loader recurse until RecursionError (a traceback from lint and check)
    text = "layout: per_interaction\nfields: &f\n  id: a\n  channel: {const: email}\n  attributes.s: *f\n"
    [problem] = diagnostics(text)
    assert problem.startswith("<string>:5:3: SR100 ")  # at the key: an alias has no position of its own
    [problem] = diagnostics("layout: per_interaction\nfields: {id: a, channel: {const: email}}\nevents: &e [{type: message, at: *e}]\n")
    assert problem.startswith("<string>:3:") and " SR100 " in problem


def test_mapping_error_is_a_ruleset_error() -> None:
    with pytest.raises(RulesetError):
        load_mapping("layout: 1\n")


def test_all_problems_are_reported_together() -> None:
    text = """\
    layout: per_interaction
    fields:
      id: {colum: ticket}
      channel: {const: email}
      custmer.id: c
    """
    assert [m.split(" [")[0] for m in diagnostics(text)] == [
        "<string>:3:8: SR110 unknown field 'colum'",
        "<string>:5:3: SR110 target 'custmer.id': the interaction has no field 'custmer'",
    ]


def test_python_constructed_mappings_are_checked_too() -> None:
    with pytest.raises(ValidationError, match="layout per_message needs 'group_by'"):
        Mapping.model_validate({"layout": "per_message", "fields": {"channel": {"const": "chat"}}})
    with pytest.raises(ValidationError, match="the interaction has no field 'custmer'"):
        Mapping.model_validate({"layout": "per_interaction", "fields": {"id": "a", "channel": "c", "custmer.id": "x"}})
    m = Mapping.model_validate({"layout": "per_interaction", "fields": {"id": "a", "channel": {"const": "chat"}, "created_at": "t"}})
    [record] = apply_mapping(m, rows_of([{"a": "1", "t": "2026-03-02T09:00:00Z"}]))
    assert record.data == {"id": "1", "channel": "chat", "created_at": "2026-03-02T09:00:00+00:00"}


def test_constants_defaults_and_map_values_the_model_refuses_are_errors_when_loading() -> None:
    text = """\
    layout: per_message
    group_by: ticket
    timezone: UTC
    fields:
      channel: {const: Email}
      priority: {column: prio, map: {"1": urgent, "2": hi, "3": null}, default: medium}
      events[].at: t
      events[].author.role: [{column: inbound, map: {"True": customer, "False": Agent}}]
      events[].public: {const: maybe}
    events:
      - type: status
        at: t
        fields:
          status: {const: done}
    """
    assert diagnostics(text) == [
        "<string>:5:20: SR112 target 'channel': invalid value 'Email' for 'channel': string should match pattern "
        "'^[a-z][a-z0-9_\\-]*$' [each interaction given this value would be rejected]",
        "<string>:6:52: SR112 target 'priority': invalid value 'hi' for 'priority': input should be 'low', 'normal', "
        "'high' or 'urgent' [did you mean 'high'?]",
        "<string>:6:77: SR112 target 'priority': invalid value 'medium' for 'priority': input should be 'low', "
        "'normal', 'high' or 'urgent' [each interaction given this value would be rejected]",
        "<string>:8:77: SR112 target 'events[].author.role': invalid value 'Agent' for 'role': input should be "
        "'customer', 'agent', 'bot', 'system' or 'manager' [did you mean 'agent'?]",
        "<string>:9:28: SR112 target 'events[].public': 'public': input should be a valid boolean, unable to "
        "interpret input [each interaction given this value would be rejected]",
        "<string>:14:23: SR112 target 'status': invalid value 'done' for 'status': input should be 'new', 'open', "
        "'pending', 'on_hold', 'solved' or 'closed' [each interaction given this value would be rejected]",
    ]
    with pytest.raises(ValidationError, match="target 'channel': invalid value 'Email'"):
        Mapping.model_validate({"layout": "per_interaction", "fields": {"id": "a", "channel": {"const": "Email"}, "created_at": "t"}})


def test_values_the_model_takes_or_the_mapping_converts_load_without_errors() -> None:
    m = mapping("""\
    layout: per_message
    group_by: ticket
    timezone: UTC
    fields:
      channel: {const: in_person}
      subject: {const: 5}                       # a number becomes text
      priority: {column: p, map: {a: "1"}, type: int, unmapped: keep}   # converted before the model sees it
      events[].at: t
      events[].type: {const: status}
      events[].status: {column: s, map: {"done": solved}, default: open}
      events[].public: {const: "yes"}
      events[].automated: {const: autoresponder}
      attributes.x: {const: Anything}
    """)
    path_free = rows_of([{"ticket": "1", "t": "2026-03-02T09:00:00Z", "s": "done", "p": "a"}])
    [record] = apply_mapping(m, path_free)
    # each value as the mapping makes it: the constant 5 as the text "5" (subject is text); 'a' mapped to "1",
    # then read as the integer 1; 'done' mapped to solved; the constants "yes" and autoresponder as written
    # (the model reads them); the id is the group's key, created_at the time of its first event
    assert (record.error, record.data) == (None, {
        "id": "1",
        "channel": "in_person",
        "created_at": "2026-03-02T09:00:00+00:00",
        "subject": "5",
        "priority": 1,
        "attributes": {"x": "Anything"},
        "events": [{"at": "2026-03-02T09:00:00+00:00", "type": "status", "status": "solved", "public": "yes", "automated": "autoresponder"}],
    })


def test_unquoted_yaml_scalars_compare_as_text(tmp_path: Path) -> None:
    m = mapping("""\
    layout: per_interaction
    fields:
      id: 2017                       # a column named 2017
      channel: {const: chat}
      created_at: {column: t}
      priority: {column: p, map: {0: normal, 010: high, 1.50: urgent, True: low}}
      attributes.flag: {column: f, map: {yes: 1, no: 0}}
      attributes.zero: {const: 5, when: {column: z, equals: 0}}
      attributes.in: {const: true, when: {column: z, in: [0, False, 1.0]}}
    """)
    data = [
        {"2017": "a", "t": "2026-03-02T09:00:00Z", "p": "010", "f": "yes", "z": "0"},
        {"2017": "b", "t": "2026-03-02T09:00:00Z", "p": "True", "f": "no", "z": "False"},
        {"2017": "c", "t": "2026-03-02T09:00:00Z", "p": "1.50", "f": "no", "z": "1.0"},
    ]
    out = good(list(apply_mapping(m, rows_of(data))))
    assert [(d["priority"], d["attributes"]) for d in out] == [
        ("high", {"flag": 1, "zero": 5, "in": True}),
        ("low", {"flag": 0, "in": True}),
        ("urgent", {"flag": 0, "in": True}),
    ]


# --------------------------------------------------------------------------------- values and conversion

PER_ROW = """\
layout: per_interaction
timezone: UTC
fields:
  id: id
  channel: {const: chat}
  created_at: {const: "2026-03-02T09:00:00+00:00"}
"""


def map_rows(extra: str, data: list[dict[str, Any]], head: str = PER_ROW) -> list[RawRecord]:
    return list(apply_mapping(mapping(head + textwrap.indent(textwrap.dedent(extra), "  ")), rows_of(data)))


def attrs(records: list[RawRecord]) -> list[Any]:
    return [r.data.get("attributes") if r.data is not None else r.error for r in records]


def test_columns_constants_templates_and_nested_targets() -> None:
    out = map_rows(
        """\
        subject: {template: "Order {order} ({{x}})"}
        customer.name: {template: "{first} {last}"}
        customer.tier: {const: gold}
        attributes.order.amount: {column: amount, type: float}
        attributes.order.lines: {column: lines, type: json}
        attributes.raw: amount
        """,
        [{"id": "1", "order": "A-7", "first": "Ada", "last": "", "amount": "12.50", "lines": '[{"sku": "x"}]'}],
    )
    assert good(out) == [
        {
            "id": "1",
            "channel": "chat",
            "created_at": "2026-03-02T09:00:00+00:00",
            "subject": "Order A-7 ({x})",
            "customer": {"name": "Ada ", "tier": "gold"},
            "attributes": {"order": {"amount": 12.5, "lines": [{"sku": "x"}]}, "raw": "12.50"},
        }
    ]


def test_template_without_any_value_is_no_value() -> None:
    out = map_rows("  subject: {template: '{a}-{b}'}\n", [{"id": "1", "a": "", "b": " "}])
    assert "subject" not in good(out)[0]


def test_nested_json_records_and_dotted_columns() -> None:
    out = map_rows(
        """\
        customer.name: requester.name
        customer.id: {column: requester.ids.1}
        attributes.literal: a.b
        """,
        [{"id": "1", "requester": {"name": "Ada", "ids": [5, 6]}, "a.b": "key with a dot wins"}],
    )
    assert good(out)[0]["customer"] == {"name": "Ada", "id": "6"}  # a number in a text field becomes text
    assert good(out)[0]["attributes"] == {"literal": "key with a dot wins"}


def test_a_dotted_column_with_a_digit_that_is_no_index_is_a_missing_column() -> None:
    out = map_rows("customer.id: {column: requester.ids.\u00b9}\n", [{"id": "1", "requester": {"ids": [5, 6]}}])
    assert bad(out) == [(2, "SR310", "no column 'requester.ids.\u00b9' in this record (did you mean 'requester'? it has 'id', 'requester')")]


def test_value_maps() -> None:
    data = [{"id": "1", "s": "O"}, {"id": "2", "s": "X"}, {"id": "3", "s": "gone"}]
    out = map_rows("  attributes.s: {column: s, map: {O: open, X: ~, gone: closed}}\n", data)
    assert attrs(out) == [{"s": "open"}, None, {"s": "closed"}]
    out = map_rows("  attributes.s: {column: s, map: {O: open}, unmapped: keep}\n", data)
    assert attrs(out) == [{"s": "open"}, {"s": "X"}, {"s": "gone"}]
    out = map_rows("  attributes.s: {column: s, map: {O: open}, unmapped: empty}\n", data)
    assert attrs(out) == [{"s": "open"}, None, None]
    out = map_rows("  attributes.s: {column: s, map: {O: open, C: closed}}\n", data[1:2])
    assert bad(out) == [(2, "SR310", "column 's': 'X' is not in the value map ('O', 'C')")]


def test_map_then_convert() -> None:
    out = map_rows("  attributes.ok: {column: a, map: {Y: 'yes', N: 'no'}, type: bool}\n", [{"id": "1", "a": "Y"}, {"id": "2", "a": "N"}])
    assert attrs(out) == [{"ok": True}, {"ok": False}]


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("int", "42", 42),
        ("int", " 7 ", 7),
        ("float", "1e3", 1000.0),
        ("bool", "Yes", True),
        ("bool", "0", False),
        ("bool", "FALSE", False),
        ("json", '{"a": [1, null]}', {"a": [1, None]}),
        ("string", "x", "x"),
    ],
)
def test_type_conversion(kind: str, text: str, expected: Any) -> None:
    out = map_rows(f"  attributes.v: {{column: v, type: {kind}}}\n", [{"id": "1", "v": text}])
    assert attrs(out) == [{"v": expected}]


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("int", "4.5", "column 'v': '4.5' is not an integer"),
        ("float", "abc", "column 'v': 'abc' is not a number"),
        ("float", "nan", "column 'v': 'nan' is not a number"),
        ("bool", "maybe", "column 'v': 'maybe' is not a boolean (true/false, yes/no, 1/0)"),
        ("json", "{'a': 1}", "column 'v': '{\\'a\\': 1}' is not valid JSON (Expecting property name enclosed in double quotes at character 2)"),
    ],
)
def test_type_conversion_errors(kind: str, text: str, message: str) -> None:
    out = map_rows(f"  attributes.v: {{column: v, type: {kind}}}\n", [{"id": "1", "v": text}])
    assert bad(out) == [(2, "SR310", message)]


def test_native_json_values_convert_too() -> None:
    out = map_rows(
        """\
        attributes.i: {column: i, type: int}
        attributes.f: {column: f, type: float}
        attributes.b: {column: b, type: bool}
        attributes.s: {column: d, type: string}
        attributes.j: {column: d, type: json}
        attributes.k: {column: b, map: {"true": "yes"}}
        """,
        [{"id": 1, "i": 3.0, "f": 2, "b": True, "d": {"x": 1}}],
    )
    assert good(out)[0]["id"] == "1"
    assert attrs(out) == [{"i": 3, "f": 2.0, "b": True, "s": '{"x":1}', "j": {"x": 1}, "k": "yes"}]


def test_null_values_default_strip_and_required() -> None:
    head = PER_ROW.replace("timezone: UTC\n", "timezone: UTC\nnull_values: ['n/a', '-']\n")
    out = map_rows(
        """\
        attributes.a: a
        attributes.b: {column: b, null_values: ['0']}
        attributes.c: {column: c, default: unknown}
        attributes.d: {column: d, strip: false}
        attributes.e: {column: e, required: true}
        """,
        [
            {"id": "1", "a": " n/a ", "b": "0", "c": "", "d": "  x ", "e": "1"},
            {"id": "2", "a": "v", "b": "-", "c": "-", "d": "   ", "e": " "},
        ],
        head,
    )
    assert attrs(out) == [
        {"c": "unknown", "d": "  x ", "e": "1"},
        "no value in column 'e'; 'attributes.e' needs one",
    ]


def test_alternatives_take_the_first_value() -> None:
    out = map_rows(
        """\
        customer.name:
          - {column: display_name}
          - {template: "{first} {last}"}
          - {const: anonymous}
        """,
        [{"id": "1", "display_name": "Ada L", "first": "A", "last": "L"}, {"id": "2", "display_name": "", "first": "B", "last": "M"}, {"id": "3", "display_name": "", "first": "", "last": ""}],
    )
    assert [d["customer"]["name"] for d in good(out)] == ["Ada L", "B M", "anonymous"]


def test_conditions() -> None:
    out = map_rows(
        """\
        attributes.eq: {const: 1, when: {column: a, equals: x}}
        attributes.ne: {const: 1, when: {column: a, not_equals: x}}
        attributes.in: {const: 1, when: {column: a, in: [x, y]}}
        attributes.ni: {const: 1, when: {column: a, not_in: [x, y]}}
        attributes.set: {const: 1, when: a}
        attributes.empty: {const: 1, when: {column: a, empty: true}}
        attributes.same: {const: 1, when: {column: a, equals_column: b}}
        attributes.all: {const: 1, when: [a, {column: b, equals: x}]}
        attributes.value: {column: b, when: {column: a, in: [x, z]}}
        """,
        [{"id": "1", "a": "x", "b": "x"}, {"id": "2", "a": "z", "b": "q"}, {"id": "3", "a": "", "b": ""}],
    )
    assert attrs(out) == [
        {"eq": 1, "in": 1, "set": 1, "same": 1, "all": 1, "value": "x"},
        {"ne": 1, "ni": 1, "set": 1, "value": "q"},
        {"ne": 1, "ni": 1, "empty": 1},
    ]


def test_missing_columns_are_errors_or_empty() -> None:
    out = map_rows("  customer.name: nmae\n", [{"id": "1", "name": "Ada"}])
    assert bad(out) == [(2, "SR310", "no column 'nmae' in this record (did you mean 'name'? it has 'id', 'name')")]
    out = map_rows("  customer.name: {column: x, when: {column: flag}}\n", [{"id": "1"}])
    assert bad(out) == [(2, "SR310", "no column 'flag' in this record (it has 'id')")]
    # the hint names a column that the cut list leaves out
    wide = {"id": "1", **{f"c{i:02d}": "" for i in range(20)}, "product": "x"}
    out = map_rows("  subject: prodcut\n", [wide])
    shown = ", ".join(repr(k) for k in list(wide)[:12])
    assert bad(out) == [(2, "SR310", f"no column 'prodcut' in this record (did you mean 'product'? it has {shown}, ...)")]
    head = PER_ROW.replace("timezone: UTC\n", "timezone: UTC\nmissing_columns: empty\n")
    out = map_rows("  customer.name: nmae\n", [{"id": "1", "name": "Ada"}], head)
    assert good(out)[0].get("customer") is None


def test_every_problem_of_a_row_is_reported_in_one_record() -> None:
    out = map_rows(
        "  attributes.a: {column: a, type: int}\n  attributes.b: {column: b, type: float}\n",
        [{"id": "1", "a": "x", "b": "y"}],
    )
    assert bad(out) == [(2, "SR310", "column 'a': 'x' is not an integer; column 'b': 'y' is not a number")]


def test_long_values_are_shortened_in_messages() -> None:
    out = map_rows("  attributes.a: {column: a, type: int}\n", [{"id": "1", "a": "9" * 100 + "x"}])
    assert bad(out) == [(2, "SR310", "column 'a': '" + "9" * 57 + "...' is not an integer")]


# ------------------------------------------------------------------------------------------ timestamps

TS_HEAD = """\
layout: per_interaction
fields:
  id: id
  channel: {const: chat}
"""


def ts_head(top: str) -> str:
    """TS_HEAD with mapping-level settings before ``fields``."""
    return TS_HEAD.replace("fields:", top + "fields:")


def created(extra: str, data: list[dict[str, Any]], head: str = TS_HEAD) -> list[Any]:
    out = list(apply_mapping(mapping(head + textwrap.indent(textwrap.dedent(extra), "  ")), rows_of(data)))
    return [r.data.get("created_at") if r.data is not None else r.error for r in out]


def test_iso_timestamps_with_and_without_offset() -> None:
    head = ts_head("timezone: Europe/Berlin\n")
    values = ["2026-03-02T09:15:00Z", "2026-03-02 09:15", "2026-07-02T09:15:00", "2026-03-02T09:15:00-05:00", "2026-03-02"]
    assert created("  created_at: t\n", [{"id": str(i), "t": v} for i, v in enumerate(values)], head) == [
        "2026-03-02T09:15:00+00:00",
        "2026-03-02T09:15:00+01:00",
        "2026-07-02T09:15:00+02:00",
        "2026-03-02T09:15:00-05:00",
        "2026-03-02T00:00:00+01:00",
    ]


def test_strptime_formats_and_their_errors() -> None:
    extra = "  created_at: {column: created_at, format: '%d/%m/%Y', timezone: UTC}\n"
    assert created(extra, [{"id": "1", "created_at": "02/03/2026"}]) == ["2026-03-02T00:00:00+00:00"]
    assert created(extra, [{"id": "1", "created_at": "31/02/2026"}]) == [
        "column 'created_at': '31/02/2026' does not match format %d/%m/%Y (day is out of range for month)"
    ]
    assert created(extra, [{"id": "1", "created_at": "2026-03-02"}]) == ["column 'created_at': '2026-03-02' does not match format %d/%m/%Y"]
    assert created("  created_at: t\n", [{"id": "1", "t": "yesterday"}]) == ["column 't': 'yesterday' does not match format iso"]


def test_twitter_style_format_with_offset() -> None:
    extra = "  created_at: {column: t, format: '%a %b %d %H:%M:%S %z %Y'}\n"
    assert created(extra, [{"id": "1", "t": "Tue Oct 31 22:10:47 +0000 2017"}]) == ["2017-10-31T22:10:47+00:00"]


def test_default_timestamp_format_of_the_mapping() -> None:
    head = ts_head("timestamp_format: '%Y%m%d%H%M'\ntimezone: Asia/Kolkata\n")
    assert created("  created_at: t\n", [{"id": "1", "t": "202603020915"}], head) == ["2026-03-02T09:15:00+05:30"]


def test_naive_time_without_a_time_zone_is_an_error() -> None:
    assert created("  created_at: t\n", [{"id": "1", "t": "2026-03-02 09:15"}]) == [
        "column 't': '2026-03-02 09:15' has no time zone; set 'timezone' in the mapping (an IANA name such as Europe/Berlin)"
    ]


def test_epoch_seconds_and_milliseconds() -> None:
    assert created("  created_at: {column: t, format: epoch}\n", [{"id": "1", "t": "1772442900"}, {"id": "2", "t": 1772442900.5}]) == [
        "2026-03-02T09:15:00+00:00",
        "2026-03-02T09:15:00.500000+00:00",
    ]
    assert created("  created_at: {column: t, format: epoch_ms}\n", [{"id": "1", "t": "1772442900000"}]) == ["2026-03-02T09:15:00+00:00"]
    assert created("  created_at: {column: t, format: epoch}\n", [{"id": "1", "t": "soon"}]) == ["column 't': 'soon' does not match format epoch"]


def test_spreadsheet_serials() -> None:
    """A spreadsheet saved as CSV writes dates and times as serials: days since 1899-12-30, the fraction
    being the time of day (0.3840046296296296 is 09:12:58, a hair off in binary floating point)."""
    head = ts_head("timezone: Europe/Berlin\n")
    one = "  created_at: {column: t, format: excel}\n"
    assert created(one, [{"id": "1", "t": "46083.3840046296296"}, {"id": "2", "t": 46083}, {"id": "3", "t": "61"}], head) == [
        "2026-03-02T09:12:58+01:00",
        "2026-03-02T00:00:00+01:00",
        "1900-03-01T00:00:00+01:00",
    ]
    assert created(one, [{"id": "1", "t": "0.384"}, {"id": "2", "t": "soon"}, {"id": "3", "t": "1e400"}], head) == [
        "column 't': '0.384' does not match format excel (a spreadsheet date serial counts from 61 (1 March 1900); "
        "a time of day alone needs 'date' and time_format: excel)",
        "column 't': 'soon' does not match format excel",
        "column 't': '1e400' does not match format excel",
    ]
    pair = "  created_at: {date: d, time: t, date_format: excel, time_format: excel}\n"
    data = [{"id": "1", "d": "46083", "t": "0.38400462962962961"}, {"id": "2", "d": "46083", "t": "0.999999999"}, {"id": "3", "d": "46083", "t": "1e308"}]
    fraction = "does not match format excel (a spreadsheet time of day is a fraction of a day, from 0 up to 1)"
    assert created(pair, data, head) == ["2026-03-02T09:12:58+01:00", f"column 't': '0.999999999' {fraction}", f"column 't': '1e308' {fraction}"]
    # the call log of a spreadsheet: an ISO date, a serial time of day, and a talk time in days
    mixed = "  created_at: {date: d, time: t, time_format: excel, add: {column: talk, unit: days}}\n"
    assert created(mixed, [{"id": "1", "d": "2026-03-02", "t": "0.38400462962962961", "talk": "1.6550925925925926E-3"}], head) == ["2026-03-02T09:15:21+01:00"]
    # read as ISO (the default), a number says what it probably is
    assert created("  created_at: {date: d, time: t}\n", [{"id": "1", "d": "2021-01-01", "t": "0.384"}, {"id": "2", "d": "46083", "t": "09:00"}], head) == [
        "column 't': '0.384' does not match format iso (a number: a spreadsheet serial? read it with time_format: excel)",
        "column 'd': '46083' does not match format iso (a number: a spreadsheet serial? read it with date_format: excel)",
    ]
    assert created("  created_at: t\n", [{"id": "1", "t": "46083.5"}, {"id": "2", "t": 1772442900}, {"id": "3", "t": "-1"}], head) == [
        "column 't': '46083.5' does not match format iso (a number: a spreadsheet serial? read it with format: excel)",
        "column 't': '1772442900' does not match format iso (a number: seconds since 1970? read it with format: epoch, or epoch_ms for milliseconds)",
        "column 't': '-1' does not match format iso",
    ]
    assert created(pair, [{"id": "1", "d": "46083.5", "t": "0.5"}, {"id": "2", "d": "9e9", "t": "0"}], head) == [
        "column 'd': '46083.5' does not match format excel (a date serial is a whole number; one with a time of day is read with format: excel)",
        "column 'd': '9e9' does not match format excel (after the year 9999)",
    ]


def test_separate_date_and_time_columns() -> None:
    head = ts_head("timezone: Asia/Jerusalem\n")
    extra = "  created_at: {date: d, time: t, date_format: '%y%m%d', time_format: '%H:%M:%S'}\n"
    assert created(extra, [{"id": "1", "d": "990201", "t": "7:02:47"}], head) == ["1999-02-01T07:02:47+02:00"]
    assert created(extra, [{"id": "1", "d": "990231", "t": "7:02:47"}], head) == [
        "column 'd': '990231' does not match format %y%m%d (day is out of range for month)"
    ]
    assert created(extra, [{"id": "1", "d": "990201", "t": "25:00:00"}], head) == ["column 't': '25:00:00' does not match format %H:%M:%S"]
    iso = "  created_at: {date: d, time: t}\n"
    assert created(iso, [{"id": "1", "d": "2026-03-02", "t": "09:15+01:00"}]) == ["2026-03-02T09:15:00+01:00"]
    assert created("  created_at: {date: d}\n", [{"id": "1", "d": "2026-03-02"}], head) == ["2026-03-02T00:00:00+02:00"]


def test_default_date_and_time_formats_of_the_mapping() -> None:
    head = ts_head("timezone: UTC\ndate_format: '%d.%m.%Y'\ntime_format: '%H.%M'\n")
    assert created("  created_at: {date: d, time: t}\n", [{"id": "1", "d": "02.03.2026", "t": "9.15"}], head) == ["2026-03-02T09:15:00+00:00"]


def test_time_after_midnight_rolls_over_to_the_next_day() -> None:
    head = ts_head("timezone: UTC\n")
    extra = "  created_at: {date: d, time: t, after: start}\n"
    data = [{"id": "1", "d": "2026-03-02", "t": "00:01:28", "start": "23:59:32"}, {"id": "2", "d": "2026-03-02", "t": "23:59:40", "start": "23:59:32"}, {"id": "3", "d": "2026-03-02", "t": "00:01", "start": ""}]
    assert created(extra, data, head) == ["2026-03-03T00:01:28+00:00", "2026-03-02T23:59:40+00:00", "2026-03-02T00:01:00+00:00"]
    # A few minutes before the reference is clock skew between two systems, not the next day: only a time
    # more than 12 hours earlier in the day is after midnight.
    data = [{"id": "1", "d": "1999-02-24", "t": "15:53:04", "start": "15:56:16"}, {"id": "2", "d": "1999-02-24", "t": "03:56:15", "start": "15:56:16"},
            {"id": "3", "d": "1999-02-24", "t": "03:56:17", "start": "15:56:16"}]
    assert created(extra, data, head) == ["1999-02-24T15:53:04+00:00", "1999-02-25T03:56:15+00:00", "1999-02-24T03:56:17+00:00"]


def test_offsets_are_added_as_elapsed_time() -> None:
    head = ts_head("timezone: Europe/Berlin\n")
    extra = """\
      created_at: {column: t, add: [{column: wait}, {column: talk, unit: hms}, {const: 1, unit: minutes}]}
    """
    data = [{"id": "1", "t": "2026-03-29T01:59:00", "wait": "30", "talk": "1:00:30"}, {"id": "2", "t": "2026-03-29T01:00", "wait": "", "talk": "0:01"}]
    # 00:59 UTC (01:59 CET) + 30 s + 1 h 0 m 30 s + 1 min is 02:01 UTC, 04:01 CEST (clocks went forward at 02:00)
    # an offset column without a value leaves the time unknown
    assert created(extra, data, head) == ["2026-03-29T04:01:00+02:00", None]


def test_offset_errors() -> None:
    head = ts_head("timezone: UTC\n")
    extra = "  created_at: {column: t, add: {column: wait, unit: minutes}}\n"
    assert created(extra, [{"id": "1", "t": "2026-03-02T09:00", "wait": "2.5"}], head) == ["2026-03-02T09:02:30+00:00"]
    assert created(extra, [{"id": "1", "t": "2026-03-02T09:00", "wait": "x"}], head) == ["column 'wait': 'x' is not a number of minutes"]
    extra = "  created_at: {date: d, time: t, add: {column: talk, unit: hms}}\n"
    assert created(extra, [{"id": "1", "d": "2026-03-02", "t": "09:00", "talk": "1:2:3:4"}], head) == ["column 'talk': '1:2:3:4' is not a duration [H:]MM:SS"]
    assert created(extra, [{"id": "1", "d": "2026-03-02", "t": "09:00", "talk": "02:03"}], head) == ["2026-03-02T09:02:03+00:00"]


def test_times_pushed_past_the_year_9999_reject_the_row_not_the_run() -> None:
    head = ts_head("timezone: UTC\n")
    extra = "  created_at: {column: t, add: {column: talk, unit: hms}}\n"
    data = [{"id": "1", "t": "2026-03-02T09:00", "talk": "99999999:00:00"}, {"id": "2", "t": "2026-03-02T09:00", "talk": "1:00"}]
    assert created(extra, data, head) == [
        "column 't' with its 'add' durations: 2026-03-02T09:00:00+00:00 plus 3.6e+11 seconds is outside the years 1 to 9999",
        "2026-03-02T09:01:00+00:00",  # the next row is still mapped
    ]
    extra = "  created_at: {column: t, add: {column: w}}\n"
    assert created(extra, [{"id": "1", "t": "2026-03-02T09:00", "w": "-1e12"}], head) == [
        "column 't' with its 'add' durations: 2026-03-02T09:00:00+00:00 plus -1e+12 seconds is outside the years 1 to 9999"
    ]
    extra = "  created_at: {date: d, time: t, after: start}\n"
    assert created(extra, [{"id": "1", "d": "9999-12-31", "t": "00:01", "start": "23:59"}], head) == [
        "columns 'd', 't': '9999-12-31 00:01' is on the next day, after the year 9999"
    ]


def test_durations_that_add_up_to_no_number_reject_the_row_not_the_run() -> None:
    # 1e308 days and -1e308 days are each finite as read, but in seconds they are infinite and their sum is
    # NaN: the row is an error, and the rows after it are still mapped
    head = ts_head("timezone: UTC\n")
    extra = "  created_at: {column: t, add: [{column: a, unit: days}, {column: b, unit: days}]}\n"
    data = [{"id": "1", "t": "2026-03-02T09:00", "a": "1e308", "b": "-1e308"}, {"id": "2", "t": "2026-03-02T09:00", "a": "1", "b": "-1"}]
    first, second = created(extra, data, head)
    assert first.startswith("column 't' with its 'add' durations: 2026-03-02T09:00:00+00:00 plus ")
    assert first.endswith(" is outside the years 1 to 9999")
    assert second == "2026-03-02T09:00:00+00:00"


@pytest.mark.parametrize("written", [".nan", ".inf", "-.inf"])
def test_a_constant_duration_that_is_no_finite_number_is_an_error_when_the_mapping_loads(written: str) -> None:
    # lint passed it, and check stopped at the first row (NaN) or rejected every row (infinity)
    text = f"layout: per_interaction\ntimezone: UTC\nfields:\n  id: a\n  channel: {{const: email}}\n  created_at: {{column: t, add: {{const: {written}}}}}\n"
    [problem] = diagnostics(text)
    assert problem.startswith("<string>:6:") and " SR112 " in problem and "finite" in problem


def test_hms_durations_take_minutes_and_seconds_below_60_after_a_colon() -> None:
    head = ts_head("timezone: UTC\n")
    extra = "  created_at: {column: t, add: {column: talk, unit: hms}}\n"
    ok = {"90:00": "2026-03-02T10:30:00+00:00", "25:59:59": "2026-03-03T10:59:59+00:00", "0:00:00.5": "2026-03-02T09:00:00.500000+00:00"}
    for talk, expected in ok.items():
        assert created(extra, [{"id": "1", "t": "2026-03-02T09:00", "talk": talk}], head) == [expected], talk
    for talk in ["1:99", "0:60", "1:60:00", "1:00:60", "-1:30", "0:-5", "nan:00"]:
        assert created(extra, [{"id": "1", "t": "2026-03-02T09:00", "talk": talk}], head) == [
            f"column 'talk': '{talk}' is not a duration [H:]MM:SS (minutes and seconds after a ':' are 0 to 59)"
        ], talk


def test_a_row_reports_every_bad_column_once() -> None:
    m = mapping("""\
    layout: per_interaction
    fields:
      id: id
      channel: {const: phone}
      created_at: {column: ts, format: epoch}
    events:
      - type: call.answered
        at: {column: ts, format: epoch, add: {column: wait, unit: hms}}
      - type: call.ended
        at: {column: ts, format: epoch, add: [{column: wait, unit: hms}, {column: talk, unit: hms}]}
      - type: call.queued
        at: {date: day, time: clock, time_format: "%H:%M", after: start, add: {column: talk, unit: minutes}}
    """)
    row = {"id": "B", "ts": "abc", "wait": "x", "talk": "5", "day": "2026-13-01", "clock": "9h", "start": "late"}
    [record] = list(apply_mapping(m, rows_of([row])))
    assert record.error == (
        "column 'ts': 'abc' does not match format epoch; "
        "column 'wait': 'x' is not a duration [H:]MM:SS; "
        "column 'talk': '5' is not a duration [H:]MM:SS; "
        "column 'day': '2026-13-01' does not match format iso (month must be in 1..12); "
        "column 'clock': '9h' does not match format %H:%M; "
        "column 'start': 'late' does not match format %H:%M"
    )


# ------------------------------------------------------------------------------------ grouping messages

CHAT = """\
layout: per_message
group_by: conversation
grouping: {grouping}
timezone: UTC
fields:
  channel: {{const: chat}}
  customer.name: {{column: sender, when: {{column: role, equals: customer}}}}
  agents[].id: {{column: sender, when: {{column: role, equals: agent}}}}
  events[].at: {{column: sent, format: "%H:%M", add: {{const: 0}}}}
  events[].text: text
  events[].author.role: role
"""
CHAT_HEADER = ["conversation", "sent", "role", "sender", "text"]


def chat_mapping(grouping: str = "contiguous", extra: str = "") -> Mapping:
    return load_mapping(CHAT.format(grouping=grouping) + extra)


def summary(data: dict[str, Any]) -> tuple[str, list[str]]:
    return data["id"], [f"{e['at'][11:16]} {e['author']['role']}: {e['text']}" for e in data["events"]]


def test_contiguous_groups_stream_in_input_order(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chats.csv",
        CHAT_HEADER,
        [
            ["c1", "09:00", "customer", "Ada", "hello"],
            ["c1", "09:02", "agent", "bob", "hi Ada"],
            ["c1", "09:01", "customer", "Ada", "anyone?"],
            ["c2", "10:00", "customer", "Cy", "help"],
            ["c2", "10:05", "agent", "eve", "sure"],
            ["c2", "10:06", "agent", "bob", "done"],
            ["c2", "10:07", "agent", "eve", "bye"],
        ],
    )
    out = run(chat_mapping(), path)
    assert [r.position.line for r in out] == [2, 5]
    assert [summary(d) for d in good(out)] == [
        ("c1", ["09:00 customer: hello", "09:01 customer: anyone?", "09:02 agent: hi Ada"]),
        ("c2", ["10:00 customer: help", "10:05 agent: sure", "10:06 agent: done", "10:07 agent: bye"]),
    ]
    first, second = good(out)
    assert first["created_at"] == "1900-01-01T09:00:00+00:00"  # earliest event: the format has no date
    assert first["customer"] == {"name": "Ada"} and first["agents"] == [{"id": "bob"}]
    assert second["agents"] == [{"id": "eve"}, {"id": "bob"}]  # distinct, in order of appearance


def test_contiguous_grouping_reports_rows_that_are_not_adjacent(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chats.csv",
        CHAT_HEADER,
        [
            ["c1", "09:00", "customer", "Ada", "a"],
            ["c2", "10:00", "customer", "Cy", "b"],
            ["c1", "09:05", "agent", "bob", "c"],
            ["c1", "09:06", "agent", "bob", "d"],
            ["c3", "11:00", "customer", "Di", "e"],
        ],
    )
    out = run(chat_mapping(), path)
    assert [(r.position.line, r.data["id"] if r.data else r.error) for r in out] == [
        (2, "c1"),
        (3, "c2"),
        (
            4,
            "conversation 'c1': 2 rows from line 4 are not next to the interaction's earlier rows (from line 2); "
            "interaction 'c1' was already checked without them, so its results are incomplete and may be wrong, and "
            "these rows are not checked; grouping: contiguous needs the rows of one interaction together (sort the "
            "export by conversation or use grouping: buffered)",
        ),
        (6, "c3"),
    ]
    assert [r.code for r in out] == [None, None, "SR310", None]
    # a stream cannot take back what it emitted: c1 came out with its first row only, before its agent replied
    assert summary(out[0].data) == ("c1", ["09:00 customer: a"])


def test_contiguous_grouping_names_one_returning_row_and_an_earlier_part_that_was_rejected(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chats.csv",
        CHAT_HEADER,
        [
            ["c1", "09:00", "customer", "Ada", "a"],
            ["c2", "9h", "customer", "Cy", "b"],
            ["c1", "09:05", "agent", "bob", "c"],
            ["c2", "10:05", "agent", "eve", "d"],
        ],
    )
    out = run(chat_mapping(), path)
    tail = "; grouping: contiguous needs the rows of one interaction together (sort the export by conversation or use grouping: buffered)"
    assert [(r.position.line, r.data["id"] if r.data else r.error) for r in out] == [
        (2, "c1"),
        (3, "column 'sent': '9h' does not match format %H:%M; interaction 'c2' is not checked"),
        (
            4,
            "conversation 'c1': 1 row from line 4 is not next to the interaction's earlier rows (from line 2); interaction "
            "'c1' was already checked without it, so its results are incomplete and may be wrong, and this row is not checked"
            + tail,
        ),
        (
            5,
            "conversation 'c2': 1 row from line 5 is not next to the interaction's earlier rows (from line 3); interaction "
            "'c2' was rejected there, and this row is not checked either" + tail,
        ),
    ]


def test_buffered_groups_collect_rows_from_anywhere(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chats.csv",
        CHAT_HEADER,
        [
            ["c1", "09:00", "customer", "Ada", "a"],
            ["c2", "10:00", "customer", "Cy", "b"],
            ["c1", "09:05", "agent", "bob", "c"],
        ],
    )
    out = run(chat_mapping("buffered"), path)
    assert [(r.position.line, summary(r.data)) for r in out if r.data] == [
        (2, ("c1", ["09:00 customer: a", "09:05 agent: c"])),
        (3, ("c2", ["10:00 customer: b"])),
    ]


def test_a_bad_row_rejects_its_interaction_and_names_it(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chats.csv",
        CHAT_HEADER,
        [
            ["c1", "09:00", "customer", "Ada", "a"],
            ["c1", "9h05", "agent", "bob", "c"],
            ["c1", "09:06", "agent", "bob", "d"],
            ["", "09:07", "agent", "bob", "e"],
            ["c2", "10:00", "customer", "Cy", "b"],
        ],
    )
    for grouping in ("contiguous", "buffered"):
        out = run(chat_mapping(grouping), path)
        assert [(r.position.line, r.data["id"] if r.data else r.error) for r in out] == [
            (3, "column 'sent': '9h05' does not match format %H:%M; interaction 'c1' is not checked"),
            (5, "column 'conversation' is empty; a row needs it to be grouped into an interaction"),
            (6, "c2"),
        ], grouping


def test_pick_first_last_min_max(tmp_path: Path) -> None:
    extra = """\
  subject: {column: text, pick: last}
  attributes.first: text
  attributes.min: {column: sent, pick: min}
  attributes.max: {column: sent, pick: max}
  attributes.most: {column: mixed, type: json, pick: max}
"""
    path = write_csv(
        tmp_path / "chats.csv",
        [*CHAT_HEADER, "mixed"],
        [["c1", "09:30", "customer", "Ada", "", "1"], ["c1", "09:10", "agent", "bob", "b", "3"], ["c1", "09:20", "agent", "bob", "c", "2"]],
    )
    [data] = good(run(chat_mapping(extra=extra), path))
    assert data["subject"] == "c"
    assert data["attributes"] == {"first": "b", "min": "09:10", "max": "09:30", "most": 3}


def test_pick_min_or_max_of_values_that_do_not_compare_rejects_the_interaction(tmp_path: Path) -> None:
    extra = "  attributes.most: {column: mixed, type: json, pick: max}\n"
    path = write_csv(
        tmp_path / "chats.csv",
        [*CHAT_HEADER, "mixed"],
        [
            ["c1", "09:30", "customer", "Ada", "a", "1"],
            ["c1", "09:10", "agent", "bob", "b", '"x"'],
            ["c2", "10:00", "customer", "Cy", "c", '"y"'],
        ],
    )
    for grouping in ("contiguous", "buffered"):
        out = run(chat_mapping(grouping, extra=extra), path)
        assert [(r.position.line, r.data["id"] if r.data else r.error, r.code) for r in out] == [
            (
                2,
                "column 'mixed': pick: max cannot compare the number 1 with the text 'x'; give the source a type (for example type: int or "
                "type: timestamp) so that the rows' values compare",
                "SR310",
            ),
            (4, "c2", None),
        ], grouping


def test_explicit_id_and_created_at_override_the_defaults(tmp_path: Path) -> None:
    extra = "  id: {template: 'chat-{conversation}'}\n  created_at: {column: opened, format: '%H:%M'}\n"
    path = write_csv(tmp_path / "c.csv", [*CHAT_HEADER, "opened"], [["c1", "09:00", "customer", "Ada", "a", "08:55"]])
    [data] = good(run(chat_mapping(extra=extra), path))
    assert data["id"] == "chat-c1" and data["created_at"] == "1900-01-01T08:55:00+00:00"


def test_events_keep_input_order_without_sort_events(tmp_path: Path) -> None:
    m = load_mapping(CHAT.format(grouping="contiguous").replace("timezone: UTC", "timezone: UTC\nsort_events: false"))
    path = write_csv(tmp_path / "c.csv", CHAT_HEADER, [["c1", "09:02", "agent", "bob", "late"], ["c1", "09:00", "customer", "Ada", "early"]])
    [record] = run(m, path)
    assert summary(record.data)[1] == ["09:02 agent: late", "09:00 customer: early"]
    with pytest.raises(servicerules.InteractionError, match="events must be in time order"):
        Interaction.parse(record.data)


def test_list_elements_without_values_are_left_out() -> None:
    m = mapping("""\
    layout: per_message
    group_by: g
    timezone: UTC
    fields:
      channel: {const: email}
      agents[].id: agent
      agents[].team: {const: support}
      events[].at: t
      events[].type: {const: note}
    """)
    out = list(apply_mapping(m, rows_of([{"g": "1", "agent": "", "t": "2026-03-02T09:00"}, {"g": "1", "agent": "a7", "t": "2026-03-02T09:01"}])))
    [data] = good(out)
    assert data["agents"] == [{"id": "a7", "team": "support"}]
    assert [e["type"] for e in data["events"]] == ["note", "note"]


def test_event_without_a_time_is_an_error() -> None:
    m = mapping("""\
    layout: per_message
    group_by: g
    timezone: UTC
    fields:
      channel: {const: email}
      events[].at: t
      events[].text: body
    """)
    out = list(apply_mapping(m, rows_of([{"g": "1", "t": "", "body": "hello"}, {"g": "2", "t": "", "body": ""}])))
    assert bad(out) == [(2, "SR310", "no value in column 't'; 'events[].at' needs one; interaction '1' is not checked")]
    assert good(out) == [{"id": "2", "channel": "email"}]  # no event at all: the runner reports the missing created_at


def test_events_need_a_time_target() -> None:
    m = mapping("layout: per_message\ngroup_by: g\nfields:\n  channel: {const: email}\n  events[].text: body\n")
    out = list(apply_mapping(m, rows_of([{"g": "1", "body": "hello"}])))
    assert bad(out) == [(2, "SR310", "no target 'events[].at': an event needs a time; interaction '1' is not checked")]


# ------------------------------------------------------------------------------------------------ threads

TWEETS = """\
layout: per_message
thread: {{id: id, parent: reply_to{replies}}}
timezone: UTC
fields:
  channel: {{const: social}}
  events[].at: t
  events[].text: text
"""


def tweet(id_: str, reply_to: str, minute: int, replies: str = "") -> dict[str, Any]:
    return {"id": id_, "reply_to": reply_to, "t": f"2026-03-02T09:{minute:02d}", "text": f"tweet {id_}", "replies": replies}


def threads(records: list[RawRecord]) -> list[tuple[int, str, list[str]]]:
    return [(r.position.line, r.data["id"], [e["text"][6:] for e in r.data["events"]]) for r in records if r.data is not None]


def test_reply_trees_become_one_interaction_with_the_root_id() -> None:
    m = load_mapping(TWEETS.format(replies=""))
    data = [
        tweet("2", "1", 1),  # a reply before its parent
        tweet("1", "", 0),
        tweet("10", "", 5),
        tweet("3", "2", 2),
        tweet("4", "1", 3),  # a second branch
        tweet("11", "10", 6),
    ]
    out = list(apply_mapping(m, rows_of(data)))
    assert threads(out) == [(2, "1", ["1", "2", "3", "4"]), (4, "10", ["10", "11"])]


def test_thread_whose_root_is_not_in_the_export() -> None:
    rows = [tweet("5", "4", 1), tweet("6", "4", 2), tweet("7", "5", 3), tweet("8", "", 4)]
    # checked with the posts there are only when the mapping says so: its id is the post they answer
    m = load_mapping(TWEETS.format(replies=", incomplete: check"))
    assert threads(list(apply_mapping(m, rows_of(rows)))) == [(2, "4", ["5", "6", "7"]), (5, "8", ["8"])]
    out = list(apply_mapping(load_mapping(TWEETS.format(replies="")), rows_of(rows)))
    assert threads(out) == [(5, "8", ["8"])]
    assert [(r.position.line, r.code, r.error) for r in out if r.error] == [(2, "SR310", (
        "the thread from line 2 (3 posts) refers to id '4', which the export does not have (a post it answers, or a "
        "reply it lists), so it is not checked: it would be judged without it (thread: {incomplete: check} checks "
        "such threads with the posts there are)"
    ))]


def test_a_reply_its_post_did_not_list_comes_after_its_thread_was_checked() -> None:
    m = load_mapping(TWEETS.format(replies=", replies: replies"))
    out = list(apply_mapping(m, rows_of([tweet("1", "", 0, "2"), tweet("2", "1", 1), tweet("3", "1", 2)])))
    assert threads(out) == [(2, "1", ["1", "2"])]
    assert [(r.position.line, r.error) for r in out if r.error] == [(4, (
        "the thread from line 4 (1 post) refers to id '1' (line 2), whose thread was checked before this post came "
        "(a reply its post did not list), so it is not checked: it would be judged without it (thread: "
        "{incomplete: check} checks such threads with the posts there are)"
    ))]


def test_replies_column_lets_finished_threads_go_early() -> None:
    m = load_mapping(TWEETS.format(replies=", replies: replies"))
    seen: list[str] = []

    def source() -> Any:
        for record in rows_of(
            [
                tweet("1", "", 0, "2,3"),
                tweet("2", "1", 1),
                tweet("3", "1", 2, "4"),
                tweet("4", "3", 3),
                tweet("9", "", 9, "99"),  # 99 never comes: held until the end
                tweet("20", "", 20),
            ]
        ):
            seen.append(record.data["id"])
            yield record

    stream = apply_mapping(m, source())
    first = next(stream)
    assert first.data["id"] == "1" and seen == ["1", "2", "3", "4"]  # emitted as soon as 4 was read
    rest = list(stream)
    assert [(r.position.line, r.data["id"] if r.data else r.code) for r in rest] == [(7, "20"), (6, "SR310")]  # 99 is missing


def test_a_bad_tweet_rejects_its_thread() -> None:
    m = load_mapping(TWEETS.format(replies=""))
    data = [tweet("1", "", 0), {**tweet("2", "1", 1), "t": "later"}, tweet("3", "2", 2), tweet("8", "", 8), {**tweet("", "8", 9)}]
    out = list(apply_mapping(m, rows_of(data)))
    assert [(r.position.line, r.data["id"] if r.data else r.error) for r in out] == [
        (3, "column 't': 'later' does not match format iso; the thread of id '2' is not checked"),
        (6, "column 'id' is empty; a row needs it to be grouped into an interaction"),
        (5, "8"),
    ]


def test_a_post_linked_to_a_thread_that_came_out_rejected_is_not_checked() -> None:
    # With replies, a thread comes out (here: rejected) as soon as the posts it names are read; a reply its
    # parent did not list, read later, must not be checked as a thread of its own without that parent.
    m = load_mapping(TWEETS.format(replies=", replies: replies"))
    data = [
        {**tweet("1", "", 0), "t": "later"},
        tweet("2", "1", 1),  # a reply to the rejected post, not in its replies
        tweet("3", "2", 2),  # and a reply to that one
        tweet("9", "", 9),
        tweet("1", "", 10),  # the rejected post again
    ]
    out = list(apply_mapping(m, rows_of(data)))
    assert [(r.position.line, r.data["id"] if r.data else r.error) for r in out] == [
        (2, "column 't': 'later' does not match format iso; the thread of id '1' is not checked"),
        (3, "id '2' is in the thread of id '1', which is not checked (line 2); the thread of id '2' is not checked either"),
        (4, "id '3' is in the thread of id '2', which is not checked (line 2); the thread of id '3' is not checked either"),
        (5, "9"),
        (6, "id '1' appears again (first at line 2); only the first row with this id is used"),
    ]


@pytest.mark.parametrize("replies", ["", ", replies: replies"])
def test_a_post_id_that_appears_again_is_rejected_and_the_first_post_is_used(replies: str) -> None:
    m = load_mapping(TWEETS.format(replies=replies))
    data = [
        tweet("1", "", 0, replies="2"),
        {**tweet("1", "", 1), "text": "the same id while its thread is open"},
        tweet("2", "1", 2),
        tweet("5", "", 5),
        {**tweet("5", "", 5), "text": "the same id again"},
        tweet("9", "", 9),
        {**tweet("2", "1", 10), "text": "a reply id again, its thread may be out"},
    ]
    out = list(apply_mapping(m, rows_of(data)))
    assert sorted(bad(out)) == [
        (3, "SR310", "id '1' appears again (first at line 2); only the first row with this id is used"),
        (6, "SR310", "id '5' appears again (first at line 5); only the first row with this id is used"),
        (8, "SR310", "id '2' appears again (first at line 4); only the first row with this id is used"),
    ]
    threads = sorted((d["id"], [e["text"] for e in d["events"]]) for d in good(out))
    assert threads == [("1", ["tweet 1", "tweet 2"]), ("5", ["tweet 5"]), ("9", ["tweet 9"])]


# ------------------------------------------------------------------------------------- synthesised events

CALLS = """\
layout: per_interaction
timezone: Europe/Berlin
date_format: "%Y-%m-%d"
time_format: "%H:%M:%S"
null_values: ["0:00:00"]
fields:
  id: call
  channel: {const: phone}
  created_at: {date: day, time: entered}
events:
  - type: call.queued
    at: {date: day, time: queued, after: entered}
    when: queued
  - type: call.answered
    at: {date: day, time: answered, after: entered}
    when: {column: outcome, equals: AGENT}
  - type: call.abandoned
    at: {date: day, time: left_queue, after: entered}
    when: [{column: outcome, equals: HANG}, left_queue]
    fields:
      author.role: {const: customer}
      attributes.waited: {column: waited, type: int}
  - type: call.ended
    at:
      - {date: day, time: ended, after: entered}
      - {date: day, time: left_queue, after: entered}
"""


def test_events_are_synthesised_from_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "calls.csv",
        ["call", "day", "entered", "queued", "left_queue", "waited", "answered", "ended", "outcome"],
        [
            ["1", "2026-03-02", "09:00:00", "09:00:10", "09:00:40", "30", "09:00:40", "09:05:00", "AGENT"],
            ["2", "2026-03-02", "23:59:00", "23:59:10", "00:00:20", "70", "0:00:00", "0:00:00", "HANG"],
            ["3", "2026-03-02", "10:00:00", "0:00:00", "0:00:00", "0", "10:00:05", "10:01:00", "AGENT"],
        ],
    )
    out = run(load_mapping(CALLS), path)
    events = {d["id"]: [(e["type"], e["at"][11:19], e.get("author"), e.get("attributes")) for e in d["events"]] for d in good(out)}
    assert events == {
        "1": [("call.queued", "09:00:10", None, None), ("call.answered", "09:00:40", None, None), ("call.ended", "09:05:00", None, None)],
        "2": [
            ("call.queued", "23:59:10", None, None),
            ("call.abandoned", "00:00:20", {"role": "customer"}, {"waited": 70}),
            ("call.ended", "00:00:20", None, None),
        ],
        "3": [("call.answered", "10:00:05", None, None), ("call.ended", "10:01:00", None, None)],
    }
    assert good(out)[1]["events"][1]["at"] == "2026-03-03T00:00:20+01:00"


def test_synthesised_event_errors(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "calls.csv",
        ["call", "day", "entered", "queued", "left_queue", "waited", "answered", "ended", "outcome"],
        [
            ["1", "2026-03-02", "09:00:00", "0:00:00", "0:00:00", "0", "0:00:00", "09:05:00", "AGENT"],
            ["2", "2026-03-02", "09:00:00", "09:00:10", "09:01:00", "many", "0:00:00", "0:00:00", "HANG"],
            ["3", "2026-03-02", "09:00:00", "0:00:00", "0:00:00", "0", "0:00:00", "0:00:00", "PHANTOM"],
        ],
    )
    assert bad(run(load_mapping(CALLS), path)) == [
        (2, "SR310", "no value in columns 'day', 'answered'; event 'call.answered' needs a time ('at')"),
        (3, "SR310", "column 'waited': 'many' is not an integer"),
        (4, "SR310", "no value in columns 'day', 'ended' / columns 'day', 'left_queue'; event 'call.ended' needs a time ('at')"),
    ]


def test_identical_synthesised_events_of_one_interaction_are_kept_once() -> None:
    m = mapping("""\
    layout: per_message
    group_by: ticket
    timezone: UTC
    fields:
      channel: {const: email}
      events[].at: t
    events:
      - type: status
        at: solved
        when: solved
        fields: {status: {const: solved}}
    """)
    data = [{"ticket": "1", "t": "2026-03-02T09:00", "solved": "2026-03-02T12:00"}, {"ticket": "1", "t": "2026-03-02T10:00", "solved": "2026-03-02T12:00"}]
    [interaction] = good(list(apply_mapping(m, rows_of(data))))
    assert [(e["type"], e["at"]) for e in interaction["events"]] == [
        ("message", "2026-03-02T09:00:00+00:00"),
        ("message", "2026-03-02T10:00:00+00:00"),
        ("status", "2026-03-02T12:00:00+00:00"),
    ]


# ------------------------------------------------------------------------------ errors, sizes, positions


def test_reader_errors_keep_their_code_and_position_and_sizes_add_up(tmp_path: Path) -> None:
    path = tmp_path / "chats.csv"
    path.write_text(
        "conversation,sent,role,sender,text\n"
        "c1,09:00,customer,Ada,a\n"
        "c1,09:01,agent,bob\n"  # a field short
        "c1,09:02,agent,bob,c\n"
        "c2,9h,customer,Cy,d\n"
        "c3,10:00,customer,Di,e\n",
        encoding="utf-8",
    )
    raw = list(read_records(str(path)))
    out = run(chat_mapping(), path)
    # the short row is one of c1's: c1 is not checked (said at its first row when the row of c2 arrives)
    assert [(r.position.line, r.code) for r in out] == [(3, "SR305"), (2, "SR310"), (5, "SR310"), (6, None)]
    assert (out[0].position, out[0].code) == (raw[1].position, raw[1].code)  # as read
    assert out[0].error == "CSV row has 4 fields, expected 5 (the header's columns); interaction 'c1' is not checked"
    assert sum(r.size for r in out) == sum(r.size for r in raw) == path.stat().st_size


def test_json_inputs(tmp_path: Path) -> None:
    path = tmp_path / "tickets.jsonl"
    path.write_text(
        '{"ticket": {"id": 7, "via": "mail"}, "opened": 1772442900, "messages": 2}\n'
        "[1]\n"
        '{"ticket": {"id": 8, "via": "web"}, "opened": 1772442960, "messages": 0}\n',
        encoding="utf-8",
    )
    m = mapping("""\
    layout: per_interaction
    fields:
      id: {column: ticket.id, type: string}
      channel: {column: ticket.via, map: {mail: email}, unmapped: keep}
      created_at: {column: opened, format: epoch}
      attributes.messages: messages
    """)
    out = run(m, path)
    assert [(r.position.line, r.code) for r in out] == [(1, None), (2, "SR302"), (3, None)]
    assert out[1].error == "record is a JSON array, expected an object"  # one row per interaction: as read
    assert good(out)[1] == {"id": "8", "channel": "web", "created_at": "2026-03-02T09:16:00+00:00", "attributes": {"messages": 0}}


def test_a_column_with_a_blank_header_cell_is_read_by_its_position_name(tmp_path: Path) -> None:
    # a spreadsheet export whose header ends in empty cells, one of which holds data in the rows
    path = tmp_path / "calls.csv"
    path.write_text("id;opened;;\r\n1;2026-03-02T09:00:00Z;VIP;\r\n2;2026-03-02T09:05:00Z;;\r\n", encoding="utf-8")
    m = mapping("""\
    layout: per_interaction
    fields:
      id: id
      channel: {const: phone}
      created_at: opened
      attributes.note: column_3
    """)
    out = run(m, path)
    assert [(r.position.line, r.code) for r in out] == [(2, None), (3, None)]
    assert [r.get("attributes") for r in good(out)] == [{"note": "VIP"}, None]


def test_input_options_of_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "calls.txt"
    path.write_bytes("id;name\r\n1;Zo\xeb\r\n".encode("latin-1"))
    m = mapping("""\
    layout: per_interaction
    input: {format: csv, encoding: latin-1, csv: {delimiter: ";"}}
    fields:
      id: id
      channel: {const: phone}
      created_at: {const: "2026-03-02T09:00:00Z"}
      customer.name: name
    """)
    assert good(run(m, path))[0]["customer"] == {"name": "Zoë"}


def test_mapped_records_plug_into_check_records(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "chats.csv",
        CHAT_HEADER,
        [["c1", "09:00", "customer", "Ada", "hello"], ["c1", "09:02", "agent", "bob", "Hello Ada"], ["c2", "x", "customer", "Cy", "help"]],
    )
    ruleset = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    checked: list[tuple[str, list[str]]] = []
    summary = check_records(ruleset, run(chat_mapping(), path), on_report=lambda i, r: checked.append((i.id, [v.rule_id for v in r.violations])))
    assert (summary.read, summary.evaluated, summary.rejected) == (2, 1, 1)
    # c1 is checked: "Hello Ada" two minutes after the customer's message is in time for a chat (more than
    # 2 minutes is late) and greets; c2, whose time 'x' the mapping cannot read, is rejected at its row
    assert checked == [("c1", [])]
    assert [(r.source, r.code) for r in summary.rejections] == [(f"{path}:4", "SR310")]


# ------------------------------------------------------------------------------------ rows that cannot be read

# A reply that cannot be read: a Latin-1 text in a UTF-8 export (SR303), or a comma the export did not quote
# (SR305, a field too many). Checked without it, its interaction would get false violations.
UNREADABLE = {"SR303": b"Gr\xfc\xdfe Ada", "SR305": b"hi, Ada"}
THREAD = TWEETS.format(replies="")


def write_rows(path: Path, lines: Sequence[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def unreadable_export(tmp_path: Path, grouping: str, kind: str) -> tuple[Mapping, Path]:
    """An export with one row that cannot be read, in c1's (contiguous, buffered) or post 1's thread."""
    bad = UNREADABLE[kind]
    if grouping == "thread":
        rows = [b"id,reply_to,t,text", b"1,,2026-03-02T09:00,hello", b"2,1,2026-03-02T09:01," + bad, b"3,2,2026-03-02T09:02,thanks", b"9,,2026-03-02T09:09,help"]
        return load_mapping(THREAD), write_rows(tmp_path / "posts.csv", rows)
    if grouping == "contiguous":
        rows = [b"c1,09:00,customer,Ada,hello", b"c1,09:02,agent,bob," + bad, b"c1,09:03,customer,Ada,thanks", b"c2,10:00,customer,Cy,help", b"c2,10:01,agent,eve,Hello Cy"]
    else:  # the rows of c1 and c2 interleaved
        rows = [b"c1,09:00,customer,Ada,hello", b"c2,10:00,customer,Cy,help", b"c1,09:02,agent,bob," + bad, b"c2,10:01,agent,eve,Hello Cy", b"c1,09:03,customer,Ada,thanks"]
    return chat_mapping(grouping), write_rows(tmp_path / "chats.csv", [",".join(CHAT_HEADER).encode(), *rows])


SR305_GROUPED = (
    "CSV row has 6 fields, expected 5 (the header's columns); its conversation is 'c1' or '09:02' (its fields counted from the "
    "first or from the last column), and neither interaction is checked"
)
UNREADABLE_REJECTS: dict[tuple[str, str], list[tuple[int, str, str]]] = {
    ("contiguous", "SR303"): [
        (3, "SR303", "invalid UTF-8 byte 0xfc at column 22; interaction 'c1' is not checked"),
        (2, "SR310", "conversation 'c1' (from line 2): its row at line 3 (SR303) cannot be read, so interaction 'c1' is not checked: it would be judged without it"),
    ],
    ("contiguous", "SR305"): [
        (3, "SR305", SR305_GROUPED),
        (2, "SR310", "conversation 'c1' (from line 2): the row at line 3 (SR305) cannot be read and may be one of its rows, so interaction 'c1' is not checked: it would be judged without it"),
    ],
    ("buffered", "SR303"): [
        (4, "SR303", "invalid UTF-8 byte 0xfc at column 22; interaction 'c1' is not checked"),
        (2, "SR310", "conversation 'c1' (from line 2): its row at line 4 (SR303) cannot be read, so interaction 'c1' is not checked: it would be judged without it"),
    ],
    ("buffered", "SR305"): [
        (4, "SR305", SR305_GROUPED),
        (2, "SR310", "conversation 'c1' (from line 2): the row at line 4 (SR305) cannot be read and may be one of its rows, so interaction 'c1' is not checked: it would be judged without it"),
    ],
    ("thread", "SR303"): [
        (3, "SR303", "invalid UTF-8 byte 0xfc at column 24; the thread of id '2' is not checked"),
        (2, "SR310", "the thread from line 2: its post at line 3 (SR303) cannot be read, so it is not checked: it would be judged without it"),
    ],
    ("thread", "SR305"): [
        (
            3,
            "SR305",
            "CSV row has 5 fields, expected 4 (the header's columns); its id is '2' or '1' and its reply_to '1' or '2026-03-02T09:01' "
            "(its fields counted from the first or from the last column), so the threads of id '2', '1' and '2026-03-02T09:01' are not checked",
        ),
        # post 3 answers post 2, which is not read: the two parts of the thread are not linked, and neither is checked
        (2, "SR310", "the thread from line 2: the post at line 3 (SR305) cannot be read and may be one of its posts, so it is not checked: it would be judged without it"),
        (4, "SR310", "the thread from line 4: the post at line 3 (SR305) cannot be read and may be one of its posts, so it is not checked: it would be judged without it"),
    ],
}


@pytest.mark.parametrize("kind", ["SR303", "SR305"])
@pytest.mark.parametrize("grouping", ["contiguous", "buffered", "thread"])
def test_a_row_that_cannot_be_read_rejects_its_interaction(tmp_path: Path, grouping: str, kind: str) -> None:
    m, path = unreadable_export(tmp_path, grouping, kind)
    ruleset = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    checked: list[str] = []
    summary = check_files(ruleset, [path], mapping=m, on_report=lambda i, r: checked.append(i.id))
    assert checked == (["9"] if grouping == "thread" else ["c2"])
    assert [(r.line, r.code, r.reason) for r in summary.rejections] == UNREADABLE_REJECTS[grouping, kind]
    # every record the mapping gives is counted: the row's rejection, the interaction's, the other interaction
    expected = len(UNREADABLE_REJECTS[grouping, kind]) + 1
    assert (summary.read, summary.evaluated, summary.rejected) == (expected, 1, expected - 1)


def test_worker_processes_give_the_results_of_one_process_for_rows_that_cannot_be_read(tmp_path: Path) -> None:
    ruleset = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    for grouping in ("contiguous", "buffered", "thread"):
        for kind in UNREADABLE:
            (tmp_path / grouping / kind).mkdir(parents=True)
            m, path = unreadable_export(tmp_path / grouping / kind, grouping, kind)
            results = []
            for jobs in (1, 2):
                summary = check_files(ruleset, [path], mapping=m, jobs=jobs, chunk_size=1)
                assert summary.jobs == jobs  # one record per chunk: the records are evaluated by two workers
                results.append({k: v for k, v in summary.to_dict().items() if k not in ("elapsed_seconds", "jobs")})
            assert results[0] == results[1], (grouping, kind)
            assert results[0]["read"] == results[0]["evaluated"] + results[0]["rejected"] == len(UNREADABLE_REJECTS[grouping, kind]) + 1


def test_a_row_whose_key_cannot_be_read_rejects_the_contiguous_interactions_next_to_it(tmp_path: Path) -> None:
    # JSON Lines with lines that are no JSON: the conversation of such a row cannot be read. Under grouping:
    # contiguous a row between two rows of c1 is one of c1's; a row between c2 and c3 may be the last of c2 or the
    # first of c3, so neither is checked. c4 is not next to one.
    m = load_mapping(CHAT.format(grouping="contiguous").replace("sent, format: \"%H:%M\"", "sent, format: iso"))
    lines = [
        {"conversation": "c1", "sent": "2026-03-02T09:00:00Z", "role": "customer", "sender": "Ada", "text": "a"},
        "{broken",
        {"conversation": "c1", "sent": "2026-03-02T09:02:00Z", "role": "agent", "sender": "bob", "text": "b"},
        {"conversation": "c2", "sent": "2026-03-02T10:00:00Z", "role": "customer", "sender": "Cy", "text": "c"},
        '["an array"]',
        {"conversation": "c3", "sent": "2026-03-02T11:00:00Z", "role": "customer", "sender": "Di", "text": "d"},
        {"conversation": "c4", "sent": "2026-03-02T12:00:00Z", "role": "customer", "sender": "Ed", "text": "e"},
    ]
    path = tmp_path / "chats.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines), encoding="utf-8")
    out = run(m, path)
    assert [(r.position.line, r.code, r.error or r.data["id"]) for r in out] == [
        (2, "SR301", (
            "malformed JSON: Expecting property name enclosed in double quotes at column 2; its conversation cannot be read, so it "
            "may be a row of interaction 'c1' before it or of the interaction after it, and neither is checked (grouping: contiguous)"
        )),
        (1, "SR310", (
            "conversation 'c1' (from line 1): the row at line 2 (SR301) cannot be read and may be one of its rows, so interaction "
            "'c1' is not checked: it would be judged without it"
        )),
        (5, "SR302", (
            "record is a JSON array, expected an object; its conversation cannot be read, so it may be a row of interaction 'c2' "
            "before it or of the interaction after it, and neither is checked (grouping: contiguous)"
        )),
        (4, "SR310", (
            "conversation 'c2' (from line 4): the row at line 5 (SR302) cannot be read and may be one of its rows, so interaction "
            "'c2' is not checked: it would be judged without it"
        )),
        (6, "SR310", (
            "conversation 'c3' (from line 6): the row at line 5 (SR302) cannot be read and may be one of its rows, so interaction "
            "'c3' is not checked: it would be judged without it"
        )),
        (7, None, "c4"),
    ]


def test_a_json_record_with_a_bad_byte_names_its_interaction_read_with_the_byte_replaced(tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_bytes(
        b'{"conversation": "c1", "sent": "09:00", "role": "customer", "sender": "Ada", "text": "a"}\n'
        b'{"conversation": "c2", "sent": "09:01", "role": "customer", "sender": "Cy", "text": "b"}\n'
        b'{"conversation": "c1", "sent": "09:02", "role": "agent", "sender": "bob", "text": "Gr\xfc\xdfe"}\n'
        b'{"conversation": "c\xfc", "sent": "09:03", "role": "agent", "sender": "bob", "text": "x"}\n'
    )
    out = run(chat_mapping("buffered"), path)
    assert [(r.position.line, r.code, r.error or r.data["id"]) for r in out] == [
        (3, "SR303", "invalid UTF-8 byte 0xfc at column 86; interaction 'c1' is not checked"),
        # a key with the bad byte in it is not the row's key: which interaction lost the row cannot be told
        (4, "SR303", (
            "invalid UTF-8 byte 0xfc at column 20; its conversation cannot be read, so the interaction it is part of cannot be "
            "told, and may be checked without it"
        )),
        (1, "SR310", (
            "conversation 'c1' (from line 1): its row at line 3 (SR303) cannot be read, so interaction 'c1' is not checked: it "
            "would be judged without it"
        )),
        (2, None, "c2"),
    ]


def test_a_key_after_the_damage_is_read_from_the_last_fields(tmp_path: Path) -> None:
    # as in a Zendesk comment export, the key comes after the text: a comma too many in the text shifts it
    m = load_mapping(CHAT.format(grouping="buffered"))
    header = b"sent,role,sender,text,conversation"
    path = write_rows(tmp_path / "chats.csv", [header, b"09:00,customer,Ada,hello,T1", b"09:01,agent,bob,hi, Ada,T1", b"10:00,customer,Cy,help,T2"])
    out = run(m, path)
    assert [(r.position.line, r.code, r.error or r.data["id"]) for r in out] == [
        (3, "SR305", (
            "CSV row has 6 fields, expected 5 (the header's columns); its conversation is 'Ada' or 'T1' (its fields counted from "
            "the first or from the last column), and neither interaction is checked"
        )),
        (2, "SR310", (
            "conversation 'T1' (from line 2): the row at line 3 (SR305) cannot be read and may be one of its rows, so interaction "
            "'T1' is not checked: it would be judged without it"
        )),
        (4, None, "T2"),
    ]


def test_contiguous_rows_that_cannot_be_read_and_interactions_that_came_out_or_do_not_go_on(tmp_path: Path) -> None:
    bad = b"Gr\xfc\xdfe"
    rows = [
        b"c1,09:00,customer,Ada,a",
        b"c2,10:00,customer,Cy,b",
        b"c1,09:05,agent,bob," + bad,  # c1 came out (checked) before this row
        b"c3,11:00,agent,bob," + bad,  # would be the first row of c3, but c3 does not go on here
        b"c2,10:01,agent,eve,c",
        b"c3,11:01,customer,Di,d",  # c3 comes back: rejected where its unreadable row was
        b"c4,12:00,customer,Ed,e",
        b"c4,9h,customer,Ed,f",  # c4 is rejected by this row's value already: no rejection of its own
        b"c4,12:02,agent,bob," + bad,
        b"c5,13:00,customer,Fa," + bad,  # c5 has no row that can be read: nothing else to reject
    ]
    path = write_rows(tmp_path / "chats.csv", [",".join(CHAT_HEADER).encode(), *rows])
    out = run(chat_mapping(), path)
    tail = "; grouping: contiguous needs the rows of one interaction together"
    assert [(r.position.line, r.code, r.error or r.data["id"]) for r in out] == [
        (2, None, "c1"),
        (4, "SR303", (
            "invalid UTF-8 byte 0xfc at column 22; it is not next to the rows of interaction 'c1' (from line 2), which was already "
            "checked without it, so its results are incomplete and may be wrong" + tail
        )),
        (5, "SR303", "invalid UTF-8 byte 0xfc at column 22; interaction 'c3' is not checked"),
        (3, None, "c2"),
        (7, "SR310", (
            "conversation 'c3': 1 row from line 7 is not next to the interaction's earlier rows (from line 5); interaction 'c3' was "
            "rejected there, and this row is not checked either" + tail + " (sort the export by conversation or use grouping: buffered)"
        )),
        (9, "SR310", "column 'sent': '9h' does not match format %H:%M; interaction 'c4' is not checked"),
        (10, "SR303", "invalid UTF-8 byte 0xfc at column 22; interaction 'c4' is not checked"),
        (11, "SR303", "invalid UTF-8 byte 0xfc at column 24; interaction 'c5' is not checked"),
    ]


@pytest.mark.parametrize("replies", ["", ", replies: replies"])
def test_a_post_that_cannot_be_read_in_a_thread(tmp_path: Path, replies: str) -> None:
    m = load_mapping(TWEETS.format(replies=replies))
    header = b"id,reply_to,t,text,replies"
    rows = [
        b"1,,2026-03-02T09:00,hello,2",
        b"2,1,2026-03-02T09:01,Gr\xfc\xdfe,",  # listed by post 1
        b"5,,2026-03-02T09:05,help,6",
        b"6,5,2026-03-02T09:06,sure,",
        b"7,5,2026-03-02T09:07,late \xfc,",  # not listed by post 5: with replies, its thread was checked already
        b"8,\xfc,2026-03-02T09:08,x,",  # its parent cannot be read
        b"9,,2026-03-02T09:09,other,",
    ]
    out = run(m, write_rows(tmp_path / "posts.csv", [header, *rows]))
    cannot = (7, "SR303", (
        "invalid UTF-8 byte 0xfc at column 3; its id or reply_to cannot be read, so the thread it is part of cannot be told, "
        "and may be checked without it"
    ))
    thread_1 = (2, "SR310", "the thread from line 2: its post at line 3 (SR303) cannot be read, so it is not checked: it would be judged without it")
    if replies:
        assert [(r.position.line, r.code, r.error or r.data["id"]) for r in out] == [
            (3, "SR303", "invalid UTF-8 byte 0xfc at column 24; the thread of id '2' is not checked"),
            thread_1,  # out as soon as post 2, the one post 1 lists, is read
            (4, None, "5"),  # out with post 6, the one it lists
            (6, "SR303", (
                "invalid UTF-8 byte 0xfc at column 27; the thread of id '7' is not checked; the thread of id '5' (line 4) was checked "
                "before this post came (a reply its post did not list), without it, so its results are incomplete and may be wrong"
            )),
            cannot,
            (8, None, "9"),
        ]
    else:
        assert [(r.position.line, r.code, r.error or r.data["id"]) for r in out] == [
            (3, "SR303", "invalid UTF-8 byte 0xfc at column 24; the thread of id '2' is not checked"),
            (6, "SR303", "invalid UTF-8 byte 0xfc at column 27; the thread of id '7' is not checked"),
            cannot,
            thread_1,
            (4, "SR310", "the thread from line 4: its post at line 6 (SR303) cannot be read, so it is not checked: it would be judged without it"),
            (8, None, "9"),
        ]


# ------------------------------------------------------------------------------------------------- joins

HELPDESK = """\
layout: per_message
group_by: ticket_id
grouping: buffered
timezone: UTC
joins:
  tickets: {file: [tickets.csv, ticket_data.csv], key: id, on: ticket_id, required: true}
  authors: {file: users.csv, key: id, on: user_id}
  requesters: {file: users.csv, key: id, on: tickets.requester_id}
fields:
  channel: tickets.via
  subject: tickets.subject
  customer.name: requesters.name
  events[].at: created
  events[].text: body
  events[].author.id: user_id
  events[].author.role:
    - {column: authors.role, map: {end-user: customer, agent: agent}}
    - {const: customer, when: {column: user_id, equals_column: tickets.requester_id}}
"""


def helpdesk(tmp_path: Path, comments: list[list[str]], tickets: list[list[str]] | None = None, users: list[list[str]] | None = None) -> Path:
    write_csv(
        tmp_path / "tickets.csv",
        ["id", "via", "subject", "requester_id", "status"],
        tickets if tickets is not None else [["7", "email", "Refund", "u1", "open"], ["8", "web", "Login", "u9", "solved"]],
    )
    write_csv(
        tmp_path / "users.csv",
        ["id", "name", "role", "notes"],
        users if users is not None else [["u1", "Ada", "end-user", "long text"], ["a1", "Bob", "agent", ""]],
    )
    return write_csv(tmp_path / "comments.csv", ["ticket_id", "created", "body", "user_id"], comments)


def test_joined_lookup_tables_fill_in_columns(tmp_path: Path) -> None:
    path = helpdesk(
        tmp_path,
        [
            ["7", "2026-03-02 09:00", "I want a refund", "u1"],
            ["8", "2026-03-02 09:30", "cannot log in", "u9"],  # u9 is not in the user export
            ["7", "2026-03-02 10:00", "Done", "a1"],
        ],
    )
    out = run(load_mapping(HELPDESK), path)
    assert good(out) == [
        {
            "id": "7",
            "channel": "email",
            "subject": "Refund",
            "customer": {"name": "Ada"},
            "events": [
                {"at": "2026-03-02T09:00:00+00:00", "type": "message", "text": "I want a refund", "author": {"id": "u1", "role": "customer"}},
                {"at": "2026-03-02T10:00:00+00:00", "type": "message", "text": "Done", "author": {"id": "a1", "role": "agent"}},
            ],
            "created_at": "2026-03-02T09:00:00+00:00",
        },
        {
            "id": "8",
            "channel": "web",
            "subject": "Login",
            "events": [{"at": "2026-03-02T09:30:00+00:00", "type": "message", "text": "cannot log in", "author": {"id": "u9", "role": "customer"}}],
            "created_at": "2026-03-02T09:30:00+00:00",
        },
    ]


def test_only_used_columns_of_a_joined_file_are_kept_and_a_shared_file_is_read_once(tmp_path: Path) -> None:
    m = load_mapping(HELPDESK)
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "x", "u1"]])
    run(m, path)
    tables = list(m._join_cache.values())
    assert len(tables) == 2  # tickets.csv, and users.csv once for authors and requesters
    assert tables[0].rows["7"] == {"via": "email", "subject": "Refund", "requester_id": "u1"}
    assert tables[1].rows["u1"] == {"name": "Ada", "role": "end-user"}


def test_required_join_without_a_match(tmp_path: Path) -> None:
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"], ["9", "2026-03-02 09:00", "b", "u1"], ["", "2026-03-02 09:00", "c", "u1"]])
    out = run(load_mapping(HELPDESK), path)
    assert bad(out) == [
        (3, "SR310", f"column 'ticket_id': '9' has no match in column 'id' of {tmp_path / 'tickets.csv'} (join 'tickets'); interaction '9' is not checked"),
        (4, "SR310", "column 'ticket_id' is empty; a row needs it to be grouped into an interaction"),
    ]
    assert [d["id"] for d in good(out)] == ["7"]


def test_problems_in_joined_files_are_reported_with_their_position(tmp_path: Path) -> None:
    path = helpdesk(
        tmp_path,
        [["7", "2026-03-02 09:00", "a", "u1"]],
        users=[["u1", "Ada", "end-user", ""], ["u1", "Ada 2", "agent", ""], ["", "nobody", "agent", ""], ["a1", "Bob"]],
    )
    m = load_mapping(HELPDESK)
    out = run(m, path)
    users = tmp_path / "users.csv"
    assert [(str(r.position), r.code, r.error) for r in out if r.error] == [
        (f"{users}:3", "SR310", "join 'authors', 'requesters': id 'u1' appears again (first at line 2); this row of the joined file is ignored"),
        (f"{users}:4", "SR310", "join 'authors', 'requesters': column 'id' is empty; this row of the joined file is ignored"),
        (f"{users}:5", "SR305", "join 'authors', 'requesters': CSV row has 2 fields, expected 4 (the header's columns)"),
    ]
    assert [r.size for r in out if r.error] == [0, 0, 0]
    assert good(out)[0]["customer"] == {"name": "Ada"}
    # the tables are kept for the next read, and so are their problems: a second read reports them too
    again = run(m, path)
    assert bad(again) == bad(out) and len(good(again)) == 1


@pytest.mark.parametrize(
    ("user_row", "code"),
    [(b"a1,B\xf6b,agent,\n", "SR303"), (b"a1,Bob,agent,,extra\n", "SR305")],
    ids=["bad byte", "wrong number of fields"],
)
def test_a_row_looking_up_a_joined_row_that_cannot_be_read_is_not_mapped_without_it(tmp_path: Path, user_row: bytes, code: str) -> None:
    # The agent's user row cannot be read: mapped without it, a1's comment had no role (or another one).
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "I want a refund", "u1"], ["7", "2026-03-02 10:00", "Done", "a1"],
                               ["8", "2026-03-02 09:30", "cannot log in", "u9"]])
    (tmp_path / "users.csv").write_bytes(b"id,name,role,notes\nu1,Ada,end-user,\n" + user_row)
    out = run(load_mapping(HELPDESK), path)
    users = tmp_path / "users.csv"
    assert [(str(r.position), r.code, r.error.split(":")[0] if r.error else None) for r in out if r.error] == [
        (f"{users}:3", code, "join 'authors', 'requesters'"),
        (f"{path}:3", "SR310", "column 'user_id'"),
    ]
    assert bad(out)[1][2] == (
        f"column 'user_id': 'a1' (join 'authors'): its row at line 3 of {users} cannot be read, so this row is not mapped "
        "without it; interaction '7' is not checked"
    )
    # u9 has no row at all in the user export, readable or not: its ticket is mapped as before
    assert [d["id"] for d in good(out)] == ["8"]


def test_a_joined_row_whose_key_cannot_be_read_may_be_any_missing_one(tmp_path: Path) -> None:
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "I want a refund", "u1"], ["8", "2026-03-02 09:30", "cannot log in", "u9"]])
    (tmp_path / "users.csv").write_bytes(b"id,name,role,notes\nu1,Ada,end-user,\nu\xf69,Eve,end-user,\n")
    out = run(load_mapping(HELPDESK), path)
    users = tmp_path / "users.csv"
    assert bad(out)[1:] == [
        (3, "SR310", f"column 'user_id': 'u9' (join 'authors'): it has no row in {users}, whose row at line 3 cannot be read "
                     "and may be its own, so this row is not mapped without it; interaction '8' is not checked"),
    ]
    assert [d["id"] for d in good(out)] == ["7"]  # u1 is found: nothing was lost for it


@pytest.mark.parametrize(
    ("users", "code"),
    [
        ("id,name,role,notes\nu1,Ada,end-user,\n".encode("utf-16"), "SR303"),  # a UTF-16 export: not a row is read
        (b"id,name,role,id\nu1,Ada,end-user,\n", "SR305"),  # a header that repeats a column: no row is read
    ],
    ids=["utf-16", "repeated header column"],
)
def test_a_lookup_in_a_joined_file_that_cannot_be_read_is_not_mapped_without_it(tmp_path: Path, users: bytes, code: str) -> None:
    # The file's problem is reported, and the rows that look up its rows found none: their tickets were checked
    # without the users' roles (an agent's reply taken for the customer's), as if the users were not in the export.
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "I want a refund", "u1"], ["7", "2026-03-02 10:00", "Done", "a1"]])
    (tmp_path / "users.csv").write_bytes(users)
    out = run(load_mapping(HELPDESK), path)
    assert [r.code for r in out if r.error] == [code, "SR310", "SR310"]  # the file's problem, and each row's
    assert good(out) == []
    for (_, _, problem), user in zip(bad(out)[1:], ["u1", "a1"]):
        assert problem is not None and problem.startswith(f"column 'user_id': '{user}' (join 'authors'): ")
        assert str(tmp_path / "users.csv") in problem and problem.endswith("so this row is not mapped without it; interaction '7' is not checked")


def test_a_check_reports_a_joined_files_problems_once_and_every_time(tmp_path: Path) -> None:
    # the join table was kept without its problems: a second run with the same mapping lost the joined file's
    # bad rows (read 2 where the first run read 3); a run of two input files reports them once
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]], users=[["u1", "Ada", "end-user", ""], ["a1"]])
    second = write_csv(tmp_path / "more" / "comments.csv", ["ticket_id", "created", "body", "user_id"], [["8", "2026-03-02 09:00", "b", "u9"]])
    m = load_mapping(HELPDESK)
    ruleset = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    joins = {"authors": str(tmp_path / "users.csv"), "requesters": str(tmp_path / "users.csv"), "tickets": str(tmp_path / "tickets.csv")}
    for inputs in ([str(path)], [str(path)], [str(path), str(second)]):
        summary = check_files(ruleset, inputs, mapping=m, join_files=joins, format="csv")
        assert (summary.read, summary.rejected) == (len(inputs) + 1, 1)
        assert [r.source for r in summary.rejections] == [f"{tmp_path / 'users.csv'}:3"]


def test_changed_joined_file_is_read_again(tmp_path: Path) -> None:
    m = load_mapping(HELPDESK)
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    assert good(run(m, path))[0]["subject"] == "Refund"
    helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]], tickets=[["7", "email", "Refund request", "u1", "open"]])
    assert good(run(m, path))[0]["subject"] == "Refund request"


def test_joined_file_without_the_key_column_is_a_mapping_error(tmp_path: Path) -> None:
    file = tmp_path / "m.yaml"
    file.write_text(HELPDESK.replace("key: id, on: ticket_id", "key: ticket, on: ticket_id"), encoding="utf-8")
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    with pytest.raises(MappingError) as info:
        run(load_mapping(file), path)
    assert info.value.render() == (
        f"{file}:6:56: SR112 join 'tickets': {tmp_path / 'tickets.csv'} has no column 'ticket' "
        "(its columns: 'id', 'via', 'subject', 'requester_id', 'status')\n"
        "      tickets: {file: [tickets.csv, ticket_data.csv], key: ticket, on: ticket_id, required: true}\n"
        + " " * 59 + "^\n"
        "    hint: set 'key' to the column that identifies a row of the joined file"
    )


@pytest.mark.parametrize("content", ["", "id,via,subject,requester_id,status\n", "\ufeff"])
def test_joined_file_without_rows_is_a_mapping_error(tmp_path: Path, content: str) -> None:
    # every lookup would find nothing, and whether it has the key column cannot be told: a wrong or failed
    # export, which mapped every row without the joined columns (a join that is not required) or rejected it
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    (tmp_path / "tickets.csv").write_text(content, encoding="utf-8")
    with pytest.raises(MappingError) as info:
        run(load_mapping(HELPDESK), path)
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.code, diagnostic.message) == ("SR112", f"join 'tickets': {tmp_path / 'tickets.csv'} holds no rows (an empty file, or a CSV header alone)")
    assert diagnostic.hint is not None and "holds the rows" in diagnostic.hint


def test_missing_column_of_a_joined_file(tmp_path: Path) -> None:
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    m = load_mapping(HELPDESK.replace("subject: tickets.subject", "subject: tickets.title"))
    assert bad(run(m, path)) == [(2, "SR310", "no column 'title' in the joined file of 'tickets'; interaction '7' is not checked")]


def test_finding_joined_files(tmp_path: Path) -> None:
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    (tmp_path / "tickets.csv").rename(tmp_path / "ticket_data.csv")  # the second candidate name
    assert len(good(run(load_mapping(HELPDESK), path))) == 1
    elsewhere = tmp_path / "exports" / "t.csv"
    elsewhere.parent.mkdir()
    (tmp_path / "ticket_data.csv").rename(elsewhere)
    with pytest.raises(FileNotFoundError) as info:
        run(load_mapping(HELPDESK), path)
    assert str(info.value) == (
        f"join 'tickets': no file 'tickets.csv' or 'ticket_data.csv' in '{tmp_path}'; give its path "
        "(CLI: --join tickets=PATH, Python: join_files={'tickets': PATH})"
    )
    assert len(good(run(load_mapping(HELPDESK), path, join_files={"tickets": elsewhere}))) == 1
    # base_dir: where joined files are looked for (by default the directory of the input file)
    records = list(read_records(str(path)))
    (tmp_path / "users.csv").rename(tmp_path / "exports" / "users.csv")
    m = load_mapping(HELPDESK.replace("[tickets.csv, ticket_data.csv]", "t.csv"))
    assert len(good(list(apply_mapping(m, records, base_dir=tmp_path / "exports")))) == 1


def test_join_paths_are_the_files_a_join_reads_and_the_names_it_tries_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = load_mapping(HELPDESK)
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    users = [str(tmp_path / "users.csv")]
    assert join_paths(m, path) == {"tickets": [str(tmp_path / "tickets.csv")], "authors": users, "requesters": users}
    (tmp_path / "tickets.csv").rename(tmp_path / "ticket_data.csv")  # the second candidate: the first is tried before it
    both = [str(tmp_path / "tickets.csv"), str(tmp_path / "ticket_data.csv")]
    assert join_paths(m, str(path))["tickets"] == both
    assert good(run(m, path))[0]["subject"] == "Refund"
    write_csv(tmp_path / "tickets.csv", ["id", "via", "subject", "requester_id"], [["7", "web", "Created later", "u1"]])
    assert good(run(m, path))[0]["subject"] == "Created later"  # why the first name counts though it did not exist
    (tmp_path / "tickets.csv").unlink()
    (tmp_path / "ticket_data.csv").unlink()
    assert join_paths(m, path)["tickets"] == both  # none exists: every name, the run fails until one does
    assert join_paths(m, path, join_files={"tickets": tmp_path / "t.csv"}) == {
        "tickets": [str(tmp_path / "t.csv")], "authors": users, "requesters": users,
    }
    monkeypatch.chdir(tmp_path)  # stdin, or a file named without a directory: the current directory
    assert join_paths(m, "-")["authors"] == join_paths(m, "comments.csv")["authors"] == ["./users.csv"]


# -------------------------------------------------------------------------------------- shipped mappings

TWCS_HEADER = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]


def test_twcs_mapping(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "twcs.csv",
        TWCS_HEADER,
        [
            ["11", "AcmeHelp", "False", "Mon Mar 02 09:20:00 +0000 2026", "@c1 Hi! Please DM us your order number.", "12", "10"],
            ["10", "c1", "True", "Mon Mar 02 09:00:00 +0000 2026", "@AcmeHelp my parcel is late", "11", ""],
            ["12", "c1", "True", "Mon Mar 02 09:25:00 +0000 2026", "@AcmeHelp done", "13,14", "11"],
            ["13", "AcmeHelp", "False", "Mon Mar 02 11:00:00 +0000 2026", "@c1 Thanks, it ships today.", "", "12"],
            ["14", "c1", "True", "Mon Mar 02 11:05:00 +0000 2026", "@AcmeHelp thanks", "", "12"],
            ["31", "AcmeHelp", "False", "Mon Mar 02 10:00:00 +0000 2026", "@c3 Sorry to hear that.", "", "30"],  # 30 not in the export
            ["40", "c4", "maybe", "Mon Mar 02 10:00:00 +0000 2026", "@AcmeHelp hello?", "", ""],
        ],
    )
    out = run(load_mapping("twcs"), path)
    assert bad(out) == [
        (8, "SR310", "column 'inbound': 'maybe' is not in the value map ('True', 'False'); the thread of tweet_id '40' is not checked"),
        (7, "SR310", "the thread from line 7 (1 post) refers to tweet_id '30', which the export does not have (a post it answers, "
                     "or a reply it lists), so it is not checked: it would be judged without it (thread: {incomplete: check} "
                     "checks such threads with the posts there are)"),
    ]
    (first,) = good(out)
    second = next(r.data for r in run(load_mapping("twcs").model_copy(update={"thread": load_mapping("twcs").thread.model_copy(update={"incomplete": "check"})}), path) if r.data and r.data["id"] == "30")
    assert first == {
        "id": "10",
        "channel": "social",
        "customer": {"id": "c1"},
        "team": "AcmeHelp",
        "agents": [{"id": "AcmeHelp"}],
        "events": [
            {"at": "2026-03-02T09:00:00+00:00", "type": "message", "text": "@AcmeHelp my parcel is late", "author": {"role": "customer", "id": "c1"}, "attributes": {"tweet_id": "10"}},
            {"at": "2026-03-02T09:20:00+00:00", "type": "message", "text": "@c1 Hi! Please DM us your order number.", "author": {"role": "agent", "id": "AcmeHelp"}, "attributes": {"tweet_id": "11"}},
            {"at": "2026-03-02T09:25:00+00:00", "type": "message", "text": "@AcmeHelp done", "author": {"role": "customer", "id": "c1"}, "attributes": {"tweet_id": "12"}},
            {"at": "2026-03-02T11:00:00+00:00", "type": "message", "text": "@c1 Thanks, it ships today.", "author": {"role": "agent", "id": "AcmeHelp"}, "attributes": {"tweet_id": "13"}},
            {"at": "2026-03-02T11:05:00+00:00", "type": "message", "text": "@AcmeHelp thanks", "author": {"role": "customer", "id": "c1"}, "attributes": {"tweet_id": "14"}},
        ],
        "created_at": "2026-03-02T09:00:00+00:00",
    }
    assert (second["id"], [e["attributes"]["tweet_id"] for e in second["events"]]) == ("30", ["31"])
    assert [r.position.line for r in out if r.ok] == [2]
    ruleset = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    summary = check_records(ruleset, out)
    assert (summary.read, summary.evaluated, summary.rejected) == (3, 1, 2)
    social = next(r for r in summary.to_dict()["rules"] if r["rule_id"] == "reply.social-first-reply")
    assert (social["violated"], social["compliant"]) == (0, 1)  # 20 minutes to the first reply, within the hour


def zendesk_export(tmp_path: Path) -> Path:
    write_csv(
        tmp_path / "ticket_data.csv",
        ["id", "created_at", "priority", "requester_id", "assignee_id", "status", "subject", "updated_at", "via_channel", "type", "group_id", "organization_id"],
        [
            ["101", "2026-03-02 09:00:00", "high", "501", "601", "solved", "Refund for order 77", "2026-03-02 12:00:00", "email", "question", "9", "1"],
            ["102", "2026-03-03 08:00:00", "", "502", "", "open", "Password reset", "2026-03-03 08:05:00", "voice", "incident", "9", ""],
        ],
    )
    write_csv(
        tmp_path / "user_data.csv",
        ["id", "name", "role", "locale", "email"],
        [["501", "Ada Customer", "end-user", "en-GB", "a@x"], ["601", "Bob Agent", "agent", "en-US", "b@x"], ["602", "Cy Admin", "admin", "de", "c@x"]],
    )
    return write_csv(
        tmp_path / "ticket_comment_data.csv",
        ["id", "body", "created", "public", "ticket_id", "user_id"],
        [
            ["9001", "Hello, I want a refund for order 77.", "2026-03-02 09:00:00", "TRUE", "101", "501"],
            ["9003", "Refund issued, anything else?", "2026-03-02 11:30:00", "TRUE", "101", "601"],
            ["9101", "Cannot log in", "2026-03-03 08:00:00", "TRUE", "102", "502"],
            ["9002", "Checked the order, eligible.", "2026-03-02 10:00:00", "FALSE", "101", "602"],
            ["9999", "orphan", "2026-03-02 10:00:00", "TRUE", "199", "501"],
        ],
    )


def test_zendesk_mapping(tmp_path: Path) -> None:
    path = zendesk_export(tmp_path)
    out = run(load_mapping("zendesk"), path)
    assert bad(out) == [
        (6, "SR310", f"column 'ticket_id': '199' has no match in column 'id' of {tmp_path / 'ticket_data.csv'} (join 'tickets'); interaction '199' is not checked")
    ]
    first, second = good(out)
    assert first == {
        "id": "101",
        "channel": "email",
        "created_at": "2026-03-02T09:00:00+00:00",
        "priority": "high",
        "subject": "Refund for order 77",
        "customer": {"id": "501", "name": "Ada Customer", "locale": "en-GB"},
        "solved_at": "2026-03-02T12:00:00+00:00",
        "attributes": {"zendesk": {"status": "solved", "type": "question", "group_id": "9", "organization_id": "1"}},
        "agents": [{"id": "601", "name": "Bob Agent"}],
        "events": [
            {"at": "2026-03-02T09:00:00+00:00", "type": "message", "public": True, "text": "Hello, I want a refund for order 77.", "author": {"id": "501", "name": "Ada Customer", "role": "customer"}, "attributes": {"comment_id": "9001"}},
            {"at": "2026-03-02T10:00:00+00:00", "type": "note", "public": False, "text": "Checked the order, eligible.", "author": {"id": "602", "name": "Cy Admin", "role": "agent"}, "attributes": {"comment_id": "9002"}},
            {"at": "2026-03-02T11:30:00+00:00", "type": "message", "public": True, "text": "Refund issued, anything else?", "author": {"id": "601", "name": "Bob Agent", "role": "agent"}, "attributes": {"comment_id": "9003"}},
            {"type": "status", "at": "2026-03-02T12:00:00+00:00", "status": "solved"},
        ],
    }
    # a requester missing from the user export is still the customer; priority defaults to normal
    assert (second["channel"], second["priority"], second["events"][0]["author"]) == ("phone", "normal", {"id": "502", "role": "customer"})
    assert "agents" not in second and second["customer"] == {"id": "502"}
    for record in out:
        if record.data is not None:
            Interaction.parse(record.data)


def test_bank_calls_mapping(bank_calls_log: Any) -> None:
    rows = [
        ["AA0101", "1", "0", "0", "PS", "260302", "7:02:47", "7:02:56", "9", "0:00:00", "0:00:00", "0", "AGENT", "7:02:55", "7:05:41", "166", "DANA"],
        ["AA0101", "2", "23317894", "2", "PS", "260302", "8:09:16", "8:09:22", "6", "8:09:22", "8:09:27", "5", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"],
        ["AA0102", "1", "0", "1", "NW", "260302", "23:59:32", "23:59:44", "12", "23:59:44", "0:00:30", "46", "AGENT", "0:00:30", "0:02:00", "90", "OREN"],
        ["AA0102", "2", "0", "0", "NW", "260302", "9:00:00", "9:00:08", "8", "0:00:00", "0:00:00", "0", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"],
        ["AA0102", "3", "0", "0", "NW", "260302", "9:10:00", "9:10:08", "8", "9:10:08", "9:10:20", "12", "AGENT", "0:00:00", "0:00:00", "0", "DANA"],
        # the service starts a second before the queue does (the clocks of two systems)
        ["AA0103", "1", "0", "0", "PS", "260302", "8:26:40", "8:26:55", "15", "8:26:55", "8:27:03", "8", "AGENT", "8:26:54", "8:31:51", "297", "DANA"],
        # the queue starts minutes before the voice menu is entered: the same day, not the next
        ["AA0103", "2", "0", "0", "PS", "260302", "15:56:16", "15:53:04", "0", "15:53:04", "15:57:10", "246", "AGENT", "15:57:11", "15:59:00", "109", "OREN"],
        ["AA0103", "3", "0", "0", "PS", "260302", "10:00:00", "10:00:05", "5", "10:00:05", "10:00:10", "5", "PHANTOM", "0:00:00", "0:00:00", "0", "NO_SERVER"],
        # a hang-up whose row has a service end before it left the queue
        ["AA0103", "4", "0", "0", "PS", "260302", "21:30:00", "21:38:20", "500", "21:38:20", "21:45:05", "405", "HANG", "0:00:00", "21:39:46", "0", "NO_SERVER"],
        # answered, but neither a queue exit nor a service start says when
        ["AA0103", "5", "0", "0", "PS", "260302", "11:00:00", "11:00:05", "5", "0:00:00", "0:00:00", "0", "AGENT", "0:00:00", "0:00:00", "0", "DANA"],
        # a short service on a clock half a minute behind the queue's: ser_exit comes before q_exit
        ["AA0103", "6", "0", "0", "PS", "260302", "12:00:00", "12:00:10", "10", "12:00:10", "12:00:41", "31", "AGENT", "12:00:09", "12:00:24", "15", "OREN"],
        # queued at midnight on the dot: 0:00:00 is also the log's "did not happen", but the q_time is not 0
        ["AA0103", "7", "0", "0", "PS", "260302", "23:59:51", "23:59:59", "8", "0:00:00", "0:00:31", "31", "AGENT", "0:00:30", "0:02:10", "99", "DANA"],
        ["AA0103", "8", "0", "0", "PS", "260302", "23:59:40", "23:59:50", "10", "0:00:00", "0:00:12", "12", "HANG", "0:00:00", "0:00:00", "0", "NO_SERVER"],
    ]
    path = bank_calls_log(rows)  # tab-separated with CRLF, as the call-centre log is
    out = run(load_mapping("bank-calls"), path)
    assert bad(out) == [(11, "SR310", "no value in columns 'date', 'q_exit' / columns 'date', 'ser_start'; event 'call.answered' needs a time ('at')")]
    calls = {d["id"]: d for d in good(out)}
    assert list(calls) == ["AA0101-1", "AA0101-2", "AA0102-1", "AA0102-2", "AA0102-3", "AA0103-1", "AA0103-2", "AA0103-3", "AA0103-4", "AA0103-6",
                           "AA0103-7", "AA0103-8"]
    assert calls["AA0101-1"] == {
        "id": "AA0101-1",
        "channel": "phone",
        "created_at": "2026-03-02T07:02:47+02:00",
        "priority": "normal",
        "customer": {"segment": "unidentified"},
        "attributes": {"service_type": "PS", "vru_line": "AA0101", "outcome": "AGENT", "vru_seconds": 9, "queue_seconds": 0, "service_seconds": 166},
        "agents": [{"id": "DANA"}],
        # taken by an agent at once: no queue in the log, queued and answered at the service start (a wait of 0 s)
        "events": [
            {"type": "call.queued", "at": "2026-03-02T07:02:55+02:00"},
            {"type": "call.answered", "at": "2026-03-02T07:02:55+02:00"},
            {"type": "call.ended", "at": "2026-03-02T07:05:41+02:00"},
        ],
    }
    assert [(e["type"], e["at"]) for e in calls["AA0101-2"]["events"]] == [
        ("call.queued", "2026-03-02T08:09:22+02:00"),
        ("call.abandoned", "2026-03-02T08:09:27+02:00"),
        ("call.ended", "2026-03-02T08:09:27+02:00"),
    ]
    assert calls["AA0101-2"]["customer"] == {"id": "23317894", "segment": "priority"} and calls["AA0101-2"]["priority"] == "high"
    assert [e["at"] for e in calls["AA0102-1"]["events"]] == [  # across midnight
        "2026-03-02T23:59:44+02:00",
        "2026-03-03T00:00:30+02:00",
        "2026-03-03T00:02:00+02:00",
    ]
    assert calls["AA0102-2"]["events"] == [{"type": "call.ended", "at": "2026-03-02T09:00:08+02:00"}]  # hung up in the voice menu

    def events(ident: str) -> list[tuple[str, str]]:
        return [(e["type"], e["at"][11:19]) for e in calls[ident]["events"]]

    # answered when the caller left the queue (q_exit), which the log's q_time counts from q_start, and ended
    # ser_time later on the same clock (not at ser_exit, on the service's clock)
    assert events("AA0102-3") == [("call.queued", "09:10:08"), ("call.answered", "09:10:20"), ("call.ended", "09:10:20")]
    assert events("AA0103-1") == [("call.queued", "08:26:55"), ("call.answered", "08:27:03"), ("call.ended", "08:32:00")]
    assert events("AA0103-2") == [("call.queued", "15:53:04"), ("call.answered", "15:57:10"), ("call.ended", "15:58:59")]
    assert events("AA0103-6") == [("call.queued", "12:00:10"), ("call.answered", "12:00:41"), ("call.ended", "12:00:56")]
    assert calls["AA0103-2"]["events"][0]["at"].startswith("2026-03-02")
    assert events("AA0103-3") == [("call.ended", "10:00:10")]  # a phantom call never queues
    assert events("AA0103-4") == [("call.queued", "21:38:20"), ("call.abandoned", "21:45:05"), ("call.ended", "21:45:05")]
    assert [e["at"] for e in calls["AA0103-7"]["events"]][:2] == ["2026-03-03T00:00:00+02:00", "2026-03-03T00:00:31+02:00"]
    assert [(e["type"], e["at"]) for e in calls["AA0103-8"]["events"]][:2] == [
        ("call.queued", "2026-03-03T00:00:00+02:00"),
        ("call.abandoned", "2026-03-03T00:00:12+02:00"),
    ]
    ruleset = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    summary = check_records(ruleset, out)
    assert (summary.read, summary.evaluated, summary.rejected) == (13, 12, 1)
    # the queue waits are the log's q_time, for every call offered to the agents: those that queued (also at
    # midnight), and those an agent took at once (0 s); none for a phantom call or a hang-up in the voice menu
    queue_wait = CATALOGUE["call.queue_wait"].compute
    waits = {d["id"]: queue_wait(InteractionContext(Interaction.parse(d), dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc))) for d in good(out)}
    q_time = {f"{r[0]}-{r[1]}": float(r[11]) for r in rows if r[12] != "PHANTOM" and (r[9] != "0:00:00" or r[11] != "0" or r[12] == "AGENT")}
    assert {i: w for i, w in waits.items() if w is not None} == {i: w for i, w in q_time.items() if i != "AA0103-5"}
    assert waits["AA0101-1"] == 0.0 and waits["AA0102-2"] is None and waits["AA0103-3"] is None
    # and an answered call is connected for the log's ser_time
    handle_time = CATALOGUE["call.handle_time"].compute
    handled = {d["id"]: handle_time(InteractionContext(Interaction.parse(d), dt.datetime(2026, 3, 4, tzinfo=dt.timezone.utc))) for d in good(out)}
    ser_time = {f"{r[0]}-{r[1]}": float(r[15]) for r in rows if r[12] == "AGENT" and (r[10] != "0:00:00" or r[13] != "0:00:00")}
    assert {i: t for i, t in handled.items() if t is not None} == ser_time


def test_shipped_mappings_reference_their_own_schema() -> None:
    for name in shipped_mappings():
        first = mapping_path(name).read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../../../schemas/mapping.schema.json"
        assert (mapping_path(name).parent / "../../../schemas/mapping.schema.json").resolve() == ROOT / "schemas" / "mapping.schema.json"


# -------------------------------------------------------------------------------------------- properties

GROUPED = """\
layout: per_message
group_by: key
grouping: {grouping}
timezone: UTC
fields:
  channel: {{const: chat}}
  events[].at: {{column: n, format: epoch}}
  events[].text: n
"""


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 10_000)), max_size=40), st.randoms(use_true_random=False))
def test_buffered_grouping_of_any_order_equals_contiguous_grouping_of_sorted_rows(rows: list[tuple[str, int]], rnd: Any) -> None:
    data = [{"key": k, "n": str(n)} for k, n in rows]
    shuffled = data[:]
    rnd.shuffle(shuffled)
    ordered = sorted(data, key=lambda d: d["key"])
    buffered = list(apply_mapping(load_mapping(GROUPED.format(grouping="buffered")), rows_of(shuffled)))
    contiguous = list(apply_mapping(load_mapping(GROUPED.format(grouping="contiguous")), rows_of(ordered)))
    assert all(r.ok for r in buffered + contiguous)

    def content(records: list[RawRecord]) -> dict[str, list[str]]:
        return {r.data["id"]: [e["text"] for e in r.data["events"]] for r in records if r.data}

    assert content(buffered) == content(contiguous)
    assert sorted(t for texts in content(buffered).values() for t in texts) == sorted(d["n"] for d in data)  # every row, once
    for texts in content(buffered).values():
        assert [int(t) for t in texts] == sorted(int(t) for t in texts)
    for record in buffered:  # position: the interaction's first row in the input
        assert record.data is not None
        first = next(i for i, d in enumerate(shuffled) if d["key"] == record.data["id"])
        assert record.position.line == first + 2


@st.composite
def forests(draw: Any) -> tuple[list[int | None], list[int]]:
    """Parents of posts 0..n-1 (None for a first post) and the order in which the export lists them."""
    n = draw(st.integers(1, 25))
    parents: list[int | None] = [None] + [draw(st.one_of(st.none(), st.integers(0, i - 1))) for i in range(1, n)]
    order = draw(st.permutations(list(range(n))))
    return parents, order


@settings(max_examples=80, deadline=None)
@given(forests(), st.booleans())
def test_threads_group_exactly_the_reply_trees(forest: tuple[list[int | None], list[int]], with_replies: bool) -> None:
    parents, order = forest

    def root(i: int) -> int:
        while (p := parents[i]) is not None:
            i = p
        return i

    children: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        if p is not None:
            children.setdefault(p, []).append(i)
    data = [
        {
            "id": f"p{i}",
            "reply_to": "" if parents[i] is None else f"p{parents[i]}",
            "replies": ",".join(f"p{c}" for c in children.get(i, [])),
            "t": f"2026-03-02T09:00:{i:02d}",
            "text": f"tweet {i}",
        }
        for i in order
    ]
    m = load_mapping(TWEETS.format(replies=", replies: replies" if with_replies else ""))
    out = list(apply_mapping(m, rows_of(data)))
    assert all(r.ok for r in out)
    got = {r.data["id"]: sorted(e["text"] for e in r.data["events"]) for r in out if r.data}
    expected: dict[str, list[str]] = {}
    for i in range(len(parents)):
        expected.setdefault(f"p{root(i)}", []).append(f"tweet {i}")
    assert got == {k: sorted(v) for k, v in expected.items()}


@settings(max_examples=120, deadline=None)
@given(forests(), st.data(), st.booleans())
def test_a_thread_missing_posts_is_never_checked(forest: tuple[list[int | None], list[int]], data: Any, with_replies: bool) -> None:
    """Posts missing from the export: a thread is checked, whole, exactly when none of its posts refers to a
    missing one (the post it answers, or with `replies` a reply it lists); each other thread is one error."""
    parents, order = forest
    n = len(parents)
    missing = set(data.draw(st.lists(st.integers(0, n - 1), max_size=3)))
    children: dict[int, list[int]] = {}
    for i, p in enumerate(parents):
        if p is not None:
            children.setdefault(p, []).append(i)
    rows = [
        {"id": f"p{i}", "reply_to": "" if parents[i] is None else f"p{parents[i]}",
         "replies": ",".join(f"p{c}" for c in children.get(i, [])), "t": f"2026-03-02T09:00:{i:02d}", "text": f"tweet {i}"}
        for i in order if i not in missing
    ]
    out = list(apply_mapping(load_mapping(TWEETS.format(replies=", replies: replies" if with_replies else "")), rows_of(rows)))
    # the groups: posts linked by the references of the posts present (a missing post links those that name it)
    link: dict[int, set[int]] = {i: set() for i in range(n)}
    for i in set(range(n)) - missing:
        for j in ([parents[i]] if parents[i] is not None else []) + (children.get(i, []) if with_replies else []):
            link[i].add(j)
            link[j].add(i)
    groups: list[set[int]] = []
    for i in sorted(set(range(n)) - missing):
        if any(i in g for g in groups):
            continue
        group, todo = set(), [i]
        while todo:
            j = todo.pop()
            if j not in group:
                group.add(j)
                todo.extend(link[j])
        groups.append(group)
    complete = [g - missing for g in groups if not g & missing]
    checked = sorted(sorted(int(e["text"][6:]) for e in r.data["events"]) for r in out if r.data)
    assert checked == sorted(sorted(g) for g in complete)
    assert len([r for r in out if r.error]) == len(groups) - len(complete)


@settings(max_examples=150, deadline=None)
@given(forests(), st.data())
def test_no_post_of_a_rejected_thread_is_checked_whatever_the_order(forest: tuple[list[int | None], list[int]], data: Any) -> None:
    """Some posts are bad, and some parents do not list all their replies (so threads come out early, and a
    reply can arrive after its thread): a post that replies, directly or not, to a bad post is never
    checked, and every other post is checked exactly once or is in a thread an error names."""
    parents, order = forest
    n = len(parents)
    bad = set(data.draw(st.lists(st.integers(0, n - 1), max_size=3)))
    listed = {i for i in range(n) if parents[i] is not None and data.draw(st.booleans(), label=f"p{parents[i]} lists p{i}")}

    def ancestors(i: int) -> set[int]:
        found = set()
        while (p := parents[i]) is not None:
            found.add(p)
            i = p
        return found

    rows = [
        {
            "id": f"p{i}",
            "reply_to": "" if parents[i] is None else f"p{parents[i]}",
            "replies": ",".join(f"p{c}" for c in range(n) if parents[c] == i and c in listed),
            "t": "later" if i in bad else f"2026-03-02T09:00:{i:02d}",
            "text": f"tweet {i}",
        }
        for i in order
    ]
    # a late reply (after its thread came out) is a thread of its own, without the post it answers: checked here
    out = list(apply_mapping(load_mapping(TWEETS.format(replies=", replies: replies, incomplete: check")), rows_of(rows)))
    checked = [int(e["text"][6:]) for r in out if r.data for e in r.data["events"]]
    assert len(checked) == len(set(checked))
    for i in checked:
        assert i not in bad and not ancestors(i) & bad
    errors = [r for r in out if r.error]
    assert {r.position.line for r in errors} >= {order.index(i) + 2 for i in bad}  # each bad post is named
    for i in set(range(n)) - set(checked):  # not checked: in the thread of a bad post
        tree = {j for j in range(n) if (ancestors(j) | {j}) & (ancestors(i) | {i})}
        assert tree & bad


def unreadable_row(i: int, data: dict[str, str], kind: str, shifted: dict[str, str]) -> RawRecord:
    """Row ``i`` (line i + 2) as a reader gives it when it cannot be read: a bad byte (the whole row, read with
    it replaced), a field too many (read from the first and from the last field: ``shifted``) or no JSON."""
    readings = {"SR303": ({**data, "text": "\ufffd"},), "SR305": (data, shifted), "SR301": ()}[kind]
    return RawRecord(SourcePosition("mem.csv", i + 2, i + 1), None, f"cannot be read ({kind})", kind, 10, readings)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from("abcdef"), st.integers(0, 10_000), st.sampled_from(["ok", "ok", "ok", "SR303", "SR305", "SR301"])), max_size=40),
    st.sampled_from(["contiguous", "buffered"]),
)
def test_no_interaction_is_checked_without_a_row_that_cannot_be_read(rows: list[tuple[str, int, str]], grouping: str) -> None:
    """Contiguous rows sorted by key, buffered rows in any order: an interaction with a row that cannot be read
    is one error, and every other one is checked whole. A row whose key cannot be read (SR301) is, under
    contiguous grouping, a row of the interaction before it or of the one after it; under buffered grouping
    it cannot be told."""
    if grouping == "contiguous":
        rows = sorted(rows, key=lambda row: row[0])
    records = [
        RawRecord(SourcePosition("mem.csv", i + 2, i + 1), {"key": k, "n": str(n)}, None, None, 10)
        if kind == "ok"
        else unreadable_row(i, {"key": k, "n": str(n)}, kind, {"n": "extra", "key": str(n)})  # the second key no key
        for i, (k, n, kind) in enumerate(rows)
    ]
    out = list(apply_mapping(load_mapping(GROUPED.format(grouping=grouping)), records))
    readable = [(i, k) for i, (k, _, kind) in enumerate(rows) if kind == "ok"]
    lost = {k for k, _, kind in rows if kind in ("SR303", "SR305")}
    if grouping == "contiguous":
        for i, (_, _, kind) in enumerate(rows):
            if kind == "SR301":
                lost |= set([key for j, key in readable if j < i][-1:] + [key for j, key in readable if j > i][:1])
    keys = {k for _, k in readable}
    checked = {r.data["id"]: sorted(e["text"] for e in r.data["events"]) for r in out if r.data}
    assert checked == {k: sorted(str(n) for key, n, kind in rows if key == k and kind == "ok") for k in keys - lost}
    assert sorted(r.error.split("'")[1] for r in out if r.code == "SR310" and r.error) == sorted(keys & lost)  # one each
    assert sorted(r.position.line for r in out if r.code in ("SR301", "SR303", "SR305")) == [i + 2 for i, row in enumerate(rows) if row[2] != "ok"]
    assert sum(r.size for r in out) == 10 * len(rows)


@settings(max_examples=120, deadline=None)
@given(forests(), st.data(), st.booleans())
def test_no_thread_is_checked_without_a_post_that_cannot_be_read(forest: tuple[list[int | None], list[int]], data: Any, with_replies: bool) -> None:
    """Posts that cannot be read, with their id and parent (SR303), or only two candidates for each (SR305):
    no thread with one of them is checked, and every other thread is checked whole."""
    parents, order = forest
    n = len(parents)
    bad = {i: data.draw(st.sampled_from(["SR303", "SR305"]), label=f"p{i}") for i in data.draw(st.lists(st.integers(0, n - 1), max_size=3))}

    def root(i: int) -> int:
        while (p := parents[i]) is not None:
            i = p
        return i

    records = []
    for line, i in enumerate(order):
        row = {
            "id": f"p{i}",
            "reply_to": "" if parents[i] is None else f"p{parents[i]}",
            "replies": ",".join(f"p{c}" for c in range(n) if parents[c] == i),
            "t": f"2026-03-02T09:00:{i:02d}",
            "text": f"tweet {i}",
        }
        if i in bad:
            records.append(unreadable_row(line, row, bad[i], {"id": f"x{i}", "reply_to": f"y{i}"}))
        else:
            records.append(RawRecord(SourcePosition("mem.csv", line + 2, line + 1), row, None, None, 10))
    out = list(apply_mapping(load_mapping(TWEETS.format(replies=", replies: replies" if with_replies else "")), records))
    dirty = {root(i) for i in bad}
    checked = sorted(sorted(int(e["text"][6:]) for e in r.data["events"]) for r in out if r.data)
    assert checked == sorted(sorted(i for i in range(n) if root(i) == r) for r in {root(i) for i in range(n)} - dirty)
    assert {r.position.line for r in out if r.code in ("SR303", "SR305")} == {order.index(i) + 2 for i in bad}


def test_numbers_become_text_in_text_fields_only() -> None:
    m = mapping("""\
    layout: per_interaction
    fields:
      id: n
      channel: {const: chat}
      created_at: {column: n, format: epoch}
      customer.id: n
      customer: {column: c, type: json}
      attributes.n: n
    """.replace("      customer.id: n\n", ""))
    [data] = good(list(apply_mapping(m, rows_of([{"n": 1772442900, "c": '{"id": "C-1", "tier": "gold"}'}]))))
    assert data["id"] == "1772442900" and data["attributes"] == {"n": 1772442900}
    assert data["customer"] == {"id": "C-1", "tier": "gold"}
    m = mapping("layout: per_interaction\nfields:\n  id: n\n  channel: {const: chat}\n  agents[].id: n\n  events[].author.id: n\n  events[].at: {column: n, format: epoch}\n")
    [data] = good(list(apply_mapping(m, rows_of([{"n": 7}]))))
    assert data["agents"] == [{"id": "7"}] and data["events"][0]["author"] == {"id": "7"}


def test_a_used_mapping_can_be_pickled_for_worker_processes(tmp_path: Path) -> None:
    import pickle

    m = load_mapping(HELPDESK)
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    before = good(run(m, path))
    copy = pickle.loads(pickle.dumps(m))
    assert copy.model_dump() == m.model_dump() and copy.source_file is None
    assert good(run(copy, path)) == before


def test_timestamps_from_templates_and_value_maps() -> None:
    head = ts_head("timezone: UTC\n")
    extra = "  created_at: {template: '{d}T{t}'}\n"
    assert created(extra, [{"id": "1", "d": "2026-03-02", "t": "09:15"}, {"id": "2", "d": "2026-03-02", "t": "9h"}], head) == [
        "2026-03-02T09:15:00+00:00",
        "template '{d}T{t}': '2026-03-02T9h' does not match format iso",
    ]
    extra = "  created_at: {column: t, map: {start: '2026-01-01T00:00:00'}, unmapped: keep}\n"
    assert created(extra, [{"id": "1", "t": "start"}, {"id": "2", "t": "2026-03-02T09:15"}], head) == [
        "2026-01-01T00:00:00+00:00",
        "2026-03-02T09:15:00+00:00",
    ]


def test_join_files_must_name_joins_of_the_mapping(tmp_path: Path) -> None:
    path = helpdesk(tmp_path, [["7", "2026-03-02 09:00", "a", "u1"]])
    with pytest.raises(ValueError, match=r"^the mapping has no join named 'tikets' \(its joins: tickets, authors, requesters\)$"):
        read_mapped(load_mapping(HELPDESK), str(path), join_files={"tikets": path})
    with pytest.raises(ValueError, match=r"\(its joins: none\)"):
        apply_mapping(load_mapping(MINIMAL), [], join_files={"tickets": path})


def test_check_files_with_a_mapping_reads_with_its_input_options_as_read_mapped_does(tmp_path: Path) -> None:
    m = mapping("""
        layout: per_interaction
        input: {format: csv, encoding: latin-1, csv: {delimiter: "|", quotechar: "'"}}
        fields: {id: id, channel: {const: email}, created_at: opened, subject: subject}
    """)
    export = tmp_path / "export.txt"
    export.write_bytes("id|opened|subject\n1|2026-03-02T09:00:00Z|'Caf\xe9 | bar'\n".encode("latin-1"))
    assert [r.data["subject"] for r in run(m, export) if r.data] == ["Café | bar"]
    policy = servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="reference")
    subjects: list[str | None] = []
    summary = check_files(
        policy, [str(export)], transform=functools.partial(apply_mapping, m), on_report=lambda i, r: subjects.append(i.subject),
        format=m.input.format, encoding=m.input.encoding, csv_dialect=m.input.csv,
    )
    assert (summary.evaluated, summary.rejected, subjects) == (1, 0, ["Café | bar"])
    # mapping= does all of that; the mapping's input options are the defaults
    subjects.clear()
    summary = check_files(policy, [str(export)], mapping=m, on_report=lambda i, r: subjects.append(i.subject))
    assert (summary.evaluated, summary.rejected, subjects) == (1, 0, ["Café | bar"])
    summary = check_files(policy, [str(export)], mapping=m, encoding="utf-8")  # overridden: not UTF-8 text
    assert (summary.evaluated, summary.rejected, [r.code for r in summary.rejections]) == (0, 1, ["SR303"])
    with pytest.raises(ValueError, match="either a mapping or a transform"):
        check_files(policy, [str(export)], mapping=m, transform=functools.partial(apply_mapping, m))
    with pytest.raises(ValueError, match="give the mapping too"):
        check_files(policy, [str(export)], join_files={"tickets": str(export)})


def test_read_mapped_takes_a_path_object_and_positions_name_the_file_as_text(tmp_path: Path) -> None:
    m = mapping("""
        layout: per_interaction
        fields: {id: id, channel: {const: email}, created_at: opened}
    """)
    export = write_csv(tmp_path / "export.csv", ["id", "opened"], [["1", "2026-03-02T09:00:00Z"]])
    (record,) = read_mapped(m, export)
    assert record.ok and record.position.file == str(export)
