-- The documented queries against warehouse/published.duckdb (the README section "Querying the rankings" explains each one).
--
-- Each query starts with a `-- name:` line, then `-- title:`, and `-- params:` with example values.
-- Parameters are DuckDB named parameters ($period_label, ...): in Python pass a dict,
-- con.execute(sql, {"period_label": "2026-Q2"}); in the duckdb shell use
-- `prepare q as <query>; execute q(period_label := '2026-Q2');` or replace them by literals.
--
-- Main-schema views hold the latest published version of every period. The Decree 335 tables are yearly
-- and are published again with each quarter of their year, so their queries read `versions.<table>` and
-- keep the latest publication of the year.

-- name: peer_group_ranking
-- title: The ranking of one peer group in a quarter
-- params: period_label=2026-Q2, peer_group=communes
with unit_index as (
    select * from unit_service_index
    where period_label = $period_label and peer_group = $peer_group
),

final as (
    select
        rank_in_peer_group,
        unit_code,
        unit_name,
        unit_kind,
        total_points_display,
        previous_rank,
        rank_change,
        round(g1_points, 2) as g1_points,
        round(g2_points, 2) as g2_points,
        round(g3_points, 2) as g3_points,
        round(g4_points, 2) as g4_points,
        round(g5_points, 2) as g5_points
    from unit_index
)

select * from final
order by rank_in_peer_group nulls last, unit_code;

-- name: top_and_bottom_per_peer_group
-- title: The top and bottom units of every peer group in a quarter
-- params: period_label=2026-Q2, n=2
with unit_index as (
    select * from unit_service_index
    where period_label = $period_label and rank_in_peer_group is not null
),

positioned as (
    select
        *,
        row_number() over (partition by peer_group order by total_points_display desc, unit_code) as from_top,
        row_number() over (partition by peer_group order by total_points_display asc, unit_code desc)
            as from_bottom
    from unit_index
),

final as (
    select
        peer_group,
        case when from_top <= $n then 'top' else 'bottom' end as position,
        rank_in_peer_group,
        unit_code,
        unit_name,
        total_points_display
    from positioned
    where from_top <= $n or from_bottom <= $n
)

select * from final
order by peer_group, position desc, rank_in_peer_group, unit_code;

-- name: unit_trend
-- title: One unit over the quarters: total, rank, change and distance to its peer group's median
-- params: unit_code=10005
with unit_index as (
    select * from unit_service_index
),

peer_medians as (
    select period_label, peer_group, median(total_points) as peer_median_total
    from unit_index
    group by period_label, peer_group
),

history as (
    select * from unit_index where unit_code = $unit_code
),

final as (
    select
        h.period_label,
        h.total_points_display,
        round(m.peer_median_total, 2) as peer_median_total,
        round(h.total_points - m.peer_median_total, 2) as points_vs_peer_median,
        h.rank_in_peer_group,
        h.peer_group_size,
        h.rank_change,
        h.publication_version
    from history as h
    inner join peer_medians as m on h.period_label = m.period_label and h.peer_group = m.peer_group
)

select * from final
order by period_label;

-- name: unit_indicator_breakdown
-- title: Every sub-indicator of one unit in a quarter, with the points lost and the peer group's median
-- params: period_label=2026-Q1, unit_code=10004
with indicators as (
    select * from service_indicator_points where period_label = $period_label
),

unit_index as (
    select unit_code, peer_group from unit_service_index where period_label = $period_label
),

with_peer_group as (
    select i.*, u.peer_group
    from indicators as i
    inner join unit_index as u on i.unit_code = u.unit_code
),

peer_medians as (
    select peer_group, indicator_id, median(points) as peer_median_points
    from with_peer_group
    group by peer_group, indicator_id
),

final as (
    select
        w.group_code,
        w.indicator_id,
        w.indicator_name_vi,
        w.numerator,
        w.denominator,
        round(w.ratio_pct, 2) as ratio_pct,
        w.target_pct,
        w.max_points,
        round(w.points, 2) as points,
        round(w.max_points - w.points, 2) as points_lost,
        round(m.peer_median_points, 2) as peer_median_points,
        w.is_applicable,
        w.is_denominator_zero
    from with_peer_group as w
    inner join peer_medians as m on w.peer_group = m.peer_group and w.indicator_id = m.indicator_id
    where w.unit_code = $unit_code
)

select * from final
order by group_code, indicator_id;

-- name: group_points_vs_peer_median
-- title: A unit's group points (G1..G5, G4a/G4b) and total against its peer group's median
-- params: period_label=2026-Q2, unit_code=10002
with unit_index as (
    select * from unit_service_index where period_label = $period_label
),

long_points as (
    unpivot unit_index
    on g1_points, g2_points, g3_points, g4_points, g4a_points, g4b_points, g5_points, total_points
    into name point_column value points
),

peer_medians as (
    select peer_group, point_column, median(points) as peer_median
    from long_points
    group by peer_group, point_column
),

final as (
    select
        case when l.point_column = 'total_points' then 'total'
            else 'G' || substr(replace(l.point_column, '_points', ''), 2) end as group_code,
        round(l.points, 2) as points,
        round(m.peer_median, 2) as peer_median,
        round(l.points - m.peer_median, 2) as difference,
        list_position(
            ['g1_points', 'g2_points', 'g3_points', 'g4_points', 'g4a_points', 'g4b_points', 'g5_points',
             'total_points'],
            l.point_column
        ) as display_order
    from long_points as l
    inner join peer_medians as m on l.peer_group = m.peer_group and l.point_column = m.point_column
    where l.unit_code = $unit_code
)

select * from final
order by display_order;

-- name: rank_gains_and_drivers
-- title: Which units improved most this quarter and why: rank gains and the indicators that drove them
-- params: period_label=2026-Q2, peer_group=communes, n=2
with unit_index as (
    select * from unit_service_index
),

indicators as (
    select * from service_indicator_points
),

previous_period as (
    select max(period_label) as period_label
    from unit_index
    where period_label < $period_label
),

gainers as (
    select *
    from unit_index
    where period_label = $period_label and peer_group = $peer_group and rank_change > 0
    order by rank_change desc, total_points desc, unit_code
    limit $n
),

indicator_changes as (
    select
        cur.unit_code,
        cur.indicator_id,
        cur.indicator_name_vi,
        coalesce(cur.points, 0) - coalesce(prev.points, 0) as points_change
    from indicators as cur
    inner join indicators as prev
        on cur.unit_code = prev.unit_code
        and cur.indicator_id = prev.indicator_id
        and prev.period_label = (select period_label from previous_period)
    where cur.period_label = $period_label
        and cur.unit_code in (select unit_code from gainers)
        and abs(coalesce(cur.points, 0) - coalesce(prev.points, 0)) >= 0.005
),

ordered_changes as (
    select
        *,
        row_number() over (partition by unit_code, points_change > 0 order by abs(points_change) desc,
            indicator_id) as change_order
    from indicator_changes
),

drivers as (
    select
        unit_code,
        string_agg(indicator_id || ' ' || indicator_name_vi || ' (' || printf('%+.2f', points_change) || ')',
            '; ' order by change_order) filter (where points_change > 0 and change_order <= 3) as improved,
        string_agg(indicator_id || ' ' || indicator_name_vi || ' (' || printf('%+.2f', points_change) || ')',
            '; ' order by change_order) filter (where points_change < 0 and change_order <= 3) as declined
    from ordered_changes
    group by unit_code
),

final as (
    select
        g.rank_change,
        g.unit_code,
        g.unit_name,
        g.previous_rank,
        g.rank_in_peer_group,
        round(g.previous_total_points, 2) as previous_total_points,
        g.total_points_display,
        round(g.total_points - g.previous_total_points, 2) as points_gained,
        d.improved as improved_indicators,
        d.declined as declined_indicators
    from gainers as g
    left join drivers as d on g.unit_code = d.unit_code
)

select * from final
order by rank_change desc, points_gained desc, unit_code;

-- name: denominator_zero_indicators
-- title: Units with indicators whose denominator is zero (no activity to measure) in a quarter
-- params: period_label=2026-Q2
with indicators as (
    select * from service_indicator_points
    where period_label = $period_label and is_denominator_zero
),

unit_index as (
    select unit_code, unit_name, peer_group from unit_service_index where period_label = $period_label
),

final as (
    select
        u.peer_group,
        i.unit_code,
        u.unit_name,
        count(*) as indicators_with_zero_denominator,
        string_agg(i.indicator_id, ', ' order by i.indicator_id) as indicator_ids,
        round(sum(i.max_points - coalesce(i.points, 0)), 2) as points_not_earned
    from indicators as i
    inner join unit_index as u on i.unit_code = u.unit_code
    group by u.peer_group, i.unit_code, u.unit_name
)

select * from final
order by indicators_with_zero_denominator desc, unit_code;

-- name: peer_group_distribution
-- title: How each peer group's totals are spread, quarter by quarter
-- params:
with unit_index as (
    select * from unit_service_index
),

final as (
    select
        period_label,
        peer_group,
        count(*) as units,
        count(rank_in_peer_group) as ranked_units,
        min(total_points_display) as min_total,
        round(median(total_points), 2) as median_total,
        max(total_points_display) as max_total,
        round(avg(total_points), 2) as mean_total
    from unit_index
    group by period_label, peer_group
)

select * from final
order by period_label, peer_group;

-- name: indicators_losing_most_points
-- title: Where a peer group loses its points: scored indicators by points lost in a quarter
-- params: period_label=2026-Q2, peer_group=communes
with indicators as (
    select * from service_indicator_points
    where period_label = $period_label and is_applicable and max_points > 0
),

unit_index as (
    select unit_code from unit_service_index
    where period_label = $period_label and peer_group = $peer_group
),

final as (
    select
        i.indicator_id,
        any_value(i.indicator_name_vi) as indicator_name_vi,
        any_value(i.group_code) as group_code,
        round(sum(i.max_points - i.points), 2) as points_lost,
        count(*) filter (where i.max_points - i.points >= 0.005) as units_below_max,
        round(avg(i.ratio_pct), 2) as mean_ratio_pct
    from indicators as i
    inner join unit_index as u on i.unit_code = u.unit_code
    group by i.indicator_id
    having sum(i.max_points - i.points) >= 0.005
)

select * from final
order by points_lost desc, indicator_id;

-- name: civil_service_level_distribution
-- title: Decree 335 yearly levels per unit and group of similar tasks (latest publication of the year)
-- params: year=2026
with published as (
    select * from versions.civil_service_level_distribution where year = $year
),

latest_publication as (
    select period_label_published, publication_version
    from published
    order by period_label_published desc, publication_version desc
    limit 1
),

unit_names as (
    select unit_code, arg_max(unit_name, period_label) as unit_name
    from unit_service_index
    group by unit_code
),

final as (
    select
        d.unit_code,
        n.unit_name,
        d.task_group,
        d.xs_count,
        d.tot_count,
        d.ht_count,
        d.kht_count,
        d.not_rated_count,
        d.total_count,
        round(100.0 * d.xs_count / nullif(d.total_count, 0), 2) as xs_share_pct,
        d.period_label_published,
        d.publication_version
    from published as d
    inner join latest_publication as p
        on d.period_label_published = p.period_label_published
        and d.publication_version = p.publication_version
    left join unit_names as n on d.unit_code = n.unit_code
)

select * from final
order by unit_code, task_group;

-- name: civil_service_quota_usage
-- title: Where the 20% "xuất sắc" quota bit: demotions and cut-offs to review (latest publication of the year)
-- params: year=2026
with published as (
    select * from versions.civil_service_quota_usage where year = $year
),

latest_publication as (
    select period_label_published, publication_version
    from published
    order by period_label_published desc, publication_version desc
    limit 1
),

final as (
    select
        q.unit_code,
        q.task_group,
        q.n90,
        q.t0,
        q.x_max_reading1,
        q.x_max_reading2,
        q.xs_final,
        q.demoted,
        q.review_flag
    from published as q
    inner join latest_publication as p
        on q.period_label_published = p.period_label_published
        and q.publication_version = p.publication_version
    where q.demoted > 0 or q.review_flag
)

select * from final
order by demoted desc, unit_code, task_group;

-- name: agency_ranking
-- title: Agencies ranked under Decree 335 in a year, with their level (latest publication of the year)
-- params: year=2026
with published as (
    select * from versions.agency_ratings where year = $year
),

latest_publication as (
    select period_label_published, publication_version
    from published
    order by period_label_published desc, publication_version desc
    limit 1
),

final as (
    select
        a.peer_group,
        a.rank_in_peer_group,
        a.unit_code,
        a.unit_name,
        a.g_points,
        a.part2_points,
        a.s_points,
        a.level,
        a.uses_766,
        a.period_label_published
    from published as a
    inner join latest_publication as p
        on a.period_label_published = p.period_label_published
        and a.publication_version = p.publication_version
)

select * from final
order by peer_group, rank_in_peer_group, unit_code;

-- name: publication_history
-- title: Every published version: who approved it, when, and how many units a restatement changed
-- params:
with publications_register as (
    select * from publications
),

final as (
    select
        period_label,
        version,
        approved_by,
        approved_at,
        coalesce(json_array_length(diff -> '$.units_changed'), 0) as units_changed,
        max(version) over (partition by period_label) = version as is_latest
    from publications_register
)

select * from final
order by period_label, version;

-- name: restatement_changes
-- title: What changed between the latest and the previous published version of a quarter
-- params: period_label=2026-Q2
with period_versions as (
    select * from versions.unit_service_index where period_label_published = $period_label
),

latest_two as (
    select distinct publication_version
    from period_versions
    order by publication_version desc
    limit 2
),

newest as (
    select * from period_versions
    where publication_version = (select max(publication_version) from latest_two)
),

earlier as (
    select * from period_versions
    where publication_version = (select min(publication_version) from latest_two)
),

final as (
    select
        coalesce(n.unit_code, e.unit_code) as unit_code,
        coalesce(n.unit_name, e.unit_name) as unit_name,
        e.publication_version as earlier_version,
        n.publication_version as newest_version,
        e.total_points_display as earlier_total,
        n.total_points_display as newest_total,
        e.rank_in_peer_group as earlier_rank,
        n.rank_in_peer_group as newest_rank
    from newest as n
    full outer join earlier as e on n.unit_code = e.unit_code
    where n.total_points is distinct from e.total_points
        or n.rank_in_peer_group is distinct from e.rank_in_peer_group
)

select * from final
order by unit_code;
