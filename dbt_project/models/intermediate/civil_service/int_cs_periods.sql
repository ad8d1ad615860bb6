{#- Evaluation periods per civil servant: every (staff, period) with work items or general criteria. -#}
with work_items as (
    select * from {{ ref('stg_work_items') }}
),

general_criteria as (
    select * from {{ ref('stg_general_criteria') }}
),

period_keys as (
    select staff_id, period_start, period_type from work_items
    union
    select staff_id, period_start, period_type from general_criteria
),

labelled as (
    select
        staff_id,
        period_start,
        period_type,
        year(period_start) as year,
        case
            when period_type = 'quarter' then cast(year(period_start) as varchar) || '-Q' || cast(quarter(period_start) as varchar)
            else strftime(period_start, '%Y-%m')
        end as period_label,
        cast(
            case
                when period_type = 'quarter' then period_start + interval 3 month - interval 1 day
                else period_start + interval 1 month - interval 1 day
            end as date
        ) as period_end,
        case when period_type = 'quarter' then 3 else 1 end as period_months
    from period_keys
),

final as (
    select * from labelled
)

select * from final
