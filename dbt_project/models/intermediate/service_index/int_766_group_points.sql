-- Group points per (rule_version, period, unit): leaf groups from their indicators (rescaled over the
-- included indicators when some were excluded), parent groups (G4 in 766-portal) from their children.
with indicator_points as (
    select * from {{ ref('int_766_indicator_points') }}
),

rule_periods as (
    select * from {{ ref('int_766_rule_periods') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

groups as (
    select * from {{ ref('rule_766_group') }}
),

groups_in_force as (
    select
        rp.rule_version,
        rp.period_label,
        rp.sum_rounded_components,
        g.group_code,
        g.parent_group_code,
        g.group5_code,
        g.name_vi,
        g.name_en,
        g.max_points,
        g.display_order
    from rule_periods as rp
    inner join periods as p on rp.period_label = p.period_label
    inner join groups as g
        on rp.rule_version = g.rule_version
        and g.effective_from <= p.period_end
        and coalesce(g.effective_to, date '9999-12-31') >= p.period_end
),

leaf_sums as (
    select
        rule_version,
        period_label,
        unit_code,
        group_code,
        sum(points_for_sum) filter (where is_included_in_group) as included_points,
        coalesce(sum(max_points) filter (where is_included_in_group), 0) as included_max_points,
        bool_or(not is_included_in_group and max_points > 0) as has_excluded_indicator
    from indicator_points
    group by all
),

leaf_points as (
    select
        g.rule_version,
        g.period_label,
        l.unit_code,
        g.group_code,
        g.parent_group_code,
        g.group5_code,
        g.name_vi,
        g.name_en,
        g.max_points,
        g.display_order,
        g.sum_rounded_components,
        true as is_leaf,
        case
            when not l.has_excluded_indicator then coalesce(l.included_points, 0)
            when l.included_max_points > 0 then g.max_points * l.included_points / l.included_max_points
        end as points
    from groups_in_force as g
    inner join leaf_sums as l
        on g.rule_version = l.rule_version
        and g.period_label = l.period_label
        and g.group_code = l.group_code
),

parent_points as (
    select
        g.rule_version,
        g.period_label,
        c.unit_code,
        g.group_code,
        g.parent_group_code,
        g.group5_code,
        g.name_vi,
        g.name_en,
        g.max_points,
        g.display_order,
        g.sum_rounded_components,
        false as is_leaf,
        -- a NULL child (nothing left to score) makes the parent NULL
        case
            when bool_and(c.points is not null)
                then sum(case when g.sum_rounded_components then {{ round_half_away_766('c.points', 2) }}
                    else c.points end)
        end as points
    from groups_in_force as g
    inner join leaf_points as c
        on g.rule_version = c.rule_version
        and g.period_label = c.period_label
        and g.group_code = c.parent_group_code
    group by all
),

final as (
    select
        rule_version, period_label, unit_code, group_code, parent_group_code, group5_code, name_vi, name_en,
        max_points, display_order, is_leaf, sum_rounded_components, points
    from leaf_points
    union all
    select
        rule_version, period_label, unit_code, group_code, parent_group_code, group5_code, name_vi, name_en,
        max_points, display_order, is_leaf, sum_rounded_components, points
    from parent_points
)

select * from final
