"""``servicerules test``: the arguments and the handler, for ``servicerules.cli`` to mount as a subcommand.

Exit codes: 0 every case passed; 1 a case failed, no case was found (``--fail-on-empty``) or a ruleset's
coverage is under ``--coverage-min``; 2 a test file or ruleset has errors (or a path does not exist).
"""

from __future__ import annotations

import argparse
from typing import TextIO

from servicerules.testing._output import render_json, render_junit, render_pretty
from servicerules.testing._runner import EXIT_ERROR, run_tests

__all__ = ["add_arguments", "run_command"]


def _percent(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid percentage {text!r}; write a number from 0 to 100, e.g. 80") from None
    if not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"percentage {text!r} is outside 0-100")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``servicerules test`` to ``parser`` (a subcommand parser)."""
    parser.add_argument("paths", nargs="*", default=["."], metavar="PATH",
                        help="test files, or directories searched for *.test.yaml (default: .)")
    parser.add_argument("--format", choices=("pretty", "json", "junit"), default="pretty",
                        help="output on standard output (default: pretty)")
    parser.add_argument("--junit-xml", metavar="FILE", help="also write JUnit XML to FILE")
    parser.add_argument("--coverage", action="store_true", help="show rule coverage per ruleset (pretty format)")
    parser.add_argument("--coverage-min", type=_percent, metavar="PCT",
                        help="exit 1 when a ruleset's coverage is under PCT percent")
    parser.add_argument("--fail-on-empty", action="store_true", help="exit 1 when no test cases are found")
    parser.add_argument("--backend", choices=("auto", "durable_rules", "reference"), default="auto")
    parser.add_argument("--verbose", "-v", action="store_true", help="list passed and skipped cases too")


def run_command(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run the policy tests ``args`` name and print the results; returns the exit code."""
    run = run_tests(args.paths, backend=args.backend)
    code = run.exit_code(fail_on_empty=args.fail_on_empty, coverage_min=args.coverage_min)
    if args.junit_xml:
        try:
            with open(args.junit_xml, "w", encoding="utf-8") as handle:
                handle.write(render_junit(run))
        except OSError as exc:
            print(f"servicerules: error: cannot write {args.junit_xml}: {exc.strerror or exc}", file=stderr)
            code = EXIT_ERROR
    if args.format == "json":
        stdout.write(render_json(run, exit_code=code, coverage_min=args.coverage_min))
    elif args.format == "junit":
        stdout.write(render_junit(run))
    else:
        stdout.write(render_pretty(run, verbose=args.verbose, show_coverage=args.coverage, coverage_min=args.coverage_min))
    return code
