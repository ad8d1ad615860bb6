"""Period labels (2026-Q1, 2026-03, 2026-H2, 2026-9M, 2026), their date ranges, Dagster partition keys, and
what a refresh of a period as of a date covers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

FIRST_QUARTER = "2025-07-01"  # 2025-Q3: the province's two-tier map from 1 July 2025

_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^(\d{4})$")
_HALF = re.compile(r"^(\d{4})-H([12])$")
_NINE = re.compile(r"^(\d{4})-9M$")
FORMS = "YYYY-Qn (2026-Q4), YYYY-MM (2026-11), YYYY-Hn (2026-H2), YYYY-9M (2026-9M) or YYYY (2026)"


class PeriodError(ValueError):
    """A period label that cannot be read or refreshed; the message is one line for an operator."""


@dataclass(frozen=True, order=True)
class Period:
    """A closed date range with its label and kind (quarter, month, half_year, nine_months, year)."""

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
    """Parse `YYYY-Qn`, `YYYY-MM`, `YYYY-Hn`, `YYYY-9M` or `YYYY`; raise PeriodError naming the forms."""
    label = label.strip()
    if m := _QUARTER.match(label):
        year, q = int(m.group(1)), int(m.group(2))
        start = date(year, 3 * q - 2, 1)
        return Period(start, _month_end(year, 3 * q), "quarter", label)
    if m := _MONTH.match(label):
        year, month = int(m.group(1)), int(m.group(2))
        return Period(date(year, month, 1), _month_end(year, month), "month", label)
    if m := _HALF.match(label):
        year, half = int(m.group(1)), int(m.group(2))
        return Period(date(year, 6 * half - 5, 1), _month_end(year, 6 * half), "half_year", label)
    if m := _NINE.match(label):
        year = int(m.group(1))
        return Period(date(year, 1, 1), _month_end(year, 9), "nine_months", label)
    if m := _YEAR.match(label):
        year = int(m.group(1))
        return Period(date(year, 1, 1), date(year, 12, 31), "year", label)
    raise PeriodError(f"period {label!r}: expected {FORMS}")


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


def quarters_of(period: Period) -> list[Period]:
    """The quarters a period covers, in order (a quarter covers itself)."""
    out, quarter = [], quarter_of(period.start)
    while quarter.start <= period.end:
        out.append(quarter)
        quarter = quarter_of(quarter.end + timedelta(days=1))
    return out


@dataclass(frozen=True)
class RefreshWindow:
    """What one refresh covers: the requested period, the quarter partition that runs, and the as-of date.

    `as_of` is set while the run's quarter is still running (its end is after the as-of date): the quarter is
    scored with the data delivered so far, to `as_of`, and published as provisional (`is_partial`), and so is the
    requested period if it too ends after `as_of`. `window_end` is the last day any data of the run may belong
    to: later deliveries and rows are not read, so re-running an earlier period never sees what came after it.
    """

    period: Period
    quarter: Period
    as_of: date | None

    @property
    def window_end(self) -> date:
        return min(self.as_of, self.quarter.end) if self.as_of else self.quarter.end

    @property
    def is_partial(self) -> bool:
        return self.as_of is not None

    @property
    def extra_periods(self) -> list[str]:
        """Periods other than the quarter scored in the run: a longer one (summed from its quarters) or a month
        (from its quarter's rows): the period itself."""
        return [] if self.period.kind == "quarter" else [self.period.label]

    @property
    def published_labels(self) -> list[str]:
        """The periods a run publishes: its quarter first, then the period asked for when it is another."""
        return list(dict.fromkeys([self.quarter.label, *self.extra_periods]))

    def publication_window(self, label: str) -> tuple[date | None, date]:
        """(as_of, window_end) of the publication of `label`: provisional only if it ends after the as-of date."""
        end = parse_period(label).end
        return (self.as_of if self.as_of and self.as_of < end else None), min(self.window_end, end)

    def dbt_vars(self) -> dict[str, str]:
        return {"as_of": self.as_of.isoformat() if self.as_of else "", "window_end": self.window_end.isoformat(),
                "extra_periods": ",".join(self.extra_periods)}


def window_for(period: Period, as_of: date | None, today: date) -> RefreshWindow:
    """The window of a refresh of `period` as of `as_of` (default: today when the period is still running)."""
    as_of = as_of or today
    last = quarters_of(period)[-1]
    quarter = last if last.start <= as_of else quarter_of(as_of)
    # the run's as-of date is its quarter's: a closed month of the running quarter is final, its quarter not
    return RefreshWindow(period, quarter, as_of if as_of < quarter.end else None)


def check_refreshable(label: str, first_quarter_start: date, today: date, as_of: date | None = None) -> RefreshWindow:
    """The window of a refresh of `label`, or a PeriodError naming what can be refreshed today.

    Closed quarters, the current quarter (as of today or an earlier `as_of`), and months, half-years, nine months
    and years that have started can be refreshed; a period that has not started, one before the first scored
    quarter, or an as-of date in the future cannot.
    """
    period = parse_period(label)
    closed = refreshable_quarters(first_quarter_start, today)
    current = quarter_of(today)
    span = (f"{closed[0].label} to {closed[-1].label}, and {current.label} as of today" if closed
            else f"{current.label} as of today")
    if as_of is not None and as_of > today:
        raise PeriodError(f"--as-of {as_of.isoformat()} is in the future (today is {today.isoformat()} in "
                          "Asia/Ho_Chi_Minh); give today or an earlier date")
    if period.start > today:
        raise PeriodError(f"{period.label} has not started; periods that can be refreshed: {span}")
    if period.end < first_quarter_start:
        raise PeriodError(f"{period.label} is before the first scored quarter; periods that can be refreshed: {span}")
    if as_of is not None and as_of < period.start:
        raise PeriodError(f"--as-of {as_of.isoformat()} is before {period.label} starts ({period.start.isoformat()})")
    return window_for(period, as_of, today)
