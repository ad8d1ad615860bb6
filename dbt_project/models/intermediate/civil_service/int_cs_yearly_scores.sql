{#- Yearly score Y, preliminary level and "không hoàn thành" overrides per civil servant (spec §4.6-4.8).
    Everyone active in the year (HR rows of the year's snapshot overlapping the year, rated categories) or
    scored in it gets a row. Y = mean of the valid S_p over every unit served in the year; the rating unit is
    the unit at year end, so movers are rated by the new unit. Levels compare Y after a 6-decimal guard
    (classification_rounding = 2dp rounds half-up to 2 decimals first). Overrides apply before the quota.
    Before the year ends (var as_of) the periods still running count as delivered so far, or not at all under
    year_end_open_periods = exclude. -#}
with all_scores as (
    select * from {{ ref('int_cs_period_scores') }}
),

rule_years as (
    select * from {{ ref('int_cs_rule_params') }}
),

scores as (
    -- a rating made before the year ends (var as_of): periods still running count unless
    -- year_end_open_periods = exclude
    select s.*
    from all_scores as s
    left join rule_years as ry on ry.year = year(s.period_start)
    where ry.as_of is null
        or coalesce(ry.year_end_open_periods, 'include') = 'include'
        or cast(s.period_start + case when s.period_type = 'quarter' then interval 3 month
                                      else interval 1 month end - interval 1 day as date) <= ry.as_of
),

staff as (
    select * from {{ ref('stg_staff') }}
),

discipline as (
    select * from {{ ref('stg_discipline') }}
),

discipline_kinds as (
    select * from {{ ref('rule_335_discipline_kinds') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

year_snapshot as (
    select
        pa.year,
        coalesce(
            max(s.snapshot_start) filter (where s.snapshot_start <= make_date(pa.year, 12, 31)),
            min(s.snapshot_start)
        ) as snapshot_start
    from params as pa
    cross join (select distinct snapshot_start from staff) as s
    group by pa.year
),

staff_in_year as (
    select
        pa.year,
        s.staff_id,
        s.full_name,
        s.unit_code,
        coalesce(nullif(s.task_group, ''), 'ALL') as task_group,
        s.role,
        row_number() over (
            partition by pa.year, s.staff_id order by s.valid_from desc nulls last, s.source_row_number desc
        ) as recency_rank
    from params as pa
    inner join year_snapshot as ys on ys.year = pa.year
    inner join staff as s
        on s.snapshot_start = ys.snapshot_start
        and (s.valid_from is null or s.valid_from <= make_date(pa.year, 12, 31))
        and (s.valid_to is null or s.valid_to >= make_date(pa.year, 1, 1))
    where list_contains(string_split(pa.rated_staff_categories, ','), s.staff_category)
),

leaders_in_year as (
    select year, staff_id from staff_in_year where role in ('head', 'deputy')
    union
    select year, staff_id from scores where is_leader
),

last_period as (
    select
        year,
        staff_id,
        full_name,
        unit_code,
        task_group,
        role,
        row_number() over (partition by year, staff_id order by period_start desc, period_type) as recency_rank
    from scores
),

people as (
    select year, staff_id from staff_in_year
    union
    select year, staff_id from scores
),

period_stats as (
    select
        year,
        staff_id,
        count(*) filter (where not is_insufficient_data) as periods_scored,
        count(distinct unit_code) as units_served,
        coalesce(sum(period_months) filter (where not is_insufficient_data), 0) as months_scored,
        avg(s_points) filter (where not is_insufficient_data) as y_score,
        avg(part2_points) filter (where not is_insufficient_data) as mean_part2,
        avg(g_points) filter (where not is_insufficient_data) as mean_g,
        min(s_points) filter (where not is_insufficient_data) as min_period_score,
        max(submitted_at) as submitted_at
    from scores
    group by year, staff_id
),

override_events as (
    select distinct
        d.staff_id,
        year(d.decided_on) as year,
        k.override_code,
        k.leaders_only
    from discipline as d
    inner join params as pa on pa.year = year(d.decided_on)
    inner join discipline_kinds as k
        on k.kind = d.kind
        and k.rule_set = pa.rule_set
        and k.effective_from <= d.decided_on
        and (k.effective_to is null or k.effective_to >= d.decided_on)
),

joined as (
    select
        p.year,
        p.staff_id,
        coalesce(sy.full_name, lp.full_name) as full_name,
        coalesce(sy.unit_code, lp.unit_code) as rating_unit_code,
        coalesce(sy.task_group, lp.task_group) as task_group,
        coalesce(sy.role, lp.role) as role,
        l.staff_id is not null as is_leader_in_year,
        coalesce(ps.periods_scored, 0) as periods_scored,
        coalesce(ps.units_served, 0) as units_served,
        coalesce(ps.months_scored, 0) as months_scored,
        ps.y_score,
        ps.mean_part2,
        ps.mean_g,
        ps.min_period_score,
        ps.submitted_at,
        pa.rule_set,
        pa.engine_version,
        pa.threshold_xs,
        pa.threshold_tot,
        pa.threshold_ht,
        pa.classification_rounding,
        pa.float_guard_decimals,
        pa.kht_any_period_below_50,
        pa.min_worked_months,
        pa.worked_months_flag_below
    from people as p
    inner join params as pa on pa.year = p.year
    left join staff_in_year as sy on sy.year = p.year and sy.staff_id = p.staff_id and sy.recency_rank = 1
    left join last_period as lp on lp.year = p.year and lp.staff_id = p.staff_id and lp.recency_rank = 1
    left join leaders_in_year as l on l.year = p.year and l.staff_id = p.staff_id
    left join period_stats as ps on ps.year = p.year and ps.staff_id = p.staff_id
),

compared as (
    select
        *,
        case
            when classification_rounding = '2dp'
                then cast(round(cast(round(y_score, float_guard_decimals) as decimal(18, 6)), 2) as double)
            else round(y_score, float_guard_decimals)
        end as y_compared,
        case
            when y_score is null then 'no_valid_period'
            when months_scored < min_worked_months then 'below_min_worked_months'
        end as not_rated_reason
    from joined
),

leveled as (
    select
        *,
        case
            when not_rated_reason is not null then null
            when y_compared >= threshold_xs then 'XS'
            when y_compared >= threshold_tot then 'T'
            when y_compared >= threshold_ht then 'HT'
            else 'KHT'
        end as preliminary_level
    from compared
),

overrides as (
    select
        lv.year,
        lv.staff_id,
        string_agg(distinct o.code, ',' order by o.code) as override_codes
    from leveled as lv
    inner join (
        select year, staff_id, 'OVR_A_SCORE_BELOW_50' as code
        from leveled
        where
            not_rated_reason is null
            and (
                y_compared < threshold_ht
                or (kht_any_period_below_50 and round(min_period_score, float_guard_decimals) < threshold_ht)
            )
        union all
        select e.year, e.staff_id, e.override_code
        from override_events as e
        inner join leveled as l2 on l2.year = e.year and l2.staff_id = e.staff_id
        where not e.leaders_only or l2.is_leader_in_year
    ) as o
        on o.year = lv.year and o.staff_id = lv.staff_id
    group by lv.year, lv.staff_id
),

final as (
    select
        lv.*,
        o.override_codes,
        case
            when lv.not_rated_reason is not null then null
            when o.override_codes is not null then 'KHT'
            else lv.preliminary_level
        end as level_after_overrides,
        lv.months_scored < lv.worked_months_flag_below as worked_months_flag
    from leveled as lv
    left join overrides as o on o.year = lv.year and o.staff_id = lv.staff_id
)

select * from final
