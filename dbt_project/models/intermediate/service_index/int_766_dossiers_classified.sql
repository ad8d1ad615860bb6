-- One row per (quarter, dossier) counted in the quarter, in the state that applies to that quarter, with
-- the flags every dossier indicator needs. A dossier counts for quarter P when it was received in P, or
-- received earlier and not yet ended when P started ("received or processed in the period").
with states as (
    select * from {{ ref('int_766_dossier_states') }}
),

periods as (
    select * from {{ ref('int_766_periods') }} where period_type in ('quarter', 'month')
),

procedures as (
    select * from {{ ref('int_766_procedures_resolved') }}
),

state_in_period as (
    select
        p.period_label,
        p.period_start,
        p.period_end,
        -- the last instant of the period: an unfinished dossier is judged at the end of its last day
        p.period_end + interval 1 day - interval 1 second as period_end_ts,
        s.*,
        coalesce(s.finished_at, s.returned_at) as ended_at
    from states as s
    inner join periods as p
        on {{ state_holds_for_period('s', 'p') }}
        and cast(s.received_at as date) <= p.period_end
),

in_population as (
    select *
    from state_in_period
    where cast(received_at as date) >= period_start
        or ended_at is null
        or cast(ended_at as date) >= period_start
),

with_procedure as (
    select
        d.*,
        coalesce(pr.requires_paper_result, false) as requires_paper_result,
        coalesce(pr.has_fee, false) as procedure_has_fee,
        coalesce(pr.online_level = 'full', false) as procedure_full_online,
        pr.online_level as procedure_online_level
    from in_population as d
    left join procedures as pr
        on d.period_label = pr.period_label
        and d.procedure_code = pr.procedure_code
        and d.unit_code = pr.unit_code
),

final as (
    select
        period_label,
        dossier_id,
        unit_code,
        procedure_code,
        received_at,
        due_at,
        ended_at,
        status,
        channel,
        delivery_period_label,
        cast(received_at as date) between period_start and period_end as is_received_in_period,
        ended_at is not null and ended_at <= period_end_ts as is_ended_by_period_end,
        ended_at is not null and ended_at <= period_end_ts and cast(ended_at as date) >= period_start
            as is_ended_in_period,
        coalesce(supplement_count, 0) as supplement_count,
        coalesce(supplement_days, 0) as supplement_days,
        -- 2.1: end time is the end time, or the end of the period when not ended by then; the days the
        -- applicant spent supplementing are taken off the elapsed time
        epoch(case when ended_at is not null and ended_at <= period_end_ts then ended_at else period_end_ts end)
            - coalesce(supplement_days, 0) * 86400 <= epoch(due_at) as is_within_time_limit,
        case
            when ended_at is not null and ended_at <= period_end_ts and cast(ended_at as date) >= period_start
                then greatest((epoch(ended_at) - epoch(received_at)) / 86400.0 - coalesce(supplement_days, 0), 0)
        end as processing_days,
        requires_paper_result,
        procedure_has_fee,
        procedure_full_online,
        procedure_online_level,
        coalesce(online_full, false) as online_full,
        coalesce(synced_national, false) as synced_national,
        coalesce(digitised, false) as digitised,
        coalesce(e_result, false) as e_result,
        coalesce(reused_data, false) as reused_data,
        coalesce(personal_store_linked, false) as personal_store_linked,
        coalesce(population_db_used, false) as population_db_used,
        coalesce(paid_online, false) as paid_online,
        coalesce(certification_request, false) as certification_request,
        coalesce(certified_e_copy, false) as certified_e_copy
    from with_procedure
)

select * from final
