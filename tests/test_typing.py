"""The public API's type hints serve an application that runs ``mypy --strict``: a program written as the
docs show type-checks without casts (a return type of ``Any`` or a union that cannot occur forces them)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PROGRAM = """
    import datetime as dt
    from pathlib import Path
    from typing import Iterator

    from typing_extensions import assert_type

    import servicerules
    from servicerules import Rejection, Verdicts
    from servicerules.batch.runner import check_files
    from servicerules.batch.targets import CompiledTarget, Contribution, TargetAccumulator

    policy = servicerules.load("rulesets/charter.yaml")
    records = [{"id": "E-1", "channel": "email", "created_at": "2026-03-02T09:00:00Z"}]
    verdicts = next(policy.verdicts_many(records))
    statuses: dict[int, str] = verdicts.statuses
    assert_type(policy.verdicts_many(records, errors="collect"), Iterator["Verdicts | Rejection"])
    assert_type(policy.targets, "tuple[CompiledTarget, ...]")
    accumulator = TargetAccumulator(policy.targets)
    contributions = policy.target_contributions(records[0], as_of=dt.datetime(2026, 3, 3, tzinfo=dt.timezone.utc))
    assert_type(contributions, "list[Contribution]")
    accumulator.add(contributions)
    summary = check_files(policy, [Path("examples/interactions.jsonl")])
"""


def test_a_strictly_typed_program_using_the_documented_api_type_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mypy import api  # a dev dependency (pyproject.toml): missing, the test fails rather than skips
    program = tmp_path / "program.py"
    program.write_text(textwrap.dedent(PROGRAM), encoding="utf-8")
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\nstrict = True\nplugins = pydantic.mypy\n", encoding="utf-8")
    monkeypatch.setenv("MYPYPATH", str(ROOT))  # an editable install hides the package from mypy
    out, err, status = api.run(["--config-file", str(config), "--cache-dir", str(tmp_path / "cache"), str(program)])
    assert status == 0, out + err
