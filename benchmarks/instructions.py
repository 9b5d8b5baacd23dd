"""Instructions per interaction, counted by valgrind's callgrind: a figure that does not depend on how fast
the shared machine happens to be today (its wall-clock speed varies by up to 2x from day to day).

``./dev bench instructions [--n 300] [--ruleset rulesets/charter.yaml]`` writes the first N + 50 generated
interactions to a temporary JSON Lines file, then runs the evaluation twice under callgrind: once on the
first N lines, once on none. Both runs load the ruleset, read the file and evaluate the same 50 other lines
first (to import and warm everything), so the difference divided by N is the cost of one interaction:
validation, facts, matching and verdicts, as ``servicerules check`` computes them for its summary. Needs
valgrind; takes two to three minutes per ruleset. The count varies by well under 1% between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks import batch

ROOT = Path(__file__).resolve().parent.parent
WARM_UP = 50
AS_OF = dt.datetime(2026, 3, 12, tzinfo=dt.timezone.utc)


def _child(ruleset: str, data: str, n: int) -> None:
    """What callgrind measures: load, warm up, evaluate the first ``n`` lines (batch worker settings)."""
    import servicerules

    lines = Path(data).read_bytes().splitlines()
    policy = servicerules.load(ruleset)
    for _ in policy.verdicts_many(lines[-WARM_UP:], as_of=AS_OF, errors="collect"):
        pass
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)
    for _ in policy.verdicts_many(lines[:n], as_of=AS_OF, errors="collect"):
        pass


def _instructions(ruleset: str, data: Path, n: int) -> int:
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
               sys.executable, "-m", "benchmarks.instructions", "--child", ruleset, str(data), str(n)]
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind run failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return int(found.group(1))


def write_corpus(path: Path, n: int) -> None:
    """The first ``n`` generated interactions and the warm-up ones after them, as JSON Lines."""
    batch.write_corpus(path, n + WARM_UP)


def per_interaction(ruleset: str, data: Path, n: int) -> float:
    """Instructions one of the first ``n`` interactions of ``data`` costs (callgrind; needs valgrind)."""
    return (_instructions(ruleset, data, n) - _instructions(ruleset, data, 0)) / n


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks instructions")
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--ruleset", action="append", help="repeatable; default: the starter and the charter")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("instructions benchmark: skipped, valgrind is not installed (Debian: apt install valgrind)")
        return
    rulesets = args.ruleset or [str(ROOT / "rulesets" / "starter.yaml"), str(ROOT / "rulesets" / "charter.yaml")]
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "corpus.jsonl"
        write_corpus(data, args.n)
        for ruleset in rulesets:
            per = per_interaction(ruleset, data, args.n)
            print(f"instructions: {Path(ruleset).name}: {per / 1e3:,.0f} thousand instructions per interaction "
                  f"(callgrind, n={args.n}, {sys.version.split()[0]} {sys.executable})")


if __name__ == "__main__" and sys.argv[1:2] == ["--child"]:
    _child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
