{#- G per civil servant and period (spec §4.1): the approved points of each criterion, taken from the most
    senior assessor (head, then manager, then self) so that self- and manager-assessments are not added up.
    An item counts when 0 <= points <= its maximum (the row's max_points, else the rubric's) and lies on the
    rubric step (g_step by default); G is capped at g_max_points and every rejection is flagged. -#}
with general_criteria as (
    select * from {{ ref('stg_general_criteria') }}
),

rubric as (
    select * from {{ ref('rule_335_g_rubric') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

approved as (
    select
        g.*,
        year(g.period_start) as year,
        row_number() over (
            partition by g.staff_id, g.period_start, g.period_type, g.criterion
            order by case g.assessed_by when 'head' then 1 when 'manager' then 2 when 'self' then 3 else 4 end,
                g.loaded_at desc, g.source_row_number desc
        ) as assessor_rank
    from general_criteria as g
    where g.approved
),

items as (
    select
        a.staff_id,
        a.period_start,
        a.period_type,
        a.criterion,
        a.points,
        least(coalesce(a.max_points, r.max_points), coalesce(r.max_points, a.max_points)) as item_max,
        coalesce(r.step, pa.g_step) as item_step,
        pa.g_max_points,
        a.loaded_at
    from approved as a
    inner join params as pa on pa.year = a.year
    left join rubric as r
        on r.item_id = a.criterion
        and r.rule_set = pa.rule_set
        and r.effective_from <= a.period_start
        and (r.effective_to is null or r.effective_to >= a.period_start)
    where a.assessor_rank = 1
),

validated as (
    select
        *,
        points is not null
        and points >= 0
        and (item_max is null or points <= item_max)
        and abs(points / item_step - round(points / item_step)) < 1e-9 as is_valid_item
    from items
),

per_period as (
    select
        staff_id,
        period_start,
        period_type,
        any_value(g_max_points) as g_max_points,
        coalesce(sum(points) filter (where is_valid_item), 0) as g_valid_sum,
        count(*) filter (where not is_valid_item) as g_invalid_items,
        max(loaded_at) as g_loaded_at
    from validated
    group by staff_id, period_start, period_type
),

final as (
    select
        staff_id,
        period_start,
        period_type,
        least(g_valid_sum, g_max_points) as g_points,
        g_invalid_items,
        g_valid_sum > g_max_points as is_g_over_max,
        g_loaded_at
    from per_period
)

select * from final
