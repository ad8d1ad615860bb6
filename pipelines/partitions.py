"""The quarterly partitions, declared once and shared by every asset, check, schedule and sensor."""

import dagster as dg

from pipelines.periods import FIRST_QUARTER

quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    start=FIRST_QUARTER,
    cron_schedule="0 0 1 */3 *",
    fmt="%Y-%m-%d",
    timezone="Asia/Ho_Chi_Minh",
)
