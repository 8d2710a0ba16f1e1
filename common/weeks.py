"""ISO-8601 weeks: parse and format `YYYY-Www`, Mondays, arithmetic, 53-week years, Copenhagen time.

A week is represented everywhere by the date of its Monday (that is also how it is stored).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
_WEEK_RE = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)


class WeekError(ValueError):
    """A text that is not an ISO week such as `2020-W53`."""


def weeks_in_year(iso_year: int) -> int:
    """52 or 53: the ISO year has week 53 when 28 December falls in it."""
    return date(iso_year, 12, 28).isocalendar().week


def week_monday(iso_year: int, week: int) -> date:
    if not 1 <= week <= weeks_in_year(iso_year):
        raise WeekError(f"{iso_year} has no week {week} (it has {weeks_in_year(iso_year)} weeks)")
    return date.fromisocalendar(iso_year, week, 1)


def parse_week(text: str) -> date:
    """`2020-W53` -> the Monday of that week. Raises WeekError naming what is wrong."""
    match = _WEEK_RE.match(text or "")
    if not match:
        raise WeekError(f"'{text}' is not a week in the form YYYY-Www (e.g. 2020-W53)")
    return week_monday(int(match.group(1)), int(match.group(2)))


def week_of(day: date) -> date:
    """The Monday of the ISO week containing `day`."""
    if isinstance(day, datetime):
        day = day.astimezone(COPENHAGEN).date() if day.tzinfo else day.date()
    return day - timedelta(days=day.weekday())


def format_week(monday: date) -> str:
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def danish_week_label(monday: date) -> str:
    """How Danes write a week: `uge 42`."""
    return f"uge {monday.isocalendar().week}"


def is_monday(day: date) -> bool:
    return day.weekday() == 0


def add_weeks(monday: date, weeks: int) -> date:
    return monday + timedelta(weeks=weeks)


def weeks_between(start: date, end: date) -> int:
    """Number of weeks from the week of `start` to the week of `end` (negative if end is earlier)."""
    return (week_of(end) - week_of(start)).days // 7


def iter_weeks(first: date, last: date) -> Iterator[date]:
    """Every Monday from the week of `first` to the week of `last`, inclusive."""
    current, stop = week_of(first), week_of(last)
    while current <= stop:
        yield current
        current += timedelta(weeks=1)


def now_copenhagen() -> datetime:
    return datetime.now(tz=COPENHAGEN)


def current_week(now: datetime | None = None) -> date:
    return week_of((now or now_copenhagen()).astimezone(COPENHAGEN).date())


def local_midnight(day: date) -> datetime:
    """00:00 Copenhagen time on `day`, as an aware datetime (DST handled by zoneinfo)."""
    return datetime(day.year, day.month, day.day, tzinfo=COPENHAGEN)
