with source as (
    {{ current_rows('leader_criteria') }}
),

renamed as (
    select
        trim(staff_id) as staff_id,
        period_start,
        lower(trim(period_type)) as period_type,
        lower(trim(criterion)) as criterion,
        ratio,
        basis,
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
