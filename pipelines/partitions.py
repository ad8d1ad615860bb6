"""The quarterly partitions, declared once and shared by every asset, check, schedule and sensor, and the
window of a run (its period, quarter and as-of date) read from the run's tags."""

from __future__ import annotations

from datetime import date

import dagster as dg

from pipelines.periods import (
    FIRST_QUARTER,
    PeriodError,
    RefreshWindow,
    parse_period,
    quarter_from_partition_key,
    quarters_of,
    today_in_province,
    window_for,
)

# end_offset=1: the partitions include the quarter that is running, scored as of a date (provisional).
quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    start=FIRST_QUARTER,
    cron_schedule="0 0 1 */3 *",
    fmt="%Y-%m-%d",
    timezone="Asia/Ho_Chi_Minh",
    end_offset=1,
)

PERIOD_TAG = "chamdiem/period"  # a period longer than the quarter (2026-H2, 2026-9M, 2026) scored in the run
AS_OF_TAG = "chamdiem/as_of"  # YYYY-MM-DD; absent: today while the period runs, else the period is final


def run_window(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> RefreshWindow:
    """The window of the run: the partition's quarter (or the longer period of its tags) as of the tag's date,
    by default as of today in the province while the period is still running (as the UI launches it)."""
    op_context = getattr(context, "op_execution_context", context)
    quarter = quarter_from_partition_key(op_context.partition_key)
    tags = op_context.run.tags
    period = parse_period(tags[PERIOD_TAG]) if tags.get(PERIOD_TAG) else quarter
    if quarter not in quarters_of(period):
        raise PeriodError(f"run tag {PERIOD_TAG}={period.label} does not contain the partition {quarter.label}")
    as_of = date.fromisoformat(tags[AS_OF_TAG]) if tags.get(AS_OF_TAG) else None
    today = today_in_province()
    if as_of is None and period.end >= today:
        as_of = today
    # a longer period runs on the partition of its last started quarter; the as-of date bounds the window
    window = window_for(period, as_of, max(today, as_of or today))
    return RefreshWindow(window.period, quarter, window.as_of)

