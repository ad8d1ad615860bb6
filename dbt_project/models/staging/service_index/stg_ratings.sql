with source as (
    {{ current_rows('ratings', dated_by='rated_at') }}
),

renamed as (
    select
        trim(rating_id) as rating_id,
        trim(dossier_id) as dossier_id,
        trim(unit_code) as unit_code,
        rated_at,
        lower(trim(rating)) as rating,
        _load_id as load_id,
        _period_label as delivery_period_label,
        _source_file as source_file,
        _file_hash as file_hash,
        _row_number as source_row_number,
        _loaded_at as loaded_at
    from source
),

final as (
    select * from renamed
)

select * from final
