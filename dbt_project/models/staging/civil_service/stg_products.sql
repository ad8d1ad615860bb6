with source as (
    {{ current_rows('products') }}
),

renamed as (
    select
        trim(product_code) as product_code,
        trim(job_position_code) as job_position_code,
        product_name,
        conversion_factor,
        valid_from,
        valid_to,
        -- The first day a reference snapshot's label stands for.
        {{ label_period_start('_period_label') }} as snapshot_start,
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
