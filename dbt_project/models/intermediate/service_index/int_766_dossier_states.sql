-- Each delivered state of a dossier and the range of scoring periods it applies to: a state delivered for
-- period P holds for P and later periods until the next delivery of the same dossier. Re-scoring an old
-- quarter after newer files arrive therefore reads the same rows as before.
with dossiers as (
    select * from {{ ref('stg_dossiers') }}
),

dated as (
    select
        *,
        {{ label_period_end_766('delivery_period_label') }} as delivery_period_end
    from dossiers
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
