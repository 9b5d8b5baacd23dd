"""Batch benchmark: generate N interactions (about 10 events each) into a JSONL file on disk, then run
``servicerules check`` against a shipped ruleset on it, printing interactions/second and peak memory (the
whole process tree: the parent and its worker processes, sampled from /proc).

    ./dev bench batch [--n 1000000] [--jobs 2] [--ruleset rulesets/charter.yaml] [--keep FILE] [--violations]

``--violations`` also writes every violation as JSONL (``--output``) to a temporary file, as a user keeping
the results would; without it only the summary is produced.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import corpus

ROOT = Path(__file__).resolve().parents[1]
PAGE = os.sysconf("SC_PAGE_SIZE")


def write_corpus(path: Path, n: int) -> float:
    """Write n generated interactions as JSONL; returns the file size in MB."""
    with path.open("w", encoding="utf-8") as handle:
        for record in corpus(n):
            handle.write(json.dumps(record, separators=(",", ":")) + "\n")
    return path.stat().st_size / 1e6


def _tree_rss(root: int) -> int:
    """Resident memory (bytes) of ``root`` and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as handle:
                total += int(handle.read().split()[1]) * PAGE
        except OSError:
            pass
        stack.extend(children.get(pid, []))
    return total


def run_check(
    ruleset: Path, data: Path, jobs: int, as_of: str, output: Path | None = None
) -> tuple[float, float, int, dict[str, Any]]:
    """Run the CLI; returns (wall seconds, CPU seconds of the whole process tree, peak tree RSS in bytes,
    summary)."""
    summary_file = Path(tempfile.mkstemp(suffix=".json")[1])
    command = [sys.executable, "-m", "servicerules", "check", str(ruleset), str(data), "--as-of", as_of,
               "--jobs", str(jobs), "--quiet", "--fail-on", "never", "--summary-json", str(summary_file)]
    if output is not None:
        command += ["--output", str(output)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the CLI and, waited for by it, its workers
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    done.set()
    sampler.join()
    if code not in (0, 1):
        raise SystemExit(f"servicerules check exited {code}")
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    summary_file.unlink()
    return elapsed, cpu, peak, summary


def reference_loop_ms(repeat: int = 7) -> float:
    """Milliseconds a fixed pure-Python loop takes here, best of ``repeat``: the speed of this interpreter on
    this machine. The development machines are virtual and differ by up to 2x from one day to the next (the
    same code and corpus took 95 s on one day and 188 s on another), so a figure is only comparable with
    another day's once divided by that day's reference."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        sum(i * i for i in range(200_000))
        best = min(best, time.perf_counter() - start)
    return best * 1e3


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="benchmarks batch")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--ruleset", default=str(ROOT / "rulesets" / "charter.yaml"))
    parser.add_argument("--keep", help="write the corpus here and keep it (reused when it exists)")
    parser.add_argument("--violations", action="store_true", help="also write the violations as JSONL")
    args = parser.parse_args(argv)
    data = Path(args.keep) if args.keep else Path(tempfile.mkdtemp()) / "corpus.jsonl"
    if not data.exists():
        start = time.perf_counter()
        size = write_corpus(data, args.n)
        print(f"batch benchmark: wrote {args.n:,} interactions ({size:,.0f} MB) in {time.perf_counter() - start:.0f}s")
    output = Path(tempfile.mkdtemp()) / "violations.jsonl" if args.violations else None
    reference = reference_loop_ms()
    elapsed, cpu, peak, summary = run_check(Path(args.ruleset), data, args.jobs, "2026-03-12T00:00:00Z", output)
    reference = min(reference, reference_loop_ms())
    read = summary["read"]
    written = f", written to JSONL ({output.stat().st_size / 1e6:,.0f} MB)" if output is not None else ""
    print(f"  ruleset {Path(args.ruleset).name}, --jobs {args.jobs}: {read:,} read, {summary['evaluated']:,} evaluated, "
          f"{summary['rejected']:,} rejected, {summary['violations']:,} violations{written}")
    if output is not None:
        output.unlink()
    print(f"  {elapsed:,.1f} s wall, {read / elapsed:,.0f} interactions/s, peak memory {peak / 2**20:,.0f} MiB (all processes)")
    print(f"  {cpu:,.1f} CPU s in all processes = {cpu / max(read, 1) * 1e6:,.0f} µs of CPU per interaction")
    print(f"  machine: reference loop {reference:.2f} ms (best of 14, before and after; compare days by the ratio)")
    if not args.keep:
        data.unlink()
