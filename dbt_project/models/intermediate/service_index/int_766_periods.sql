-- Periods scored: every quarter delivered by a quarterly feed, the calendar year of each of them, and the
-- half-years, nine months and months asked for in var `extra_periods` (longer periods are scored from their
-- quarters' summed numerators and denominators, spec §7.1-7.2; a month from the rows of its quarter's delivery,
-- classified by their dates within the month). Within the window of a refresh (var `window_end`) no
-- later delivery is read; the quarter running on var `as_of` is scored to that day (its period_end is the
-- as-of date) and flagged is_partial (spec §7.4, §7.7).
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

as_of as (
    -- optional var `as_of` (YYYY-MM-DD): periods ending after it are still running
    select try_cast(nullif('{{ var("as_of", "") }}', '') as date) as as_of_date
),

quarters_nominal as (
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

quarters as (
    -- the running quarter is scored to the as-of date; a quarter starting after it is not scored
    select
        q.period_label,
        q.period_type,
        q.period_start,
        case when a.as_of_date < q.period_end then a.as_of_date else q.period_end end as period_end,
        q.period_end as nominal_period_end,
        q.period_year,
        q.months
    from quarters_nominal as q
    cross join as_of as a
    where a.as_of_date is null or q.period_start <= a.as_of_date
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

extra_labels as (
    select trim(label) as period_label
    from (select unnest(string_split('{{ var("extra_periods", "") }}', ',')) as label)
    where trim(label) <> ''
),

extra_bounds as (
    select
        period_label,
        case when period_label like '%-9M' then 'nine_months' else 'half_year' end as period_type,
        make_date(cast(left(period_label, 4) as integer),
                  case when period_label like '%-H2' then 7 else 1 end, 1) as period_start,
        cast(make_date(cast(left(period_label, 4) as integer),
                       case when period_label like '%-H1' then 6 when period_label like '%-H2' then 12 else 9 end, 1)
            + interval 1 month - interval 1 day as date) as period_end,
        cast(left(period_label, 4) as integer) as period_year,
        case when period_label like '%-9M' then 9 else 6 end as months
    from extra_labels
    where regexp_full_match(period_label, '\d{4}-(H[12]|9M)')
),

extras as (
    select e.*, count(q.period_label) as quarters_present
    from extra_bounds as e
    inner join quarters as q on q.period_start between e.period_start and e.period_end
    group by all
),

months_nominal as (
    -- months asked for (YYYY-MM), scored from the rows of the quarter that contains them
    select
        l.period_label,
        'month' as period_type,
        {{ label_period_start('l.period_label') }} as period_start,
        {{ label_period_end('l.period_label') }} as period_end,
        q.nominal_period_end as state_period_end,
        cast(left(l.period_label, 4) as integer) as period_year,
        1 as months
    from extra_labels as l
    inner join quarters as q
        on {{ label_period_start('l.period_label') }} between q.period_start and q.nominal_period_end
    where regexp_full_match(l.period_label, '\d{4}-(0[1-9]|1[0-2])')
),

months_flagged as (
    select
        m.period_label,
        m.period_type,
        m.period_start,
        case when a.as_of_date < m.period_end then a.as_of_date else m.period_end end as period_end,
        m.state_period_end,
        m.period_year,
        m.months,
        1 as quarters_present,
        coalesce(a.as_of_date < m.period_end, false) as is_partial,
        case when a.as_of_date < m.period_end then a.as_of_date end as as_of
    from months_nominal as m
    cross join as_of as a
    where a.as_of_date is null or m.period_start <= a.as_of_date
),

longer as (
    select * from years
    union all
    select * from extras
),

quarters_flagged as (
    select
        q.* exclude (nominal_period_end),
        q.nominal_period_end as state_period_end,
        1 as quarters_present,
        coalesce(a.as_of_date < q.nominal_period_end, false) as is_partial,
        case when a.as_of_date < q.nominal_period_end then a.as_of_date end as as_of
    from quarters as q
    cross join as_of as a
),

longer_flagged as (
    -- a year, half-year or nine months is partial while a quarter of it is missing or still running
    select
        y.*,
        y.period_end as state_period_end,
        y.quarters_present < y.months // 3 or coalesce(a.as_of_date < y.period_end, false) as is_partial,
        case when a.as_of_date < y.period_end then a.as_of_date end as as_of
    from longer as y
    cross join as_of as a
),

unioned as (
    select
        period_label, period_type, period_start, period_end, state_period_end, period_year, months,
        quarters_present, is_partial, as_of
    from quarters_flagged
    union all
    select
        period_label, period_type, period_start, period_end, state_period_end, period_year, months,
        quarters_present, is_partial, as_of
    from longer_flagged
    union all
    select
        period_label, period_type, period_start, period_end, state_period_end, period_year, months,
        quarters_present, is_partial, as_of
    from months_flagged
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
            when period_type = 'half_year'
                then case
                    when right(period_label, 1) = '1' then cast(period_year - 1 as varchar) || '-H2'
                    else left(period_label, 5) || 'H1'
                end
            when period_type = 'nine_months' then cast(period_year - 1 as varchar) || '-9M'
            when period_type = 'month'
                then strftime(period_start - interval 1 month, '%Y-%m')
            else cast(period_year - 1 as varchar)
        end as previous_period_label
    from unioned
)

select * from final
