-- Rule versions in force in each period, with their scalar parameters typed (rule_766_param).
with versions as (
    select * from {{ ref('rule_766_version') }}
),

params as (
    select * from {{ ref('rule_766_param') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

version_periods as (
    select
        v.rule_version,
        v.is_default,
        p.period_label,
        p.period_end
    from versions as v
    inner join periods as p
        on v.effective_from <= p.period_end
        and coalesce(v.effective_to, date '9999-12-31') >= p.period_end
),

params_in_force as (
    select
        vp.rule_version,
        vp.period_label,
        pa.param_key,
        pa.param_value
    from version_periods as vp
    inner join params as pa
        on vp.rule_version = pa.rule_version
        and pa.effective_from <= vp.period_end
        and coalesce(pa.effective_to, date '9999-12-31') >= vp.period_end
),

pivoted as (
    select
        rule_version,
        period_label,
        max(case when param_key = 'denominator_zero_policy' then param_value end) as denominator_zero_policy,
        max(case when param_key = 'not_applicable_policy' then param_value end) as not_applicable_policy,
        max(case when param_key = 'clamp_ratio' then param_value end) as clamp_ratio,
        max(case when param_key = 'sum_rounded_components' then param_value end) as sum_rounded_components,
        max(case when param_key = 'display_decimals' then param_value end) as display_decimals,
        max(case when param_key = 'round_before_rank' then param_value end) as round_before_rank,
        max(case when param_key = 'rank_precision' then param_value end) as rank_precision,
        max(case when param_key = 'commune_rank_scope' then param_value end) as commune_rank_scope,
        max(case when param_key = 'rank_partial_periods' then param_value end) as rank_partial_periods,
        max(case when param_key = 'fallback_denominator_1_4' then param_value end) as fallback_denominator_1_4,
        max(case when param_key = 'sync_rate_source_3_3' then param_value end) as sync_rate_source_3_3,
        max(case when param_key = 'feedback_deadline_basis' then param_value end) as feedback_deadline_basis,
        max(case when param_key = 'feedback_limit_working_days' then param_value end)
            as feedback_limit_working_days,
        max(case when param_key = 'late_after_supplement_requests' then param_value end)
            as late_after_supplement_requests
    from params_in_force
    group by rule_version, period_label
),

final as (
    select
        vp.rule_version,
        vp.is_default,
        vp.period_label,
        p.denominator_zero_policy,
        p.not_applicable_policy,
        cast(p.clamp_ratio as boolean) as clamp_ratio,
        cast(p.sum_rounded_components as boolean) as sum_rounded_components,
        cast(p.display_decimals as integer) as display_decimals,
        cast(p.round_before_rank as boolean) as round_before_rank,
        cast(p.rank_precision as integer) as rank_precision,
        p.commune_rank_scope,
        cast(p.rank_partial_periods as boolean) as rank_partial_periods,
        p.fallback_denominator_1_4,
        p.sync_rate_source_3_3,
        p.feedback_deadline_basis,
        cast(p.feedback_limit_working_days as integer) as feedback_limit_working_days,
        cast(p.late_after_supplement_requests as integer) as late_after_supplement_requests
    from version_periods as vp
    inner join pivoted as p
        on vp.rule_version = p.rule_version
        and vp.period_label = p.period_label
)

select * from final
