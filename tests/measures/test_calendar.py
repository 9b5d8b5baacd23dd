"""Business calendars: every expected value below is worked out by hand in the comments next to it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from servicerules.measures.calendar import BusinessCalendar

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
KOLKATA = ZoneInfo("Asia/Kolkata")
UTC = ZoneInfo("UTC")

HOUR = 3600
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(
    *,
    timezone_name: str = "Europe/Berlin",
    country: str | None = "DE",
    subdivision: str | None = None,
    dates: list[str] | None = None,
    closures: list[dict[str, str]] | None = None,
    days: tuple[str, ...] = WEEKDAYS,
    hours: list[str] | None = None,
) -> BusinessCalendar:
    spec: dict[str, Any] = {
        "timezone": timezone_name,
        "hours": {day: hours or ["09:00-17:00"] for day in days},
    }
    if country is not None or dates:
        spec["holidays"] = {"country": country, "subdivision": subdivision, "dates": dates or []}
    if closures:
        spec["closures"] = closures
    return BusinessCalendar.from_spec("office", spec)


def sundays_only(interval: str, timezone_name: str) -> BusinessCalendar:
    return BusinessCalendar.from_spec("sundays", {"timezone": timezone_name, "hours": {"sun": [interval]}})


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, micro: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=BERLIN)


def utc(at: datetime) -> datetime:
    """Compare instants in UTC: within one zone Python compares wall times and ignores ``fold``, and
    across zones an ambiguous time (e.g. the second 02:30 of a fall-back night) never compares equal."""
    return at.astimezone(timezone.utc)


def shifted(at: datetime, delta: timedelta) -> datetime:
    """``at`` moved by real elapsed time; ``at + delta`` on an aware datetime is wall-clock arithmetic."""
    return (utc(at) + delta).astimezone(at.tzinfo)


# --------------------------------------------------------------------------------------------
# construction and validation


def test_from_spec_reads_short_and_full_weekday_names_and_split_days() -> None:
    calendar = BusinessCalendar.from_spec(
        "support",
        {
            "timezone": "Europe/Berlin",
            "hours": {
                "monday": ["09:00-17:00"],
                "tue": ["13:00-17:00", "09:00-12:00"],
                "Sat": [],
            },
        },
    )
    assert calendar.hours[0] == ((time(9), time(17)),)
    assert calendar.hours[1] == ((time(9), time(12)), (time(13), time(17)))
    assert calendar.hours[5] == ()
    assert calendar.hours[6] == ()  # not mentioned: closed
    assert calendar.timezone == "Europe/Berlin"


def test_24_00_is_midnight_at_the_end_of_the_day() -> None:
    calendar = sundays_only("18:00-24:00", "Europe/Berlin")
    assert calendar.hours[6] == ((time(18), time(0)),)
    # Sunday 2026-03-01 18:00 -> Monday 00:00 = 6 h
    assert calendar.business_seconds_between(berlin(2026, 3, 1), berlin(2026, 3, 2, 12)) == 6 * HOUR
    assert calendar.is_open(berlin(2026, 3, 1, 23, 59, 59))
    assert not calendar.is_open(berlin(2026, 3, 2, 0, 0))


def test_from_spec_accepts_yaml_native_values_and_closures_in_any_zone() -> None:
    calendar = BusinessCalendar.from_spec(
        "office",
        {
            "timezone": "Europe/Berlin",
            "hours": {day: ["09:00-17:00"] for day in WEEKDAYS},
            "holidays": {"country": "DE", "subdivision": None, "dates": [date(2026, 12, 24)]},
            "closures": [
                {"from": datetime(2026, 12, 30, 8, 0, tzinfo=timezone.utc), "to": "2026-12-30T10:00:00Z"},
            ],
        },
    )
    assert calendar.extra_holidays == frozenset({date(2026, 12, 24)})
    # closure 09:00-11:00 Berlin (08:00-10:00 UTC) on Wednesday 2026-12-30: 8 h - 2 h = 6 h
    assert calendar.business_seconds_between(berlin(2026, 12, 30), berlin(2026, 12, 31)) == 6 * HOUR


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"timezone": "Mars/Olympus_Mons", "hours": {}}, "unknown timezone 'Mars/Olympus_Mons'"),
        ({"timezone": "", "hours": {}}, "timezone must be an IANA name"),
        ({"hours": {}}, "missing timezone"),
        ({"timezone": "UTC"}, "missing hours"),
        ({"timezone": "UTC", "hours": {}, "opening": {}}, "unknown key"),
        ({"timezone": "UTC", "hours": {"mon": ["17:00-09:00"]}}, "Monday interval '17:00-09:00' ends before it starts"),
        ({"timezone": "UTC", "hours": {"mon": ["09:00-09:00"]}}, "ends before it starts"),
        (
            {"timezone": "UTC", "hours": {"tue": ["09:00-13:00", "12:00-17:00"]}},
            "Tuesday intervals 09:00-13:00 and 12:00-17:00 overlap",
        ),
        ({"timezone": "UTC", "hours": {"mon": ["25:00-26:00"]}}, "invalid time of day"),
        ({"timezone": "UTC", "hours": {"mon": ["24:00-24:00"]}}, "cannot start at 24:00"),
        ({"timezone": "UTC", "hours": {"mon": ["9-17"]}}, "not of the form 'HH:MM-HH:MM'"),
        ({"timezone": "UTC", "hours": {"mon": [900]}}, "must be a string"),
        ({"timezone": "UTC", "hours": {"funday": []}}, "unknown weekday 'funday'"),
        ({"timezone": "UTC", "hours": {"mon": [], "Monday": []}}, "Monday is given twice"),
        ({"timezone": "UTC", "hours": {}, "holidays": {"country": "XX"}}, "unknown holiday country 'XX'"),
        (
            {"timezone": "UTC", "hours": {}, "holidays": {"country": "DE", "subdivision": "ZZ"}},
            "unknown subdivision 'ZZ' for holiday country 'DE'",
        ),
        ({"timezone": "UTC", "hours": {}, "holidays": {"subdivision": "BY"}}, "without a country"),
        ({"timezone": "UTC", "hours": {}, "holidays": {"dates": ["24.12.2026"]}}, "not an ISO date"),
        (
            {"timezone": "UTC", "hours": {}, "closures": [{"from": "2026-12-31T12:00", "to": "2026-12-31T11:00"}]},
            "does not end after it starts",
        ),
        ({"timezone": "UTC", "hours": {}, "closures": [{"from": "2026-12-31T12:00"}]}, "needs both 'from' and 'to'"),
        (
            {"timezone": "UTC", "hours": {}, "closures": [{"from": "2026-12-31", "to": "2027-01-01"}]},
            "whole days belong in holidays.dates",
        ),
    ],
)
def test_from_spec_rejects_bad_input_precisely(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        BusinessCalendar.from_spec("support", spec)


def test_constructor_validates_like_from_spec() -> None:
    with pytest.raises(ValueError, match="ends before it starts"):
        BusinessCalendar("c", "UTC", {0: ((time(17), time(9)),)})
    with pytest.raises(ValueError, match="weekdays 0"):
        BusinessCalendar("c", "UTC", {7: ()})
    with pytest.raises(ValueError, match="timezone-aware"):
        BusinessCalendar("c", "UTC", {}, closures=((datetime(2026, 1, 1), datetime(2026, 1, 2)),))
    with pytest.raises(ValueError, match="unknown timezone"):
        BusinessCalendar("c", "Nowhere/City", {})


def test_calendars_are_hashable_values() -> None:
    assert office() == office()
    assert hash(office()) == hash(office())
    assert office() != office(subdivision="BY")


@pytest.mark.parametrize("method", ["is_open", "between_start", "between_end", "add", "intervals"])
def test_naive_datetimes_are_rejected(method: str) -> None:
    calendar = office()
    naive = datetime(2026, 3, 6, 16, 0)
    aware = berlin(2026, 3, 6, 16, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        if method == "is_open":
            calendar.is_open(naive)
        elif method == "between_start":
            calendar.business_seconds_between(naive, aware)
        elif method == "between_end":
            calendar.business_seconds_between(aware, naive)
        elif method == "add":
            calendar.add_business_seconds(naive, 60)
        else:
            calendar.open_intervals(aware, naive)  # checked at the call, before iteration


@pytest.mark.parametrize("seconds", [-1, float("nan"), float("inf")])
def test_add_rejects_negative_and_non_finite_amounts(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        office().add_business_seconds(berlin(2026, 3, 6, 16), seconds)


def test_add_on_a_calendar_without_hours_fails_instead_of_looping() -> None:
    closed = BusinessCalendar.from_spec("closed", {"timezone": "UTC", "hours": {}})
    assert closed.business_seconds_between(berlin(2026, 1, 1), berlin(2027, 1, 1)) == 0
    with pytest.raises(ValueError, match="no business hours"):
        closed.add_business_seconds(berlin(2026, 1, 1), 1)


# --------------------------------------------------------------------------------------------
# worked examples (Europe/Berlin, Mon-Fri 09:00-17:00, German holidays)


def test_friday_afternoon_plus_four_hours_is_monday_noon() -> None:
    # Fri 2026-03-06 16:00-17:00 = 1 h, Mon 2026-03-09 09:00-12:00 = 3 h
    calendar = office()
    due = calendar.add_business_seconds(berlin(2026, 3, 6, 16), 4 * HOUR)
    assert due == berlin(2026, 3, 9, 12)
    assert due.tzinfo == BERLIN
    assert calendar.business_seconds_between(berlin(2026, 3, 6, 16), berlin(2026, 3, 9, 12)) == 4 * HOUR


def test_start_in_another_zone_gives_the_same_instant() -> None:
    # 10:00 EST (UTC-5) = 15:00 UTC = 16:00 CET
    due = office().add_business_seconds(datetime(2026, 3, 6, 10, tzinfo=NEW_YORK), 4 * HOUR)
    assert due == berlin(2026, 3, 9, 12)
    assert due.tzinfo == BERLIN


def test_friday_before_a_monday_holiday() -> None:
    # Fri 2026-05-22 16:00-17:00 = 1 h; Sat/Sun closed; Mon 2026-05-25 Whit Monday (DE holiday);
    # Tue 2026-05-26 09:00-12:00 = 3 h
    calendar = office()
    assert calendar.add_business_seconds(berlin(2026, 5, 22, 16), 4 * HOUR) == berlin(2026, 5, 26, 12)
    assert not calendar.is_open(berlin(2026, 5, 25, 10))
    assert calendar.business_seconds_between(berlin(2026, 5, 22, 9), berlin(2026, 5, 27, 9)) == 16 * HOUR


def test_ticket_opened_on_saturday_counts_from_monday_nine() -> None:
    calendar = office()
    opened = berlin(2026, 3, 7, 10)  # Saturday
    assert not calendar.is_open(opened)
    assert calendar.business_seconds_between(opened, berlin(2026, 3, 9, 9)) == 0
    assert calendar.business_seconds_between(opened, berlin(2026, 3, 9, 10, 30)) == 1.5 * HOUR
    assert calendar.add_business_seconds(opened, 2 * HOUR) == berlin(2026, 3, 9, 11)
    assert calendar.add_business_seconds(opened, 1) == berlin(2026, 3, 9, 9, 0, 1)


def test_christmas_eve_as_extra_holiday() -> None:
    calendar = office(dates=["2026-12-24"])
    # Wed 12-23 16:00-17:00 = 1 h; Thu 12-24 extra; Fri 12-25 Christmas; Sat/Sun; Mon 12-28 09:00-10:00
    assert calendar.add_business_seconds(berlin(2026, 12, 23, 16), 2 * HOUR) == berlin(2026, 12, 28, 10)
    assert not calendar.is_open(berlin(2026, 12, 24, 10))
    # Wed 12-23 8 h + Mon 12-28 8 h
    assert calendar.business_seconds_between(berlin(2026, 12, 23), berlin(2026, 12, 29)) == 16 * HOUR
    assert office().is_open(berlin(2026, 12, 24, 10))  # without the extra date: a normal Thursday


def test_new_years_eve_afternoon_closure() -> None:
    calendar = office(closures=[{"from": "2026-12-31T12:00", "to": "2026-12-31T24:00"}])
    assert calendar.is_open(berlin(2026, 12, 31, 11, 59, 59))
    assert not calendar.is_open(berlin(2026, 12, 31, 12))
    # Thu 12-31 09:00-12:00 = 3 h; Fri 2027-01-01 New Year; Sat/Sun
    assert calendar.business_seconds_between(berlin(2026, 12, 31, 9), berlin(2027, 1, 4, 9)) == 3 * HOUR
    # 11:00-12:00 = 1 h, then Mon 2027-01-04 09:00-10:00
    assert calendar.add_business_seconds(berlin(2026, 12, 31, 11), 2 * HOUR) == berlin(2027, 1, 4, 10)
    assert list(calendar.open_intervals(berlin(2026, 12, 31), berlin(2027, 1, 5))) == [
        (berlin(2026, 12, 31, 9), berlin(2026, 12, 31, 12)),
        (berlin(2027, 1, 4, 9), berlin(2027, 1, 4, 17)),
    ]


def test_german_unity_day_and_state_holidays() -> None:
    every_day = office(days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    # 2026-10-03 is a Saturday: closed as a holiday even on a 7-day calendar; Sunday 10-04 open
    assert not every_day.is_open(berlin(2026, 10, 3, 10))
    assert every_day.business_seconds_between(berlin(2026, 10, 3), berlin(2026, 10, 5)) == 8 * HOUR
    # 2025-10-03 is a Friday
    assert not office().is_open(berlin(2025, 10, 3, 10))
    # Epiphany, Tue 2026-01-06: a holiday in Bavaria, a working day in Berlin (BE)
    assert office(subdivision="BY").business_seconds_between(berlin(2026, 1, 6), berlin(2026, 1, 7)) == 0
    assert office(subdivision="BE").business_seconds_between(berlin(2026, 1, 6), berlin(2026, 1, 7)) == 8 * HOUR


def test_assumption_day_follows_the_holidays_library_for_bavaria() -> None:
    # 2026-08-15 is a Saturday, so use a 7-day calendar.  holidays lists Assumption Day for BY only
    # in its "catholic" category (not the default "public" one), so today it is a working day.
    every_day = office(subdivision="BY", days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    listed = date(2026, 8, 15) in holidays.country_holidays("DE", subdiv="BY", years=2026)
    assert every_day.is_open(berlin(2026, 8, 15, 10)) is not listed


def test_holidays_are_computed_for_whatever_year_is_needed() -> None:
    calendar = office(timezone_name="America/New_York", country="US")
    # Thanksgiving: Thu 2026-11-26 and Thu 2031-11-27
    assert not calendar.is_open(datetime(2026, 11, 26, 10, tzinfo=NEW_YORK))
    assert not calendar.is_open(datetime(2031, 11, 27, 10, tzinfo=NEW_YORK))
    assert calendar.is_open(datetime(2031, 11, 28, 10, tzinfo=NEW_YORK))
    # New Year's Day 2022 (Saturday) is observed on Friday 2021-12-31
    assert not calendar.is_open(datetime(2021, 12, 31, 10, tzinfo=NEW_YORK))


def test_split_day_and_earliest_due_instant() -> None:
    calendar = BusinessCalendar.from_spec(
        "split", {"timezone": "Europe/Berlin", "hours": {"tue": ["09:00-12:00", "13:00-17:00"]}}
    )
    # Tue 2026-03-10: 09-12 + 13-17 = 7 h
    assert calendar.business_seconds_between(berlin(2026, 3, 10, 8), berlin(2026, 3, 10, 18)) == 7 * HOUR
    # 11-12 = 1 h, 13-14 = 1 h
    assert calendar.add_business_seconds(berlin(2026, 3, 10, 11), 2 * HOUR) == berlin(2026, 3, 10, 14)
    # used up exactly at the lunch break: due at 12:00, not at 13:00
    assert calendar.add_business_seconds(berlin(2026, 3, 10, 11), HOUR) == berlin(2026, 3, 10, 12)
    assert calendar.is_open(berlin(2026, 3, 10, 9))
    assert not calendar.is_open(berlin(2026, 3, 10, 12, 30))
    assert calendar.is_open(berlin(2026, 3, 10, 13))
    assert not calendar.is_open(berlin(2026, 3, 10, 17))


def test_adding_zero_returns_the_start_even_when_closed() -> None:
    saturday = datetime(2026, 3, 7, 9, tzinfo=timezone.utc)
    result = office().add_business_seconds(saturday, 0)
    assert result == saturday
    assert result.tzinfo == BERLIN


def test_between_is_zero_for_empty_or_reversed_spans() -> None:
    calendar = office()
    assert calendar.business_seconds_between(berlin(2026, 3, 9, 10), berlin(2026, 3, 9, 10)) == 0
    assert calendar.business_seconds_between(berlin(2026, 3, 9, 12), berlin(2026, 3, 9, 10)) == 0
    assert list(calendar.open_intervals(berlin(2026, 3, 9, 12), berlin(2026, 3, 9, 10))) == []


def test_sub_second_precision_is_exact() -> None:
    calendar = office()
    start = berlin(2026, 3, 9, 16, 59, 59, 999_999)
    assert calendar.business_seconds_between(start, berlin(2026, 3, 10, 9, 0, 0, 1)) == 0.000002
    assert calendar.add_business_seconds(start, 0.000002) == berlin(2026, 3, 10, 9, 0, 0, 1)


def test_open_intervals_are_clipped_ordered_and_maximal() -> None:
    calendar = office()
    # Fri 2026-03-06 12:00 .. Tue 2026-03-10 10:00
    assert list(calendar.open_intervals(berlin(2026, 3, 6, 12), berlin(2026, 3, 10, 10))) == [
        (berlin(2026, 3, 6, 12), berlin(2026, 3, 6, 17)),
        (berlin(2026, 3, 9, 9), berlin(2026, 3, 9, 17)),
        (berlin(2026, 3, 10, 9), berlin(2026, 3, 10, 10)),
    ]
    # whole days touching at midnight (Mon 00:00-24:00, Tue 00:00-24:00) form one period,
    # here across a month boundary: Mon 2026-03-30 .. Wed 2026-04-01
    two_days = BusinessCalendar.from_spec(
        "two", {"timezone": "Europe/Berlin", "hours": {"mon": ["00:00-24:00"], "tue": ["00:00-24:00"]}}
    )
    assert list(two_days.open_intervals(berlin(2026, 3, 28), berlin(2026, 4, 5))) == [
        (berlin(2026, 3, 30), berlin(2026, 4, 1)),
    ]


# --------------------------------------------------------------------------------------------
# daylight-saving time


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        ("Europe/Berlin", date(2026, 3, 29), 23),  # 02:00 CET -> 03:00 CEST
        ("Europe/Berlin", date(2026, 10, 25), 25),  # 03:00 CEST -> 02:00 CET
        ("America/New_York", date(2026, 3, 8), 23),  # 02:00 EST -> 03:00 EDT
        ("America/New_York", date(2026, 11, 1), 25),  # 02:00 EDT -> 01:00 EST
        ("Europe/Berlin", date(2026, 3, 22), 24),  # an ordinary Sunday
    ],
)
def test_whole_day_on_dst_change_counts_real_hours(zone: str, day: date, hours: int) -> None:
    tz = ZoneInfo(zone)
    calendar = sundays_only("00:00-24:00", zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    assert calendar.business_seconds_between(start - timedelta(hours=6), end + timedelta(hours=6)) == hours * HOUR
    assert calendar.add_business_seconds(start, hours * HOUR) == end
    assert list(calendar.open_intervals(start - timedelta(hours=6), end + timedelta(hours=6))) == [(start, end)]


def test_always_open_berlin_is_elapsed_time_across_dst() -> None:
    calendar = BusinessCalendar.always_open("Europe/Berlin")
    # 2026-03-29 00:00 CET + 3 real hours = 04:00 CEST (02:00-03:00 does not exist)
    assert calendar.add_business_seconds(berlin(2026, 3, 29), 3 * HOUR) == berlin(2026, 3, 29, 4)
    # 2026-10-25 00:00 CEST (22:00 UTC) + 3 h = 01:00 UTC = 02:00 CET (the second 02:00)
    due = calendar.add_business_seconds(berlin(2026, 10, 25), 3 * HOUR)
    assert utc(due) == datetime(2026, 10, 25, 1, tzinfo=timezone.utc)
    assert (due.hour, due.fold) == (2, 1)
    # March 2026 in Berlin: 31 days minus the skipped hour
    assert calendar.business_seconds_between(berlin(2026, 3, 1), berlin(2026, 4, 1)) == (31 * 24 - 1) * HOUR


def test_opening_inside_the_skipped_hour_opens_when_the_clock_jumps() -> None:
    # 2026-03-29 Berlin: 02:00 CET is followed by 03:00 CEST (01:00 UTC).  02:30 never shows on a clock;
    # the desk opens at the transition, 03:00 CEST, and is open until 05:00 CEST: 2 h.
    calendar = sundays_only("02:30-05:00", "Europe/Berlin")
    assert calendar.business_seconds_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 2 * HOUR
    assert not calendar.is_open(datetime(2026, 3, 29, 0, 59, 59, tzinfo=timezone.utc))
    assert calendar.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc))
    assert list(calendar.open_intervals(berlin(2026, 3, 29), berlin(2026, 3, 30))) == [
        (datetime(2026, 3, 29, 1, tzinfo=timezone.utc), datetime(2026, 3, 29, 3, tzinfo=timezone.utc)),
    ]
    # an ordinary Sunday: 2.5 h
    assert calendar.business_seconds_between(berlin(2026, 3, 22), berlin(2026, 3, 23)) == 2.5 * HOUR


def test_closing_inside_the_skipped_hour_closes_when_the_clock_jumps() -> None:
    # 01:00 CET (00:00 UTC) .. transition at 01:00 UTC = 1 h
    calendar = sundays_only("01:00-02:30", "Europe/Berlin")
    assert calendar.business_seconds_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == HOUR
    assert not calendar.is_open(datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc))
    # with an opening right after the jump the two periods touch and merge: 01:00 CET .. 05:00 CEST = 3 h
    two = BusinessCalendar.from_spec(
        "two", {"timezone": "Europe/Berlin", "hours": {"sun": ["01:00-02:30", "03:00-05:00"]}}
    )
    assert two.business_seconds_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 3 * HOUR
    assert list(two.open_intervals(berlin(2026, 3, 29), berlin(2026, 3, 30))) == [
        (berlin(2026, 3, 29, 1), berlin(2026, 3, 29, 5)),
    ]


def test_interval_wholly_inside_the_skipped_hour_is_empty() -> None:
    calendar = sundays_only("02:10-02:50", "Europe/Berlin")
    assert calendar.business_seconds_between(berlin(2026, 3, 29), berlin(2026, 3, 30)) == 0
    assert list(calendar.open_intervals(berlin(2026, 3, 29), berlin(2026, 3, 30))) == []
    assert calendar.business_seconds_between(berlin(2026, 3, 22), berlin(2026, 3, 23)) == 40 * 60


def test_skipped_hour_in_new_york() -> None:
    # 2026-03-08: 02:00 EST -> 03:00 EDT (07:00 UTC); 02:30-04:00 opens at 03:00 EDT: 1 h
    calendar = sundays_only("02:30-04:00", "America/New_York")
    start = datetime(2026, 3, 8, tzinfo=NEW_YORK)
    assert calendar.business_seconds_between(start, start + timedelta(days=1)) == HOUR
    assert calendar.add_business_seconds(start, 60) == datetime(2026, 3, 8, 7, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("zone", "day", "interval", "seconds"),
    [
        # Berlin 2026-10-25: 02:00-03:00 happens twice (CEST, then CET)
        ("Europe/Berlin", date(2026, 10, 25), "02:00-03:00", 2 * HOUR),  # 00:00 UTC .. 02:00 UTC
        ("Europe/Berlin", date(2026, 10, 25), "02:30-03:00", 1.5 * HOUR),  # first 02:30 (00:30 UTC) .. 02:00 UTC
        ("Europe/Berlin", date(2026, 10, 25), "01:00-02:30", 1.5 * HOUR),  # 23:00 UTC .. first 02:30 (00:30 UTC)
        ("Europe/Berlin", date(2026, 10, 25), "00:00-04:00", 5 * HOUR),
        # New York 2026-11-01: 01:00-02:00 happens twice (EDT, then EST)
        ("America/New_York", date(2026, 11, 1), "01:00-02:00", 2 * HOUR),  # 05:00 UTC .. 07:00 UTC
        ("America/New_York", date(2026, 11, 1), "00:00-03:00", 4 * HOUR),
    ],
)
def test_repeated_hour_counts_both_real_hours(zone: str, day: date, interval: str, seconds: float) -> None:
    tz = ZoneInfo(zone)
    calendar = sundays_only(interval, zone)
    start = datetime.combine(day, time(0), tzinfo=tz)
    assert calendar.business_seconds_between(start, start + timedelta(days=1)) == seconds


def test_is_open_in_the_repeated_hour() -> None:
    calendar = sundays_only("02:30-03:00", "Europe/Berlin")
    # open from the first 02:30 (00:30 UTC) through both 02:30-03:00 stretches until 02:00 UTC
    assert not calendar.is_open(datetime(2026, 10, 25, 0, 29, tzinfo=timezone.utc))
    assert calendar.is_open(datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc))
    assert calendar.is_open(datetime(2026, 10, 25, 2, 15, fold=1, tzinfo=BERLIN))  # second 02:15 (01:15 UTC)
    assert not calendar.is_open(datetime(2026, 10, 25, 2, 0, tzinfo=timezone.utc))


def test_a_skipped_date_has_no_open_time() -> None:
    # Pacific/Apia jumped from 2011-12-29 24:00 (UTC-10) to 2011-12-31 00:00 (UTC+14): 30 Dec never
    # happened.  29 Dec 00:00 = 10:00 UTC on the 29th, 31 Dec 00:00 = 10:00 UTC on the 30th.
    apia = ZoneInfo("Pacific/Apia")
    start, end = datetime(2011, 12, 29, tzinfo=apia), datetime(2011, 12, 31, tzinfo=apia)
    assert BusinessCalendar.always_open("Pacific/Apia").business_seconds_between(start, end) == 24 * HOUR
    daily = office(timezone_name="Pacific/Apia", country=None, days=("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    # 29 Dec 09-17 and 31 Dec 09-17; nothing for 30 Dec
    assert daily.business_seconds_between(start, datetime(2012, 1, 1, tzinfo=apia)) == 16 * HOUR
    # Thu 29 Dec 16:00 + 2 h = 1 h on the 29th, then Sat 31 Dec 10:00
    assert daily.add_business_seconds(datetime(2011, 12, 29, 16, tzinfo=apia), 2 * HOUR) == datetime(
        2011, 12, 31, 10, tzinfo=apia
    )


# --------------------------------------------------------------------------------------------
# long spans


def test_five_years_of_calendar_time() -> None:
    # 2024-01-01 .. 2029-01-01: 366 + 365 + 365 + 365 + 366 = 1827 days
    expected = 1827 * 86_400
    assert expected == 157_852_800
    utc = BusinessCalendar.always_open()
    assert utc.business_seconds_between(
        datetime(2024, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
    ) == expected
    # in Berlin both ends are in winter time, so the DST hours cancel out
    assert BusinessCalendar.always_open("Europe/Berlin").business_seconds_between(
        berlin(2024, 1, 1), berlin(2029, 1, 1)
    ) == expected


def test_five_years_of_weekday_office_hours() -> None:
    # 1827 days = exactly 261 weeks -> 1305 weekdays of 8 h
    calendar = office(timezone_name="UTC", country=None)
    start, end = datetime(2024, 1, 1, tzinfo=UTC), datetime(2029, 1, 1, tzinfo=UTC)
    assert calendar.business_seconds_between(start, end) == 1305 * 8 * HOUR
    assert calendar.add_business_seconds(start, 1305 * 8 * HOUR) == datetime(2028, 12, 29, 17, tzinfo=UTC)


def test_one_year_with_and_without_national_holidays() -> None:
    # 2026 starts on a Thursday: 52 weeks + 1 day -> 261 weekdays
    start, end = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    assert office(timezone_name="UTC", country=None).business_seconds_between(start, end) == 261 * 8 * HOUR
    # DE weekday holidays 2026: Jan 1, Apr 3, Apr 6, May 1, May 14, May 25, Dec 25 (Oct 3 and Dec 26 are Saturdays)
    assert office(timezone_name="UTC").business_seconds_between(start, end) == 254 * 8 * HOUR


def test_one_thousand_business_hours() -> None:
    # 1000 h / 8 h = 125 weekdays = 25 weeks: Mon 2026-01-05 09:00 -> the Friday of week 25,
    # 2026-01-05 + 172 days = 2026-06-26, at 17:00
    calendar = office(timezone_name="UTC", country=None)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)
    due = calendar.add_business_seconds(start, 1000 * HOUR)
    assert due == datetime(2026, 6, 26, 17, tzinfo=UTC)
    assert calendar.business_seconds_between(start, due) == 1000 * HOUR


# --------------------------------------------------------------------------------------------
# properties

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "UTC")
REGIONS: tuple[tuple[str | None, str | None], ...] = ((None, None), ("DE", None), ("DE", "BY"), ("US", None))
# minutes of the day around DST changes and office hours, so the generated hours hit the edge cases
EDGE_MINUTES = (0, 60, 90, 120, 150, 180, 210, 540, 720, 780, 1020, 1439, 1440)
# instants around the DST changes of the zones above
DST_CHANGES = (
    datetime(2026, 3, 29, 1, tzinfo=timezone.utc),
    datetime(2026, 10, 25, 1, tzinfo=timezone.utc),
    datetime(2026, 3, 8, 7, tzinfo=timezone.utc),
    datetime(2026, 11, 1, 6, tzinfo=timezone.utc),
)


def _clock(minute: int) -> time:
    return time(0) if minute == 1440 else time(minute // 60, minute % 60)


@st.composite
def day_hours(draw: st.DrawFn) -> tuple[tuple[time, time], ...]:
    points = sorted(
        draw(st.lists(st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, 1440)), unique=True, max_size=6))
    )
    pairs = list(zip(points[::2], points[1::2]))
    return tuple((_clock(a), _clock(b)) for a, b in pairs)


@st.composite
def calendars(draw: st.DrawFn, zones: tuple[str, ...] = ZONES, with_closures: bool = True) -> BusinessCalendar:
    zone = draw(st.sampled_from(zones))
    hours = {day: draw(day_hours()) for day in range(7)}
    country, subdivision = draw(st.sampled_from(REGIONS))
    extra = draw(st.frozensets(st.dates(date(2026, 1, 1), date(2026, 12, 31)), max_size=4))
    closures: list[tuple[datetime, datetime]] = []
    if with_closures:
        for _ in range(draw(st.integers(0, 3))):
            begin = draw(instants())
            closures.append((begin, shifted(begin, draw(st.timedeltas(timedelta(minutes=1), timedelta(days=3))))))
    return BusinessCalendar("random", zone, hours, country, subdivision, extra, tuple(closures))


def instants() -> st.SearchStrategy[datetime]:
    anywhere = st.datetimes(
        min_value=datetime(2025, 12, 1),
        max_value=datetime(2027, 2, 1),
        timezones=st.sampled_from([ZoneInfo(zone) for zone in ZONES]),
    )
    near_dst = st.builds(
        lambda anchor, shift, zone: (anchor + shift).astimezone(ZoneInfo(zone)),
        st.sampled_from(DST_CHANGES),
        st.timedeltas(-timedelta(days=2), timedelta(days=2)),
        st.sampled_from(ZONES),
    )
    return st.one_of(anywhere, near_dst)


def spans() -> st.SearchStrategy[timedelta]:
    return st.one_of(
        st.timedeltas(timedelta(0), timedelta(hours=6)),
        st.timedeltas(timedelta(0), timedelta(days=20)),
        st.timedeltas(timedelta(0), timedelta(days=120)),
    )


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


PROPERTY_SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(calendars(), instants(), spans(), spans())
def test_open_time_is_additive(calendar: BusinessCalendar, a: datetime, ab: timedelta, bc: timedelta) -> None:
    b = shifted(a, ab)
    c = shifted(b, bc)
    whole = calendar.business_seconds_between(a, c)
    first = calendar.business_seconds_between(a, b)
    second = calendar.business_seconds_between(b, c)
    assert _us(whole) == _us(first) + _us(second)
    assert whole == pytest.approx(first + second, abs=1e-6)


@PROPERTY_SETTINGS
@given(calendars(), instants(), spans())
def test_open_time_is_bounded_by_elapsed_time(calendar: BusinessCalendar, a: datetime, ab: timedelta) -> None:
    b = shifted(a, ab)
    seconds = calendar.business_seconds_between(a, b)
    assert 0 <= _us(seconds) <= ab // timedelta(microseconds=1)
    assert calendar.business_seconds_between(b, a) == 0


@PROPERTY_SETTINGS
@given(calendars(), instants(), spans())
def test_adding_the_open_time_gives_the_earliest_instant_not_after_the_end(
    calendar: BusinessCalendar, a: datetime, ab: timedelta
) -> None:
    b = shifted(a, ab)
    seconds = calendar.business_seconds_between(a, b)
    due = calendar.add_business_seconds(a, seconds)
    assert utc(a) <= utc(due) <= utc(b)
    assert calendar.business_seconds_between(a, due) == pytest.approx(seconds, abs=1e-6)
    if seconds > 0:
        just_before = shifted(due, -timedelta(microseconds=1))
        assert calendar.business_seconds_between(a, just_before) < seconds


@PROPERTY_SETTINGS
@given(calendars(), instants(), st.floats(min_value=0, max_value=90 * 86_400, allow_nan=False))
def test_adding_then_measuring_round_trips(calendar: BusinessCalendar, a: datetime, seconds: float) -> None:
    assume(any(calendar.hours[day] for day in range(7)))
    due = calendar.add_business_seconds(a, seconds)
    assert due.tzinfo == ZoneInfo(calendar.timezone)
    assert calendar.business_seconds_between(a, due) == pytest.approx(seconds, abs=1e-6)


@PROPERTY_SETTINGS
@given(calendars(), instants())
def test_is_open_agrees_with_a_one_microsecond_window(calendar: BusinessCalendar, at: datetime) -> None:
    window = calendar.business_seconds_between(at, shifted(at, timedelta(microseconds=1)))
    assert calendar.is_open(at) is (window > 0)


@PROPERTY_SETTINGS
@given(calendars(), instants(), spans())
def test_open_intervals_add_up_to_the_open_time(calendar: BusinessCalendar, a: datetime, ab: timedelta) -> None:
    b = shifted(a, ab)
    intervals = list(calendar.open_intervals(a, b))
    total_us = sum((utc(end) - utc(start)) // timedelta(microseconds=1) for start, end in intervals)
    assert total_us == _us(calendar.business_seconds_between(a, b))
    for (start, end), following in zip(intervals, intervals[1:] + [None]):
        assert utc(a) <= utc(start) < utc(end) <= utc(b)
        assert calendar.is_open(start)
        if following is not None:
            assert utc(end) < utc(following[0])  # maximal: touching periods are merged
            assert not calendar.is_open(end)


@settings(max_examples=80, deadline=None)
@given(
    calendars(zones=("UTC", "Asia/Kolkata"), with_closures=False),
    st.datetimes(min_value=datetime(2025, 12, 20), max_value=datetime(2027, 1, 10)),
    st.integers(0, 4 * 1440),
)
def test_matches_minute_by_minute_count_without_dst(calendar: BusinessCalendar, naive: datetime, minutes: int) -> None:
    """Independent oracle: in zones without DST, count open wall-clock minutes one by one."""
    tz = ZoneInfo(calendar.timezone)
    start = naive.replace(second=0, microsecond=0, tzinfo=tz)
    country_holidays = (
        holidays.country_holidays(
            calendar.holiday_country, subdiv=calendar.holiday_subdivision, years=range(2025, 2028)
        )
        if calendar.holiday_country
        else {}
    )
    open_minutes = 0
    for step in range(minutes):
        wall = naive.replace(second=0, microsecond=0) + timedelta(minutes=step)
        if wall.date() in calendar.extra_holidays or wall.date() in country_holidays:
            continue
        minute = wall.hour * 60 + wall.minute
        for opening, closing in calendar.hours[wall.weekday()]:
            low = opening.hour * 60 + opening.minute
            high = 1440 if closing == time(0) else closing.hour * 60 + closing.minute
            if low <= minute < high:
                open_minutes += 1
                break
    assert calendar.business_seconds_between(start, start + timedelta(minutes=minutes)) == open_minutes * 60


# --------------------------------------------------------------------------------------------
# the instant (microsecond) entry points SLA clocks use


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.integers(0, 10**9), st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False),
                 st.integers(0, 10**8).map(lambda n: n / 1e6 + 5e-7)))
def test_seconds_are_rounded_to_microseconds_exactly_and_half_to_even(seconds: float) -> None:
    from fractions import Fraction

    from servicerules.measures.calendar import _round_to_us

    assert _round_to_us(seconds) == round(Fraction(seconds) * 1_000_000)


def _instant(at: datetime) -> int:
    return (utc(at) - datetime(1970, 1, 1, tzinfo=timezone.utc)) // timedelta(microseconds=1)


@PROPERTY_SETTINGS
@given(calendars(), instants(), spans(), st.floats(min_value=0, max_value=30 * 86_400, allow_nan=False))
def test_instant_entry_points_agree_with_the_datetime_ones(
    calendar: BusinessCalendar, a: datetime, ab: timedelta, seconds: float
) -> None:
    b = shifted(a, ab)
    assert calendar.business_seconds_between_us(_instant(a), _instant(b)) == calendar.business_seconds_between(a, b)
    if any(calendar.hours[day] for day in range(7)):
        due = calendar.add_business_seconds(a, seconds)
        due_us = calendar.add_business_seconds_us(_instant(a), seconds)
        assert (due_us, due_us.tzinfo, due_us.fold) == (due, due.tzinfo, due.fold) and utc(due_us) == utc(due)


@PROPERTY_SETTINGS
@given(calendars(), instants(), instants(), spans())
def test_answers_do_not_depend_on_what_was_asked_before(
    calendar: BusinessCalendar, earlier: datetime, a: datetime, ab: timedelta
) -> None:
    # the calendar remembers the month it looked at last; a fresh one must give the same answers
    fresh = BusinessCalendar(calendar.name, calendar.timezone, calendar.hours, calendar.holiday_country,
                             calendar.holiday_subdivision, calendar.extra_holidays, calendar.closures)
    calendar.is_open(earlier)
    b = shifted(a, ab)
    assert calendar.business_seconds_between(a, b) == fresh.business_seconds_between(a, b)
    assert calendar.is_open(b) is fresh.is_open(b)
