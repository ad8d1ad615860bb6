"""The quarterly schedule: refresh the previous quarter once its grace period has passed."""


from datetime import date

import dagster as dg

from pipelines.jobs import quarterly_refresh
from pipelines.periods import previous_quarter, quarter_of


def quarterly_schedule(grace_days: int) -> dg.ScheduleDefinition:
    """Runs on day 1 + grace of the first month of each quarter, for the quarter that ended."""
    day = min(28, 1 + grace_days)

    @dg.schedule(
        name="quarterly_refresh_schedule",
        cron_schedule=f"0 6 {day} 1,4,7,10 *",
        job=quarterly_refresh,
        execution_timezone="Asia/Ho_Chi_Minh",
        description=f"Refreshes the previous quarter {grace_days} day(s) after it ends.",
    )
    def _schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        when = context.scheduled_execution_time.date() if context.scheduled_execution_time else date.today()
        quarter = previous_quarter(quarter_of(when))
        return dg.RunRequest(run_key=f"scheduled-{quarter.label}", partition_key=quarter.partition_key,
                             tags={"chamdiem/trigger": "schedule"})

    return _schedule
