{#- Who is under whose authority, per period: the transitive closure of manager_staff_id within a unit.
    A deputy's scope is their subtree; a head's scope is every civil servant below them in the unit.
    tree_height of a leader = the longest chain below them; leaves have height 0 (no row here). -#}
with staff_by_period as (
    select * from {{ ref('int_cs_staff_by_period') }}
),

edges as (
    select
        sub.period_start,
        sub.period_type,
        mgr.staff_id as leader_staff_id,
        sub.staff_id as subordinate_staff_id
    from staff_by_period as sub
    inner join staff_by_period as mgr
        on mgr.staff_id = sub.manager_staff_id
        and mgr.period_start = sub.period_start
        and mgr.period_type = sub.period_type
        and mgr.unit_code = sub.unit_code
    where sub.staff_id <> mgr.staff_id
),

closure as (
    with recursive walk as (
        select period_start, period_type, leader_staff_id, subordinate_staff_id, 1 as depth
        from edges
        union all
        select w.period_start, w.period_type, w.leader_staff_id, e.subordinate_staff_id, w.depth + 1
        from walk as w
        inner join edges as e
            on e.leader_staff_id = w.subordinate_staff_id
            and e.period_start = w.period_start
            and e.period_type = w.period_type
        -- a cycle in bad HR data would otherwise never end
        where w.depth < 10
    )

    select period_start, period_type, leader_staff_id, subordinate_staff_id, min(depth) as depth
    from walk
    where leader_staff_id <> subordinate_staff_id
    group by period_start, period_type, leader_staff_id, subordinate_staff_id
),

heights as (
    select
        period_start,
        period_type,
        leader_staff_id,
        max(depth) as leader_tree_height
    from closure
    group by period_start, period_type, leader_staff_id
),

final as (
    select
        c.period_start,
        c.period_type,
        c.leader_staff_id,
        c.subordinate_staff_id,
        c.depth,
        h.leader_tree_height
    from closure as c
    inner join heights as h
        on h.period_start = c.period_start
        and h.period_type = c.period_type
        and h.leader_staff_id = c.leader_staff_id
)

select * from final
