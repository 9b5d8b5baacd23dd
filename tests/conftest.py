"""Shared fixtures. ``pytest --update-golden`` rewrites golden files instead of comparing with them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite golden files from current output")


@pytest.fixture
def golden(request: pytest.FixtureRequest):
    """``golden(path, text)``: compare ``text`` with the golden file, or rewrite it with --update-golden."""

    def check(path: Path, text: str) -> None:
        if request.config.getoption("--update-golden") or not path.exists():
            if not request.config.getoption("--update-golden"):
                pytest.fail(f"golden file {path} is missing; run pytest --update-golden to create it")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        assert text == path.read_text(encoding="utf-8"), f"output differs from {path} (pytest --update-golden to accept)"

    return check


@pytest.fixture
def bank_calls_log(tmp_path: Path):
    """``bank_calls_log(rows)``: a call-centre log in the shipped bank-calls mapping's format (tab-separated,
    CRLF, with its header) holding ``rows``; returns its path."""

    header = ["vru+line", "call_id", "customer_id", "priority", "type", "date", "vru_entry", "vru_exit", "vru_time",
              "q_start", "q_exit", "q_time", "outcome", "ser_start", "ser_exit", "ser_time", "server"]

    def write(rows: list[list[str]]) -> Path:
        path = tmp_path / "calls.txt"
        path.write_bytes(("\r\n".join("\t".join(r) for r in [header, *rows]) + "\r\n").encode())
        return path

    return write


def _backends() -> list[Any]:
    # durable-rules is a dependency on Python before 3.13 (pyproject.toml): there an extension that does not
    # load fails the durable_rules cases instead of quietly leaving them out. From 3.13 on it cannot load,
    # and the cases are skipped where `pytest -ra` lists them.
    unavailable = sys.version_info >= (3, 13)
    reason = "durable_rules does not import on Python 3.13+ (docs/explanation/durable-rules.md)"
    return ["reference", pytest.param("durable_rules", marks=pytest.mark.skipif(unavailable, reason=reason))]


@pytest.fixture(params=_backends())
def backend(request: pytest.FixtureRequest) -> str:
    """Each available matching backend; engine tests run against both."""
    return str(request.param)
