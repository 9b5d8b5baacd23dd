"""Sinks for batch results: violation files and the terminal summary."""

from __future__ import annotations

import json
from typing import IO, TextIO

from rich.console import Console
from rich.table import Table

from servicerules.batch.summary import BatchSummary
from servicerules.report import Violation

__all__ = ["SummaryPrinter", "ViolationWriter"]


class ViolationWriter:
    """Writes violations as JSON Lines (one object per line, flushed as it goes) or as one JSON array.

    A JSON array is closed even when the run is interrupted, so the file is always valid JSON.
    """

    def __init__(self, handle: IO[str], fmt: str):
        self.handle = handle
        self.fmt = fmt
        self.count = 0
        if fmt == "json":
            handle.write("[")

    @classmethod
    def open(cls, path: str, fmt: str) -> "ViolationWriter":
        return cls(open(path, "w", encoding="utf-8"), fmt)

    def write(self, violation: Violation) -> None:
        text = violation.model_dump_json()
        if self.fmt == "json":
            self.handle.write(("," if self.count else "") + "\n  " + text)
        else:
            self.handle.write(text + "\n")
        self.count += 1

    def close(self) -> None:
        if self.fmt == "json":
            self.handle.write("\n]\n" if self.count else "]\n")
        self.handle.close()


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


class SummaryPrinter:
    """The terminal summary: totals, per-rule compliance, per-channel/team/agent compliance, rejections."""

    def __init__(self, stream: TextIO, *, width: int = 110):
        self.console = Console(file=stream, width=width, highlight=False, soft_wrap=False)

    def print(self, summary: BatchSummary) -> None:
        c = self.console
        c.print(
            f"[bold]{summary.ruleset}[/bold] {summary.version} (backend {summary.backend}): "
            f"{summary.read} read, {summary.evaluated} evaluated, {summary.rejected} rejected; "
            f"{summary.compliant} compliant, {summary.violations} violations"
            + (f" in {summary.elapsed:.2f}s" if summary.elapsed else "")
        )
        if summary.rules:
            table = Table(title="Compliance per rule", title_justify="left")
            for column, justify in (("rule", "left"), ("severity", "left"), ("violated", "right"), ("compliant", "right"), ("n/a", "right"), ("compliance", "right")):
                table.add_column(column, justify=justify)  # type: ignore[arg-type]
            for stats in sorted(summary.rules.values(), key=lambda s: (-s.violated, s.rule_id)):
                table.add_row(stats.rule_id, stats.severity or "", str(stats.violated), str(stats.compliant), str(stats.not_applicable), _percent(stats.compliance))
            c.print(table)
        for title, groups in (("channel", summary.by_channel), ("team", summary.by_team), ("agent", summary.by_agent)):
            if not groups:
                continue
            table = Table(title=f"Compliance per {title}", title_justify="left")
            table.add_column(title)
            table.add_column("interactions", justify="right")
            table.add_column("compliant", justify="right")
            for key, group in sorted(groups.items()):
                table.add_row(key, str(group.interactions), _percent(group.compliance))
            c.print(table)
        if summary.rejections:
            c.print(f"[bold]Rejected records[/bold] ({summary.rejected}):")
            for rejected in summary.rejections[:20]:
                c.print(f"  {rejected.source}: {rejected.code} {rejected.reason}", markup=False)
            if summary.rejected > 20:
                c.print(f"  … and {summary.rejected - 20} more (see --summary-json)")


def dump_json(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)
