-- One row per (rule_version, period, unit): the group scores side by side, the total, and the ranking
-- partition and key of spec §9.
with group_points as (
    select * from {{ ref('int_766_group_points') }}
),

indicator_points as (
    select * from {{ ref('int_766_indicator_points') }}
),

rule_periods as (
    select * from {{ ref('int_766_rule_periods') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

units as (
    select * from {{ ref('int_766_units_resolved') }}
),

admin_levels as (
    select distinct rule_version, period_label, unit_code, admin_level from indicator_points
),

pivoted as (
    select
        rule_version,
        period_label,
        unit_code,
        max(points) filter (where group_code = 'G1') as g1_points,
        max(points) filter (where group_code = 'G2') as g2_points,
        max(points) filter (where group_code = 'G3') as g3_points,
        max(points) filter (where group_code = 'G4') as g4_points,
        max(points) filter (where group_code = 'G4a') as g4a_points,
        max(points) filter (where group_code = 'G4b') as g4b_points,
        max(points) filter (where group_code = 'G5') as g5_points,
        -- the total is the sum of the top-level groups; one NULL group makes it NULL (spec §5.4)
        case
            when bool_and(points is not null) filter (where parent_group_code is null)
                then sum(
                    case when sum_rounded_components then {{ round_half_away_766('points', 2) }} else points end
                ) filter (where parent_group_code is null)
        end as total_points
    from group_points
    group by all
),

final as (
    select
        pv.rule_version,
        rp.is_default as is_default_rule_version,
        pv.period_label,
        p.period_type,
        p.period_start,
        p.period_end,
        p.is_partial,
        p.as_of,
        p.previous_period_label,
        pv.unit_code,
        u.unit_name,
        u.unit_kind,
        u.peer_group,
        u.parent_unit_code,
        al.admin_level,
        pv.g1_points,
        pv.g2_points,
        pv.g3_points,
        pv.g4_points,
        pv.g4a_points,
        pv.g4b_points,
        pv.g5_points,
        pv.total_points,
        {{ round_half_away_766('pv.total_points', 2) }} as total_points_display,
        rp.round_before_rank,
        rp.rank_precision,
        -- spec §9.1: the feed's peer group; `province` scope further splits commune-level peers by parent
        case
            when rp.commune_rank_scope = 'province' and al.admin_level = 'commune'
                then u.peer_group || ' | ' || coalesce(u.parent_unit_code, '')
            else u.peer_group
        end as rank_partition,
        not p.is_partial or rp.rank_partial_periods as is_rank_period,
        pv.total_points is not null and (not p.is_partial or rp.rank_partial_periods) as is_rankable
    from pivoted as pv
    inner join rule_periods as rp on pv.rule_version = rp.rule_version and pv.period_label = rp.period_label
    inner join periods as p on pv.period_label = p.period_label
    inner join units as u on pv.period_label = u.period_label and pv.unit_code = u.unit_code
    inner join admin_levels as al
        on pv.rule_version = al.rule_version and pv.period_label = al.period_label and pv.unit_code = al.unit_code
)

select * from final
