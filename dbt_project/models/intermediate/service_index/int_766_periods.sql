-- Periods scored: every quarter delivered by a quarterly feed, plus the calendar year of each of them
-- (scored from summed quarterly numerators and denominators, spec §7.2).
with dossier_labels as (
    select distinct delivery_period_label as period_label from {{ ref('stg_dossiers') }}
),

feedback_labels as (
    select distinct delivery_period_label as period_label from {{ ref('stg_feedback') }}
),

rating_labels as (
    select distinct delivery_period_label as period_label from {{ ref('stg_ratings') }}
),

quarter_labels as (
    select period_label from dossier_labels
    union
    select period_label from feedback_labels
    union
    select period_label from rating_labels
),

quarters as (
    select
        period_label,
        'quarter' as period_type,
        {{ label_period_start('period_label') }} as period_start,
        {{ label_period_end('period_label') }} as period_end,
        cast(left(period_label, 4) as integer) as period_year,
        3 as months
    from quarter_labels
    where regexp_full_match(period_label, '\d{4}-Q[1-4]')
),

years as (
    select
        cast(period_year as varchar) as period_label,
        'year' as period_type,
        make_date(period_year, 1, 1) as period_start,
        make_date(period_year, 12, 31) as period_end,
        period_year,
        12 as months,
        count(*) as quarters_present
    from quarters
    group by period_year
),

as_of as (
    -- optional var `as_of` (YYYY-MM-DD): periods ending after it are still running
    select try_cast(nullif('{{ var("as_of", "") }}', '') as date) as as_of_date
),

quarters_flagged as (
    select
        q.*,
        1 as quarters_present,
        coalesce(a.as_of_date < q.period_end, false) as is_partial
    from quarters as q
    cross join as_of as a
),

years_flagged as (
    select
        y.*,
        y.quarters_present < 4 or coalesce(a.as_of_date < y.period_end, false) as is_partial
    from years as y
    cross join as_of as a
),

unioned as (
    select
        period_label, period_type, period_start, period_end, period_year, months, quarters_present, is_partial
    from quarters_flagged
    union all
    select
        period_label, period_type, period_start, period_end, period_year, months, quarters_present, is_partial
    from years_flagged
),

final as (
    select
        *,
        case
            when period_type = 'quarter'
                then case
                    when right(period_label, 1) = '1' then cast(period_year - 1 as varchar) || '-Q4'
                    else left(period_label, 6) || cast(cast(right(period_label, 1) as integer) - 1 as varchar)
                end
            else cast(period_year - 1 as varchar)
        end as previous_period_label
    from unioned
)

select * from final
