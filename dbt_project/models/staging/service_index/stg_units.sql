with source as (
    {{ current_rows('units') }}
),

renamed as (
    select
        trim(unit_code) as unit_code,
        unit_name,
        lower(trim(unit_kind)) as unit_kind,
        trim(peer_group) as peer_group,
        trim(parent_unit_code) as parent_unit_code,
        population,
        valid_from,
        valid_to,
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
