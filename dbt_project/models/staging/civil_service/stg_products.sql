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
        -- The label of a reference snapshot as the first day it stands for (YYYY-Qn, YYYY-MM or YYYY).
        case
            when regexp_matches(_period_label, '^\d{4}-Q[1-4]$')
                then make_date(cast(left(_period_label, 4) as integer), cast(right(_period_label, 1) as integer) * 3 - 2, 1)
            when regexp_matches(_period_label, '^\d{4}-\d{2}$')
                then make_date(cast(left(_period_label, 4) as integer), cast(right(_period_label, 2) as integer), 1)
            when regexp_matches(_period_label, '^\d{4}$')
                then make_date(cast(_period_label as integer), 1, 1)
        end as snapshot_start,
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
