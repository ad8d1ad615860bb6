-- Each delivered state of a dossier and the range of scoring periods it applies to (macro delivery_states:
-- a state delivered for period P holds until the next delivery of the same dossier). A view: only
-- int_766_dossiers_classified reads it, and writing every state of every dossier out would cost more than
-- the windows themselves.
{{ config(materialized='view') }}

with dossiers as (
    select * from {{ ref('stg_dossiers') }}
),

final as (
    {{ delivery_states('dossiers', 'dossier_id') }}
)

select * from final
