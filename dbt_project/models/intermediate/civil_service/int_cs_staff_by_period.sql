{#- The HR row of every person for every evaluation period present in the data.
    Snapshot: the latest staff snapshot starting on or before the period's end, else the earliest one.
    Within it, the row whose validity overlaps the period; a mover who changes unit inside a period is placed
    in the unit valid at the period's end (the latest valid_from). -#}
with staff as (
    select * from {{ ref('stg_staff') }}
),

periods as (
    select * from {{ ref('int_cs_periods') }}
),

distinct_periods as (
    select distinct period_start, period_type, period_end, period_label, year from periods
),

snapshots as (
    select distinct snapshot_start from staff
),

period_snapshot as (
    {{ applicable_snapshot(
        'distinct_periods', 'snapshots', snapshot_date='snapshot_start',
        snapshot_key='snapshot_start', period_keys=['period_start', 'period_type']
    ) }}
),

overlapping as (
    select
        p.period_start,
        p.period_type,
        p.period_end,
        p.period_label,
        p.year,
        s.staff_id,
        s.full_name,
        s.unit_code,
        s.job_position_code,
        s.role,
        coalesce(nullif(s.task_group, ''), 'ALL') as task_group,
        s.staff_category,
        s.manager_staff_id,
        row_number() over (
            partition by s.staff_id, p.period_start, p.period_type
            order by s.valid_from desc nulls last, s.source_row_number desc
        ) as row_rank
    from distinct_periods as p
    inner join period_snapshot as ps
        on ps.period_start = p.period_start and ps.period_type = p.period_type
    inner join staff as s
        on s.snapshot_start = ps.snapshot_start
        and (s.valid_from is null or s.valid_from <= p.period_end)
        and (s.valid_to is null or s.valid_to >= p.period_start)
),

final as (
    select * exclude (row_rank) from overlapping where row_rank = 1
)

select * from final
