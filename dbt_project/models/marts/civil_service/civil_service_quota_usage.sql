-- Public aggregate: the XS quota of every partition (unit × similar-task group × year) under both readings,
-- the XS kept, the candidates demoted and whether the cutoff needs review by the competent level.
with partitions as (
    select * from {{ ref('int_cs_quota_partitions') }}
),

ratings as (
    select * from {{ ref('civil_servant_yearly_ratings') }}
),

outcomes as (
    select
        year,
        rating_unit_code as unit_code,
        task_group,
        count(*) filter (where final_level = 'XS') as xs_final,
        count(*) filter (where quota_demoted) as demoted,
        coalesce(bool_or(quota_review_flag), false) as review_flag
    from ratings
    group by year, rating_unit_code, task_group
),

final as (
    select
        p.year,
        p.unit_code,
        p.task_group,
        p.n90,
        p.t0,
        p.x_max_reading1,
        p.x_max_reading2,
        p.quota_reading_used,
        p.x_max,
        p.quota_rate_used,
        p.uses_exception,
        coalesce(o.xs_final, 0) as xs_final,
        coalesce(o.demoted, 0) as demoted,
        coalesce(o.review_flag, false) as review_flag,
        p.rule_set,
        p.engine_version
    from partitions as p
    left join outcomes as o
        on o.year = p.year and o.unit_code = p.unit_code and o.task_group = p.task_group
)

{{ with_rating_status('final') }}
