-- One row per day with the running number of working days, so a working-day deadline is two equality
-- joins (receipt day, handling day) instead of a range scan per row.
with holidays as (
    select * from {{ ref('int_766_public_holidays') }}
),

compensatory as (
    select * from {{ ref('calendar_compensatory_days') }}
),

bounds as (
    select
        make_date(cast(min(year(calendar_date)) as integer), 1, 1) as first_day,
        make_date(cast(max(year(calendar_date)) as integer), 12, 31) as last_day
    from holidays
),

days as (
    select cast(day as date) as calendar_date
    from bounds,
        range(bounds.first_day, bounds.last_day + interval 1 day, interval 1 day) as r (day)
),

package_swaps as (
    select distinct substitute_working_date as calendar_date
    from holidays
    where substitute_working_date is not null
),

holiday_days as (
    select calendar_date, string_agg(holiday_name, '; ') as holiday_name
    from holidays
    group by calendar_date
),

flagged as (
    select
        d.calendar_date,
        isodow(d.calendar_date) >= 6 as is_weekend,
        h.calendar_date is not null as is_public_holiday,
        h.holiday_name,
        c.is_working_day as override_is_working_day,
        s.calendar_date is not null as is_package_swap_working_day
    from days as d
    left join holiday_days as h on d.calendar_date = h.calendar_date
    left join compensatory as c on d.calendar_date = c.calendar_date
    left join package_swaps as s on d.calendar_date = s.calendar_date
),

classified as (
    select
        calendar_date,
        is_weekend,
        is_public_holiday,
        holiday_name,
        coalesce(
            override_is_working_day,
            case when is_package_swap_working_day then true end,
            not is_weekend and not is_public_holiday
        ) as is_working_day
    from flagged
),

final as (
    select
        calendar_date,
        is_weekend,
        is_public_holiday,
        holiday_name,
        is_working_day,
        -- working days up to and including this day; the n-th working day after day d is the first day
        -- whose number equals number(d) + n
        cast(sum(case when is_working_day then 1 else 0 end) over (order by calendar_date) as integer)
            as working_day_number
    from classified
)

select * from final
