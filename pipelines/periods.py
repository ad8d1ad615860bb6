"""Period labels (2026-Q1, 2026-03, 2026), their date ranges and Dagster partition keys."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")


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
    raise ValueError(f"period {label!r}: expected YYYY-Qn (2026-Q1), YYYY-MM (2026-03) or YYYY (2026)")


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
