"""The ``servicerules`` command. Thin: it parses arguments and prints; all behaviour lives in the library.

Exit codes: 0 clean; 1 violations at or above ``--fail-on``, or rejected input records (``check``); 2 usage
errors, ruleset errors (``lint``, or any command given a bad ruleset) and unreadable inputs; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import platform
import sys
from typing import Any, Sequence, TextIO

from servicerules import __version__
from servicerules.errors import RulesetError

__all__ = ["main", "run"]

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
SEVERITIES = ("info", "minor", "major", "critical")


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``run`` can return exit code 2 with the message."""

    def error(self, message: str) -> Any:
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _timestamp(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid timestamp {text!r}; write ISO 8601, e.g. 2026-03-02T18:00:00Z") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"timestamp {text!r} has no time zone; add Z or an offset such as +01:00")
    return value


def _version_text() -> str:
    from servicerules.compiler.backends import durable_available

    backend = "durable_rules 2.0.28" if durable_available() else "reference (durable_rules unavailable on this Python)"
    return f"servicerules {__version__} (backend: {backend}; Python {platform.python_version()})"


def _build_parser() -> _Parser:
    parser = _Parser(prog="servicerules", description="Check customer interactions against service policies.")
    parser.add_argument("--version", action="store_true", help="print version and matching backend")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    lint = sub.add_parser("lint", help="check rulesets for errors (exit 2 when any)")
    lint.add_argument("rulesets", nargs="+", metavar="RULESET")
    lint.add_argument("--format", choices=("text", "json"), default="text")

    schema = sub.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("which", choices=("ruleset", "interaction", "report", "policy-test", "mapping"))

    check = sub.add_parser("check", help="batch-check interaction files against a ruleset")
    check.add_argument("ruleset", metavar="RULESET")
    check.add_argument("inputs", nargs="+", metavar="INPUT", help="JSONL/JSON/CSV files, globs, directories, - for stdin")
    check.add_argument("--as-of", type=_timestamp, help="evaluation time (default: each interaction's last timestamp)")
    check.add_argument("--output", "-o", help="write violations to this file")
    check.add_argument("--format", choices=("jsonl", "json"), default="jsonl", help="format of --output")
    check.add_argument("--summary-json", help="also write the summary as JSON to this file")
    check.add_argument("--fail-on", choices=SEVERITIES + ("never",), default="info",
                       help="exit 1 when an enforced violation at or above this severity exists (default: info)")
    check.add_argument("--backend", choices=("auto", "durable_rules", "reference"), default="auto")
    check.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")

    from servicerules.testing.command import add_arguments as test_arguments

    test_arguments(sub.add_parser("test", help="run policy tests (*.test.yaml), with rule coverage"))

    from servicerules import diff as policy_diff

    policy_diff.add_arguments(sub.add_parser("diff", help="show which interactions a ruleset change flips, by rule (exit 1 when any)"))

    facts = sub.add_parser("facts", help="list the fact catalogue")
    facts.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    return parser


def run(argv: Sequence[str], stdout: TextIO, stderr: TextIO) -> int:
    """Run the command line ``argv`` (without the program name); returns the exit code."""
    parser = _build_parser()
    try:
        with contextlib.redirect_stdout(stdout):  # --help prints to stdout, then exits
            args = parser.parse_args(list(argv))
    except _UsageError as exc:
        print(str(exc), file=stderr)
        return EXIT_ERROR
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.version:
        print(_version_text(), file=stdout)
        return EXIT_OK
    if args.command is None:
        parser.print_help(stdout)
        return EXIT_ERROR
    from servicerules import diff as policy_diff

    from servicerules.testing.command import run_command as run_tests

    handlers = {"lint": _lint, "schema": _schema, "check": _check, "facts": _facts,
                "diff": policy_diff.run_command, "test": run_tests}
    handler = handlers[args.command]
    try:
        return handler(args, stdout, stderr)
    except RulesetError as exc:
        print(exc.render(), file=stderr)
        return EXIT_ERROR
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"servicerules: error: {exc}", file=stderr)
        return EXIT_ERROR


def _lint(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from servicerules.engine import load

    problems: list[Any] = []
    for path in args.rulesets:
        try:
            ruleset = load(path, backend="reference")
        except RulesetError as exc:
            problems.extend(exc.diagnostics)
            continue
        if args.format == "text":
            print(f"{path}: ok ({len(ruleset.rules)} rules)", file=stdout)
    if args.format == "json":
        print(json.dumps([d.to_dict() for d in problems], indent=2, ensure_ascii=False), file=stdout)
    else:
        for diagnostic in problems:
            print(diagnostic.render(), file=stdout)
        if problems:
            print(f"{len(problems)} error{'s' if len(problems) != 1 else ''}", file=stdout)
    return EXIT_ERROR if problems else EXIT_OK


def _schema(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from servicerules.schemas import json_schema

    print(json.dumps(json_schema(args.which), indent=2, ensure_ascii=False), file=stdout)
    return EXIT_OK


def _facts(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from servicerules.measures import CATALOGUE

    specs = sorted(CATALOGUE.values(), key=lambda s: (s.scope != "interaction", s.family, s.name))
    if args.format == "json":
        rows = [{"name": s.name, "type": s.type, "scope": s.scope, "family": s.family, "description": s.description, "example": s.example} for s in specs]
        print(json.dumps(rows, indent=2, ensure_ascii=False), file=stdout)
    elif args.format == "markdown":
        from servicerules.measures.catalogue import catalogue_markdown

        stdout.write(catalogue_markdown())
    else:
        width = max(len(s.name) for s in specs)
        for s in specs:
            print(f"{s.name:<{width}}  {s.type:<9}  {s.description}", file=stdout)
    return EXIT_OK


def _check(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from servicerules.batch.output import SummaryPrinter, ViolationWriter
    from servicerules.batch.runner import check_files
    from servicerules.engine import load
    from servicerules.model.ruleset import Mode

    ruleset = load(args.ruleset, backend=args.backend)
    threshold = None if args.fail_on == "never" else SEVERITIES.index(args.fail_on)
    failing = 0
    writer = ViolationWriter.open(args.output, args.format) if args.output else None

    def on_report(_interaction: Any, report: Any) -> None:
        nonlocal failing
        for violation in report.violations:
            if writer is not None:
                writer.write(violation)
            if threshold is not None and violation.mode is Mode.ENFORCE and violation.severity.rank >= threshold:
                failing += 1

    try:
        summary = check_files(ruleset, args.inputs, as_of=args.as_of, on_report=on_report)
    finally:
        if writer is not None:
            writer.close()
    if args.summary_json:
        with open(args.summary_json, "w", encoding="utf-8") as handle:
            json.dump(summary.to_dict(), handle, indent=2, ensure_ascii=False)
    if not args.quiet:
        SummaryPrinter(stdout).print(summary)
    if summary.interrupted:
        print("interrupted: outputs are complete up to the last evaluated interaction", file=stderr)
        return 130
    return EXIT_VIOLATIONS if failing or summary.rejected else EXIT_OK


def main() -> None:
    sys.exit(run(sys.argv[1:], sys.stdout, sys.stderr))
