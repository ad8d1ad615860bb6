{#- XS quota per (year, unit, similar-task group) (spec §4.9 rules 31-35), counted after the overrides.
    N90 = XS candidates, T0 = people at Tốt. x_max in integer arithmetic under both readings:
    reading 1 (final_tot) min(N90, p(T0 + N90) div (100 + p)); reading 2 (original_tot) min(N90, p T0 div 100).
    p = quota_rate, or quota_exception_rate for partitions approved with a reference in rule_335_quota_exception
    (a row with an empty task_group covers every group of the unit). -#}
with yearly as (
    select * from {{ ref('int_cs_yearly_scores') }}
),

exceptions as (
    select * from {{ ref('rule_335_quota_exception') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

counts as (
    select
        year,
        rating_unit_code as unit_code,
        task_group,
        count(*) filter (where level_after_overrides = 'XS') as n90,
        count(*) filter (where level_after_overrides = 'T') as t0
    from yearly
    where level_after_overrides is not null
    group by year, rating_unit_code, task_group
),

approved_exceptions as (
    select distinct
        e.year,
        e.unit_code,
        nullif(nullif(e.task_group, ''), 'ALL') as task_group,
        e.exception_rate,
        e.approval_ref
    from exceptions as e
    inner join params as pa on pa.year = e.year and pa.rule_set = e.rule_set
    where e.approved and nullif(trim(e.approval_ref), '') is not null
),

with_rate as (
    select
        c.*,
        pa.rule_set,
        pa.engine_version,
        pa.quota_reading,
        ex.approval_ref as exception_approval_ref,
        ex.approval_ref is not null as uses_exception,
        cast(
            case when ex.approval_ref is not null then coalesce(ex.exception_rate, pa.quota_exception_rate) else pa.quota_rate end
            as bigint
        ) as quota_rate_used
    from counts as c
    inner join params as pa on pa.year = c.year
    left join approved_exceptions as ex
        on ex.year = c.year
        and ex.unit_code = c.unit_code
        and (ex.task_group is null or ex.task_group = c.task_group)
    qualify row_number() over (
        partition by c.year, c.unit_code, c.task_group order by ex.task_group nulls last
    ) = 1
),

final as (
    select
        year,
        unit_code,
        task_group,
        unit_code || '|' || task_group || '|' || cast(year as varchar) as quota_partition,
        n90,
        t0,
        quota_rate_used,
        uses_exception,
        exception_approval_ref,
        least(n90, (quota_rate_used * (t0 + n90)) // (100 + quota_rate_used)) as x_max_reading1,
        least(n90, (quota_rate_used * t0) // 100) as x_max_reading2,
        quota_reading as quota_reading_used,
        case
            when quota_reading = 'original_tot' then least(n90, (quota_rate_used * t0) // 100)
            else least(n90, (quota_rate_used * (t0 + n90)) // (100 + quota_rate_used))
        end as x_max,
        rule_set,
        engine_version
    from with_rate
)

select * from final
