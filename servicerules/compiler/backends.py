"""Matching backends: what they promise, and how one is chosen.

A backend is built once per compiled ruleset from its :class:`~servicerules.compiler.ir.IRProgram` and then
matches the facts of many interactions. Both backends return exactly the same firings for the same
program and facts (property-tested in ``tests/compiler/test_backend_agreement.py``).
"""

from __future__ import annotations

import sys
from typing import Protocol, Sequence

from servicerules.compiler.ir import Fact, Firing, IRProgram


class Backend(Protocol):
    name: str
    """``"durable_rules"`` or ``"reference"``; shown in reports and ``--version``."""

    def match(self, facts: Sequence[Fact]) -> list[Firing]:
        """Match the facts of one interaction; firings sorted by (fact index, engine rule)."""
        ...

    def match_many(self, batches: Sequence[Sequence[Fact]]) -> list[list[Firing]]:
        """Match several interactions at once (faster); one sorted list of firings per interaction."""
        ...

    def close(self) -> None:
        """Release engine resources. Idempotent; the backend is unusable afterwards."""
        ...

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        ...


DURABLE_UNAVAILABLE = (
    f"the durable_rules backend is not available here: its C extension (durable-rules 2.0.28) imports on "
    f"Python 3.10-3.12, and this is Python {sys.version_info.major}.{sys.version_info.minor} (or the "
    "extension failed to build); use the backend 'reference', or 'auto', which picks it"
)


def durable_available() -> bool:
    """Whether the durable_rules C extension imports here (it does not on Python 3.13+)."""
    from servicerules.compiler import _durable

    return _durable.AVAILABLE


def create_backend(program: IRProgram, name: str = "auto") -> Backend:
    """Build a backend for ``program``.

    ``name`` is ``"durable_rules"``, ``"reference"`` or ``"auto"`` (durable_rules when it imports, else the
    reference evaluator).
    """
    if name == "auto":
        name = "durable_rules" if durable_available() else "reference"
    if name == "durable_rules":
        if not durable_available():
            raise ValueError(DURABLE_UNAVAILABLE)
        from servicerules.compiler._durable import DurableBackend

        return DurableBackend(program)
    if name == "reference":
        from servicerules.compiler.reference import ReferenceBackend

        return ReferenceBackend(program)
    raise ValueError(f"unknown backend {name!r}; choose 'durable_rules', 'reference' or 'auto'")
