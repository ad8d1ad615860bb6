-- One row per (quarter, feedback item) counted in the quarter, in the state delivered most recently on or
-- before the quarter, with the working-day numbers the 5.2 deadline needs (a join to the calendar, no scan).
with feedback as (
    select * from {{ ref('stg_feedback') }}
),

periods as (
    select * from {{ ref('int_766_periods') }} where period_type in ('quarter', 'month')
),

calendar as (
    select * from {{ ref('int_766_working_day_calendar') }}
),

states as (
    {{ delivery_states('feedback', 'feedback_id') }}
),

state_in_period as (
    select
        p.period_label,
        p.period_start,
        p.period_end,
        p.period_end + interval 1 day - interval 1 second as period_end_ts,
        s.*
    from states as s
    inner join periods as p
        on {{ state_holds_for_period('s', 'p') }}
        and cast(s.received_at as date) <= p.period_end
),

in_population as (
    -- received in the period, or received earlier and not handled before it started
    select *
    from state_in_period
    where cast(received_at as date) >= period_start
        or handled_at is null
        or cast(handled_at as date) >= period_start
),

final as (
    select
        f.period_label,
        f.feedback_id,
        f.unit_code,
        f.dossier_id,
        f.category,
        f.received_at,
        f.due_at,
        f.handled_at,
        f.delivery_period_label,
        cast(f.received_at as date) between f.period_start and f.period_end as is_received_in_period,
        f.handled_at is not null and f.handled_at <= f.period_end_ts as is_handled_by_period_end,
        coalesce(f.dislikes, 0) > coalesce(f.likes, 0) as has_more_dislikes,
        coalesce(f.is_repeat, false) as is_repeat,
        received_day.working_day_number as received_working_day_number,
        handled_day.working_day_number as handled_working_day_number,
        period_end_day.working_day_number as period_end_working_day_number,
        -- feed_due_at basis: handled by the source system's deadline, or still before it at period end
        case
            when f.handled_at is not null and f.handled_at <= f.period_end_ts then f.handled_at <= f.due_at
            else f.due_at >= f.period_end_ts
        end as is_on_time_feed_due_at
    from in_population as f
    left join calendar as received_day on cast(f.received_at as date) = received_day.calendar_date
    left join calendar as handled_day on cast(f.handled_at as date) = handled_day.calendar_date
    left join calendar as period_end_day on f.period_end = period_end_day.calendar_date
)

select * from final
