"""Durations as messages and the terminal summary print them (docs/reference/ruleset.md "Values are shown
readably", docs/reference/targets.md): whole seconds, rounded half to even, below ten minutes; from ten
minutes on whole minutes, a part of a minute counted as a minute. Expected texts worked out by hand."""

from __future__ import annotations

import pytest

from servicerules._durations import format_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.4, "0s"),
        (0.5, "0s"),  # half to even: 0
        (1.5, "2s"),  # half to even: 2
        (2.5, "2s"),  # half to even: 2, not 3
        (59, "59s"),
        (60, "1m"),  # no "0s" part
        (90, "1m 30s"),
        (599, "9m 59s"),
        (599.4, "9m 59s"),
        (599.5, "10m"),  # half to even: 600 s, which is ten minutes
    ],
)
def test_under_ten_minutes_a_duration_reads_in_whole_seconds_rounded_half_to_even(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (600, "10m"),
        (600.5, "11m"),  # half a second past ten minutes: a part of a minute counts, even one below a second
        (630, "11m"),  # seconds never shown from ten minutes on
        (3541, "1h"),  # 59m 1s, the documented example
        (3599, "1h"),
        (3600, "1h"),
        (3601, "1h 1m"),
        (3640, "1h 1m"),  # 1h 0m 40s: never "1h", which would look like a target of 1 hour met
        (5400, "1h 30m"),
        (86399, "1d"),  # 23h 59m 59s
        (86400, "1d"),
        (86401, "1d 1m"),  # zero hours are left out
        (90061, "1d 1h 2m"),  # 1d 1h 1m 1s
        (2 * 86400 + 3 * 3600, "2d 3h"),
        (8 * 86400, "8d"),  # days are the largest unit shown: no weeks
    ],
)
def test_from_ten_minutes_on_a_part_of_a_minute_counts_as_a_whole_one(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-0.4, "0s"),  # rounds to nothing: no "-0s"
        (-1.5, "-2s"),
        (-90, "-1m 30s"),
        (-3541, "-1h"),  # the size rounds as for a positive duration, then the sign goes in front
        (-3640, "-1h 1m"),
        (-90061, "-1d 1h 2m"),
    ],
)
def test_a_negative_duration_reads_as_its_size_with_a_minus_sign(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
