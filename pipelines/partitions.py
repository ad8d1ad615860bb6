"""The quarterly partitions, declared once and shared by every asset, check, schedule and sensor."""

import dagster as dg

FIRST_QUARTER = "2025-07-01"  # 2025-Q3: the province's two-tier map from 1 July 2025

quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    start=FIRST_QUARTER,
    cron_schedule="0 0 1 */3 *",
    fmt="%Y-%m-%d",
    timezone="Asia/Ho_Chi_Minh",
)
