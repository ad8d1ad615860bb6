{#- The analysts' quota use with the same small-cell protection as the level distribution: every count of
    people of a group (candidates, the Tốt count before the quota, the quota itself, XS kept, demoted) is
    suppressed when the group's distribution is, and any such count between 1 and min_cell_size - 1 on its own;
    the quota rate and the review flag stay. -#}
with quota as (
    select * from {{ ref('civil_service_quota_usage') }}
),

protected_distribution as (
    select * from {{ ref('civil_service_level_distribution_protected') }}
),

rules as (
    {{ disclosure_rules('quota') }}
),

joined as (
    select
        q.*,
        r.k,
        coalesce(d.is_suppressed, true) as group_suppressed
    from quota as q
    inner join rules as r on r.year = q.year
    left join protected_distribution as d
        on d.year = q.year and d.unit_code = q.unit_code and d.task_group = q.task_group
),

final as (
    select
        year,
        unit_code,
        task_group,
        {%- for column in ['n90', 't0', 'x_max_reading1', 'x_max_reading2'] %}
        case when group_suppressed or ({{ column }} > 0 and {{ column }} < k) then null else {{ column }} end
            as {{ column }},
        {%- endfor %}
        quota_reading_used,
        case when group_suppressed or (x_max > 0 and x_max < k) then null else x_max end as x_max,
        quota_rate_used,
        uses_exception,
        case when group_suppressed or (xs_final > 0 and xs_final < k) then null else xs_final end as xs_final,
        case when group_suppressed or (demoted > 0 and demoted < k) then null else demoted end as demoted,
        review_flag,
        group_suppressed or n90 between 1 and k - 1 or t0 between 1 and k - 1 or x_max between 1 and k - 1
            or xs_final between 1 and k - 1 or demoted between 1 and k - 1 as is_suppressed,
        rule_set,
        engine_version,
        rating_status,
        as_of
    from joined
)

select * from final
