with source as (
    {{ current_rows('agency_tasks', dated_by='assigned_on') }}
),

renamed as (
    select
        trim(task_id) as task_id,
        trim(unit_code) as unit_code,
        assigned_by,
        assigned_on,
        due_on,
        completed_on,
        quality_ok,
        lower(trim(status)) as status,
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
