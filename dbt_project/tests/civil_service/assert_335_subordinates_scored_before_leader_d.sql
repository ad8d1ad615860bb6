-- Bottom-up order of the management tree: every subordinate sits on a lower level than their leader, every
-- period of the base reached a level, and a leader's d counted every scored subordinate of the same period.
with scores as (
    select * from {{ ref('int_cs_period_scores') }}
),

tree as (
    select * from {{ ref('int_cs_management_tree') }}
),

lower_level_violations as (
    select t.period_start, t.period_type, t.leader_staff_id as staff_id, 'subordinate not below leader' as problem
    from tree as t
    inner join scores as l
        on l.staff_id = t.leader_staff_id and l.period_start = t.period_start and l.period_type = t.period_type
    inner join scores as s
        on s.staff_id = t.subordinate_staff_id and s.period_start = t.period_start and s.period_type = t.period_type
    where s.tree_height >= l.tree_height
),

missing_levels as (
    select b.period_start, b.period_type, b.staff_id, 'period not scored (tree deeper than ratings335_max_tree_height)'
    from {{ ref('int_cs_period_base') }} as b
    anti join scores as s
        on s.staff_id = b.staff_id and s.period_start = b.period_start and s.period_type = b.period_type
),

scored_subordinates as (
    select t.period_start, t.period_type, t.leader_staff_id as staff_id, count(s.s_points) as n_scored
    from tree as t
    inner join scores as s
        on s.staff_id = t.subordinate_staff_id and s.period_start = t.period_start and s.period_type = t.period_type
    group by t.period_start, t.period_type, t.leader_staff_id
),

count_mismatches as (
    select l.period_start, l.period_type, l.staff_id, 'd did not see every scored subordinate'
    from scores as l
    inner join scored_subordinates as c
        on c.staff_id = l.staff_id and c.period_start = l.period_start and c.period_type = l.period_type
    where l.is_leader and l.d_subordinates_scored <> c.n_scored
)

select * from lower_level_violations
union all
select * from missing_levels
union all
select * from count_mismatches
