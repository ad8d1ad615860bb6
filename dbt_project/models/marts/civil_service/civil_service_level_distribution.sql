-- Public aggregate: final levels per year, rating unit and similar-task group (no personal data).
with ratings as (
    select * from {{ ref('civil_servant_yearly_ratings') }}
),

final as (
    select
        year,
        rating_unit_code as unit_code,
        task_group,
        count(*) filter (where final_level = 'XS') as xs_count,
        count(*) filter (where final_level = 'T') as tot_count,
        count(*) filter (where final_level = 'HT') as ht_count,
        count(*) filter (where final_level = 'KHT') as kht_count,
        count(*) filter (where final_level is null) as not_rated_count,
        count(*) filter (where final_level is not null) as rated_count,
        count(*) as total_count,
        any_value(rule_set) as rule_set,
        any_value(engine_version) as engine_version,
        any_value(rating_status) as rating_status,
        any_value(as_of) as as_of
    from ratings
    group by year, rating_unit_code, task_group
)

select * from final
