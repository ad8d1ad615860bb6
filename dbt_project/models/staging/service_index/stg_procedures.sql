with source as (
    {{ current_rows('procedures') }}
),

renamed as (
    select
        trim(procedure_code) as procedure_code,
        procedure_name,
        trim(unit_code) as unit_code,
        snapshot_date,
        lower(trim(online_level)) as online_level,
        has_fee,
        fee_payment_integrated,
        applicant_citizen,
        population_data_connected,
        requires_paper_result,
        announced_on,
        announce_due_on,
        published_on,
        publish_due_on,
        components_complete,
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
