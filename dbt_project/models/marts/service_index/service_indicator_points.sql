-- Every sub-indicator of the 766 index per (rule_version, period, unit): numerator, denominator, ratio,
-- target, maximum and points, so that any score can be recomputed (spec §4, §6).
with indicator_points as (
    select * from {{ ref('int_766_indicator_points') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

groups as (
    select * from {{ ref('rule_766_group') }}
),

final as (
    select
        i.period_label,
        p.period_type,
        p.period_start,
        p.period_end,
        p.is_partial,
        p.as_of,
        i.unit_code,
        i.admin_level,
        i.indicator_id,
        i.indicator_name_vi,
        i.indicator_name_en,
        i.display_order,
        i.group_code,
        g.group5_code,
        i.numerator,
        i.denominator,
        i.ratio_pct,
        i.ratio_kind,
        i.target_pct,
        i.max_points,
        i.points,
        {{ round_half_away_766('i.points', 2) }} as points_display,
        i.scoring_method,
        i.is_applicable,
        i.is_denominator_zero,
        i.is_included_in_group,
        i.rule_version
    from indicator_points as i
    inner join periods as p on i.period_label = p.period_label
    inner join groups as g on i.rule_version = g.rule_version and i.group_code = g.group_code
)

select * from final
