with source as (
    {{ current_rows('dossiers', dated_by='received_at') }}
),

renamed as (
    select
        trim(dossier_id) as dossier_id,
        trim(procedure_code) as procedure_code,
        trim(unit_code) as unit_code,
        received_at,
        due_at,
        finished_at,
        returned_at,
        lower(trim(status)) as status,
        lower(trim(channel)) as channel,
        online_full,
        synced_national,
        supplement_count,
        supplement_days,
        digitised,
        e_result,
        reused_data,
        personal_store_linked,
        population_db_used,
        fee_amount,
        paid_online,
        certification_request,
        certified_e_copy,
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
