-- Points lie between 0 and the maximum, for every indicator, group and total (spec §5, §8).
with indicator_points as (
    select * from {{ ref('service_indicator_points') }}
),

group_points as (
    select * from {{ ref('unit_service_group_points') }}
),

unit_index as (
    select * from {{ ref('unit_service_index') }}
),

violations as (
    select rule_version, period_label, unit_code, indicator_id as item, points, max_points
    from indicator_points
    where points < 0 or points > max_points + 1e-9
    union all
    select rule_version, period_label, unit_code, group_code, points, max_points
    from group_points
    where points < 0 or points > max_points + 1e-9
    union all
    select rule_version, period_label, unit_code, 'total', total_points, 100
    from unit_index
    where total_points < 0 or total_points > 100 + 1e-9
)

select * from violations
