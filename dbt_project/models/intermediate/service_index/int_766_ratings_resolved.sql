-- Ratings given in each quarter, in the state delivered most recently on or before the quarter.
with ratings as (
    select * from {{ ref('stg_ratings') }}
),

periods as (
    select * from {{ ref('int_766_periods') }} where period_type = 'quarter'
),

delivery_labels as (
    -- parse each delivery label once, not once per row
    select
        delivery_period_label,
        {{ label_period_end('delivery_period_label') }} as delivery_period_end
    from (select distinct delivery_period_label from ratings) as labels
),

dated as (
    select
        r.*,
        l.delivery_period_end
    from ratings as r
    inner join delivery_labels as l on r.delivery_period_label = l.delivery_period_label
),

one_per_delivery as (
    select *
    from dated
    qualify row_number() over (
        partition by rating_id, delivery_period_end order by loaded_at desc, source_row_number desc
    ) = 1
),

states as (
    select
        *,
        lead(delivery_period_end) over (partition by rating_id order by delivery_period_end)
            as next_delivery_period_end
    from one_per_delivery
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
        on s.delivery_period_end <= p.period_end
        and coalesce(s.next_delivery_period_end, date '9999-12-31') > p.period_end
        and cast(s.rated_at as date) between p.period_start and p.period_end
)

select * from final
