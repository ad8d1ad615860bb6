-- The Decision 766 service index: one row per (rule_version, period, unit) with group scores, the total and
-- the competition rank within the peer group (spec §8, §9). Rows of the default rule version are published.
with totals as (
    select * from {{ ref('int_766_unit_totals') }}
),

rank_keys as (
    select
        *,
        case
            when round_before_rank then {{ round_half_away_766('total_points', 'rank_precision') }}
            else total_points
        end as rank_key
    from totals
    where is_rankable
),

ranked as (
    select
        rule_version,
        period_label,
        unit_code,
        rank() over (partition by rule_version, period_label, rank_partition order by rank_key desc)
            as rank_in_peer_group,
        count(*) over (partition by rule_version, period_label, rank_partition) as peer_group_size
    from rank_keys
),

with_rank as (
    select
        t.*,
        r.rank_in_peer_group,
        r.peer_group_size
    from totals as t
    left join ranked as r
        on t.rule_version = r.rule_version and t.period_label = r.period_label and t.unit_code = r.unit_code
),

final as (
    select
        cur.period_label,
        cur.period_type,
        cur.period_start,
        cur.period_end,
        cur.is_partial,
        cur.as_of,
        cur.unit_code,
        cur.unit_name,
        cur.unit_kind,
        cur.admin_level,
        cur.peer_group,
        cur.g1_points,
        cur.g2_points,
        cur.g3_points,
        cur.g4_points,
        cur.g4a_points,
        cur.g4b_points,
        cur.g5_points,
        cur.total_points,
        cur.total_points_display,
        cur.rank_in_peer_group,
        cur.peer_group_size,
        prev.rank_in_peer_group as previous_rank,
        prev.rank_in_peer_group - cur.rank_in_peer_group as rank_change,
        prev.total_points as previous_total_points,
        cur.previous_period_label,
        cur.rule_version,
        cur.is_default_rule_version
    from with_rank as cur
    left join with_rank as prev
        on cur.rule_version = prev.rule_version
        and cur.previous_period_label = prev.period_label
        and cur.unit_code = prev.unit_code
)

select * from final
