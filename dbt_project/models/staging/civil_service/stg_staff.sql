with source as (
    {{ current_rows('staff') }}
),

renamed as (
    select
        trim(staff_id) as staff_id,
        full_name,
        trim(unit_code) as unit_code,
        trim(job_position_code) as job_position_code,
        lower(trim(role)) as role,
        trim(task_group) as task_group,
        lower(trim(staff_category)) as staff_category,
        valid_from,
        valid_to,
        nullif(trim(manager_staff_id), '') as manager_staff_id,
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
