"""The benchmarks stay runnable, and their three implementations agree (checked inside ``run``)."""

from __future__ import annotations

import shutil

import pytest

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


def test_instructions_benchmark_skips_cleanly_without_valgrind(monkeypatch, capsys):
    from benchmarks import instructions

    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    instructions.main(["--n", "5"])
    assert "skipped, valgrind is not installed" in capsys.readouterr().out


def test_instructions_benchmark_child_evaluates_the_corpus(tmp_path):
    # the part callgrind runs, without callgrind: it must load, warm up and evaluate on its own
    import subprocess
    import sys

    from benchmarks import instructions

    data = tmp_path / "corpus.jsonl"
    instructions.write_corpus(data, 5)
    assert len(data.read_text(encoding="utf-8").splitlines()) == 5 + instructions.WARM_UP
    done = subprocess.run([sys.executable, "-m", "benchmarks.instructions", "--child", "rulesets/starter.yaml",
                           str(data), "5"], cwd=instructions.ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_instruction_counts_grow_with_the_ruleset_and_repeat(tmp_path):
    from benchmarks import instructions

    data = tmp_path / "corpus.jsonl"
    instructions.write_corpus(data, 20)
    starter = instructions.per_interaction("rulesets/starter.yaml", data, 20)
    charter = instructions.per_interaction("rulesets/charter.yaml", data, 20)
    again = instructions.per_interaction("rulesets/charter.yaml", data, 20)
    assert 0 < starter < charter  # the charter computes many more facts per interaction
    assert abs(again - charter) < 0.01 * charter
