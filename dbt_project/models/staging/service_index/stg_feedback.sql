with source as (
    {{ current_rows('feedback', dated_by='received_at') }}
),

renamed as (
    select
        trim(feedback_id) as feedback_id,
        trim(unit_code) as unit_code,
        trim(dossier_id) as dossier_id,
        category,
        received_at,
        due_at,
        handled_at,
        likes,
        dislikes,
        is_repeat,
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
