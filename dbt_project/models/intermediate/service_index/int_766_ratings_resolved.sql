-- Ratings given in each quarter, in the state delivered most recently on or before the quarter.
with ratings as (
    select * from {{ ref('stg_ratings') }}
),

periods as (
    select * from {{ ref('int_766_periods') }} where period_type in ('quarter', 'month')
),

states as (
    {{ delivery_states('ratings', 'rating_id') }}
),

final as (
    select
        p.period_label,
        s.rating_id,
        s.dossier_id,
        s.unit_code,
        s.rated_at,
        s.rating,
        s.rating = 'unsatisfied' as is_dislike
    from states as s
    inner join periods as p
        on {{ state_holds_for_period('s', 'p') }}
        and cast(s.rated_at as date) between p.period_start and p.period_end
)

select * from final
