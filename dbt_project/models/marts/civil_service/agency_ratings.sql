-- One row per state administrative agency and year (spec §5): G (30) + Part II (0.7 × weighted mean of the
-- applicable task items), level on the agency thresholds and rank within the peer group. Units without a yearly
-- 766 result have their 766 items re-weighted away and keep their declared administrative-reform points.
with task_results as (
    select * from {{ ref('int_agency_task_results') }}
),

general_points as (
    select * from {{ ref('int_agency_general_points') }}
),

inputs_766 as (
    select * from {{ ref('int_agency_766_inputs') }}
),

units as (
    select * from {{ ref('stg_units') }}
),

task_items as (
    select * from {{ ref('rule_335_agency_task_items') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

agency_years as (
    select year, unit_code from task_results
    union
    select year, unit_code from general_points
),

unit_names as (
    select
        ay.year,
        ay.unit_code,
        u.unit_name,
        u.peer_group,
        row_number() over (
            partition by ay.year, ay.unit_code order by u.loaded_at desc, u.source_row_number desc
        ) as recency_rank
    from agency_years as ay
    inner join units as u
        on u.unit_code = ay.unit_code
        and (u.valid_from is null or u.valid_from <= make_date(ay.year, 12, 31))
        and (u.valid_to is null or u.valid_to >= make_date(ay.year, 1, 1))
),

weights as (
    select
        pa.year,
        coalesce(sum(t.weight) filter (where t.item_id = 'tasks_on_time'), 0) as w_tasks_on_time,
        coalesce(sum(t.weight) filter (where t.item_id = 'tasks_quality'), 0) as w_tasks_quality,
        coalesce(sum(t.weight) filter (where t.item_id = 'dossiers_on_time'), 0) as w_dossiers_on_time,
        coalesce(sum(t.weight) filter (where t.item_id = 'satisfaction'), 0) as w_satisfaction
    from params as pa
    left join task_items as t
        on t.rule_set = pa.rule_set
        and t.effective_from <= make_date(pa.year, 12, 31)
        and (t.effective_to is null or t.effective_to >= make_date(pa.year, 1, 1))
    group by pa.year
),

joined as (
    select
        ay.year,
        ay.unit_code,
        n.unit_name,
        n.peer_group,
        i.unit_code is not null as uses_766,
        tr.tasks_on_time_pct,
        tr.tasks_quality_pct,
        i.dossiers_on_time_pct,
        i.satisfaction_pct,
        i.admin_reform_766_pct,
        gp.g_other_points,
        gp.admin_reform_declared_points,
        gp.admin_reform_max_points,
        coalesce(gp.g_non_rubric_items, 0) as g_non_rubric_items,
        w.w_tasks_on_time,
        w.w_tasks_quality,
        w.w_dossiers_on_time,
        w.w_satisfaction,
        pa.rule_set,
        pa.engine_version,
        pa.part2_max_points,
        pa.g_max_points,
        pa.float_guard_decimals,
        pa.agency_threshold_xs,
        pa.agency_threshold_tot,
        pa.agency_threshold_ht
    from agency_years as ay
    inner join params as pa on pa.year = ay.year
    inner join weights as w on w.year = ay.year
    left join unit_names as n on n.year = ay.year and n.unit_code = ay.unit_code and n.recency_rank = 1
    left join task_results as tr on tr.year = ay.year and tr.unit_code = ay.unit_code
    left join general_points as gp on gp.year = ay.year and gp.unit_code = ay.unit_code
    left join inputs_766 as i on i.year = ay.year and i.unit_code = ay.unit_code
),

scored as (
    select
        *,
        least(
            g_max_points,
            coalesce(g_other_points, 0)
            + case
                when uses_766 then coalesce(admin_reform_max_points, 0) * admin_reform_766_pct / 100.0
                else coalesce(admin_reform_declared_points, 0)
            end
        ) as g_points,
        -- weighted mean over the applicable items only: a missing item's weight is dropped (re-scaled)
        (
            coalesce(w_tasks_on_time * tasks_on_time_pct, 0)
            + coalesce(w_tasks_quality * tasks_quality_pct, 0)
            + coalesce(w_dossiers_on_time * dossiers_on_time_pct, 0)
            + coalesce(w_satisfaction * satisfaction_pct, 0)
        ) / nullif(
            case when tasks_on_time_pct is not null then w_tasks_on_time else 0 end
            + case when tasks_quality_pct is not null then w_tasks_quality else 0 end
            + case when dossiers_on_time_pct is not null then w_dossiers_on_time else 0 end
            + case when satisfaction_pct is not null then w_satisfaction else 0 end,
            0
        ) as t_pct
    from joined
),

totals as (
    select
        *,
        part2_max_points * coalesce(t_pct, 0) / 100.0 as part2_points,
        least(100, greatest(0, g_points + part2_max_points * coalesce(t_pct, 0) / 100.0)) as s_points
    from scored
),

leveled as (
    select
        *,
        case
            when round(s_points, float_guard_decimals) >= agency_threshold_xs then 'XS'
            when round(s_points, float_guard_decimals) >= agency_threshold_tot then 'T'
            when round(s_points, float_guard_decimals) >= agency_threshold_ht then 'HT'
            else 'KHT'
        end as level,
        rank() over (partition by year, peer_group order by round(s_points, float_guard_decimals) desc) as rank_in_peer_group
    from totals
),

final as (
    select
        year,
        unit_code,
        unit_name,
        peer_group,
        g_points,
        tasks_on_time_pct,
        tasks_quality_pct,
        dossiers_on_time_pct,
        satisfaction_pct,
        admin_reform_766_pct,
        t_pct,
        part2_points,
        s_points,
        level,
        rank_in_peer_group,
        uses_766,
        g_non_rubric_items,
        rule_set,
        engine_version
    from leveled
)

{{ with_rating_status('final') }}
