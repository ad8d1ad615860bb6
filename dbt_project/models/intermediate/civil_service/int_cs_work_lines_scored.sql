{#- Work items converted to standard products and scored for quantity, quality and progress (spec §4.3).
    k comes from the products snapshot that applies to the period (latest starting on or before the period's
    end, else the earliest), matched on product and the person's job position, else on the product alone.
    Completed units are capped at the assigned quantity. Events recorded on a bundle are spread over its
    completed units one per unit first; each event costs deduction_rate of that unit's points (linear, floor 0)
    or multiplies them by (1 - deduction_rate) (compound). Rows flagged exempt_objective count no events. -#}
with work_items as (
    select * from {{ ref('stg_work_items') }}
),

products as (
    select * from {{ ref('stg_products') }}
),

periods as (
    select * from {{ ref('int_cs_periods') }}
),

staff_by_period as (
    select * from {{ ref('int_cs_staff_by_period') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

product_snapshots as (
    select distinct snapshot_start from products
),

distinct_periods as (
    select distinct period_start, period_type, period_end from periods
),

period_product_snapshot as (
    {{ applicable_snapshot(
        'distinct_periods', 'product_snapshots', snapshot_date='snapshot_start',
        snapshot_key='snapshot_start', period_keys=['period_start', 'period_type']
    ) }}
),

items as (
    select
        w.*,
        p.period_end,
        p.period_label,
        p.year,
        s.job_position_code,
        ps.snapshot_start as product_snapshot_start
    from work_items as w
    inner join periods as p
        on p.staff_id = w.staff_id and p.period_start = w.period_start and p.period_type = w.period_type
    left join period_product_snapshot as ps
        on ps.period_start = w.period_start and ps.period_type = w.period_type
    left join staff_by_period as s
        on s.staff_id = w.staff_id and s.period_start = w.period_start and s.period_type = w.period_type
),

factor_candidates as (
    select
        i.item_id,
        pr.conversion_factor,
        row_number() over (
            partition by i.item_id
            order by (pr.job_position_code = i.job_position_code) desc nulls last, pr.valid_from desc nulls last
        ) as match_rank
    from items as i
    inner join products as pr
        on pr.product_code = i.product_code
        and pr.snapshot_start = i.product_snapshot_start
        and (pr.valid_from is null or pr.valid_from <= i.period_end)
        and (pr.valid_to is null or pr.valid_to >= i.period_start)
),

converted as (
    select
        i.item_id,
        i.staff_id,
        i.period_start,
        i.period_type,
        i.period_label,
        i.year,
        i.product_code,
        i.directing_task,
        f.conversion_factor as k,
        i.assigned_qty,
        least(greatest(coalesce(i.completed_qty, 0), 0), i.assigned_qty) as completed_units,
        case when coalesce(i.exempt_objective, false) then 0 else coalesce(i.quality_fail_count, 0) end as quality_events,
        case when coalesce(i.exempt_objective, false) then 0 else coalesce(i.delay_count, 0) end as delay_events,
        i.loaded_at
    from items as i
    left join factor_candidates as f
        on f.item_id = i.item_id and f.match_rank = 1
),

spread as (
    -- q events on every completed unit, one more on r of them (r < completed units)
    select
        c.*,
        pa.deduction_mode,
        pa.deduction_rate,
        case when c.completed_units > 0 then floor(c.quality_events / c.completed_units) end as quality_q,
        case when c.completed_units > 0 then floor(c.delay_events / c.completed_units) end as delay_q
    from converted as c
    inner join params as pa on pa.year = c.year
),

factors as (
    select
        *,
        quality_events - quality_q * completed_units as quality_r,
        delay_events - delay_q * completed_units as delay_r,
        case when deduction_mode = 'compound' then power(1 - deduction_rate, quality_q)
            else greatest(0, 1 - deduction_rate * quality_q) end as quality_f_q,
        case when deduction_mode = 'compound' then power(1 - deduction_rate, quality_q + 1)
            else greatest(0, 1 - deduction_rate * (quality_q + 1)) end as quality_f_q1,
        case when deduction_mode = 'compound' then power(1 - deduction_rate, delay_q)
            else greatest(0, 1 - deduction_rate * delay_q) end as delay_f_q,
        case when deduction_mode = 'compound' then power(1 - deduction_rate, delay_q + 1)
            else greatest(0, 1 - deduction_rate * (delay_q + 1)) end as delay_f_q1
    from spread
),

scored as (
    select
        item_id,
        staff_id,
        period_start,
        period_type,
        period_label,
        year,
        product_code,
        directing_task,
        k,
        k is null as is_unmatched_product,
        assigned_qty,
        completed_units,
        quality_events,
        delay_events,
        assigned_qty * k as assigned_converted,
        completed_units * k as completed_converted,
        case when completed_units <= 0 then 0
            else ((completed_units - quality_r) * quality_f_q + quality_r * quality_f_q1) * k
        end as quality_converted,
        case when completed_units <= 0 then 0
            else ((completed_units - delay_r) * delay_f_q + delay_r * delay_f_q1) * k
        end as progress_converted,
        loaded_at
    from factors
),

final as (
    select * from scored
)

select * from final
