-- Each delivered state of a dossier and the range of scoring periods it applies to: a state delivered for
-- period P holds for P and later periods until the next delivery of the same dossier. Re-scoring an old
-- quarter after newer files arrive therefore reads the same rows as before. A view: only
-- int_766_dossiers_classified reads it, and writing every state of every dossier out would cost more than
-- the windows themselves.
{{ config(materialized='view') }}

with dossiers as (
    select * from {{ ref('stg_dossiers') }}
),

delivery_labels as (
    -- parse each delivery label once, not once per row
    select
        delivery_period_label,
        {{ label_period_end('delivery_period_label') }} as delivery_period_end
    from (select distinct delivery_period_label from dossiers) as labels
),

dated as (
    select
        r.*,
        l.delivery_period_end
    from dossiers as r
    inner join delivery_labels as l on r.delivery_period_label = l.delivery_period_label
),

one_per_delivery as (
    -- two files of the same period naming the same dossier: the later load wins
    select *
    from dated
    qualify row_number() over (
        partition by dossier_id, delivery_period_end order by loaded_at desc, source_row_number desc
    ) = 1
),

final as (
    select
        *,
        lead(delivery_period_end) over (partition by dossier_id order by delivery_period_end)
            as next_delivery_period_end
    from one_per_delivery
)

select * from final
