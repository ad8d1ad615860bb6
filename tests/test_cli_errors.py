"""Operators get one line, never a traceback: unknown, future and current periods, and unexpected errors."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.periods import (
    FIRST_QUARTER,
    PeriodError,
    check_refreshable,
    quarter_of,
    refreshable_quarters,
    today_in_province,
)

FIRST = date.fromisoformat(FIRST_QUARTER)


def test_refreshable_quarters_end_with_the_last_closed_quarter():
    assert [q.label for q in refreshable_quarters(FIRST, date(2026, 12, 4))] == [
        "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    # The last day of a quarter still belongs to it; the quarter closes the day after.
    assert refreshable_quarters(FIRST, date(2026, 12, 31))[-1].label == "2026-Q3"
    assert refreshable_quarters(FIRST, date(2027, 1, 1))[-1].label == "2026-Q4"
    assert refreshable_quarters(FIRST, date(2025, 9, 30)) == []


SPAN = "2025-Q3 to 2026-Q3, and 2026-Q4 as of today"


@pytest.mark.parametrize(("label", "expected"), [
    ("2027-Q2", f"2027-Q2 has not started; periods that can be refreshed: {SPAN}"),
    ("2027", f"2027 has not started; periods that can be refreshed: {SPAN}"),
    ("2025-Q2", f"2025-Q2 is before the first scored quarter; periods that can be refreshed: {SPAN}"),
    ("2024", f"2024 is before the first scored quarter; periods that can be refreshed: {SPAN}"),
    ("2027-01", f"2027-01 has not started; periods that can be refreshed: {SPAN}"),
    ("2026-Q5", "period '2026-Q5': expected YYYY-Qn (2026-Q4), YYYY-MM (2026-11), YYYY-Hn (2026-H2), YYYY-9M "
                "(2026-9M) or YYYY (2026)"),
])
def test_check_refreshable_names_the_periods_that_can_be_refreshed(label, expected):
    with pytest.raises(PeriodError) as err:
        check_refreshable(label, FIRST, date(2026, 12, 4))
    assert str(err.value) == expected


def test_an_as_of_date_in_the_future_or_before_the_period_is_refused():
    with pytest.raises(PeriodError, match="--as-of 2026-12-05 is in the future"):
        check_refreshable("2026-Q4", FIRST, date(2026, 12, 4), as_of=date(2026, 12, 5))
    with pytest.raises(PeriodError, match="--as-of 2026-09-30 is before 2026-Q4 starts"):
        check_refreshable("2026-Q4", FIRST, date(2026, 12, 4), as_of=date(2026, 9, 30))


def test_check_refreshable_accepts_a_closed_quarter_as_final():
    window = check_refreshable(" 2026-Q2 ", FIRST, date(2026, 12, 4))
    assert (window.period.label, window.quarter.label, window.as_of) == ("2026-Q2", "2026-Q2", None)
    assert window.window_end == date(2026, 6, 30)
    assert window.dbt_vars() == {"as_of": "", "window_end": "2026-06-30", "extra_periods": ""}


def test_the_running_quarter_is_scored_as_of_today_or_an_earlier_day():
    window = check_refreshable("2026-Q4", FIRST, date(2026, 12, 4))
    assert (window.quarter.label, window.as_of, window.window_end, window.is_partial) == (
        "2026-Q4", date(2026, 12, 4), date(2026, 12, 4), True)
    assert check_refreshable("2026-Q4", FIRST, date(2026, 12, 4), as_of=date(2026, 11, 30)).window_end == \
        date(2026, 11, 30)
    # A day after the quarter has ended the same refresh is final.
    assert check_refreshable("2026-Q4", FIRST, date(2027, 1, 1)).as_of is None
    # A closed quarter as of a day inside it is a provisional view of that day.
    assert check_refreshable("2026-Q3", FIRST, date(2026, 12, 4), as_of=date(2026, 8, 15)).is_partial


@pytest.mark.parametrize(("label", "quarter", "as_of", "extra", "window_end"), [
    ("2026", "2026-Q4", date(2026, 12, 4), "2026", "2026-12-04"),       # the year-end in December
    ("2026-H2", "2026-Q4", date(2026, 12, 4), "2026-H2", "2026-12-04"),
    ("2026-9M", "2026-Q3", None, "2026-9M", "2026-09-30"),              # closed: runs on its last quarter
    ("2026-11", "2026-Q4", date(2026, 12, 4), "2026-11", "2026-12-04"),  # a closed month of the running quarter
    ("2026-12", "2026-Q4", date(2026, 12, 4), "2026-12", "2026-12-04"),  # the running month
    ("2026-H1", "2026-Q2", None, "2026-H1", "2026-06-30"),
    ("2025", "2025-Q4", None, "2025", "2025-12-31"),
])
def test_longer_periods_run_on_their_last_started_quarter(label, quarter, as_of, extra, window_end):
    window = check_refreshable(label, FIRST, date(2026, 12, 4))
    assert (window.quarter.label, window.as_of, window.extra_periods, window.window_end.isoformat()) == (
        quarter, as_of, [extra], window_end)


def test_partitions_include_the_running_quarter():
    from datetime import datetime  # noqa: PLC0415

    from pipelines.partitions import quarterly_partitions  # noqa: PLC0415

    keys = quarterly_partitions.get_partition_keys(current_time=datetime(2026, 12, 4, 12))
    assert keys[0] == "2025-07-01"
    assert keys[-1] == "2026-10-01"


def test_cli_refresh_of_a_future_period_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "refresh", "--period", "2099-Q1"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: 2099-Q1 has not started; periods that can be refreshed: 2025-Q3 to ")
    last = refreshable_quarters(FIRST, today_in_province())[-1].label
    assert lines[0].endswith(f"to {last}, and {quarter_of(today_in_province()).label} as of today")


def test_cli_unexpected_error_points_to_a_log_with_the_traceback(tmp_path, monkeypatch):
    import pipelines.runner  # noqa: PLC0415

    def boom(*_args, **_kwargs):
        raise RuntimeError("warehouse.duckdb is damaged\nsecond line of detail")

    monkeypatch.setattr(pipelines.runner, "run_refresh", boom)
    home = tmp_path / "h"
    result = CliRunner().invoke(main, ["--home", str(home), "refresh", "--period", "2026-Q1"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "second line" not in result.output
    assert "error: warehouse.duckdb is damaged; details in " in result.output
    logs = list((home / "logs").glob("error-*.log"))
    assert len(logs) == 1
    text = logs[0].read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError" in text


def test_cli_says_unchanged_when_a_rerun_makes_no_new_version(tmp_path, monkeypatch):
    import pipelines.runner  # noqa: PLC0415

    outcome = pipelines.runner.RefreshOutcome(
        "2026-Q2", True, "0123456789abcdef",
        {"version": 1, "status": "published", "content_hash": "h", "decided_by": "A", "unchanged": True})
    monkeypatch.setattr(pipelines.runner, "run_refresh", lambda *_a, **_k: outcome)
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "refresh", "--period", "2026-Q2"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "2026-Q2: unchanged: inputs and results equal version 1 (published); no new version was made." in text
    assert "published as version" not in result.output
