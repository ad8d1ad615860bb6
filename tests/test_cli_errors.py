"""Operators get one line, never a traceback: unknown, future and current periods, and unexpected errors."""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.periods import FIRST_QUARTER, PeriodError, check_refreshable, refreshable_quarters, today_in_province

FIRST = date.fromisoformat(FIRST_QUARTER)


def test_refreshable_quarters_end_with_the_last_closed_quarter():
    assert [q.label for q in refreshable_quarters(FIRST, date(2026, 12, 4))] == [
        "2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    # The last day of a quarter still belongs to it; the quarter closes the day after.
    assert refreshable_quarters(FIRST, date(2026, 12, 31))[-1].label == "2026-Q3"
    assert refreshable_quarters(FIRST, date(2027, 1, 1))[-1].label == "2026-Q4"
    assert refreshable_quarters(FIRST, date(2025, 9, 30)) == []


@pytest.mark.parametrize(("label", "expected"), [
    ("2026-Q4", "2026-Q4 is the current quarter (open until 2026-12-31); quarters that can be refreshed: "
                "2025-Q3 to 2026-Q3"),
    ("2027-Q2", "2027-Q2 has not started; quarters that can be refreshed: 2025-Q3 to 2026-Q3"),
    ("2025-Q2", "2025-Q2 is before the first scored quarter; quarters that can be refreshed: 2025-Q3 to 2026-Q3"),
    ("2026-11", "refresh takes a quarter such as 2026-Q3, not '2026-11'; quarters that can be refreshed: "
                "2025-Q3 to 2026-Q3"),
    ("2026-Q5", "period '2026-Q5': expected YYYY-Qn (2026-Q1), YYYY-MM (2026-03) or YYYY (2026)"),
])
def test_check_refreshable_names_the_periods_that_can_be_refreshed(label, expected):
    with pytest.raises(PeriodError) as err:
        check_refreshable(label, FIRST, date(2026, 12, 4))
    assert str(err.value) == expected


def test_check_refreshable_accepts_a_closed_quarter():
    assert check_refreshable(" 2026-Q2 ", FIRST, date(2026, 12, 4)).label == "2026-Q2"


def test_cli_refresh_of_a_future_period_is_one_line(tmp_path):
    result = CliRunner().invoke(main, ["--home", str(tmp_path / "h"), "refresh", "--period", "2099-Q1"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0].startswith("error: 2099-Q1 has not started; quarters that can be refreshed: 2025-Q3 to ")
    last = refreshable_quarters(FIRST, today_in_province())[-1].label
    assert lines[0].endswith(f"to {last}")


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
