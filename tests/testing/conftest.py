"""Fixtures for the policy-testing tests: a working directory holding a copy of the starter ruleset."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Callable

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STARTER = ROOT / "rulesets" / "starter.yaml"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary working directory with ``starter.yaml``; paths in output are relative to it."""
    shutil.copy(STARTER, tmp_path / "starter.yaml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def write(workdir: Path) -> Callable[[str, str], Path]:
    """``write(name, text)``: a file in the working directory (text dedented)."""

    def put(name: str, text: str) -> Path:
        path = workdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return Path(name)

    return put
