"""``python -m benchmarks [engine] [options]`` — prints figures; see benchmarks/README.md."""

from __future__ import annotations

import sys

from benchmarks import engine, measures

SUITES = {"engine": engine.main, "measures": measures.main}


def main() -> None:
    args = sys.argv[1:]
    names = [a for a in args if a in SUITES] or list(SUITES)
    rest = [a for a in args if a not in SUITES]
    for name in names:
        SUITES[name](rest)


main()
