{#- Which XS candidates keep XS (spec §4.9 rule 34). Candidates are ranked by Y (6-decimal guard) descending,
    then mean Part II, mean G (both descending) and earlier submission (the latest load time of the person's
    work items and general criteria in the year; the feeds carry no submitted_at). The top x_max keep XS, the
    others become Tốt. When the last kept and the first demoted candidate share Y, a later key decided:
    tie_break_review. When they are equal on every key, none of the tied candidates gets XS and the partition
    is flagged quota_manual_review, so the quota is never exceeded. -#}
with yearly as (
    select * from {{ ref('int_cs_yearly_scores') }}
),

partitions as (
    select * from {{ ref('int_cs_quota_partitions') }}
),

candidates as (
    select
        y.year,
        y.rating_unit_code as unit_code,
        y.task_group,
        y.staff_id,
        round(y.y_score, y.float_guard_decimals) as key_y,
        round(y.mean_part2, y.float_guard_decimals) as key_part2,
        round(y.mean_g, y.float_guard_decimals) as key_g,
        coalesce(y.submitted_at, timestamp '9999-12-31') as key_submitted
    from yearly as y
    where y.level_after_overrides = 'XS'
),

ranked as (
    select
        c.*,
        p.x_max,
        row_number() over (
            partition by c.year, c.unit_code, c.task_group
            order by c.key_y desc, c.key_part2 desc, c.key_g desc, c.key_submitted asc, c.staff_id
        ) as quota_rank
    from candidates as c
    inner join partitions as p
        on p.year = c.year and p.unit_code = c.unit_code and p.task_group = c.task_group
),

cutoff as (
    select
        year,
        unit_code,
        task_group,
        any_value(key_y) filter (where quota_rank = x_max) as last_y,
        any_value(key_part2) filter (where quota_rank = x_max) as last_part2,
        any_value(key_g) filter (where quota_rank = x_max) as last_g,
        any_value(key_submitted) filter (where quota_rank = x_max) as last_submitted,
        any_value(key_y) filter (where quota_rank = x_max + 1) as next_y,
        any_value(key_part2) filter (where quota_rank = x_max + 1) as next_part2,
        any_value(key_g) filter (where quota_rank = x_max + 1) as next_g,
        any_value(key_submitted) filter (where quota_rank = x_max + 1) as next_submitted
    from ranked
    group by year, unit_code, task_group
),

cutoff_flags as (
    select
        *,
        -- no cutoff exists when every candidate keeps XS or none does (next_y / last_y null)
        coalesce(
            last_y = next_y and last_part2 = next_part2 and last_g = next_g and last_submitted = next_submitted,
            false
        ) as is_manual_review,
        coalesce(
            last_y = next_y
            and not (last_part2 = next_part2 and last_g = next_g and last_submitted = next_submitted),
            false
        ) as is_tie_break_review
    from cutoff
),

final as (
    select
        r.year,
        r.unit_code,
        r.task_group,
        r.staff_id,
        r.quota_rank,
        r.x_max,
        f.is_manual_review,
        f.is_tie_break_review,
        not (  -- noqa: LT01
            r.quota_rank <= r.x_max
            and not (
                f.is_manual_review
                and r.key_y = f.last_y and r.key_part2 = f.last_part2
                and r.key_g = f.last_g and r.key_submitted = f.last_submitted
            )
        ) as is_quota_demoted
    from ranked as r
    inner join cutoff_flags as f
        on f.year = r.year and f.unit_code = r.unit_code and f.task_group = r.task_group
)

select * from final
