-- The procedures snapshot that applies to each quarter (same rule as units). One row per
-- (quarter, procedure_code, unit_code): a national procedure appears once per competent unit.
with procedures as (
    select * from {{ ref('stg_procedures') }}
),

periods as (
    select * from {{ ref('int_766_periods') }} where period_type in ('quarter', 'month')
),

snapshots as (
    select distinct
        delivery_period_label as snapshot_label,
        {{ label_period_end('delivery_period_label') }} as snapshot_end
    from procedures
),

snapshot_periods as (
    -- a running quarter takes the snapshot delivered for it (labelled with it), as a closed one does
    select period_label, state_period_end as period_end from periods
),

chosen as (
    {{ applicable_snapshot('snapshot_periods', 'snapshots', snapshot_date='snapshot_end') }}
),

procedure_rows as (
    select
        c.period_label,
        c.snapshot_label,
        pr.*,
        row_number() over (
            partition by c.period_label, pr.procedure_code, pr.unit_code
            order by pr.loaded_at desc, pr.source_row_number desc
        ) as row_rank
    from chosen as c
    inner join procedures as pr on c.snapshot_label = pr.delivery_period_label
),

final as (
    select
        period_label,
        procedure_code,
        unit_code,
        procedure_name,
        snapshot_label,
        online_level,
        coalesce(has_fee, false) as has_fee,
        coalesce(fee_payment_integrated, false) as fee_payment_integrated,
        coalesce(applicant_citizen, false) as applicant_citizen,
        coalesce(population_data_connected, false) as population_data_connected,
        coalesce(requires_paper_result, false) as requires_paper_result,
        announced_on,
        announce_due_on,
        published_on,
        publish_due_on,
        coalesce(components_complete, false) as components_complete
    from procedure_rows
    where row_rank = 1
)

select * from final
