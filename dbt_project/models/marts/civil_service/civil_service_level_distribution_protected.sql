{#- The analysts' level distribution with small-cell protection (seed rule_disclosure): a group smaller than
    min_cell_size, or whose rated members all share one level, shows no level counts; any level count between 1
    and min_cell_size - 1 is suppressed, and when a group has one suppressed cell the next smallest is suppressed
    too, so no cell can be derived from the published total. rated_count is published only when nothing is
    suppressed (total_count - rated_count would give not_rated_count). -#}
with distribution as (
    select * from {{ ref('civil_service_level_distribution') }}
),

rules as (
    {{ disclosure_rules('distribution') }}
),

cells as (
    select
        d.*,
        r.k,
        [d.xs_count, d.tot_count, d.ht_count, d.kht_count, d.not_rated_count] as counts,
        d.total_count < r.k as is_small_group,
        r.homogeneous_rule and d.rated_count > 0
            and list_contains([d.xs_count, d.tot_count, d.ht_count, d.kht_count], d.rated_count) as is_homogeneous,
        r.complementary_rule
    from distribution as d
    inner join rules as r on r.year = d.year
),

primary_suppression as (
    select
        *,
        case
            when is_small_group or is_homogeneous then [true, true, true, true, true]
            else list_transform(counts, c -> c > 0 and c < k)
        end as hidden
    from cells
),

complementary as (
    -- one hidden cell is recoverable from the total: hide the smallest visible cell too (the first on ties)
    select
        *,
        case
            when complementary_rule and len(list_filter(hidden, h -> h)) = 1 then list_transform(
                range(1, 6),
                i -> hidden[i] or i = list_position(
                    list_transform(range(1, 6), j -> case when hidden[j] then null else counts[j] end),
                    list_min(list_transform(range(1, 6), j -> case when hidden[j] then null else counts[j] end))
                )
            )
            else hidden
        end as hidden_final
    from primary_suppression
),

final as (
    select
        year,
        unit_code,
        task_group,
        case when hidden_final[1] then null else xs_count end as xs_count,
        case when hidden_final[2] then null else tot_count end as tot_count,
        case when hidden_final[3] then null else ht_count end as ht_count,
        case when hidden_final[4] then null else kht_count end as kht_count,
        case when hidden_final[5] then null else not_rated_count end as not_rated_count,
        case when list_bool_or(hidden_final) then null else rated_count end as rated_count,
        total_count,
        list_bool_or(hidden_final) as is_suppressed,
        case
            when is_small_group then 'group_below_min_cell_size'
            when is_homogeneous then 'all_rated_share_one_level'
            when list_bool_or(hidden_final) then 'cell_below_min_cell_size'
        end as suppression_reason,
        rule_set,
        engine_version,
        rating_status,
        as_of
    from complementary
)

select * from final
