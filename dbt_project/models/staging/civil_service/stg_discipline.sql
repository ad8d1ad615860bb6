with source as (
    {{ current_rows('discipline', dated_by='decided_on') }}
),

renamed as (
    select
        trim(staff_id) as staff_id,
        decided_on,
        lower(trim(kind)) as kind,
        decision_ref,
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
