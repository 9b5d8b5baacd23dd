"""Diagnostic codes of policy tests not covered by the ruleset codes.

Schema problems of test files reuse SR100 (YAML), SR101 (duplicate key), SR110-SR112 (unknown, missing,
invalid field); an invalid interaction keeps the interaction model's codes (SR311, SR312 …) and evaluation
errors keep theirs (SR400). The four below are listed in ``servicerules.errors.CODES`` (and docs/reference/errors.md).
"""

from __future__ import annotations

from servicerules.errors import CODES

__all__ = ["EMPTY_TEST_FILE", "NOT_FOUND", "TEST_CODES", "UNKNOWN_ACTION", "UNKNOWN_RULE"]

EMPTY_TEST_FILE = "SR500"
NOT_FOUND = "SR501"
UNKNOWN_RULE = "SR502"
UNKNOWN_ACTION = "SR503"

TEST_CODES: dict[str, str] = {code: CODES[code] for code in (EMPTY_TEST_FILE, NOT_FOUND, UNKNOWN_RULE, UNKNOWN_ACTION)}
