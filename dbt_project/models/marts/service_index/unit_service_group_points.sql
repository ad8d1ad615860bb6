-- Long form of the group scores: one row per (rule_version, period, unit, group), G4 and its G4a/G4b parts
-- included, with the group's rank in the peer group under the same rules as the total (spec §9.6).
with group_points as (
    select * from {{ ref('int_766_group_points') }}
),

totals as (
    select * from {{ ref('int_766_unit_totals') }}
),

joined as (
    select
        g.*,
        t.period_type,
        t.period_start,
        t.period_end,
        t.is_partial,
        t.as_of,
        t.unit_name,
        t.unit_kind,
        t.admin_level,
        t.peer_group,
        t.rank_partition,
        t.round_before_rank,
        t.rank_precision,
        t.is_default_rule_version,
        g.points is not null and t.is_rank_period as is_rankable
    from group_points as g
    inner join totals as t
        on g.rule_version = t.rule_version and g.period_label = t.period_label and g.unit_code = t.unit_code
),

rank_keys as (
    select
        rule_version,
        period_label,
        unit_code,
        group_code,
        rank_partition,
        case
            when round_before_rank then {{ round_half_away_766('points', 'rank_precision') }}
            else points
        end as rank_key
    from joined
    where is_rankable
),

ranked as (
    select
        rule_version,
        period_label,
        unit_code,
        group_code,
        rank() over (partition by rule_version, period_label, group_code, rank_partition order by rank_key desc)
            as group_rank_in_peer_group,
        count(*) over (partition by rule_version, period_label, group_code, rank_partition)
            as group_peer_group_size
    from rank_keys
),

final as (
    select
        j.period_label,
        j.period_type,
        j.period_start,
        j.period_end,
        j.is_partial,
        j.as_of,
        j.unit_code,
        j.unit_name,
        j.unit_kind,
        j.admin_level,
        j.peer_group,
        j.group_code,
        j.parent_group_code,
        j.group5_code,
        j.name_vi as group_name_vi,
        j.name_en as group_name_en,
        j.display_order,
        j.is_leaf,
        j.max_points,
        j.points,
        {{ round_half_away_766('j.points', 2) }} as points_display,
        r.group_rank_in_peer_group,
        r.group_peer_group_size,
        j.rule_version,
        j.is_default_rule_version
    from joined as j
    left join ranked as r
        on j.rule_version = r.rule_version
        and j.period_label = r.period_label
        and j.unit_code = r.unit_code
        and j.group_code = r.group_code
)

select * from final
