"""The benchmarks stay runnable, and their three implementations agree (checked inside ``run``)."""

from __future__ import annotations

from benchmarks import engine


def test_engine_benchmark_runs_and_its_implementations_agree():
    figures = dict(engine.run(300))
    assert "plain Python, the same 20 checks by hand" in figures
    assert any(label.startswith("reference: match") for label in figures)
    assert all(rate > 0 for rate in figures.values())


def test_hand_written_checks_follow_three_valued_logic():
    # unknown first reply time: the email rule is not applicable, not compliant
    verdicts = dict(engine.hand_written({"interaction.channel": "email", "first_reply_time": None}))
    assert "r01" not in verdicts
    verdicts = dict(engine.hand_written({"interaction.channel": "email", "first_reply_time": 90000}))
    assert verdicts["r01"] is True


def test_batch_benchmark_runs_end_to_end(tmp_path, capsys):
    from benchmarks import batch

    corpus = tmp_path / "corpus.jsonl"
    batch.main(["--n", "300", "--jobs", "1", "--keep", str(corpus), "--violations",
                "--ruleset", "rulesets/starter.yaml"])
    out = capsys.readouterr().out
    assert "300 read, 300 evaluated, 0 rejected" in out
    assert "written to JSONL" in out
    assert "µs of CPU per interaction" in out
    assert len(corpus.read_text(encoding="utf-8").splitlines()) == 300
