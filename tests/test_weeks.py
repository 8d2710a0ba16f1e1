"""ISO weeks (common/weeks.py): 53-week years, year boundaries, parsing and formatting, arithmetic, Copenhagen time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import weeks

DATES = st.dates(min_value=date(1900, 1, 8), max_value=date(2199, 12, 24))


@pytest.mark.parametrize(
    ("year", "count"),
    [(2015, 53), (2019, 52), (2020, 53), (2021, 52), (2024, 52), (2025, 52), (2026, 53), (2032, 53), (2037, 53)],
)
def test_weeks_in_year(year: int, count: int) -> None:
    assert weeks.weeks_in_year(year) == count


def test_2020_w53_is_the_week_of_new_year_2021() -> None:
    monday = weeks.parse_week("2020-W53")
    assert monday == date(2020, 12, 28)
    assert weeks.week_of(date(2021, 1, 1)) == monday
    assert weeks.week_of(date(2021, 1, 3)) == monday  # Sunday, still 2020-W53
    assert weeks.format_week(weeks.week_of(date(2021, 1, 1))) == "2020-W53"
    assert weeks.format_week(weeks.week_of(date(2021, 1, 4))) == "2021-W01"


def test_2024_12_31_is_in_2025_w01() -> None:
    assert weeks.format_week(weeks.week_of(date(2024, 12, 31))) == "2025-W01"
    assert weeks.parse_week("2025-W01") == date(2024, 12, 30)


def test_2026_has_week_53() -> None:
    assert weeks.parse_week("2026-W53") == date(2026, 12, 28)
    assert weeks.format_week(weeks.week_of(date(2027, 1, 3))) == "2026-W53"


@pytest.mark.parametrize(
    "text",
    [
        "2021-W53",
        "2019-W53",
        "2020-W54",
        "2020-W00",
        "2020-W",
        "20-W01",
        "2020-53",
        "W53",
        "",
        "2020-W1x",
        "2020-W01-1",
    ],
)
def test_invalid_weeks_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(weeks.WeekError) as raised:
        weeks.parse_week(text)
    assert str(raised.value)  # names what is wrong


def test_2021_w53_message_says_how_many_weeks_the_year_has() -> None:
    with pytest.raises(weeks.WeekError, match=r"2021 has no week 53 \(it has 52 weeks\)"):
        weeks.parse_week("2021-W53")


@pytest.mark.parametrize(
    ("text", "monday"),
    [
        ("2020-W01", date(2019, 12, 30)),
        ("2020W01", date(2019, 12, 30)),
        ("2020-w1", date(2019, 12, 30)),
        (" 2020-W10 ", date(2020, 3, 2)),
    ],
)
def test_parse_accepts_common_spellings(text: str, monday: date) -> None:
    assert weeks.parse_week(text) == monday


def test_format_pads_the_week_number() -> None:
    assert weeks.format_week(date(2020, 3, 2)) == "2020-W10"
    assert weeks.format_week(date(2019, 12, 30)) == "2020-W01"


@given(DATES)
def test_week_of_is_the_monday_of_the_same_iso_week(day: date) -> None:
    monday = weeks.week_of(day)
    assert monday.weekday() == 0
    assert 0 <= (day - monday).days <= 6
    assert monday.isocalendar()[:2] == day.isocalendar()[:2]


@given(DATES)
def test_parse_format_round_trip(day: date) -> None:
    monday = weeks.week_of(day)
    text = weeks.format_week(monday)
    assert weeks.parse_week(text) == monday
    iso = day.isocalendar()
    assert text == f"{iso.year}-W{iso.week:02d}"


@given(DATES, st.integers(min_value=-400, max_value=400))
def test_add_weeks_and_weeks_between_are_inverse(day: date, n: int) -> None:
    monday = weeks.week_of(day)
    later = weeks.add_weeks(monday, n)
    assert later.weekday() == 0
    assert weeks.weeks_between(monday, later) == n
    assert weeks.weeks_between(day, later + timedelta(days=6)) == n  # any day of either week


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        ("2020-W52", 1, "2020-W53"),
        ("2020-W53", 1, "2021-W01"),
        ("2021-W01", -1, "2020-W53"),
        ("2024-W52", 1, "2025-W01"),
        ("2026-W52", 2, "2027-W01"),
        ("2020-W01", 156, "2022-W52"),
        ("2019-W01", 157, "2022-W01"),
    ],
)
def test_add_weeks_across_years(start: str, n: int, expected: str) -> None:
    assert weeks.format_week(weeks.add_weeks(weeks.parse_week(start), n)) == expected


def test_iter_weeks_covers_the_53rd_week() -> None:
    listed = [weeks.format_week(m) for m in weeks.iter_weeks(date(2020, 12, 20), date(2021, 1, 10))]
    assert listed == ["2020-W51", "2020-W52", "2020-W53", "2021-W01"]


def test_week_of_an_aware_datetime_uses_copenhagen_time() -> None:
    # Sunday 23:30 UTC in summer is already Monday 01:30 in Copenhagen: the next week.
    instant = datetime(2020, 6, 14, 23, 30, tzinfo=UTC)
    assert weeks.week_of(instant) == date(2020, 6, 15)
    assert weeks.current_week(instant) == date(2020, 6, 15)


def test_local_midnight_handles_daylight_saving() -> None:
    assert weeks.local_midnight(date(2020, 3, 30)).utcoffset() == timedelta(hours=2)
    assert weeks.local_midnight(date(2020, 3, 23)).utcoffset() == timedelta(hours=1)


def test_danish_week_label() -> None:
    assert weeks.danish_week_label(weeks.parse_week("2020-W53")) == "uge 53"
