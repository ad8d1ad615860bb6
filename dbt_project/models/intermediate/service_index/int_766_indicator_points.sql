-- Ratio and points of every sub-indicator per (rule_version, period, unit), with the not-applicable and
-- denominator-zero policies of the rule version (spec §5).
with rule_periods as (
    select * from {{ ref('int_766_rule_periods') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

units as (
    select * from {{ ref('int_766_units_resolved') }}
),

unit_levels as (
    select * from {{ ref('rule_766_unit_level') }}
),

indicators as (
    select * from {{ ref('rule_766_indicator') }}
),

counts as (
    select * from {{ ref('int_766_indicator_counts') }}
),

scored_units as (
    select
        rp.*,
        p.period_end,
        u.unit_code,
        u.unit_kind,
        ul.admin_level
    from rule_periods as rp
    inner join periods as p on rp.period_label = p.period_label
    inner join units as u on rp.period_label = u.period_label
    inner join unit_levels as ul
        on rp.rule_version = ul.rule_version
        and u.unit_kind = ul.unit_kind
        and ul.effective_from <= p.period_end
        and coalesce(ul.effective_to, date '9999-12-31') >= p.period_end
),

unit_indicators as (
    select
        su.*,
        i.indicator_id,
        i.indicator_name_vi,
        i.indicator_name_en,
        i.group_code,
        i.pmax,
        i.target,
        i.scoring_method,
        i.ratio_kind,
        i.display_order,
        list_contains(string_split(i.applicable_levels, '|'), su.admin_level) as is_applicable
    from scored_units as su
    inner join indicators as i
        on su.rule_version = i.rule_version
        and i.effective_from <= su.period_end
        and coalesce(i.effective_to, date '9999-12-31') >= su.period_end
),

with_counts as (
    select
        ui.*,
        coalesce(c.numerator, 0) as numerator,
        case when ui.ratio_kind = 'count' then null else coalesce(c.denominator, 0) end as denominator
    from unit_indicators as ui
    left join counts as c
        on ui.rule_version = c.rule_version
        and ui.period_label = c.period_label
        and ui.unit_code = c.unit_code
        and ui.indicator_id = c.indicator_id
),

ratios as (
    select
        *,
        ratio_kind <> 'count' and denominator = 0 as is_denominator_zero,
        case
            when ratio_kind = 'percent' and denominator > 0 then 100.0 * numerator / denominator
            when ratio_kind = 'average' and denominator > 0 then numerator / denominator
        end as ratio_unclamped
    from with_counts
),

clamped as (
    select
        *,
        case
            -- greatest/least skip NULLs in DuckDB, so the NULL ratio of a zero denominator is kept explicitly
            when ratio_unclamped is null then null
            when ratio_kind = 'percent' and clamp_ratio then least(greatest(ratio_unclamped, 0), 100)
            else ratio_unclamped
        end as ratio_pct
    from ratios
),

scored as (
    select
        *,
        case scoring_method
            when 'monitor_only' then 0
            when 'linear' then pmax * ratio_pct / 100
            when 'capped_linear_to_target' then pmax * least(ratio_pct, target) / target
            when 'threshold' then case when ratio_pct >= target then pmax else 0 end
        end as method_points
    from clamped
),

treated as (
    select
        *,
        case
            when not is_applicable
                then case when not_applicable_policy = 'zero_points' then 0 end
            when scoring_method = 'monitor_only' or ratio_kind = 'count' then 0
            when is_denominator_zero
                then case denominator_zero_policy
                    when 'zero_points' then 0
                    when 'full_points' then pmax
                end
            else method_points
        end as points
    from scored
),

final as (
    select
        rule_version,
        period_label,
        unit_code,
        admin_level,
        indicator_id,
        indicator_name_vi,
        indicator_name_en,
        group_code,
        display_order,
        numerator,
        denominator,
        ratio_pct,
        ratio_kind,
        target as target_pct,
        pmax as max_points,
        points,
        scoring_method,
        is_applicable,
        is_denominator_zero,
        -- excluded indicators (points NULL) leave the group, which is rescaled over the others
        points is not null as is_included_in_group,
        case when sum_rounded_components then {{ round_half_away_766('points', 2) }} else points end
            as points_for_sum
    from treated
)

select * from final
