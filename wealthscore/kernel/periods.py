"""Periods (SPEC §4): a month `2026-10`, a quarter `2026-Q3` or a year `2026`, and their
arithmetic, written once. Everything that names a period (pages, the API, services, SQL
builders, imports) parses it here and asks here which quarter a month is in, which periods
a change touches and in what order they are scored.

Kernel: imports no app.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from .errors import DomainError


@dataclass(frozen=True)
class Period:
    """`2026-10` (month), `2026-Q3` (quarter) or `2026` (year)."""

    code: str
    kind: str  # month | quarter | year
    year: int
    months: tuple[int, ...]

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, self.months[0], 1)

    @property
    def last_day(self) -> dt.date:
        month = self.months[-1]
        return dt.date(self.year, month, calendar.monthrange(self.year, month)[1])


def parse_period(code: str) -> Period:
    """The period a code names; ValueError (translated, naming the code) when it names none.

    Callers that answer a user call `period_from`, which raises the domain error instead."""
    if match := re.fullmatch(r"(\d{4})-(\d{2})", code):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            return month_period(year, month)
    elif match := re.fullmatch(r"(\d{4})-Q([1-4])", code):
        return quarter_period(int(match[1]), int(match[2]))
    elif re.fullmatch(r"\d{4}", code):
        return year_period(int(code))
    raise ValueError(_("%(code)s is not a period (2026-10, 2026-Q3 or 2026).") % {"code": code})


def period_from(code: str, *, field: str = "period") -> Period:
    """The period a user's code names, or the domain error naming `field` (400 in the API,
    a form message on pages): the one place a bad period code becomes a user's error."""
    try:
        return parse_period(code)
    except ValueError as exc:
        raise DomainError(str(exc), field=field) from exc


# The quarter arithmetic, written once: which quarter a month is in, which months a quarter
# has. Pages, services and SQL builders (which take a quarter's days or months as parameters
# from here) call these, never `(month - 1) // 3` of their own.
def quarter_number(month: int) -> int:
    """1 for January to March, …, 4 for October to December."""
    return (month - 1) // 3 + 1


def quarter_months(quarter: int) -> tuple[int, ...]:
    """The months of quarter 1 to 4: (1, 2, 3), …, (10, 11, 12)."""
    return tuple(range(quarter * 3 - 2, quarter * 3 + 1))


def month_period(year: int, month: int) -> Period:
    return Period(f"{year:04d}-{month:02d}", "month", year, (month,))


def quarter_period(year: int, quarter: int) -> Period:
    return Period(f"{year:04d}-Q{quarter}", "quarter", year, quarter_months(quarter))


def year_period(year: int) -> Period:
    return Period(f"{year:04d}", "year", year, tuple(range(1, 13)))


def month_of(day: dt.date) -> Period:
    """The month that contains a day."""
    return month_period(day.year, day.month)


def quarter_of(month: Period | dt.date) -> Period:
    """The quarter that contains a day, a month (or a quarter: itself). A year has none."""
    if isinstance(month, dt.date):
        return quarter_period(month.year, quarter_number(month.month))
    if month.kind == "year":
        raise ValueError(f"a year ({month.code}) is in no quarter")
    return quarter_period(month.year, quarter_number(month.months[0]))


def quarters_of(year: int) -> list[Period]:
    """The four quarters of a year, in order."""
    return [quarter_period(year, quarter) for quarter in range(1, 5)]


def periods_containing(period: Period) -> list[Period]:
    """The period itself, then its quarter (for a month), then its year (unless a year): the
    cards a change to its facts, a veto or a recompute touches, in scoring order."""
    if period.kind == "year":
        return [period]
    containing = [period] if period.kind == "quarter" else [period, quarter_of(period)]
    return [*containing, year_period(period.year)]


def previous_code(code: str, steps: int = 1) -> str:
    """The period of the same kind `steps` before: 2026-01 → 2025-12, 2026-Q1 → 2025-Q4."""
    period = parse_period(code)
    if period.kind == "year":
        return year_period(period.year - steps).code
    if period.kind == "quarter":
        index = period.year * 4 + quarter_number(period.months[0]) - 1 - steps
        return quarter_period(index // 4, index % 4 + 1).code
    index = period.year * 12 + period.months[0] - 1 - steps
    return month_period(index // 12, index % 12 + 1).code


# ---------------------------------------------------------------- what a change touches
def periods_of_year(year: int, through: dt.date | None = None) -> list[str]:
    """Months, then quarters, then the year: the order in which a year is scored (a year
    card reads its quarters). Only months that have ended (or end by `through`)."""
    through = through or timezone.localdate()
    months = [
        code
        for code in (f"{year}-{m:02d}" for m in range(1, 13))
        if parse_period(code).last_day <= through
    ]
    if not months:
        return []
    last_month = int(months[-1][-2:])
    quarters = [quarter.code for quarter in quarters_of(year) if quarter.months[0] <= last_month]
    return [*months, *quarters, str(year)]


def periods_touched(period_code: str) -> list[str]:
    """A month's recompute takes its quarter and its year along (in that order)."""
    return [period.code for period in periods_containing(parse_period(period_code))]


def periods_for_months(months: set[str], through: dt.date | None = None) -> list[str]:
    """The ended months among `months`, then their quarters, then their years: the order a
    recompute takes, since a year card reads its quarters."""
    through = through or timezone.localdate()
    ended = sorted(m for m in months if parse_period(m).last_day <= through)
    quarters = sorted({quarter_of(parse_period(m)).code for m in ended})
    years = sorted({m[:4] for m in ended})
    return [*ended, *quarters, *years]


KIND_ORDER = {"month": 0, "quarter": 1, "year": 2}


def with_dependents(codes: Iterable[str]) -> list[str]:
    """The periods and those computed from them (a month's quarter and year, a quarter's
    year), in scoring order."""
    every = {code for period in codes for code in periods_touched(period)}
    return sorted(every, key=lambda code: (KIND_ORDER[parse_period(code).kind], code))
