-- The total is the sum of the five groups and G4 = G4a + G4b where the version splits G4 (spec §3.2, §8.1).
-- With sum_rounded_components the sums are of 2-decimal values, hence the 0.03 tolerance in that case only.
with unit_index as (
    select * from {{ ref('unit_service_index') }}
),

params as (
    select * from {{ ref('int_766_rule_periods') }}
),

checked as (
    select
        u.rule_version,
        u.period_label,
        u.unit_code,
        u.total_points,
        u.g1_points + u.g2_points + u.g3_points + u.g4_points + u.g5_points as group_sum,
        u.g4_points,
        u.g4a_points + u.g4b_points as g4_parts,
        case when p.sum_rounded_components then 0.03 else 1e-9 end as tolerance
    from unit_index as u
    inner join params as p on u.rule_version = p.rule_version and u.period_label = p.period_label
),

violations as (
    select *
    from checked
    where abs(total_points - group_sum) > tolerance
        or (g4_parts is not null and abs(g4_points - g4_parts) > tolerance)
)

select * from violations
