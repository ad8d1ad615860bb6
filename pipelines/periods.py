"""Period labels (2026-Q1, 2026-03, 2026), their date ranges and Dagster partition keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_QUARTER = "2025-07-01"  # 2025-Q3: the province's two-tier map from 1 July 2025

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(ValueError):
    """A period label that cannot be read or refreshed; the message is one line for an operator."""


@dataclass(frozen=True, order=True)
class Period:
    """A closed date range with its label and kind (quarter, month, year)."""

    start: date
    end: date  # inclusive last day
    kind: str
    label: str

    @property
    def months(self) -> int:
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    @property
    def partition_key(self) -> str:
        """Dagster quarterly partition key: the first day of the quarter."""
        return self.start.isoformat()


def _month_end(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def parse_period(label: str) -> Period:
    """Parse `YYYY-Qn`, `YYYY-MM` or `YYYY`; raise ValueError naming the expected forms."""
    label = label.strip()
    if m := _QUARTER.match(label):
        year, q = int(m.group(1)), int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        return Period(start, _month_end(year, 3 * q), "quarter", label)
    if m := _MONTH.match(label):
        year, month = int(m.group(1)), int(m.group(2))
        return Period(date(year, month, 1), _month_end(year, month), "month", label)
    if m := _YEAR.match(label):
        year = int(m.group(1))
        return Period(date(year, 1, 1), date(year, 12, 31), "year", label)
    raise PeriodError(f"period {label!r}: expected YYYY-Qn (2026-Q1), YYYY-MM (2026-03) or YYYY (2026)")


def quarter_of(day: date) -> Period:
    """The quarter that contains `day`."""
    return parse_period(f"{day.year}-Q{(day.month - 1) // 3 + 1}")


def quarter_from_partition_key(key: str) -> Period:
    """`2026-01-01` -> 2026-Q1."""
    return quarter_of(date.fromisoformat(key))


def months_of(period: Period) -> list[Period]:
    """The months a period covers, in order."""
    out, year, month = [], period.start.year, period.start.month
    while date(year, month, 1) <= period.end:
        out.append(parse_period(f"{year}-{month:02d}"))
        year, month = year + (month == 12), month % 12 + 1
    return out


def previous_quarter(period: Period) -> Period:
    return quarter_of(period.start - timedelta(days=1))


def labels_for_quarter(period: Period) -> list[str]:
    """Landing period labels a quarterly refresh reads: the quarter, its months, and its year."""
    return [period.label, *(m.label for m in months_of(period)), str(period.start.year)]


def today_in_province() -> date:
    """Today's date in Asia/Ho_Chi_Minh, the province's zone (the partitions use the same zone)."""
    from datetime import datetime  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    return datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()


def refreshable_quarters(first_quarter_start: date, today: date) -> list[Period]:
    """Closed quarters from the first partition up to the last quarter that ended before `today`."""
    out, quarter = [], quarter_of(first_quarter_start)
    while quarter.end < today:
        out.append(quarter)
        quarter = quarter_of(quarter.end + timedelta(days=1))
    return out


def check_refreshable(label: str, first_quarter_start: date, today: date) -> Period:
    """The quarter `label` if it can be refreshed today, else a PeriodError naming what can be."""
    period = parse_period(label)
    closed = refreshable_quarters(first_quarter_start, today)
    span = f"{closed[0].label} to {closed[-1].label}" if closed else "none yet"
    if period.kind != "quarter":
        raise PeriodError(f"refresh takes a quarter such as {closed[-1].label if closed else '2026-Q1'}, "
                          f"not {label!r}; quarters that can be refreshed: {span}")
    if period in closed:
        return period
    if period.start <= today <= period.end:
        raise PeriodError(f"{period.label} is the current quarter (open until {period.end.isoformat()}); "
                          f"quarters that can be refreshed: {span}")
    when = "has not started" if period.start > today else "is before the first scored quarter"
    raise PeriodError(f"{period.label} {when}; quarters that can be refreshed: {span}")
