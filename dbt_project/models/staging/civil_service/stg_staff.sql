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
