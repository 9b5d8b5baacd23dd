"""Policy diff: a ruleset and a changed copy over hand-written interactions, with exact counts and examples."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

import servicerules
from servicerules.diff import CHANGE_KINDS, PolicyDiff, add_arguments, diff_files, diff_rulesets, run_command

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
AS_OF = dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
DAY = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

OLD = """\
ruleset: support
version: "1"
default_locale: en
lexicons:
  greeting:
    phrases:
      en: [hello, hi]
  closing:
    phrases:
      en: [anything else, let me know if]
rules:
  - id: reply.email-first-reply
    title: E-mails get a personal reply within 24 hours
    severity: major
    when: interaction.channel == "email"
    violated_if: (first_reply_time ?? unanswered_for) > 24h
    message: "Waited {first_reply_time ?? unanswered_for} for a first reply (target 24h)."
  - id: protocol.greeting
    title: The first personal reply greets the customer
    severity: minor
    when: has_personal_reply
    violated_if: not (first_reply.text mentions greeting)
    message: "The first reply did not greet the customer."
  - id: protocol.closing
    title: A solved conversation ends by offering further help
    severity: info
    when: interaction.is_solved and has_personal_reply
    violated_if: not (last_reply.text mentions closing)
    message: "The last reply offered no further help."
  - id: privacy.card-number
    title: No card number in a message
    severity: critical
    scope: event
    when: event.type == "message"
    violated_if: event.has_card_number
    message: "Message {event.index} contains a card number."
"""

# threshold 24h -> 4h, chat rule added, greeting message changed, closing rule removed, card rule narrowed to
# agents' messages (so it points at other events, or no longer applies)
NEW = """\
ruleset: support
version: "2"
default_locale: en
lexicons:
  greeting:
    phrases:
      en: [hello, hi]
rules:
  - id: reply.email-first-reply
    title: E-mails get a personal reply within 4 hours
    severity: major
    when: interaction.channel == "email"
    violated_if: (first_reply_time ?? unanswered_for) > 4h
    message: "Waited {first_reply_time ?? unanswered_for} for a first reply (target 4h)."
  - id: reply.chat-first-reply
    title: Chats get a personal reply within 2 minutes
    severity: major
    when: interaction.channel == "chat"
    violated_if: (first_reply_time ?? unanswered_for) > 2m
    message: "The chat waited {first_reply_time ?? unanswered_for} (target 2m)."
  - id: protocol.greeting
    title: The first personal reply greets the customer
    severity: minor
    when: has_personal_reply
    violated_if: not (first_reply.text mentions greeting)
    message: "The first reply has no greeting."
  - id: privacy.card-number
    title: No card number in a message
    severity: critical
    scope: event
    when: event.type == "message" and event.author.role == "agent"
    violated_if: event.has_card_number
    message: "Message {event.index} contains a card number."
"""

CARD = "4111 1111 1111 1111"  # a network's published test number (Luhn-valid)


def interaction(id_: str, channel: str, *events: tuple[str, float, str], solved_after: float | None = None,
                start: dt.datetime = DAY) -> dict[str, Any]:
    """An interaction created at ``start``; events are (role, minutes after start, text)."""
    record: dict[str, Any] = {
        "id": id_,
        "channel": channel,
        "created_at": start.isoformat(),
        "language": "en",
        "events": [
            {"at": (start + dt.timedelta(minutes=m)).isoformat(), "type": "message", "author": {"role": role},
             "public": True, "text": text}
            for role, m, text in events
        ],
    }
    if solved_after is not None:
        record["solved_at"] = (start + dt.timedelta(minutes=solved_after)).isoformat()
    return record


CORPUS: list[dict[str, Any]] = [
    # 1: replied in 2h with greeting and closing: nothing changes (the closing rule is simply gone)
    interaction("E-1", "email", ("customer", 0, "Where is my parcel?"),
                ("agent", 120, "Hello Ann, it ships today. Let me know if you need anything."), solved_after=130),
    # 2: 6h: now too late; its missing closing is no longer checked
    interaction("E-2", "email", ("customer", 0, "Refund please"), ("agent", 360, "Hello Bob, refunded."), solved_after=370),
    # 3: 30h: late in both, the message names the new target
    interaction("E-3", "email", ("customer", 0, "Hello?"), ("agent", 30 * 60, "Hi Cy, sorry for the wait."),
                start=DAY - dt.timedelta(days=1)),
    # 4: 5h and no greeting: newly late, greeting message changed
    interaction("E-4", "email", ("customer", 0, "Status?"), ("agent", 300, "Your order shipped.")),
    # 5: chat answered after 5 minutes: the new chat rule fires
    interaction("C-1", "chat", ("customer", 0, "Anyone there?"), ("agent", 5, "Hi Dee, checking.")),
    # 6: chat answered in a minute without a greeting
    interaction("C-2", "chat", ("customer", 0, "Help"), ("agent", 1, "Let me check.")),
    # 7: only the customer wrote a card number: no longer a violation (agents' messages only)
    interaction("E-5", "email", ("customer", 0, f"My card is {CARD}"), ("agent", 60, "Hello Eve, never send card numbers.")),
    # 8: customer and agent wrote it: one violation instead of two
    interaction("E-6", "email", ("customer", 0, f"Card {CARD}"), ("agent", 60, f"Hello Fay, you wrote {CARD}.")),
    # 9: social post with a card number, no reply: the narrowed card rule does not apply
    interaction("S-1", "social", ("customer", 0, "Here is my card 5500-0000-0000-0004")),
    # 10: rejected: no time zone
    {"id": "BAD-1", "channel": "email", "created_at": "2026-03-02T08:00:00",
     "events": [{"at": "2026-03-02T08:00:00", "type": "message", "author": {"role": "customer"}, "text": "Hi"}]},
    # 11: social post without card, no reply: the card rule was met, now it does not apply
    interaction("S-2", "social", ("customer", 0, "Is the shop open?")),
    # 12: solved without offering more help: only the removed closing rule was violated
    interaction("E-7", "email", ("customer", 0, "Invoice?"), ("agent", 60, "Hello Gus, done."), solved_after=70),
]


@pytest.fixture
def rulesets(backend: str):
    old = servicerules.load(OLD, backend=backend)
    new = servicerules.load(NEW, backend=backend)
    yield old, new
    old.close()
    new.close()


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path, Path]:
    old, new, corpus = tmp_path / "old.yaml", tmp_path / "new.yaml", tmp_path / "corpus.jsonl"
    old.write_text(OLD, encoding="utf-8")
    new.write_text(NEW, encoding="utf-8")
    corpus.write_text("".join(json.dumps(record) + "\n" for record in CORPUS), encoding="utf-8")
    return old, new, corpus


def groups(diff: PolicyDiff, rule_id: str) -> dict[str, list[str]]:
    """The non-empty groups of a rule as {kind: [interaction ids of the examples]}."""
    return {kind: [e.interaction_id for e in group.examples]
            for kind, group in diff.rule(rule_id).groups.items() if group.count}


def counts(diff: PolicyDiff, rule_id: str) -> dict[str, int]:
    return {kind: group.count for kind, group in diff.rule(rule_id).groups.items() if group.count}


# -- the library ---------------------------------------------------------------------------------------------


def test_diff_counts_and_examples_per_rule(rulesets):
    diff = diff_rulesets(*rulesets, CORPUS, as_of=AS_OF)
    assert (diff.read, diff.evaluated, diff.rejected, diff.changed_interactions) == (12, 11, 1, 10)
    assert diff.changed
    # new-ruleset order, then the removed rule
    assert [(r.rule_id, r.change) for r in diff.rules] == [
        ("reply.email-first-reply", "changed"),
        ("reply.chat-first-reply", "added"),
        ("protocol.greeting", "changed"),
        ("privacy.card-number", "changed"),
        ("protocol.closing", "removed"),
    ]

    email = diff.rule("reply.email-first-reply")
    assert email.attributes == {"title": ("E-mails get a personal reply within 24 hours", "E-mails get a personal reply within 4 hours")}
    assert email.before is not None and email.before.to_dict() == {"violated": 1, "compliant": 6, "not_applicable": 4}
    assert email.after is not None and email.after.to_dict() == {"violated": 3, "compliant": 4, "not_applicable": 4}
    assert groups(diff, "reply.email-first-reply") == {"newly_violated": ["E-2", "E-4"], "violation_changed": ["E-3"]}
    e2, e4 = email.groups["newly_violated"].examples
    assert e2.source == "#2"
    assert e2.before is not None and (e2.before.status, e2.before.violations) == ("compliant", ())
    assert e2.after is not None and [v.message for v in e2.after.violations] == ["Waited 6h for a first reply (target 4h)."]
    assert e4.after is not None and [v.message for v in e4.after.violations] == ["Waited 5h for a first reply (target 4h)."]
    (e3,) = email.groups["violation_changed"].examples
    assert e3.before is not None and e3.after is not None
    assert [v.message for v in e3.before.violations] == ["Waited 1d 6h for a first reply (target 24h)."]
    assert [v.message for v in e3.after.violations] == ["Waited 1d 6h for a first reply (target 4h)."]

    chat = diff.rule("reply.chat-first-reply")
    assert chat.before is None and chat.after is not None
    assert chat.after.to_dict() == {"violated": 1, "compliant": 1, "not_applicable": 9}
    assert groups(diff, "reply.chat-first-reply") == {"newly_violated": ["C-1"]}
    (c1,) = chat.groups["newly_violated"].examples
    assert c1.before is None and c1.after is not None
    assert [v.message for v in c1.after.violations] == ["The chat waited 5m (target 2m)."]

    greeting = diff.rule("protocol.greeting")
    assert greeting.attributes == {}
    assert greeting.before == greeting.after
    assert greeting.after is not None and greeting.after.to_dict() == {"violated": 2, "compliant": 7, "not_applicable": 2}
    assert groups(diff, "protocol.greeting") == {"violation_changed": ["E-4", "C-2"]}
    changed = greeting.groups["violation_changed"].examples[0]
    assert changed.before is not None and changed.after is not None
    assert [v.message for v in changed.before.violations] == ["The first reply did not greet the customer."]
    assert [v.message for v in changed.after.violations] == ["The first reply has no greeting."]

    card = diff.rule("privacy.card-number")
    assert card.before is not None and card.before.to_dict() == {"violated": 3, "compliant": 8, "not_applicable": 0}
    assert card.after is not None and card.after.to_dict() == {"violated": 1, "compliant": 8, "not_applicable": 2}
    assert groups(diff, "privacy.card-number") == {
        "now_compliant": ["E-5"],
        "now_not_applicable": ["S-1"],
        "violation_changed": ["E-6"],
        "no_longer_applicable": ["S-2"],
    }
    (e5,) = card.groups["now_compliant"].examples
    assert e5.before is not None and [v.message for v in e5.before.violations] == ["Message 0 contains a card number."]
    (e6,) = card.groups["violation_changed"].examples
    assert e6.before is not None and e6.after is not None
    assert [v.event_index for v in e6.before.violations] == [0, 1]
    assert [v.event_index for v in e6.after.violations] == [1]

    closing = diff.rule("protocol.closing")
    assert closing.after is None and closing.before is not None
    assert closing.before.to_dict() == {"violated": 2, "compliant": 1, "not_applicable": 8}
    assert groups(diff, "protocol.closing") == {"no_longer_checked": ["E-2", "E-7"]}
    (first, second) = closing.groups["no_longer_checked"].examples
    assert first.after is None and first.before is not None
    assert [v.message for v in first.before.violations] == ["The last reply offered no further help."]

    assert diff.became_non_compliant.count == 1
    assert [(f.interaction_id, f.violated_before, f.violated_after) for f in diff.became_non_compliant.examples] == [
        ("C-1", (), ("reply.chat-first-reply",)),
    ]
    assert diff.became_compliant.count == 3
    assert [(f.interaction_id, f.source, f.violated_before, f.violated_after) for f in diff.became_compliant.examples] == [
        ("E-5", "#7", ("privacy.card-number",), ()),
        ("S-1", "#9", ("privacy.card-number",), ()),
        ("E-7", "#12", ("protocol.closing",), ()),
    ]

    assert [(r.source, r.code) for r in diff.rejections] == [("#10", "SR311")]
    assert "time zone" in diff.rejections[0].reason


def test_examples_are_capped_but_counts_are_not(rulesets):
    diff = diff_rulesets(*rulesets, CORPUS, as_of=AS_OF, examples=1)
    assert counts(diff, "reply.email-first-reply") == {"newly_violated": 2, "violation_changed": 1}
    assert groups(diff, "reply.email-first-reply") == {"newly_violated": ["E-2"], "violation_changed": ["E-3"]}
    assert groups(diff, "protocol.closing") == {"no_longer_checked": ["E-2"]}
    assert diff.became_compliant.count == 3 and [f.interaction_id for f in diff.became_compliant.examples] == ["E-5"]
    none = diff_rulesets(*rulesets, CORPUS, as_of=AS_OF, examples=0)
    assert none.rule("protocol.closing").groups["no_longer_checked"].count == 2
    assert all(not g.examples for r in none.rules for g in r.groups.values())


def test_reverse_diff_mirrors_the_groups(rulesets):
    old, new = rulesets
    diff = diff_rulesets(new, old, CORPUS, as_of=AS_OF)
    assert [(r.rule_id, r.change) for r in diff.rules] == [
        ("reply.email-first-reply", "changed"),
        ("protocol.greeting", "changed"),
        ("protocol.closing", "added"),
        ("privacy.card-number", "changed"),
        ("reply.chat-first-reply", "removed"),
    ]
    assert groups(diff, "reply.email-first-reply") == {"now_compliant": ["E-2", "E-4"], "violation_changed": ["E-3"]}
    assert groups(diff, "privacy.card-number") == {
        "newly_violated": ["E-5", "S-1"],
        "violation_changed": ["E-6"],
        "now_applicable": ["S-2"],
    }
    assert groups(diff, "reply.chat-first-reply") == {"no_longer_checked": ["C-1"]}
    assert groups(diff, "protocol.closing") == {"newly_violated": ["E-2", "E-7"]}
    assert (diff.became_compliant.count, diff.became_non_compliant.count) == (1, 3)


def test_identical_rulesets_change_nothing(backend):
    old = servicerules.load(OLD, backend=backend)
    same = servicerules.load(OLD, backend=backend)
    try:
        diff = diff_rulesets(old, same, CORPUS, as_of=AS_OF)
    finally:
        old.close()
        same.close()
    assert not diff.changed
    assert diff.changed_interactions == 0
    assert {r.change for r in diff.rules} == {"unchanged"}
    assert diff.became_compliant.count == diff.became_non_compliant.count == 0
    assert (diff.read, diff.evaluated, diff.rejected) == (12, 11, 1)


def test_default_as_of_is_each_interactions_last_timestamp(rulesets):
    # every e-mail was answered, so its first-reply time does not depend on as_of
    diff = diff_rulesets(*rulesets, CORPUS)
    assert diff.as_of is None
    assert counts(diff, "reply.email-first-reply") == {"newly_violated": 2, "violation_changed": 1}


def test_streams_many_interactions_across_batches(rulesets):
    def generated():
        for n in range(600):
            yield interaction(f"E-{n:03}", "email", ("customer", 0, "Hello?"), ("agent", 300 if n % 3 == 0 else 60, "Hello!"))

    diff = diff_rulesets(*rulesets, generated(), as_of=AS_OF, examples=3, batch_size=64)
    assert (diff.read, diff.evaluated, diff.rejected) == (600, 600, 0)
    assert counts(diff, "reply.email-first-reply") == {"newly_violated": 200}
    assert groups(diff, "reply.email-first-reply") == {"newly_violated": ["E-000", "E-003", "E-006"]}


def test_raw_records_carry_their_file_position(rulesets, files):
    from servicerules.batch.readers import read_records

    _, _, corpus = files
    with corpus.open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    diff = diff_rulesets(*rulesets, read_records(str(corpus)), as_of=AS_OF)
    assert (diff.read, diff.evaluated, diff.rejected) == (13, 11, 2)
    assert [(r.source, r.code) for r in diff.rejections] == [(f"{corpus}:10", "SR311"), (f"{corpus}:13", "SR301")]
    assert diff.rule("reply.email-first-reply").groups["newly_violated"].examples[0].source == f"{corpus}:2"


def test_naive_as_of_and_negative_examples_are_refused(rulesets):
    with pytest.raises(ValueError, match="timezone-aware"):
        diff_rulesets(*rulesets, [], as_of=dt.datetime(2026, 3, 2))
    with pytest.raises(TypeError, match="as_of must be a timezone-aware datetime, not str"):  # was AttributeError 'tzinfo'
        diff_rulesets(*rulesets, [], as_of="2026-03-02T18:00:00Z")
    with pytest.raises(ValueError, match="examples"):
        diff_rulesets(*rulesets, [], examples=-1)


def test_diff_files_and_json_schema(files):
    old, new, corpus = files
    diff = diff_files(old, new, [str(corpus)], as_of=AS_OF, examples=2, backend="reference")
    data = json.loads(json.dumps(diff.to_dict()))
    assert list(data) == ["schema_version", "changed", "old", "new", "inputs", "as_of", "examples_per_group", "totals",
                          "compliance_flips", "rules", "rejections"]
    assert data["schema_version"] == "1" and data["changed"] is True
    assert data["old"] == {"name": "support", "version": "1", "hash": data["old"]["hash"], "file": str(old), "backend": "reference"}
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", data["old"]["hash"]) and data["old"]["hash"] != data["new"]["hash"]
    assert data["inputs"] == [str(corpus)]
    assert data["as_of"] == "2026-03-02T18:00:00+00:00"
    assert data["examples_per_group"] == 2
    assert data["totals"] == {"read": 12, "evaluated": 11, "rejected": 1, "changed_interactions": 10, "compliance_flipped": 4}
    assert list(data["compliance_flips"]) == ["became_non_compliant", "became_compliant"]
    assert data["compliance_flips"]["became_compliant"] == {
        "count": 3,
        "examples": [
            {"interaction_id": "E-5", "source": f"{corpus}:7", "violated_before": ["privacy.card-number"], "violated_after": []},
            {"interaction_id": "S-1", "source": f"{corpus}:9", "violated_before": ["privacy.card-number"], "violated_after": []},
        ],
    }
    card = data["rules"][3]
    assert list(card) == ["rule_id", "title", "severity", "change", "attributes", "before", "after", "groups"]
    assert list(card["groups"]) == list(CHANGE_KINDS)
    assert card["groups"]["violation_changed"] == {
        "count": 1,
        "examples": [{
            "interaction_id": "E-6",
            "source": f"{corpus}:8",
            "before": {"status": "violated", "violations": [
                {"event_index": 0, "message": "Message 0 contains a card number."},
                {"event_index": 1, "message": "Message 1 contains a card number."},
            ]},
            "after": {"status": "violated", "violations": [{"event_index": 1, "message": "Message 1 contains a card number."}]},
        }],
    }
    added = data["rules"][1]
    assert (added["rule_id"], added["change"], added["before"], added["attributes"]) == ("reply.chat-first-reply", "added", None, {})
    assert added["groups"]["newly_violated"]["examples"][0]["before"] is None
    email = data["rules"][0]
    assert email["attributes"] == {"title": {"old": "E-mails get a personal reply within 24 hours",
                                             "new": "E-mails get a personal reply within 4 hours"}}
    assert data["rules"][4]["change"] == "removed" and data["rules"][4]["after"] is None
    assert data["rejections"] == [{"source": f"{corpus}:10", "code": "SR311", "reason": data["rejections"][0]["reason"]}]


# -- the command ---------------------------------------------------------------------------------------------


def command(*argv: str) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="servicerules diff")
    add_arguments(parser)
    out, err = StringIO(), StringIO()
    code = run_command(parser.parse_args(list(argv)), out, err)
    return code, out.getvalue(), err.getvalue()


def test_command_text_report(files):
    old, new, corpus = files
    code, out, err = command(str(old), str(new), str(corpus), "--as-of", "2026-03-02T18:00:00Z", "--examples", "2")
    assert (code, err) == (1, "")
    old_hash = servicerules.load(OLD, backend="reference").ref.hash[7:19]
    new_hash = servicerules.load(NEW, backend="reference").ref.hash[7:19]
    assert out.splitlines() == [
        "Policy diff",
        f"  old: support 1 ({old}) sha256:{old_hash}",
        f"  new: support 2 ({new}) sha256:{new_hash}",
        "  as of: 2026-03-02T18:00:00+00:00",
        "Interactions: 12 read, 11 evaluated, 1 rejected; 10 changed",
        "Overall compliance flipped for 4 interactions: 1 now non-compliant, 3 now compliant",
        "  now non-compliant: 1",
        f"    C-1 ({corpus}:5): violates reply.chat-first-reply",
        "  now compliant: 3",
        f"    E-5 ({corpus}:7): no longer violates privacy.card-number",
        f"    S-1 ({corpus}:9): no longer violates privacy.card-number",
        "    … and 1 more",
        "",
        "reply.email-first-reply (changed, major): E-mails get a personal reply within 4 hours",
        "  title: E-mails get a personal reply within 24 hours → E-mails get a personal reply within 4 hours",
        "  interactions violated 1 → 3, compliant 6 → 4, not applicable 4 → 4",
        "  newly violated: 2",
        f"    E-2 ({corpus}:2) [was compliant]: Waited 6h for a first reply (target 4h).",
        f"    E-4 ({corpus}:4) [was compliant]: Waited 5h for a first reply (target 4h).",
        "  violation changed: 1",
        f"    E-3 ({corpus}:3)",
        "      before: Waited 1d 6h for a first reply (target 24h). [event 1]",
        "      after:  Waited 1d 6h for a first reply (target 4h). [event 1]",
        "",
        "reply.chat-first-reply (added, major): Chats get a personal reply within 2 minutes",
        "  interactions violated 1, compliant 1, not applicable 9 (new rule)",
        "  newly violated: 1",
        f"    C-1 ({corpus}:5): The chat waited 5m (target 2m).",
        "",
        "protocol.greeting (changed, minor): The first personal reply greets the customer",
        "  interactions violated 2 → 2, compliant 7 → 7, not applicable 2 → 2",
        "  violation changed: 2",
        f"    E-4 ({corpus}:4)",
        "      before: The first reply did not greet the customer. [event 1]",
        "      after:  The first reply has no greeting. [event 1]",
        f"    C-2 ({corpus}:6)",
        "      before: The first reply did not greet the customer. [event 1]",
        "      after:  The first reply has no greeting. [event 1]",
        "",
        "privacy.card-number (changed, critical): No card number in a message",
        "  interactions violated 3 → 1, compliant 8 → 8, not applicable 0 → 2",
        "  now compliant: 1",
        f"    E-5 ({corpus}:7): was: Message 0 contains a card number.",
        "  now not applicable: 1",
        f"    S-1 ({corpus}:9): was: Message 0 contains a card number.",
        "  violation changed: 1",
        f"    E-6 ({corpus}:8)",
        "      before: Message 0 contains a card number. [event 0]; Message 1 contains a card number. [event 1]",
        "      after:  Message 1 contains a card number. [event 1]",
        "  no longer applicable (was compliant): 1",
        f"    S-2 ({corpus}:11)",
        "",
        "protocol.closing (removed, info): A solved conversation ends by offering further help",
        "  interactions violated 2, compliant 1, not applicable 8 (before its removal)",
        "  no longer checked (rule removed): 2",
        f"    E-2 ({corpus}:2): was: The last reply offered no further help.",
        f"    E-7 ({corpus}:12): was: The last reply offered no further help.",
        "",
        "Rejected records (1):",
        f"  {corpus}:10: SR311 " + out.splitlines()[-1].split(" SR311 ", 1)[1],
    ]
    assert "time zone" in out.splitlines()[-1]


def test_command_identical_rulesets_exit_0(files):
    old, _new, corpus = files
    code, out, err = command(str(old), str(old), str(corpus), "--as-of", "2026-03-02T18:00:00Z")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[4:8] == [
        "Interactions: 12 read, 11 evaluated, 1 rejected; 0 changed",
        "Overall compliance flipped for 0 interactions: 0 now non-compliant, 0 now compliant",
        "",
        "No changes: every rule has the same outcome for every evaluated interaction (4 rules).",
    ]
    assert lines[-2:] == ["Rejected records (1):", lines[-1]] and lines[-1].startswith(f"  {corpus}:10: SR311 ")


def test_command_json_to_a_file(files, tmp_path):
    old, new, corpus = files
    report = tmp_path / "diff.json"
    code, out, err = command(str(old), str(new), str(corpus), "--as-of", "2026-03-02T18:00:00Z", "--format", "json",
                             "-o", str(report), "--backend", "reference")
    assert (code, out, err) == (1, "", "")
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["totals"]["changed_interactions"] == 10
    assert data["examples_per_group"] == 5
    assert data["new"]["backend"] == "reference"


def test_command_json_when_nothing_changed(files):
    old, _new, corpus = files
    code, out, _ = command(str(old), str(old), str(corpus), "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data["changed"] is False and data["as_of"] is None
    assert all(rule["change"] == "unchanged" for rule in data["rules"])


def test_command_bad_rulesets_print_every_diagnostic_and_exit_2(files, tmp_path):
    _old, _new, corpus = files
    broken_old = tmp_path / "broken-old.yaml"
    broken_old.write_text(OLD.replace("violated_if: event.has_card_number", "violated_if: event.has_card_numbr"), encoding="utf-8")
    broken_new = tmp_path / "broken-new.yaml"
    broken_new.write_text(NEW.replace("severity: minor", "severity: small"), encoding="utf-8")
    code, out, err = command(str(broken_old), str(broken_new), str(corpus))
    assert (code, out) == (2, "")
    # both files' problems, sorted by file and position, with source line, caret and hint
    assert err.splitlines() == [
        f"{broken_new}:23:15: SR112 invalid value 'small' for 'severity': input should be 'info', 'minor', 'major' or 'critical'",
        "        severity: small",
        "                  ^",
        f"{broken_old}:35:18: SR201 unknown fact 'event.has_card_numbr'",
        "        violated_if: event.has_card_numbr",
        "                     ^",
        "    hint: did you mean 'event.has_card_number'?",
    ]


def test_command_missing_inputs_exit_2(files, tmp_path):
    old, new, _corpus = files
    code, out, err = command(str(old), str(new), str(tmp_path / "nothere.jsonl"))
    assert (code, out) == (2, "")
    assert err == f"servicerules: error: input file not found: {str(tmp_path / 'nothere.jsonl')!r}\n"
    code, _, err = command(str(old), str(tmp_path / "missing.yaml"), str(_corpus))
    assert (code, err) == (2, f"servicerules: error: cannot read the ruleset {str(tmp_path / 'missing.yaml')!r}: No such file or directory\n")
    code, _, err = command(str(tmp_path), str(new), str(_corpus))
    assert (code, err) == (2, f"servicerules: error: cannot read the ruleset {str(tmp_path)!r}: Is a directory\n")


def test_command_reads_a_help_desk_export_with_a_mapping_as_it_reads_the_mapped_file(files, tmp_path):
    from servicerules.cli import run
    from tests.cli.test_map import _export

    old, new, _corpus = files
    export = _export(tmp_path / "tweets.csv")  # thread 10 holds a customer's card number: the narrowed rule passes it
    mapped = tmp_path / "tweets.jsonl"
    assert run(["map", "twcs", str(export), "-o", str(mapped), "-q"], StringIO(), StringIO()) == 1  # two threads rejected
    code, out, err = command(str(old), str(new), str(export), "--mapping", "twcs", "--format", "json")
    assert (code, err) == (1, "")
    of_export = json.loads(out)
    code, out, _ = command(str(old), str(new), str(mapped), "--format", "json")
    of_mapped = json.loads(out)
    totals = of_export["totals"]
    assert (totals["read"], totals["evaluated"], totals["rejected"]) == (4, 2, 2)
    assert [r["code"] for r in of_export["rejections"]] == ["SR310", "SR310"]
    card = next(rule for rule in of_export["rules"] if rule["rule_id"] == "privacy.card-number")
    assert card["groups"]["now_compliant"]["count"] == 1  # the agents' messages hold no card number
    # the mapped file holds the export's interactions, not its rejected records
    assert of_mapped["totals"] == {**totals, "read": 2, "rejected": 0} and of_mapped["rejections"] == []

    def unsourced(value: Any) -> Any:  # an example's source is its line in the file read: the export's, or the mapped file's
        if isinstance(value, dict):
            return {k: unsourced(v) for k, v in value.items() if k != "source"}
        return [unsourced(v) for v in value] if isinstance(value, list) else value

    assert unsourced({k: v for k, v in of_export.items() if k not in ("inputs", "totals", "rejections")}) == unsourced(
        {k: v for k, v in of_mapped.items() if k not in ("inputs", "totals", "rejections")}
    )
    code, _, err = command(str(old), str(new), str(export), "--join", "tickets=t.csv")
    assert (code, err) == (2, "servicerules: error: --join needs --mapping\n")


def test_command_arguments():
    parser = argparse.ArgumentParser(prog="servicerules diff", exit_on_error=False)
    add_arguments(parser)
    args = parser.parse_args(["a.yaml", "b.yaml", "x.jsonl", "y/"])
    assert (args.old, args.new, args.corpus, args.as_of, args.format, args.examples, args.output, args.backend) == (
        "a.yaml", "b.yaml", ["x.jsonl", "y/"], None, "text", 5, None, "auto")
    with pytest.raises(argparse.ArgumentError, match="no time zone"):
        parser.parse_args(["a", "b", "c", "--as-of", "2026-03-02T18:00:00"])
    with pytest.raises(argparse.ArgumentError, match="expected 0 or more"):
        parser.parse_args(["a", "b", "c", "--examples", "-1"])


# -- the how-to shows real output --------------------------------------------------------------------------

HOW_TO = ROOT / "docs" / "how-to" / "test-a-policy-change.md"


def _fenced_after(text: str, marker: str, lang: str) -> str:
    """The body of the first ``lang`` fence after ``marker``."""
    start = text.index(marker)
    match = re.compile(rf"^```{lang}\n(.*?)^```$", re.DOTALL | re.MULTILINE).search(text, start)
    assert match is not None, f"no {lang} block after {marker!r}"
    return match.group(1)


def _apply_patch(source: str, patch: str) -> str:
    """Each run of ``-`` lines is replaced by the ``+`` lines after it; other lines are context and end a run
    (the rule tests/test_docs.py applies to ``doc-test: patch``)."""
    runs: list[tuple[list[str], list[str]]] = []
    removed: list[str] = []
    added: list[str] = []
    for line in patch.splitlines() + [""]:
        if line.startswith("-") and not added:
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        else:
            if removed or added:
                runs.append((removed, added))
            removed, added = ([line[1:]] if line.startswith("-") else []), []
    for old, new in runs:
        old_text = "\n".join(old) + "\n"
        assert source.count(old_text) == 1, old
        source = source.replace(old_text, "\n".join(new) + "\n" if new else "")
    return source


@pytest.mark.skipif(not HOW_TO.exists(), reason="how-to not written")
def test_how_to_shows_the_real_diff_output(tmp_path, monkeypatch):
    text = HOW_TO.read_text(encoding="utf-8")
    patch = _fenced_after(text, "<!-- doc-test: patch rulesets/starter.yaml my-starter.yaml -->", "diff")
    (tmp_path / "my-starter.yaml").write_text(
        _apply_patch((ROOT / "rulesets" / "starter.yaml").read_text(encoding="utf-8"), patch), encoding="utf-8")
    for name in ("rulesets", "examples"):
        (tmp_path / name).symlink_to(ROOT / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    sessions = [block for block in re.findall(r"^```console\n(.*?)^```$", text, re.DOTALL | re.MULTILINE)
                if "$ servicerules diff " in block]
    assert sessions, "the how-to shows no 'servicerules diff' session"
    for session in sessions:
        commands = re.split(r"^\$ ", session, flags=re.MULTILINE)[1:]
        last: int | None = None
        for chunk in commands:
            command_line, _, expected = chunk.partition("\n")
            if command_line == "echo $?":
                assert expected.strip() == str(last)
                continue
            argv = command_line.split()
            assert argv[:2] == ["servicerules", "diff"], command_line
            last, out, err = command(*argv[2:])
            assert out + err == expected, f"'{command_line}' prints:\n{out}{err}"
