"""``python -m benchmarks [engine] [options]`` — prints figures; see benchmarks/README.md."""

from __future__ import annotations

import sys

from benchmarks import batch, engine, instructions, measures

SUITES = {
    "engine": engine.main,
    "measures": measures.main,
    "batch": batch.main,
    "instructions": instructions.main,
}


def main() -> None:
    args = sys.argv[1:]
    # the batch suite takes minutes (a million interactions), instructions needs valgrind: run them only when named
    names = [a for a in args if a in SUITES] or ["engine", "measures"]
    rest = [a for a in args if a not in SUITES]
    for name in names:
        SUITES[name](rest)


main()
