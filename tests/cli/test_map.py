"""``servicerules map``: a help-desk export mapped onto interactions, as ``check --mapping`` reads it."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from servicerules.batch.mapping import load_mapping, read_mapped
from servicerules.batch.runner import map_files
from servicerules.model.interaction import Interaction
from tests.cli.test_cli import ROOT, call

HEADER = ["tweet_id", "author_id", "inbound", "created_at", "text", "response_tweet_id", "in_response_to_tweet_id"]
ROWS = [
    ["11", "AcmeHelp", "False", "Mon Mar 02 09:20:00 +0000 2026", "@c1 Hi! Please DM us your order number.", "12", "10"],
    ["10", "c1", "True", "Mon Mar 02 09:00:00 +0000 2026", "@AcmeHelp my parcel is late", "11", ""],
    ["12", "c1", "True", "Mon Mar 02 09:25:00 +0000 2026", "@AcmeHelp done, card 4111 1111 1111 1111", "13", "11"],
    ["13", "AcmeHelp", "False", "Mon Mar 02 11:00:00 +0000 2026", "@c1 Thanks, it ships today.", "", "12"],
    ["31", "AcmeHelp", "False", "Mon Mar 02 10:00:00 +0000 2026", "@c3 Sorry to hear that.", "", "30"],  # 30 is not in the export
    ["40", "c4", "maybe", "Mon Mar 02 10:00:00 +0000 2026", "@AcmeHelp hello?", "", ""],
    ["50", "c5", "True", "Tue Mar 03 08:00:00 +0000 2026", "@AcmeHelp where is my refund?", "51", ""],
    ["51", "AcmeHelp", "False", "Tue Mar 03 08:30:00 +0000 2026", "@c5 Sorry, refunds take 5 days.", "", "50"],
]


def _export(path: Path, rows: list[list[str]] = ROWS) -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def test_map_writes_the_interactions_check_would_check_and_rejects_the_same_records(tmp_path):
    export = _export(tmp_path / "tweets.csv")
    out, rejects = tmp_path / "interactions.jsonl", tmp_path / "rejects.jsonl"
    code, stdout, stderr = call("map", "twcs", str(export), "-o", str(out), "--rejects", str(rejects))
    assert (code, stdout) == (1, "")  # rejected records: status 1, as check gives
    assert stderr.startswith("twcs: 4 read, 2 interactions written, 2 rejected")
    assert f"{export}:6: SR310" in stderr and f"{export}:7: SR310 column 'inbound': 'maybe'" in stderr
    written = [Interaction.parse(line) for line in out.read_text(encoding="utf-8").splitlines()]
    # the same interactions as the mapping's records, validated by hand
    expected = [Interaction.parse(record.data) for record in read_mapped(load_mapping("twcs"), export) if record.ok]
    assert written == expected and [i.id for i in written] == ["10", "50"]
    assert [(r["line"], r["code"]) for r in map(json.loads, rejects.read_text(encoding="utf-8").splitlines())] == [
        (7, "SR310"), (6, "SR310"),  # as the mapping finds them: the bad value as read, the thread at the end
    ]

    # checking the written file finds what checking the export finds
    starter = str(ROOT / "rulesets" / "starter.yaml")
    code_of_export, _, _ = call("check", starter, str(export), "-m", "twcs", "-q", "--fail-on", "never",
                                "--summary-json", str(tmp_path / "export.json"), "-o", str(tmp_path / "v1.jsonl"))
    code_of_mapped, _, _ = call("check", starter, str(out), "-q", "--fail-on", "never",
                                "--summary-json", str(tmp_path / "mapped.json"), "-o", str(tmp_path / "v2.jsonl"))
    assert (code_of_export, code_of_mapped) == (1, 0)  # the export's rejected records, and none in the mapped file
    by_export, by_mapped = (json.loads((tmp_path / name).read_text(encoding="utf-8")) for name in ("export.json", "mapped.json"))
    assert by_mapped["evaluated"] == by_export["evaluated"] == 2
    assert by_mapped["rules"] == by_export["rules"] and by_mapped["violations"] == by_export["violations"] > 0

    def violations(name: str) -> list[tuple[str, str, str]]:
        rows = map(json.loads, (tmp_path / name).read_text(encoding="utf-8").splitlines())
        return [(v["interaction_id"], v["rule_id"], v["message"]) for v in rows]

    assert violations("v1.jsonl") == violations("v2.jsonl")


def test_map_writes_to_standard_output_and_its_summary_to_standard_error(tmp_path):
    export = _export(tmp_path / "tweets.csv", ROWS[6:])
    code, stdout, stderr = call("map", "twcs", str(export))
    assert code == 0
    (line,) = stdout.splitlines()
    assert json.loads(line)["id"] == "50" and stderr.startswith("twcs: 1 read, 1 interaction written, 0 rejected")
    assert call("map", "twcs", str(export), "-o", "-", "-q") == (0, stdout, "")  # '-' is standard output too


def test_map_refuses_an_output_on_its_input_and_an_unknown_mapping_before_writing(tmp_path):
    export = _export(tmp_path / "tweets.csv")
    before = export.read_bytes()
    code, _, stderr = call("map", "twcs", str(export), "-o", str(export))
    assert (code, stderr) == (2, f"servicerules map: error: --output {export} is also an input ({export}): writing it would "
                                 "destroy what the run is about to read; write the outputs elsewhere\n")
    assert export.read_bytes() == before
    code, _, stderr = call("map", "nope", str(export), "-o", str(tmp_path / "out.jsonl"))
    assert code == 2 and "mapping file not found: 'nope'" in stderr and not (tmp_path / "out.jsonl").exists()
    code, _, stderr = call("map", "", str(export))
    assert (code, stderr) == (2, "servicerules map: error: MAPPING is empty; give a mapping file or a shipped mapping's name\n")
    code, _, stderr = call("map", "twcs", str(export), "--join", "tickets=t.csv")
    assert (code, stderr) == (2, "servicerules map: error: the mapping has no join named tickets (its joins: none)\n")


def test_map_reads_json_of_one_object_per_line_and_of_one_object_with_input_format_json(tmp_path, monkeypatch):
    import sys
    from types import SimpleNamespace

    mapping = tmp_path / "tickets.yaml"
    mapping.write_text(
        "layout: per_interaction\ninput: {format: json}\nfields:\n  id: {column: ticket.id, type: string}\n"
        "  channel: {const: email}\n  created_at: {column: opened, format: epoch}\n",
        encoding="utf-8",
    )
    export = tmp_path / "tickets.dat"  # the mapping's format, not the name, says JSON
    export.write_text(
        '{"ticket": {"id": 7}, "opened": 1772442900}\n{"ticket": {"id": 8}, "opened": }\n'
        '{"ticket": {"id": 9}, "opened": 1772442960}\n',
        encoding="utf-8",
    )
    code, stdout, stderr = call("map", str(mapping), str(export))
    assert code == 1 and [json.loads(line)["id"] for line in stdout.splitlines()] == ["7", "9"]
    assert f"{export}:2: SR301 malformed JSON: Expecting value at column 33" in stderr

    pretty = json.dumps({"ticket": {"id": 10}, "opened": 1772442900}, indent=2).encode()
    monkeypatch.setattr(sys, "stdin", SimpleNamespace(buffer=io.BytesIO(pretty)))
    code, stdout, stderr = call("map", str(mapping), "-", "-q")
    assert (code, [json.loads(line)["id"] for line in stdout.splitlines()], stderr) == (0, ["10"], "")


def test_map_files_passes_each_interaction_on_in_input_order(tmp_path):
    export = _export(tmp_path / "tweets.csv")
    seen: list[str] = []
    summary = map_files(load_mapping("twcs"), [export], lambda interaction: seen.append(interaction.id))
    assert seen == ["10", "50"]
    assert (summary.read, summary.evaluated, summary.rejected) == (4, 2, 2)
    assert [r.code for r in summary.rejections] == ["SR310", "SR310"]


def test_sigterm_stops_map_with_every_line_written_whole(tmp_path):
    # a cancelled job: the run closes its outputs, so that the last line is whole and nothing mapped is lost in a buffer
    import signal
    import subprocess
    import sys
    import time

    from tests.batch.test_parallel import _unread

    header = ("vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\tq_start\tq_exit\tq_time\t"
              "outcome\tser_start\tser_exit\tser_time\tserver\r\n")
    rows = "".join(
        f"AA01\t{n}\t0\t0\tPS\t260302\t9:00:00\t9:00:08\t8\t9:00:08\t9:00:20\t12\tAGENT\t9:00:20\t9:05:00\t280\tDANA\r\n"
        for n in range(1, 12_001)
    )
    out = tmp_path / "calls.jsonl"
    process = subprocess.Popen([sys.executable, "-m", "servicerules", "map", "bank-calls", "-", "-o", str(out), "-q"],
                               stdin=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert process.stdin is not None
    data = (header + rows).encode()
    assert len(data) > 1 << 20  # far more than a pipe holds: the write returns once the run has read most of it
    process.stdin.write(data)
    process.stdin.flush()
    deadline = time.monotonic() + 120  # a bound on a hang only
    while _unread(process.stdin.fileno()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _unread(process.stdin.fileno()) == 0 and process.poll() is None  # the input stalls: the run waits for more
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGTERM and b"Traceback" not in err, err
    text = out.read_text(encoding="utf-8")
    assert text.endswith("\n")
    ids = [json.loads(line)["id"] for line in text.splitlines()]
    assert ids == [f"AA01-{n}" for n in range(1, len(ids) + 1)]  # in order
    # whole chunks of 256 records (the serial run's): every one mapped before the signal is in the file, where
    # a write buffer the run did not flush would have lost its last lines
    assert len(ids) >= 256 and len(ids) % 256 == 0
