-- Every 766 rule version (spec §3.3.4): top-level maxima 18/20/22/22/18 summing to 100; every group's maximum
-- equals the sum of its child groups (parents) or of its indicators' Pmax (leaves); every indicator sits in
-- exactly one leaf group of its version. Returns one row per violation.
with groups as (
    select * from {{ ref('rule_766_group') }}
),

indicators as (
    select * from {{ ref('rule_766_indicator') }}
),

versions as (
    select * from {{ ref('rule_766_version') }}
),

top_level as (
    select
        v.rule_version,
        coalesce(sum(g.max_points), 0) as total_max,
        string_agg(cast(cast(g.max_points as integer) as varchar), '/' order by g.display_order) as maxima
    from versions as v
    left join groups as g on v.rule_version = g.rule_version and g.parent_group_code is null
    group by v.rule_version
),

child_sums as (
    select rule_version, parent_group_code as group_code, sum(max_points) as children_max
    from groups
    where parent_group_code is not null
    group by all
),

indicator_sums as (
    select rule_version, group_code, sum(pmax) as indicators_max, count(*) as indicator_count
    from indicators
    group by all
),

group_checks as (
    select
        g.rule_version,
        g.group_code,
        g.max_points,
        c.children_max,
        i.indicators_max
    from groups as g
    left join child_sums as c on g.rule_version = c.rule_version and g.group_code = c.group_code
    left join indicator_sums as i on g.rule_version = i.rule_version and g.group_code = i.group_code
),

violations as (
    select rule_version, 'top-level maxima ' || coalesce(maxima, '') || ' sum to ' || total_max as problem
    from top_level
    where total_max <> 100 or maxima is distinct from '18/20/22/22/18'
    union all
    select rule_version, group_code || ': group max ' || max_points || ' <> children ' || children_max
    from group_checks
    where children_max is not null and children_max <> max_points
    union all
    select rule_version, group_code || ': group max ' || max_points || ' <> indicators ' || indicators_max
    from group_checks
    where children_max is null and coalesce(indicators_max, 0) <> max_points
    union all
    select rule_version, group_code || ': parent group holds indicators directly'
    from group_checks
    where children_max is not null and indicators_max is not null
    union all
    select i.rule_version, i.indicator_id || ': unknown group ' || i.group_code
    from indicators as i
    left join groups as g on i.rule_version = g.rule_version and i.group_code = g.group_code
    where g.group_code is null
    union all
    select rule_version, indicator_id || ': listed ' || count(*) || ' times'
    from indicators
    group by rule_version, indicator_id
    having count(*) > 1
)

select * from violations
