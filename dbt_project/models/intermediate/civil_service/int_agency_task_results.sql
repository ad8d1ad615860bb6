{#- Agencies' task items from the province's task tracking (spec §5.3), per unit and evaluation year (the year
    of the delivery label: tasks are delivered per year). Cancelled tasks are left out; a task counts as on time
    when completed on or before its due date, and as of quality when completed with quality_ok. Percentages
    are over every task not cancelled; a unit without such tasks has no task items (not applicable). -#}
with agency_tasks as (
    select * from {{ ref('stg_agency_tasks') }}
),

tasks as (
    select
        try_cast(left(delivery_period_label, 4) as integer) as year,
        unit_code,
        task_id,
        due_on,
        completed_on,
        quality_ok,
        status,
        row_number() over (partition by task_id order by loaded_at desc, source_row_number desc) as delivery_rank
    from agency_tasks
),

counted as (
    select
        year,
        unit_code,
        count(*) as tasks_assigned,
        count(*) filter (where completed_on is not null and (due_on is null or completed_on <= due_on)) as tasks_on_time,
        count(*) filter (where completed_on is not null and coalesce(quality_ok, false)) as tasks_with_quality
    from tasks
    where delivery_rank = 1 and coalesce(status, '') <> 'cancelled'
    group by year, unit_code
),

final as (
    select
        year,
        unit_code,
        tasks_assigned,
        tasks_on_time,
        tasks_with_quality,
        case when tasks_assigned > 0 then 100.0 * tasks_on_time / tasks_assigned end as tasks_on_time_pct,
        case when tasks_assigned > 0 then 100.0 * tasks_with_quality / tasks_assigned end as tasks_quality_pct
    from counted
)

select * from final
