"""The command line: exit codes, exact output, schemas."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest

from servicerules.cli import run

ROOT = Path(__file__).resolve().parents[2]


def call(*argv: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    code = run(list(argv), out, err)
    return code, out.getvalue(), err.getvalue()


def test_version_names_the_backend(monkeypatch):
    from servicerules.compiler import _durable

    python = platform.python_version()
    monkeypatch.setattr(_durable, "AVAILABLE", True)  # the C extension imports: the pinned durable-rules
    assert call("--version") == (0, f"servicerules 0.1.0 (backend: durable_rules 2.0.28; Python {python})\n", "")
    monkeypatch.setattr(_durable, "AVAILABLE", False)  # as on Python 3.13
    assert call("--version") == (
        0, f"servicerules 0.1.0 (backend: reference (durable_rules unavailable on this Python); Python {python})\n", ""
    )


def test_usage_error_exits_2():
    code, _out, err = call("check")
    assert code == 2
    assert "the following arguments are required: RULESET, INPUT" in err


def test_lint_clean_ruleset():
    code, out, _ = call("lint", str(ROOT / "rulesets" / "starter.yaml"))
    assert (code, out) == (0, f"{ROOT / 'rulesets' / 'starter.yaml'}: ok (7 rules)\n")


def test_lint_counts_one_rule_in_the_singular(tmp_path):
    one = tmp_path / "one.yaml"
    one.write_text('ruleset: x\nversion: "1"\nrules:\n  - {id: a, title: a, severity: minor, violated_if: "false"}\n', encoding="utf-8")
    assert call("lint", str(one))[:2] == (0, f"{one}: ok (1 rule)\n")


def test_lint_json_output(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("ruleset: x\nversion: 1\nrules:\n  - id: a\n    title: t\n    severity: minor\n    violated_if: nope > 1\n")
    code, out, _ = call("lint", "--format", "json", str(bad))
    assert code == 2
    assert json.loads(out) == [
        {"code": "SR201", "message": "unknown fact 'nope'", "file": str(bad), "line": 7, "col": 18, "hint": None,
         "path": ["rules", 0, "violated_if"]}
    ]


def test_empty_ruleset_file(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    code, out, _ = call("lint", str(empty))
    assert code == 2
    assert "SR102 a ruleset must be a YAML mapping, this document is empty" in out


@pytest.mark.parametrize("which", ["ruleset", "interaction", "report", "policy-test", "mapping", "summary"])
def test_published_schemas_are_up_to_date(which):
    code, out, _ = call("schema", which)
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert out == (ROOT / "schemas" / f"{which}.schema.json").read_text(encoding="utf-8"), (
        f"schemas/{which}.schema.json is stale: servicerules schema {which} > schemas/{which}.schema.json"
    )


def test_ruleset_schema_lets_editors_complete_rule_fields():
    _, out, _ = call("schema", "ruleset")
    schema = json.loads(out)
    rule = schema["$defs"]["RuleSpec"]
    assert rule["additionalProperties"] is False
    assert {"id", "title", "severity", "scope", "when", "violated_if", "message", "actions", "mode"} <= set(rule["properties"])
    assert rule["properties"]["severity"]["$ref"] == "#/$defs/Severity"
    assert schema["$defs"]["Severity"]["enum"] == ["info", "minor", "major", "critical"]
    # durations may be written as text in YAML: the schema must accept "4h"
    due_in = json.dumps(schema["$defs"]["ActionSpec"]["properties"]["due_in"])
    assert '"type": "string"' in due_in and "pattern" in due_in


def test_facts_lists_the_catalogue():
    code, out, _ = call("facts", "--format", "json")
    facts = {f["name"]: f for f in json.loads(out)}
    assert code == 0
    assert facts["first_reply_time"]["type"] == "duration"
    assert facts["event.text"]["scope"] == "event"


def test_a_reader_that_went_away_ends_the_command_quietly_with_status_141():
    # `servicerules facts | head -1` once head has exited: writing to the pipe fails (EPIPE); no
    # BrokenPipeError traceback and no "Exception ignored" at exit follow. The pipe's reading end is closed
    # before the command starts, so its first write fails whatever the timing.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-c", "from servicerules.cli import main; main()", "facts"],
                              stdout=write_end, stderr=subprocess.PIPE, check=False)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")


def _write_jsonl(path: Path, records: list) -> None:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records), encoding="utf-8")


def _email(i: int, reply_after_minutes: int | None, text: str = "Hello, sorted.") -> dict:
    events = [{"at": "2026-03-02T09:00:00Z", "type": "message", "author": {"role": "customer"}, "text": "Help"}]
    if reply_after_minutes is not None:
        events.append({"at": f"2026-03-02T{9 + reply_after_minutes // 60:02d}:{reply_after_minutes % 60:02d}:00Z",
                       "type": "message", "author": {"role": "agent", "id": "a1"}, "text": text})
    return {"id": f"E-{i}", "channel": "email", "team": "billing", "created_at": "2026-03-02T09:00:00Z", "events": events}


def test_check_counts_add_up_and_exit_code_follows_fail_on(tmp_path):
    data = tmp_path / "in.jsonl"
    _write_jsonl(data, [_email(1, 30), _email(2, 30, "Sorted."), "{broken", {"id": "x"}, _email(3, None)])
    out_file = tmp_path / "violations.jsonl"
    summary_file = tmp_path / "summary.json"
    code, out, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(data), "--as-of", "2026-03-05T09:00:00Z",
                        "-o", str(out_file), "--summary-json", str(summary_file), "--backend", "reference")
    assert code == 1
    summary = json.loads(summary_file.read_text())
    assert (summary["read"], summary["evaluated"], summary["rejected"]) == (5, 3, 2)
    assert [(r["source"], r["code"]) for r in summary["rejections"]] == [(f"{data}:3", "SR301"), (f"{data}:4", "SR111")]
    rules = {r["rule_id"]: r for r in summary["rules"]}
    assert (rules["protocol.greeting"]["violated"], rules["protocol.greeting"]["compliant"]) == (1, 1)
    assert rules["reply.email-first-reply"]["violated"] == 1  # E-3 unanswered for 3 days at as_of
    assert rules["reply.autoresponder-only"]["violated"] == 1
    # only E-1 holds every rule; all three are billing e-mails; agent a1 answered E-1 and E-2, nobody E-3
    assert (summary["compliant"], summary["violations"]) == (1, 3)
    assert summary["by_severity"] == summary["enforced_by_severity"] == {"critical": 1, "major": 1, "minor": 1}
    assert (summary["by_channel"], summary["by_team"], summary["by_agent"]) == (
        {"email": {"interactions": 3, "compliance": 1 / 3}},
        {"billing": {"interactions": 3, "compliance": 1 / 3}},
        {"a1": {"interactions": 2, "compliance": 1 / 2}},
    )
    lines = [json.loads(line) for line in out_file.read_text().splitlines()]
    assert sorted((v["interaction_id"], v["rule_id"]) for v in lines) == [
        ("E-2", "protocol.greeting"), ("E-3", "reply.autoresponder-only"), ("E-3", "reply.email-first-reply"),
    ]
    assert "5 read, 3 evaluated, 2 rejected" in out
    clean = tmp_path / "clean.jsonl"
    _write_jsonl(clean, [_email(1, 30), _email(2, 30, "Sorted."), _email(3, None)])
    code, _out, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(clean), "--as-of", "2026-03-05T09:00:00Z",
                         "--fail-on", "never", "--quiet")
    assert code == 0
    code, _out, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(clean), "--as-of", "2026-03-05T09:00:00Z",
                         "--fail-on", "critical", "--quiet")
    assert code == 1  # the autoresponder-only rule is critical
    only_minor = tmp_path / "minor.jsonl"
    _write_jsonl(only_minor, [_email(2, 30, "Sorted.")])
    code, _out, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(only_minor), "--fail-on", "major", "--quiet")
    assert code == 0  # the greeting rule is minor


def test_check_json_output_is_valid_json_even_when_empty(tmp_path):
    data = tmp_path / "in.jsonl"
    _write_jsonl(data, [_email(1, 30)])
    out_file = tmp_path / "v.json"
    code, _, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(data), "-o", str(out_file), "--format", "json", "-q")
    assert code == 0
    assert json.loads(out_file.read_text()) == []


def test_check_with_a_bad_ruleset_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("ruleset: x\n")
    code, _out, err = call("check", str(bad), str(tmp_path / "none.jsonl"))
    assert code == 2
    assert "SR111 missing required field 'version'" in err


def test_check_missing_input_exits_2(tmp_path):
    missing = tmp_path / "missing.jsonl"
    code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(missing))
    assert (code, out, err) == (2, "", f"servicerules: error: input file not found: '{missing}'\n")


def test_check_of_a_ruleset_that_cannot_be_read_names_it(tmp_path):
    missing = tmp_path / "nothere.yaml"
    code, out, err = call("check", str(missing), str(ROOT / "examples" / "interactions.jsonl"))
    assert (code, out, err) == (2, "", f"servicerules: error: cannot read the ruleset '{missing}': No such file or directory\n")
    code, out, err = call("check", str(tmp_path), str(ROOT / "examples" / "interactions.jsonl"))
    assert (code, out, err) == (2, "", f"servicerules: error: cannot read the ruleset '{tmp_path}': Is a directory\n")


def test_timestamp_without_zone_is_a_usage_error():
    code, _out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), "x.jsonl", "--as-of", "2026-03-02T10:00:00")
    assert code == 2
    assert "has no time zone" in err


def test_rejected_records_alone_make_check_exit_1(tmp_path):
    data = tmp_path / "in.jsonl"
    _write_jsonl(data, [_email(1, 30), {"id": "x"}])
    code, out, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(data), "--fail-on", "never", "--backend", "reference")
    assert code == 1
    assert "2 read, 1 evaluated, 1 rejected" in out


def test_a_json_array_named_csv_is_rejected_row_by_row_not_a_crash(tmp_path):
    # read as CSV, its header is the column '[': an unknown field whose name has a '[' once stopped the run
    data = tmp_path / "export.csv"
    data.write_text('[\n  {"id": "A-1"}\n]\n')
    rejects = tmp_path / "rejects.jsonl"
    code, out, err = call(
        "check", str(ROOT / "rulesets" / "starter.yaml"), str(data), "--rejects", str(rejects), "-q", "--backend", "reference"
    )
    assert code == 1 and err.startswith("servicerules check: warning: all 2 records were rejected; nothing was checked\n")
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [(r["line"], r["code"]) for r in rows] == [(2, "SR110"), (3, "SR110")]
    assert rows[0]["reason"].startswith("unknown field '['")


def test_check_reads_json_files_of_one_object_per_line_and_of_one_object(tmp_path):
    lines = (ROOT / "examples" / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
    starter = str(ROOT / "rulesets" / "starter.yaml")
    per_line = tmp_path / "mongoexport.json"  # one SR301 for the whole file, once
    per_line.write_text("\n".join([*lines[:3], "[1, 2]", *lines[3:6]]) + "\n", encoding="utf-8")
    rejects = tmp_path / "rejects.jsonl"
    code, out, _ = call("check", starter, str(per_line), "--rejects", str(rejects), "--fail-on", "never", "-o", str(tmp_path / "v.jsonl"))
    assert code == 1 and "7 read, 6 evaluated, 1 rejected" in out
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["line"], r["row"], r["code"], r["raw"]) for r in rows] == [(4, 4, "SR302", "[1, 2]")]
    as_jsonl = tmp_path / "same.jsonl"
    as_jsonl.write_text("\n".join(lines[:6]) + "\n", encoding="utf-8")
    call("check", starter, str(as_jsonl), "--fail-on", "never", "-q", "-o", str(tmp_path / "w.jsonl"))
    assert (tmp_path / "v.jsonl").read_text(encoding="utf-8") == (tmp_path / "w.jsonl").read_text(encoding="utf-8")

    one = tmp_path / "ticket.json"  # one ticket, pretty-printed: it was one SR301 too
    one.write_text(json.dumps(json.loads(lines[0]), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    code, out, _ = call("check", starter, str(one), "--fail-on", "never", "-q", "--summary-json", str(tmp_path / "s.json"))
    summary = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert (code, summary["read"], summary["evaluated"], summary["rejected"]) == (0, 1, 1, 0)
    two = tmp_path / "two.json"  # as jq prints them
    two.write_text(one.read_text(encoding="utf-8") * 2, encoding="utf-8")
    code, _, _ = call("check", starter, str(two), "--rejects", str(rejects), "-q")
    rows = [json.loads(line) for line in rejects.read_text(encoding="utf-8").splitlines()]
    assert code == 1 and [(r["line"], r["code"]) for r in rows] == [(1, "SR301")]
    assert rows[0]["reason"].startswith("malformed JSON: unexpected '{' at line ")
    assert rows[0]["raw"].startswith('{\n  "id": "EM-1001"') and rows[0]["raw_truncated"]


def test_check_reads_the_export_with_the_csv_options_of_the_mapping(tmp_path):
    # the mapping's input.csv was ignored by check (the delimiter was sniffed from the header), so a '|'
    # export was read as one column and every row rejected
    mapping = tmp_path / "pipes.yaml"
    mapping.write_text(
        'mapping: pipes\ninput:\n  format: csv\n  csv: {delimiter: "|", quotechar: "\'"}\nlayout: per_interaction\n'
        "fields:\n  id: id\n  channel: {const: chat}\n  created_at: created\n  subject: subject\n"
    )
    export = tmp_path / "export.csv"
    export.write_text("id|created|subject\nA-1|2026-03-02T09:00:00Z|'Refund, please; urgent|now'\nA-2|2026-03-02T09:00:00Z|Hi\n")
    summary = tmp_path / "summary.json"
    code, _, err = call(
        "check", str(ROOT / "rulesets" / "starter.yaml"), str(export), "--mapping", str(mapping),
        "--summary-json", str(summary), "--fail-on", "never", "-q", "--backend", "reference",
    )
    assert (code, err) == (0, "")
    counts = json.loads(summary.read_text())
    assert (counts["read"], counts["evaluated"], counts["rejected"]) == (2, 2, 0)


def test_a_card_number_in_a_rejected_value_is_masked_in_every_output(tmp_path):
    # The reasons quote the rejected value; the rejects file, the summaries and JUnit must not repeat it.
    card = "4111 1111 1111 1111"  # a published test number
    data, export, mapping = tmp_path / "in.jsonl", tmp_path / "in.csv", tmp_path / "map.yaml"
    _write_jsonl(data, [dict(_email(1, 30), priority=card), dict(_email(2, 30), created_at=card)])
    export.write_text(f"id,channel,created_at\nz,email,{card}\n", encoding="utf-8")
    mapping.write_text("layout: per_interaction\ntimezone: UTC\nfields: {id: id, channel: channel, created_at: created_at}\n")
    for inputs in ([str(data)], [str(export), "--mapping", str(mapping)]):
        outputs = {name: tmp_path / name for name in ("rejects.jsonl", "summary.json", "junit.xml")}
        code, out, err = call(
            "check", str(ROOT / "rulesets" / "starter.yaml"), *inputs, "--rejects", str(outputs["rejects.jsonl"]),
            "--summary-json", str(outputs["summary.json"]), "--junit", str(outputs["junit.xml"]),
        )
        assert code == 1
        reasons = [json.loads(line)["reason"] for line in outputs["rejects.jsonl"].read_text(encoding="utf-8").splitlines()]
        assert any("411111••••••1111" in reason for reason in reasons), reasons
        for text in [out, err, *(path.read_text(encoding="utf-8") for path in outputs.values())]:
            assert card not in text and card.replace(" ", "") not in text


def test_summary_lists_every_rule_with_its_severity_even_without_violations(tmp_path):
    data = tmp_path / "in.jsonl"
    _write_jsonl(data, [_email(1, 30)])
    summary_file = tmp_path / "s.json"
    code, _, _ = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(data), "--summary-json", str(summary_file), "-q")
    assert code == 0
    rules = json.loads(summary_file.read_text())["rules"]
    # In the ruleset's order, with the severities of rulesets/starter.yaml. E-1 is an e-mail answered after
    # 30 minutes with "Hello, sorted.": the e-mail reply (within 24h), autoresponder (a personal reply),
    # greeting ("hello") and card-number (two messages, no card) rules apply and hold; the chat and social
    # rules are for other channels, and the closing rule only for solved interactions: not applicable.
    assert [(r["rule_id"], r["severity"], r["violated"], r["compliant"], r["not_applicable"]) for r in rules] == [
        ("reply.email-first-reply", "major", 0, 1, 0),
        ("reply.chat-first-reply", "major", 0, 0, 1),
        ("reply.social-first-reply", "major", 0, 0, 1),
        ("reply.autoresponder-only", "critical", 0, 1, 0),
        ("protocol.greeting", "minor", 0, 1, 0),
        ("protocol.closing", "info", 0, 0, 1),
        ("privacy.card-number-in-message", "critical", 0, 1, 0),
    ]


def test_summary_json_fits_its_published_schema(tmp_path):
    # Every part filled: targets (grouped and not), rejections, groups per channel, team and agent.
    from pydantic import ValidationError

    from servicerules.batch.summary_schema import summary_adapter

    data = tmp_path / "in.jsonl"
    _write_jsonl(data, [_email(1, 30), _email(2, None), "{broken", {**_email(3, 45), "channel": "chat"}])
    summary_file = tmp_path / "s.json"
    code, _out, _ = call("check", str(ROOT / "rulesets" / "charter.yaml"), str(data), "--as-of", "2026-03-05T09:00:00Z",
                         "--summary-json", str(summary_file), "-q")
    assert code == 1
    summary = json.loads(summary_file.read_text())
    assert summary["targets"] and summary["rejections"] and summary["by_agent"] and summary["rules"]
    assert summary_adapter().validate_python(summary) == summary
    schema = json.loads((ROOT / "schemas" / "summary.schema.json").read_text())
    assert list(schema["properties"]) == list(summary)  # documented in the order written
    with pytest.raises(ValidationError):  # the schema is strict: no key it does not know
        summary_adapter().validate_python({**summary, "extra": 1})


def test_fact_catalogue_page_is_up_to_date():
    code, out, _ = call("facts", "--format", "markdown")
    assert code == 0
    assert out == (ROOT / "docs" / "reference" / "facts.md").read_text(encoding="utf-8"), (
        "docs/reference/facts.md is stale: servicerules facts --format markdown > docs/reference/facts.md"
    )
    assert "| `first_reply_time` | duration |" in out


def test_asking_for_durable_rules_where_it_does_not_import_is_a_usage_error(monkeypatch):
    import servicerules
    from servicerules.compiler import _durable

    monkeypatch.setattr(_durable, "AVAILABLE", False)  # as on Python 3.13
    code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl"),
                          "--backend", "durable_rules")
    assert (code, out) == (2, "")
    assert err.startswith("servicerules check: error: the durable_rules backend is not available here: its C extension")
    assert "Traceback" not in err
    with pytest.raises(ValueError, match="use the backend 'reference'"):
        servicerules.load(ROOT / "rulesets" / "starter.yaml", backend="durable_rules")
    assert servicerules.load(ROOT / "rulesets" / "starter.yaml").ref.backend == "reference"  # what auto picks


@pytest.mark.parametrize("option", ["-o", "--rejects", "--junit", "--summary-json"])
def test_an_output_that_is_also_an_input_is_refused_before_anything_is_written(tmp_path, option):
    folder = tmp_path / "exports"
    folder.mkdir()
    data = folder / "tickets.jsonl"
    data.write_bytes((ROOT / "examples" / "interactions.jsonl").read_bytes())
    before = data.read_bytes()
    for target in (data, folder / "old-violations.jsonl"):  # named, or found in a folder that is an input
        target.write_bytes(before)
        code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(folder), option, str(target))
        assert (code, out) == (2, "")
        assert err.startswith(f"servicerules check: error: {'--output' if option == '-o' else option} {target} is also an input")
        assert data.read_bytes() == before and target.read_bytes() == before


def test_an_output_that_is_the_ruleset_a_join_file_or_a_hard_link_to_an_input_is_refused(tmp_path):
    ruleset = tmp_path / "rules.yaml"
    ruleset.write_bytes((ROOT / "rulesets" / "starter.yaml").read_bytes())
    data = tmp_path / "in.jsonl"
    data.write_bytes((ROOT / "examples" / "interactions.jsonl").read_bytes())
    linked = tmp_path / "same.jsonl"
    os.link(data, linked)
    code, _, err = call("check", str(ruleset), str(data), "--summary-json", str(ruleset))
    assert code == 2 and f"--summary-json {ruleset} is also an input ({ruleset})" in err
    code, _, err = call("check", str(ruleset), str(data), "-o", str(linked))
    assert code == 2 and f"--output {linked} is also an input ({data})" in err
    comments = tmp_path / "comments.csv"
    comments.write_text("id,body,created,public,ticket_id,user_id\n1,hi,2024-01-01 10:00:00,true,5,7\n", encoding="utf-8")
    users = tmp_path / "people.csv"
    users.write_text("id,name,role\n7,Jana,end-user\n", encoding="utf-8")
    code, _, err = call("check", str(ruleset), str(comments), "--mapping", "zendesk", "--join", f"authors={users}",
                        "--rejects", str(users))
    assert code == 2 and f"--rejects {users} is also an input ({users})" in err
    assert ruleset.read_bytes() == (ROOT / "rulesets" / "starter.yaml").read_bytes()
    assert linked.stat().st_size == data.stat().st_size > 0 and users.read_text().startswith("id,name")


def _zendesk_export(folder: Path) -> Path:
    """A comment export with the ticket and user exports beside it, where the zendesk mapping finds them."""
    folder.mkdir()
    (folder / "ticket_data.csv").write_text(
        "id,created_at,priority,requester_id,assignee_id,status,subject,updated_at,via_channel,type,group_id,organization_id\n"
        "5,2024-01-01 10:00:00,high,7,8,open,Locked out,2024-01-01 10:00:00,email,question,1,2\n", encoding="utf-8",
    )
    (folder / "user_data.csv").write_text("id,name,role,locale\n7,Jana,end-user,cs\n8,Ola,agent,nb\n", encoding="utf-8")
    comments = folder / "comments.csv"
    comments.write_text("id,body,created,public,ticket_id,user_id\n1,hi,2024-01-01 10:00:00,true,5,7\n", encoding="utf-8")
    return comments


@pytest.mark.parametrize("option", ["-o", "--rejects", "--junit", "--summary-json"])
def test_an_output_on_a_join_file_the_mapping_finds_itself_is_refused(tmp_path, option):
    comments = _zendesk_export(tmp_path / "exports")
    (tmp_path / "link").symlink_to(tmp_path / "exports", target_is_directory=True)
    flag = "--output" if option == "-o" else option
    ticket_file, user_file = tmp_path / "exports" / "ticket_data.csv", tmp_path / "exports" / "user_data.csv"
    before = {ticket_file: ticket_file.read_bytes(), user_file: user_file.read_bytes()}
    for target, read, joins in (
        (ticket_file, ticket_file, "join 'tickets'"),
        (tmp_path / "link" / "user_data.csv", user_file, "joins 'authors', 'requesters' and 'assignees'"),  # another spelling
        (tmp_path / "exports" / ".." / "link" / "ticket_data.csv", ticket_file, "join 'tickets'"),
    ):
        code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(comments), "--mapping", "zendesk", option, str(target))
        assert (code, out) == (2, "")
        assert err == (
            f"servicerules check: error: {flag} {target} is also an input ({read}, read by the mapping's {joins}): "
            "writing it would destroy what the run is about to read; write the outputs elsewhere\n"
        )
        assert {path: path.read_bytes() for path in before} == before


def test_an_output_where_a_join_would_find_it_is_refused_and_one_after_the_found_file_is_not(tmp_path, monkeypatch):
    starter = str(ROOT / "rulesets" / "starter.yaml")
    comments = _zendesk_export(tmp_path / "exports")
    tickets = tmp_path / "exports" / "tickets.csv"  # the second of ticket_data.csv, tickets.csv, ticket.csv
    (tmp_path / "exports" / "ticket_data.csv").rename(tickets)
    code, out, err = call("check", starter, str(comments), "--mapping", "zendesk", "-o", str(tmp_path / "exports" / "ticket_data.csv"))
    assert (code, out) == (2, "")
    assert err == (
        f"servicerules check: error: --output {tmp_path / 'exports' / 'ticket_data.csv'} would become an input: the mapping's "
        f"join 'tickets' reads {tmp_path / 'exports' / 'ticket_data.csv'} when it exists; write the outputs elsewhere\n"
    )
    assert not (tmp_path / "exports" / "ticket_data.csv").exists()
    before = tickets.read_bytes()
    later = tmp_path / "exports" / "ticket.csv"  # tried only when tickets.csv is missing: the run never reads it
    code, out, err = call("check", starter, str(comments), "--mapping", "zendesk", "-q", "--summary-json", str(later))
    assert (code, err) == (0, "")
    assert json.loads(later.read_text(encoding="utf-8"))["rejected"] == 0 and tickets.read_bytes() == before
    tickets.unlink()  # no ticket file at all: the run would read one an output wrote, instead of stopping
    code, _, err = call("check", starter, str(comments), "--mapping", "zendesk", "--join", f"tickets={tmp_path / 't.csv'}",
                        "--rejects", str(tmp_path / "t.csv"))
    assert code == 2 and f"--rejects {tmp_path / 't.csv'} would become an input: the mapping's join 'tickets' reads" in err
    code, _, err = call("check", starter, str(comments), "--mapping", "zendesk", "--junit", str(tickets))
    assert code == 2 and f"--junit {tickets} would become an input: the mapping's join 'tickets' reads {tickets} when" in err
    assert not tickets.exists() and not (tmp_path / "t.csv").exists()
    monkeypatch.chdir(tmp_path / "exports")  # standard input finds its joins in the current directory
    code, _, err = call("check", starter, "-", "--mapping", "zendesk", "--rejects", "user_data.csv")
    assert code == 2 and "--rejects user_data.csv is also an input (./user_data.csv, read by the mapping's joins 'authors'," in err
    assert (tmp_path / "exports" / "user_data.csv").read_text(encoding="utf-8").startswith("id,name,role,locale\n7,Jana")


def test_an_output_on_the_file_of_a_shipped_mapping_named_by_its_name_is_refused(tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"  # not the package's own folder: a failing test must not destroy it
    shipped.mkdir()
    (shipped / "zendesk.yaml").write_bytes((ROOT / "servicerules" / "data" / "mappings" / "zendesk.yaml").read_bytes())
    before = (shipped / "zendesk.yaml").read_bytes()
    monkeypatch.setattr("servicerules.batch.mapping._load.MAPPINGS_DIR", shipped)
    comments = _zendesk_export(tmp_path / "exports")
    code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(comments), "--mapping", "zendesk",
                          "--summary-json", str(shipped / "zendesk.yaml"))
    assert (code, out) == (2, "")
    assert err.startswith(f"servicerules check: error: --summary-json {shipped / 'zendesk.yaml'} is also an input ({shipped / 'zendesk.yaml'})")
    assert (shipped / "zendesk.yaml").read_bytes() == before


def test_two_outputs_in_one_file_or_an_unwritable_output_are_refused_up_front(tmp_path):
    starter, examples = str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl")
    same = tmp_path / "out.json"
    code, _, err = call("check", starter, examples, "-o", str(same), "--summary-json", str(same))
    assert (code, err) == (2, f"servicerules check: error: --summary-json and --output name the same file {same}\n")
    assert not same.exists()
    violations = tmp_path / "v.json"
    code, _, err = call("check", starter, examples, "-o", str(violations), "--junit", str(tmp_path / "nodir" / "j.xml"))
    assert code == 2 and "--junit" in err and f"there is no directory {tmp_path / 'nodir'}" in err
    assert not violations.exists()  # nothing opened, so nothing half-written
    code, _, err = call("check", starter, examples, "--rejects", str(tmp_path))
    assert (code, err) == (2, f"servicerules check: error: --rejects {tmp_path} is a directory\n")
    code, _, err = call("check", starter, examples, "-o", "-")
    assert (code, err) == (2, "servicerules check: error: --output -: outputs are files; give a path\n")


def test_a_compressed_output_name_is_refused_and_dev_null_takes_several_outputs(tmp_path):
    starter, examples = str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl")
    for option, name in (("-o", "v.json.gz"), ("--rejects", "r.jsonl.GZ"), ("--summary-json", "s.json.gz")):
        path = tmp_path / name
        code, _, err = call("check", starter, examples, option, str(path))
        long_option = {"-o": "--output"}.get(option, option)
        assert (code, err) == (
            2,
            f"servicerules check: error: {long_option} {path}: outputs are written uncompressed; name the file without "
            ".gz and compress it after the run (gzip FILE)\n",
        )
        assert not path.exists()
    # only the violations count (exit 1: the examples break rules on purpose)
    code, out, err = call("check", starter, examples, "--as-of", "2026-03-02T18:00:00Z", "-q",
                          "-o", os.devnull, "--junit", os.devnull, "--summary-json", os.devnull, "--rejects", os.devnull)
    assert (code, out, err) == (1, "", "")


def test_options_are_not_abbreviated_and_format_needs_an_output():
    starter, examples = str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl")
    code, _, err = call("check", starter, examples, "--quie")
    assert code == 2 and "unrecognized arguments: --quie" in err
    code, _, err = call("check", starter, examples, "--format", "csv", "-q")
    assert (code, err) == (2, "servicerules check: error: --format is the format of --output; give --output FILE too\n")


def test_an_empty_export_and_too_many_jobs_are_pointed_out(tmp_path, monkeypatch):
    import servicerules.batch.parallel as parallel

    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    code, _, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(empty), "-q")
    assert (code, err) == (0, "servicerules check: warning: the inputs hold no records; nothing was checked\n")
    monkeypatch.setattr(parallel, "default_jobs", lambda: 2)
    code, _, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl"),
                        "-q", "-j", "5", "--as-of", "2026-03-02T18:00:00Z")
    assert code == 1 and err.startswith("servicerules check: note: --jobs 5 on 2 CPUs: each worker holds its own")
    code, _, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl"),
                        "-q", "-j", "4", "--as-of", "2026-03-02T18:00:00Z")
    assert (code, err) == (1, "")


def test_a_run_whose_every_record_was_rejected_says_so_and_points_at_mappings(tmp_path):
    # a help-desk export checked without --mapping: every row is rejected (SR110) and the summary's
    # tables are all zeros; the status was already 1, but nothing said why nothing was checked
    export = tmp_path / "tweets.csv"
    export.write_text("tweet_id,author_id,inbound,created_at,text\n1,c1,True,Mon Mar 02 09:00:00 +0000 2026,hi\n"
                      "2,Acme,False,Mon Mar 02 09:05:00 +0000 2026,hello\n", encoding="utf-8")
    starter = str(ROOT / "rulesets" / "starter.yaml")
    code, _, err = call("check", starter, str(export), "-q")
    assert code == 1
    assert err == ("servicerules check: warning: all 2 records were rejected; nothing was checked\n"
                   "servicerules check: hint: a help-desk export is read with --mapping FILE or a shipped mapping: "
                   "bank-calls, twcs, zendesk\n")
    code, _, err = call("check", starter, str(export), "-q", "--mapping", "twcs")  # an orphan reply: rejected
    assert code == 1 and "hint" not in err
    code, _, err = call("check", starter, str(ROOT / "examples" / "invalid.jsonl"), "-q")  # some rejected: no warning
    assert code == 1 and "warning" not in err


def test_the_warning_that_every_record_was_rejected_counts_as_the_summary_does(tmp_path):
    # the summary above it says '1,200 read'; the warning said 'all 1200 records', and 'all 1 records'
    starter = str(ROOT / "rulesets" / "starter.yaml")
    many, one = tmp_path / "many.jsonl", tmp_path / "one.jsonl"
    many.write_text('{"id": "x"}\n' * 1200, encoding="utf-8")
    one.write_text('{"id": "x"}\n', encoding="utf-8")
    code, _, err = call("check", starter, str(many), "-q", "--backend", "reference")
    assert code == 1 and err.startswith("servicerules check: warning: all 1,200 records were rejected; nothing was checked\n")
    code, _, err = call("check", starter, str(one), "-q", "--backend", "reference")
    assert code == 1 and err.startswith("servicerules check: warning: the only record was rejected; nothing was checked\n")


def test_as_of_takes_a_lowercase_z_as_utc():
    from servicerules._argtypes import aware_timestamp

    assert aware_timestamp("2026-03-02T18:00:00z") == aware_timestamp("2026-03-02T18:00:00+00:00")


# ------------------------------------------------------------------------------------------ mapping files

MAPPING = "layout: per_interaction\ntimezone: UTC\nfields:\n  id: id\n  channel: {const: email}\n  created_at: opened\n"


def test_lint_recognises_a_mapping_file_and_checks_it_as_one(tmp_path):
    good, bad = tmp_path / "map.yaml", tmp_path / "bad-map.yaml"
    good.write_text(MAPPING + "events:\n  - {type: note, at: opened, fields: {text: body}}\n", encoding="utf-8")
    bad.write_text(MAPPING.replace("timezone", "timezon") + "subject: title\n", encoding="utf-8")
    code, out, _ = call("lint", str(good), str(ROOT / "rulesets" / "starter.yaml"))
    assert (code, out) == (0, f"{good}: ok (mapping: 4 fields, 1 synthesised event)\n{ROOT / 'rulesets' / 'starter.yaml'}: ok (7 rules)\n")
    code, out, _ = call("lint", "--format", "json", str(bad))
    assert code == 2
    assert [(d["code"], d["line"], d["message"], d["hint"]) for d in json.loads(out)] == [
        ("SR110", 2, "unknown field 'timezon'", "did you mean 'timezone'?"),
        ("SR110", 7, "unknown field 'subject'", "did you mean 'fields.subject'? Targets go under the mapping's 'fields:'"),
    ]


def test_lint_checks_policy_test_files_and_goes_on_past_a_missing_file(tmp_path):
    tests = tmp_path / "policy.test.yaml"
    tests.write_text(
        f"ruleset: {ROOT / 'rulesets' / 'starter.yaml'}\ncases:\n  - note: x\n    interaction: {{events: []}}\n"
        "    expect: {violatons: [a]}\n", encoding="utf-8",
    )
    missing = tmp_path / "gone.yaml"
    code, out, err = call("lint", str(ROOT / "rulesets" / "charter.test.yaml"), str(missing), str(tests),
                          str(ROOT / "rulesets" / "starter.yaml"))
    assert (code, err) == (2, "")
    lines = out.splitlines()
    assert lines[0] == f"{ROOT / 'rulesets' / 'charter.test.yaml'}: ok (policy tests: 24 cases)"
    assert lines[1] == f"{ROOT / 'rulesets' / 'starter.yaml'}: ok (7 rules)"  # linted after the missing file
    assert lines[2] == f"{missing}:1:1: SR103 cannot read the file: No such file or directory"
    assert lines[3].startswith(f"{tests}:5:14: SR110 unknown field 'violatons'")
    assert lines[-1] == "2 errors"
    code, out, _ = call("lint", "--format", "json", str(missing))
    assert code == 2 and [d["code"] for d in json.loads(out)] == ["SR103"]


def test_a_bad_mapping_or_an_unknown_join_name_stops_check_with_status_2(tmp_path):
    export, mapping = tmp_path / "in.csv", tmp_path / "map.yaml"
    export.write_text("id,opened\n1,2026-03-02T09:00:00Z\n", encoding="utf-8")
    mapping.write_text(MAPPING + "joins:\n  users: {file: u.csv, key: id, on: id}\n  teams: {file: t.csv, key: id, on: id}\n", encoding="utf-8")
    code, _, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(export), "--mapping", str(mapping), "--join", "user=u.csv")
    assert (code, err) == (2, "servicerules check: error: the mapping has no join named user (its joins: users, teams)\n")
    mapping.write_text(MAPPING.replace("layout", "layot"), encoding="utf-8")
    code, _, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(export), "--mapping", str(mapping))
    assert code == 2 and f"{mapping}:1:1: SR110 unknown field 'layot'" in err


def test_ctrl_c_while_loading_exits_130_without_a_traceback(monkeypatch, capsys):
    from servicerules import cli

    ruleset, examples = str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "examples" / "interactions.jsonl")
    loading = []

    def interrupted(path, **options):
        loading.append(path)
        raise KeyboardInterrupt  # as while the ruleset compiles, before a run can stop cleanly

    monkeypatch.setattr("servicerules.engine.load", interrupted)
    monkeypatch.setattr("servicerules.batch.parallel.tune_allocator", lambda: False)  # not this test process's
    monkeypatch.setattr("servicerules.batch.parallel.tune_gc", lambda: None)
    monkeypatch.setattr(sys, "argv", ["servicerules", "check", ruleset, examples])
    with pytest.raises(SystemExit) as exit_info:
        try:
            cli.main()
        except KeyboardInterrupt:  # escaping, it would stop the whole test session
            pytest.fail("the KeyboardInterrupt escaped main()")
    assert (exit_info.value.code, loading) == (130, [ruleset])  # interrupted in check's loading, not elsewhere
    assert capsys.readouterr() == ("", "servicerules: interrupted\n")  # no traceback


def test_an_input_failing_part_way_prints_what_was_checked_then_the_error(tmp_path, monkeypatch):
    import servicerules.batch.runner as runner

    examples = ROOT / "examples" / "interactions.jsonl"
    second = tmp_path / "b.jsonl"
    second.write_bytes(examples.read_bytes())
    real = runner.read_blocks

    def failing(path, **options):
        if path == str(second):  # the second file cannot be read (a disk error)
            raise OSError(5, "Input/output error", path)
        yield from real(path, **options)

    monkeypatch.setattr(runner, "read_blocks", failing)
    summary_file = tmp_path / "s.json"
    code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(examples), str(second),
                          "--as-of", "2026-03-02T18:00:00Z", "-j", "1", "--summary-json", str(summary_file))
    assert code == 2
    assert "65 read, 65 evaluated, 0 rejected" in out  # the first file was checked
    assert err == (
        f"servicerules: error: SR403 an input could not be read to the end: [Errno 5] Input/output error: '{second}'\n"
        "    hint: the 65 records read before it were checked and written; fix the input and run again\n"
    )
    assert json.loads(summary_file.read_text())["read"] == 65


def test_a_join_file_that_is_missing_is_an_input_error(tmp_path):
    comments = tmp_path / "comments.csv"
    comments.write_text("id,body,created,public,ticket_id,user_id\n1,hi,2024-01-01 10:00:00,true,5,7\n", encoding="utf-8")
    outputs = [tmp_path / name for name in ("v.jsonl", "rejects.jsonl", "junit.xml", "summary.json")]
    options = [item for option, path in zip(("-o", "--rejects", "--junit", "--summary-json"), outputs) for item in (option, str(path))]
    code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(comments), "--mapping", "zendesk", "-q", *options)
    assert code == 2
    assert err.startswith("servicerules: error: SR403 an input could not be read: join 'tickets'") and "Traceback" not in err
    assert not any(path.exists() for path in outputs)  # the run could not start: it leaves no empty output behind
    # a path given with --join that does not exist: the same, naming it
    tickets = tmp_path / "nope.csv"
    code, out, err = call("check", str(ROOT / "rulesets" / "starter.yaml"), str(comments), "--mapping", "zendesk", "-q",
                          "--join", f"tickets={tickets}", *options)
    assert code == 2
    assert err == f"servicerules: error: SR403 an input could not be read: [Errno 2] join 'tickets': no such file: '{tickets}'\n"
    assert not any(path.exists() for path in outputs)
