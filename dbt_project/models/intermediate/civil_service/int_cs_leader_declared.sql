{#- Declared d / đ (dd) / e per leader and evaluation period (spec §4.4). A declaration for the period itself
    wins; under a monthly cadence a quarterly declaration is copied to each month of its quarter (dde_grain). -#}
with leader_criteria as (
    select * from {{ ref('stg_leader_criteria') }}
),

periods as (
    select * from {{ ref('int_cs_periods') }}
),

matched as (
    select
        p.staff_id,
        p.period_start,
        p.period_type,
        lc.criterion,
        lc.ratio,
        row_number() over (
            partition by p.staff_id, p.period_start, p.period_type, lc.criterion
            order by case when lc.period_type = p.period_type and lc.period_start = p.period_start then 1 else 2 end,
                lc.loaded_at desc, lc.source_row_number desc
        ) as match_rank
    from periods as p
    inner join leader_criteria as lc
        on lc.staff_id = p.staff_id
        and (
            (lc.period_type = p.period_type and lc.period_start = p.period_start)
            or (
                lc.period_type = 'quarter' and p.period_type = 'month'
                and lc.period_start = cast(date_trunc('quarter', p.period_start) as date)
            )
        )
),

pivoted as (
    select
        staff_id,
        period_start,
        period_type,
        max(ratio) filter (where criterion = 'd') as d_declared,
        max(ratio) filter (where criterion = 'dd') as dd_declared,
        max(ratio) filter (where criterion = 'e') as e_declared
    from matched
    where match_rank = 1
    group by staff_id, period_start, period_type
),

final as (
    select * from pivoted
)

select * from final
