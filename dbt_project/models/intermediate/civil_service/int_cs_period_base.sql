{#- Everything a period score needs except d: A, a, b, c (clamped), G, declared đ / e, the person's unit, role
    and place in the management tree. Only the staff categories rated by the rule set are kept.
    A = 0 (nothing assigned, or no product resolved) makes the period insufficient data (spec §4.3 rule 12). -#}
with periods as (
    select * from {{ ref('int_cs_periods') }}
),

staff_by_period as (
    select * from {{ ref('int_cs_staff_by_period') }}
),

lines as (
    select * from {{ ref('int_cs_work_lines_scored') }}
),

general_points as (
    select * from {{ ref('int_cs_general_points') }}
),

declared as (
    select * from {{ ref('int_cs_leader_declared') }}
),

tree as (
    select * from {{ ref('int_cs_management_tree') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

line_totals as (
    select
        staff_id,
        period_start,
        period_type,
        sum(assigned_converted) as assigned_total_a,
        sum(completed_converted) as completed_total,
        sum(quality_converted) as quality_total,
        sum(progress_converted) as progress_total,
        count(*) filter (where is_unmatched_product) as unmatched_lines,
        max(loaded_at) as lines_loaded_at
    from lines
    group by staff_id, period_start, period_type
),

heights as (
    select distinct period_start, period_type, leader_staff_id as staff_id, leader_tree_height
    from tree
),

joined as (
    select
        p.staff_id,
        s.full_name,
        s.unit_code,
        s.task_group,
        s.role,
        s.staff_category,
        s.job_position_code,
        p.year,
        p.period_label,
        p.period_type,
        p.period_start,
        p.period_end,
        p.period_months,
        s.role in ('head', 'deputy') as is_leader,
        coalesce(h.leader_tree_height, 0) as tree_height,
        coalesce(lt.assigned_total_a, 0) as assigned_total_a,
        lt.completed_total,
        lt.quality_total,
        lt.progress_total,
        coalesce(lt.unmatched_lines, 0) as unmatched_lines,
        coalesce(g.g_points, 0) as g_points,
        g.g_points is null as is_g_missing,
        coalesce(g.g_invalid_items, 0) as g_invalid_items,
        coalesce(g.is_g_over_max, false) as is_g_over_max,
        d.d_declared,
        d.dd_declared,
        d.e_declared,
        greatest(lt.lines_loaded_at, g.g_loaded_at) as submitted_at,
        pa.rule_set,
        pa.engine_version,
        pa.clamp_abc,
        pa.part2_max_points,
        pa.leader_default_ratio
    from periods as p
    inner join params as pa on pa.year = p.year
    inner join staff_by_period as s
        on s.staff_id = p.staff_id and s.period_start = p.period_start and s.period_type = p.period_type
    left join line_totals as lt
        on lt.staff_id = p.staff_id and lt.period_start = p.period_start and lt.period_type = p.period_type
    left join general_points as g
        on g.staff_id = p.staff_id and g.period_start = p.period_start and g.period_type = p.period_type
    left join declared as d
        on d.staff_id = p.staff_id and d.period_start = p.period_start and d.period_type = p.period_type
    left join heights as h
        on h.staff_id = p.staff_id and h.period_start = p.period_start and h.period_type = p.period_type
    where list_contains(string_split(pa.rated_staff_categories, ','), s.staff_category)
),

ratios as (
    select
        *,
        assigned_total_a <= 0 as is_insufficient_data,
        case when assigned_total_a > 0 then 100.0 * completed_total / assigned_total_a end as a_raw,
        case when assigned_total_a > 0 then 100.0 * quality_total / assigned_total_a end as b_raw,
        case when assigned_total_a > 0 then 100.0 * progress_total / assigned_total_a end as c_raw
    from joined
),

final as (
    select
        * exclude (a_raw, b_raw, c_raw),
        case when clamp_abc and a_raw is not null then least(100, greatest(0, a_raw)) else a_raw end as a_pct,
        case when clamp_abc and b_raw is not null then least(100, greatest(0, b_raw)) else b_raw end as b_pct,
        case when clamp_abc and c_raw is not null then least(100, greatest(0, c_raw)) else c_raw end as c_pct,
        case when is_leader then coalesce(dd_declared, leader_default_ratio) end as dd_pct,
        case when is_leader then coalesce(e_declared, leader_default_ratio) end as e_pct
    from ratios
)

select * from final
