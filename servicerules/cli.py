"""The ``servicerules`` command. Thin: it parses arguments and prints; all behaviour lives in the library.

Exit codes: 0 clean; 1 violations at or above ``--fail-on``, or rejected input records (``check``); 2 usage
errors, ruleset and mapping errors (``lint``, or any command given a bad one) and unreadable inputs; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import stat
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence, TextIO

from servicerules._argtypes import aware_timestamp, mapping_options
from servicerules import __version__
from servicerules.errors import Diagnostic, Location, RulesetError, ruleset_unreadable

if TYPE_CHECKING:
    from servicerules.batch.mapping import Mapping
    from servicerules.batch.output import SummaryPrinter
    from servicerules.batch.summary import BatchSummary

__all__ = ["main", "run"]

EXIT_OK, EXIT_VIOLATIONS, EXIT_ERROR = 0, 1, 2
SEVERITIES = ("info", "minor", "major", "critical")
BROKEN_PIPE = 141
"""Exit status when standard output was closed before all was printed: what a shell reports for a
command that SIGPIPE ended (128 + 13)."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``run`` can return exit code 2 with the message. Options
    are not abbreviated: ``--out`` would silently become ``--output``, and break when an option is added."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> Any:
        raise _UsageError(f"{self.prog}: error: {message}")


class _UsageError(Exception):
    pass


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid number of jobs {text!r}; give a whole number of at least 1")
    return value


def _version_text() -> str:
    from servicerules.compiler.backends import durable_available

    backend = "durable_rules 2.0.28" if durable_available() else "reference (durable_rules unavailable on this Python)"
    return f"servicerules {__version__} (backend: {backend}; Python {platform.python_version()})"


def _build_parser() -> _Parser:
    parser = _Parser(prog="servicerules", description="Check customer interactions against service policies.")
    parser.add_argument("--version", action="store_true", help="print version and matching backend")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    lint = sub.add_parser("lint", help="check rulesets, mapping files and policy-test files for errors (exit 2 when any)")
    lint.add_argument(
        "files", nargs="+", metavar="FILE",
        help="a ruleset, a mapping file (one with a key only mappings have: layout, fields, events…) or a *.test.yaml policy-test file",
    )
    lint.add_argument("--format", choices=("text", "json"), default="text")

    schema = sub.add_parser("schema", help="print a JSON Schema")
    schema.add_argument("which", choices=("ruleset", "interaction", "report", "policy-test", "mapping", "summary"))

    check = sub.add_parser("check", help="batch-check interaction files against a ruleset")
    check.add_argument("ruleset", metavar="RULESET")
    check.add_argument("inputs", nargs="+", metavar="INPUT", help="JSONL/JSON/CSV files, globs, directories, - for stdin")
    check.add_argument("--as-of", type=aware_timestamp, help="evaluation time (default: each interaction's last timestamp)")
    check.add_argument("--output", "-o", help="write violations to this file")
    check.add_argument("--format", choices=("jsonl", "json", "csv"),
                       help="format of --output (default: from its extension .jsonl/.json/.csv, else jsonl)")
    check.add_argument("--rejects", metavar="FILE", help="write every rejected record (position, code, reason, masked text) as JSON Lines")
    check.add_argument("--junit", metavar="FILE", help="write JUnit XML: one test case per rule, failing at --fail-on")
    check.add_argument("--summary-json", help="also write the summary as JSON to this file")
    check.add_argument("--fail-on", choices=SEVERITIES + ("never",), default="info",
                       help="exit 1 when an enforced violation at or above this severity exists (default: info)")
    check.add_argument("--jobs", "-j", type=_positive_int, default=None, metavar="N",
                       help="worker processes (default: one per CPU; 1 = no worker processes)")
    check.add_argument("--mapping", "-m", metavar="FILE|NAME",
                       help="map an export onto interactions with this mapping file (or a shipped one: twcs, zendesk, bank-calls)")
    check.add_argument("--join", action="append", default=[], metavar="NAME=PATH",
                       help="a file for the mapping's join NAME (repeatable)")
    check.add_argument("--backend", choices=("auto", "durable_rules", "reference"), default="auto")
    check.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors (no progress bar, no summary)")

    mapped = sub.add_parser("map", help="map a help-desk export onto interactions (JSON Lines), without checking them")
    mapped.add_argument("mapping", metavar="MAPPING", help="a mapping file, or a shipped one: twcs, zendesk, bank-calls")
    mapped.add_argument("inputs", nargs="+", metavar="INPUT", help="the export's files, globs, directories, - for stdin")
    mapped.add_argument("--join", action="append", default=[], metavar="NAME=PATH",
                        help="a file for the mapping's join NAME (repeatable)")
    mapped.add_argument("--output", "-o", metavar="FILE", help="write the interactions to this file (default: standard output)")
    mapped.add_argument("--rejects", metavar="FILE", help="write every rejected record (position, code, reason, masked text) as JSON Lines")
    mapped.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors (no progress bar, no summary)")

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

    handlers = {"lint": _lint, "schema": _schema, "check": _check, "map": _map, "facts": _facts,
                "diff": policy_diff.run_command, "test": run_tests}
    handler = handlers[args.command]
    if getattr(args, "backend", None) == "durable_rules":
        from servicerules.compiler.backends import DURABLE_UNAVAILABLE, durable_available

        if not durable_available():
            print(f"servicerules {args.command}: error: {DURABLE_UNAVAILABLE}", file=stderr)
            return EXIT_ERROR
    try:
        return handler(args, stdout, stderr)
    except RulesetError as exc:
        print(exc.render(), file=stderr)
        return EXIT_ERROR
    except (FileNotFoundError, IsADirectoryError, PermissionError) as exc:
        print(f"servicerules: error: {exc}", file=stderr)
        return EXIT_ERROR
    except _UsageError as exc:
        print(str(exc), file=stderr)
        return EXIT_ERROR


_RULESET_KEYS = frozenset({"ruleset", "rules"})


def _is_mapping_file(path: str) -> bool:
    """Whether ``path`` holds a mapping rather than a ruleset: a YAML mapping with a key only mappings
    have (``layout``, ``fields``, …) and neither ``ruleset`` nor ``rules``. Unreadable or broken files
    are not: linting them as a ruleset reports the problem."""
    import yaml

    from servicerules.batch.mapping import Mapping
    from servicerules.model.ruleset import RulesetSpec

    try:
        with open(path, encoding="utf-8") as handle:
            node = yaml.compose(handle, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    if not isinstance(node, yaml.MappingNode):
        return False
    keys = {k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    mapping_only = set(Mapping.model_fields) - set(RulesetSpec.model_fields)
    return bool(keys & mapping_only) and not keys & _RULESET_KEYS


def _lint_one(path: str, problems: list[Diagnostic]) -> str | None:
    """Lint the ruleset, mapping or policy-test file at ``path``: what an "ok" line says of it, or None
    when it has problems (added to ``problems``)."""
    from servicerules.batch.mapping import load_mapping
    from servicerules.engine import load
    from servicerules.testing._runner import RulesetCache, is_test_file, load_test_file

    if is_test_file(path):
        loaded = load_test_file(Path(path), RulesetCache(backend="reference"), display=path)
        found = [*loaded.errors, *(d for errors in loaded.case_errors.values() for d in errors)]
        problems.extend(found)
        cases = len(loaded.case_specs)
        return None if found else f"policy tests: {cases} case{'' if cases == 1 else 's'}"
    try:
        if _is_mapping_file(path):
            mapping = load_mapping(Path(path))
            fields = len(mapping.fields) + sum(len(e.fields) for e in mapping.events)
            events = len(mapping.events)
            return f"mapping: {fields} field{'' if fields == 1 else 's'}, {events} synthesised event{'' if events == 1 else 's'}"
        rules = len(load(path, backend="reference").rules)
        return f"{rules} rule{'' if rules == 1 else 's'}"
    except RulesetError as exc:
        problems.extend(exc.diagnostics)
        return None


def _lint(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    problems: list[Diagnostic] = []
    for path in args.files:
        try:
            ok = _lint_one(path, problems)
        except (OSError, UnicodeDecodeError) as exc:  # reported like any problem, and the other files are linted
            reason = f"{exc.strerror}" if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(Diagnostic("SR103", f"cannot read the file: {reason}", Location(path, 1, 1)))
            continue
        if ok is not None and args.format == "text":
            print(f"{path}: ok ({ok})", file=stdout)
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
        rows = [
            {
                "name": s.name, "type": s.type, "scope": s.scope, "family": s.family, "description": s.description,
                "example": s.example, "evidence": s.about.event if s.about is not None else None,
            }
            for s in specs
        ]
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
    from servicerules.batch.output import (
        BatchSink, JUnitWriter, RejectsWriter, SummaryJsonWriter, SummaryPrinter, ViolationWriter, make_progress,
    )
    from servicerules.batch.parallel import WorkerCrashed, default_jobs
    from servicerules.batch.readers import expand_inputs, total_size
    from servicerules.batch.runner import InputFailed, check_files
    from servicerules.engine import load

    try:
        ruleset = load(args.ruleset, backend=args.backend)
    except OSError as exc:  # not an OS error's bare "[Errno 2] No such file or directory: 'x.yaml'"
        raise _UsageError(f"servicerules: error: {ruleset_unreadable(args.ruleset, exc)}") from None
    mapping, joins = _mapping_options(args)
    paths = expand_inputs(args.inputs)  # missing inputs: FileNotFoundError (exit 2) before anything is written
    _check_outputs(args, paths, mapping, joins)
    if mapping is not None and not _joins_found(mapping, paths, joins, stderr):
        return EXIT_ERROR
    cpus = default_jobs()
    if args.jobs is not None and args.jobs > 2 * cpus:
        print(f"servicerules check: note: --jobs {args.jobs} on {cpus} CPUs: each worker holds its own compiled "
              "ruleset (about 80 MB), and more workers than CPUs do not check faster", file=stderr)
    if args.format and not args.output:
        raise _UsageError("servicerules check: error: --format is the format of --output; give --output FILE too")
    sinks: list[BatchSink] = []
    if args.output:
        sinks.append(ViolationWriter.open(args.output, args.format))
    if args.rejects:
        sinks.append(RejectsWriter.open(args.rejects))
    if args.junit:
        sinks.append(JUnitWriter(args.junit, fail_on=args.fail_on))
    if args.summary_json:
        sinks.append(SummaryJsonWriter(args.summary_json))
    progress = make_progress(stderr, total=total_size(paths), enabled=not args.quiet)
    try:
        summary = check_files(
            ruleset, paths, as_of=args.as_of, jobs=args.jobs, sinks=sinks, progress=progress,
            mapping=mapping, join_files=joins,
        )
    except (WorkerCrashed, InputFailed) as exc:  # the outputs hold what was done before it
        if not args.quiet and exc.summary is not None and exc.summary.read:
            SummaryPrinter(stdout).print(exc.summary)
        print(f"servicerules: error: {exc.render()}", file=stderr)
        return EXIT_ERROR
    except OSError as exc:  # writing an output failed (a full disk)
        print(f"servicerules: error: {exc}", file=stderr)
        return EXIT_ERROR
    if not args.quiet:
        SummaryPrinter(stdout).print(summary)
    if summary.interrupted:
        print("interrupted: outputs are complete up to the last evaluated interaction", file=stderr)
        return 130
    if not summary.read:  # an empty export would otherwise pass a CI gate unnoticed
        print("servicerules check: warning: the inputs hold no records; nothing was checked", file=stderr)
    elif not summary.evaluated:  # every record rejected: the summary's tables are all zeros
        every = "the only record was" if summary.read == 1 else f"all {summary.read:,} records were"  # as the summary counts
        print(f"servicerules check: warning: {every} rejected; nothing was checked", file=stderr)
        if not args.mapping:  # the usual cause: a help-desk export read as interactions
            from servicerules.batch.mapping import shipped_mappings

            print("servicerules check: hint: a help-desk export is read with --mapping FILE or a shipped mapping: "
                  f"{', '.join(shipped_mappings())}", file=stderr)
    return EXIT_VIOLATIONS if summary.failing(args.fail_on) or summary.rejected else EXIT_OK


def _joins_found(mapping: Mapping, paths: Sequence[str], joins: dict[str, str | Path] | None, stderr: TextIO) -> bool:
    """Whether the files of the mapping's joins are there for every input; else says which is missing: the
    run cannot start, and no output is created."""
    from servicerules.batch.mapping import check_join_files
    from servicerules.batch.runner import InputFailed

    for first in {os.path.dirname(p): p for p in paths}.values():  # the inputs of one folder join the same files
        try:
            check_join_files(mapping, first, join_files=joins)
        except FileNotFoundError as exc:
            print(f"servicerules: error: {InputFailed(exc).render()}", file=stderr)
            return False
    return True


def _map(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    from servicerules.batch.output import BatchSink, InteractionWriter, RejectsWriter, SummaryPrinter, make_progress
    from servicerules.batch.readers import expand_inputs, total_size
    from servicerules.batch.runner import InputFailed, map_files

    if args.output == "-":
        args.output = None
    if not args.mapping:
        raise _UsageError("servicerules map: error: MAPPING is empty; give a mapping file or a shipped mapping's name")
    mapping, joins = _mapping_options(args)
    paths = expand_inputs(args.inputs)
    _check_outputs(args, paths, mapping, joins)
    if not _joins_found(mapping, paths, joins, stderr):
        return EXIT_ERROR
    # the run closes its sinks before it ends, also when SIGTERM stops it: the writer is one of them
    writer = InteractionWriter.open(args.output) if args.output else InteractionWriter(stdout)
    sinks: list[BatchSink] = [writer]
    if args.rejects:
        sinks.append(RejectsWriter.open(args.rejects))
    # the progress bar would be drawn through the interactions on a terminal
    progress = make_progress(stderr, total=total_size(paths), enabled=not args.quiet and args.output is not None)
    try:
        summary = map_files(mapping, paths, writer.write, join_files=joins, sinks=sinks, progress=progress)
    except InputFailed as exc:  # the output holds what was mapped before it
        if not args.quiet and exc.summary is not None and exc.summary.read:
            _print_mapped(SummaryPrinter(stderr), args.mapping, exc.summary)
        print(f"servicerules: error: {exc.render()}", file=stderr)
        return EXIT_ERROR
    except OSError as exc:  # writing an output failed (a full disk)
        print(f"servicerules: error: {exc}", file=stderr)
        return EXIT_ERROR
    if not args.quiet:
        _print_mapped(SummaryPrinter(stderr), args.mapping, summary)
    if summary.interrupted:
        print("interrupted: the output is complete up to the last mapped interaction", file=stderr)
        return 130
    if not summary.read:
        print("servicerules map: warning: the inputs hold no records", file=stderr)
    return EXIT_VIOLATIONS if summary.rejected else EXIT_OK


def _print_mapped(printer: SummaryPrinter, name: str, summary: BatchSummary) -> None:
    printer.console.print(
        f"{name}: {summary.read:,} read, {summary.evaluated:,} interaction{'' if summary.evaluated == 1 else 's'} written, "
        f"{summary.rejected:,} rejected"
        + (f" in {summary.elapsed:.2f}s" if summary.elapsed else ""), markup=False, highlight=False,
    )
    printer.print_rejections(summary)


def _check_outputs(args: argparse.Namespace, inputs: Sequence[str], mapping: Mapping | None, joins: dict[str, str | Path] | None) -> None:
    """Refuse, before any file is opened, outputs that would destroy an input or each other, or that
    could only fail once the whole run is done (the summary and JUnit files are written at the end)."""
    from servicerules.batch.readers import file_identity

    command = f"servicerules {args.command}"
    named = [(option, path) for option, path in (
        ("--output", args.output), ("--rejects", args.rejects),
        ("--junit", getattr(args, "junit", None)), ("--summary-json", getattr(args, "summary_json", None)),
    ) if path]
    # everything the run reads: the records, the ruleset, the mapping and the files it joins (explicit or found)
    mapping_file = mapping.source_file if mapping is not None else None  # also a shipped one, named by its name
    ruleset = getattr(args, "ruleset", None)
    sources = [*(p for p in inputs if p != "-"), *([ruleset] if ruleset else []), *([mapping_file] if mapping_file else [])]
    read = {file_identity(p): p for p in sources if os.path.isfile(p)}
    joined, awaited = _join_reads(mapping, inputs, joins) if mapping is not None else ({}, {})
    for key, shown in joined.items():
        read.setdefault(key, shown)
    taken: dict[object, str] = {}
    for option, path in named:
        if path == "-":
            raise _UsageError(f"{command}: error: {option} -: outputs are files; give a path")
        key = file_identity(path)
        if key in read:
            raise _UsageError(
                f"{command}: error: {option} {path} is also an input ({read[key]}): writing it would destroy "
                "what the run is about to read; write the outputs elsewhere"
            )
        if key in awaited:
            raise _UsageError(
                f"{command}: error: {option} {path} would become an input: {awaited[key]}; write the outputs elsewhere"
            )
        if path.lower().endswith(".gz"):
            raise _UsageError(
                f"{command}: error: {option} {path}: outputs are written uncompressed; name the file without "
                ".gz and compress it after the run (gzip FILE)"
            )
        if key in taken and not _is_device(path):  # /dev/null may take several outputs
            raise _UsageError(f"{command}: error: {option} and {taken[key]} name the same file {path}")
        taken[key] = option
        folder = os.path.dirname(os.path.abspath(path))
        if os.path.isdir(path):
            problem = "is a directory"
        elif not os.path.isdir(folder):
            problem = f"cannot be written: there is no directory {folder}"
        elif not os.access(path if os.path.exists(path) else folder, os.W_OK):
            problem = "cannot be written: permission denied"
        else:
            continue
        raise _UsageError(f"{command}: error: {option} {path} {problem}")


def _is_device(path: str) -> bool:
    """Whether ``path`` is a character device such as /dev/null, which any number of writers may share."""
    try:
        return stat.S_ISCHR(os.stat(path).st_mode)
    except OSError:
        return False


def _join_reads(mapping: Mapping, inputs: Sequence[str], joins: dict[str, str | Path] | None) -> tuple[dict[object, str], dict[object, str]]:
    """By file identity, how an error names them: the files the mapping's joins read for these inputs,
    and the paths where a join would read a file that an output created (a name it tries before the file
    it finds, or every name when it finds none). A join finds its file beside each input, so an output can
    land on one that no option names."""
    from servicerules.batch.mapping import join_paths
    from servicerules.batch.readers import file_identity

    looked_for: dict[object, tuple[str, list[str]]] = {}
    folders = {os.path.dirname(p): p for p in inputs}  # the inputs of one folder find the same files
    for first in folders.values():
        for name, paths in join_paths(mapping, first, join_files=joins).items():
            for path in paths:
                looked_for.setdefault(file_identity(path), (path, []))[1].append(name)
    given = {file_identity(str(path)) for path in (joins or {}).values()}  # named by --join: shown as given
    joined = {
        key: path if key in given else f"{path}, read by the mapping's {_joins_named(names)}"
        for key, (path, names) in looked_for.items() if os.path.isfile(path)
    }
    awaited = {
        key: f"the mapping's {_joins_named(names)} {'reads' if len(set(names)) == 1 else 'read'} {path} when it exists"
        for key, (path, names) in looked_for.items() if not os.path.exists(path)  # a directory there is no output either
    }
    return joined, awaited


def _joins_named(names: list[str]) -> str:
    """``join 'tickets'``, ``joins 'authors' and 'requesters'``: each name once."""
    unique = [repr(n) for n in dict.fromkeys(names)]
    return f"join {unique[0]}" if len(unique) == 1 else f"joins {', '.join(unique[:-1])} and {unique[-1]}"


def _mapping_options(args: argparse.Namespace) -> tuple[Any, dict[str, str | Path] | None]:
    """(the mapping, its join files) for ``--mapping``; (None, None) without a mapping."""
    try:
        return mapping_options(args.mapping, args.join)
    except ValueError as exc:
        raise _UsageError(f"servicerules {args.command}: error: {exc}") from None


def main() -> None:
    try:  # the heavy modules load in here: a Ctrl-C while they do ends quietly too
        from servicerules.batch.parallel import tune_allocator, tune_gc

        tune_allocator()  # this process is the command's own (run() may be called in someone else's)
        tune_gc()
        code = run(sys.argv[1:], sys.stdout, sys.stderr)
    except KeyboardInterrupt:  # before a run could stop cleanly (loading the ruleset): no traceback
        print("servicerules: interrupted", file=sys.stderr)
        code = 130
    except BrokenPipeError:  # the reader of standard output went away (`servicerules facts | head`)
        # what is left in the buffer goes nowhere: flushing it at exit would raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = BROKEN_PIPE
    sys.exit(code)
