-- Numerator and denominator of every sub-indicator per (rule_version, period, unit): quarters from the
-- classified rows; years, half-years and nine months as the sum of their quarters' numerators and
-- denominators (spec §7.2).
with rule_periods as (
    select * from {{ ref('int_766_rule_periods') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

units as (
    select * from {{ ref('int_766_units_resolved') }}
),

dossiers as (
    select * from {{ ref('int_766_dossiers_classified') }}
),

procedures as (
    select * from {{ ref('int_766_procedures_resolved') }}
),

feedback as (
    select * from {{ ref('int_766_feedback_classified') }}
),

ratings as (
    select * from {{ ref('int_766_ratings_resolved') }}
),

rule_quarters as (
    -- periods scored from the classified rows: quarters, and months asked for (var extra_periods)
    select rp.*, p.period_type, p.period_start, p.period_end, p.period_year, p.months
    from rule_periods as rp
    inner join periods as p on rp.period_label = p.period_label
    where p.period_type in ('quarter', 'month')
),

-- dossier counts that do not depend on the rule version: one pass over the dossiers
dossier_counts as (
    select
        period_label,
        unit_code,
        count(*) filter (where is_ended_in_period) as ended_in_period,
        sum(processing_days) as processing_days,
        count(*) filter (where is_received_in_period) as received,
        count(*) filter (where is_received_in_period and synced_national) as received_synced,
        count(*) filter (where is_ended_in_period and requires_paper_result) as paper_ended,
        count(*) filter (where is_ended_in_period and requires_paper_result and e_result) as paper_ended_e_result,
        count(*) filter (
            where is_received_in_period and digitised and (e_result or not requires_paper_result)
        ) as received_digitised,
        count(*) filter (where is_received_in_period and certification_request) as certification_requests,
        count(*) filter (
            where is_received_in_period and certification_request and certified_e_copy
        ) as certified_e_copies,
        count(*) filter (where is_received_in_period and reused_data) as received_reused,
        count(*) filter (where is_received_in_period and personal_store_linked) as received_store_linked,
        count(*) filter (where is_received_in_period and population_db_used) as received_population_db,
        count(*) filter (where is_received_in_period and procedure_full_online) as received_full_eligible,
        count(*) filter (
            where is_received_in_period and procedure_full_online and online_full
        ) as received_full_online,
        count(*) filter (
            where is_received_in_period and channel = 'online' and (e_result or not requires_paper_result)
        ) as received_online,
        count(*) filter (where is_received_in_period and procedure_has_fee) as received_fee,
        count(*) filter (where is_received_in_period and procedure_has_fee and paid_online) as received_fee_paid
    from dossiers
    group by period_label, unit_code
),

-- 2.1 depends on the rule version only through the supplement-request limit: bucket first, then join
timeliness_buckets as (
    select
        period_label,
        unit_code,
        least(supplement_count, 1000) as supplement_count,
        is_within_time_limit,
        count(*) as dossier_count
    from dossiers
    group by all
),

timeliness as (
    select
        rq.rule_version,
        b.period_label,
        b.unit_code,
        sum(b.dossier_count) as in_population,
        coalesce(sum(b.dossier_count) filter (
            where b.is_within_time_limit and b.supplement_count < rq.late_after_supplement_requests
        ), 0) as on_time
    from timeliness_buckets as b
    inner join rule_quarters as rq on b.period_label = rq.period_label
    group by all
),

complaint_dossiers as (
    -- 5.4: a dossier counts once whether it has feedback in the period, an unsatisfied rating, or both
    select period_label, dossier_id from feedback where is_received_in_period and dossier_id is not null
    union
    select period_label, dossier_id from ratings where is_dislike
),

complaints as (
    select d.period_label, d.unit_code, count(*) as dossiers_with_complaint
    from dossiers as d
    inner join complaint_dossiers as c on d.period_label = c.period_label and d.dossier_id = c.dossier_id
    group by all
),

procedure_activity as (
    select
        period_label,
        unit_code,
        procedure_code,
        count(*) filter (where is_received_in_period and channel = 'online') as online_dossiers,
        count(*) filter (where is_received_in_period and paid_online) as paid_online_dossiers
    from dossiers
    group by all
),

procedure_counts as (
    select
        pr.period_label,
        pr.unit_code,
        count(*) filter (where pr.announced_on between q.period_start and q.period_end) as announced,
        count(*) filter (
            where pr.announced_on between q.period_start and q.period_end
            and (pr.announce_due_on is null or pr.announced_on <= pr.announce_due_on)
        ) as announced_on_time,
        count(*) filter (where pr.publish_due_on between q.period_start and q.period_end) as publish_due,
        count(*) filter (
            where pr.publish_due_on between q.period_start and q.period_end
            and pr.published_on is not null and pr.published_on <= pr.publish_due_on
        ) as published_on_time,
        count(*) filter (where pr.published_on <= q.period_end) as published,
        count(*) filter (where pr.published_on <= q.period_end and pr.components_complete) as published_complete,
        count(*) as procedures,
        count(*) filter (where pr.online_level in ('partial', 'full')) as online_procedures,
        count(*) filter (
            where pr.online_level in ('partial', 'full') and coalesce(a.online_dossiers, 0) > 0
        ) as online_procedures_used,
        count(*) filter (where pr.has_fee) as fee_procedures,
        count(*) filter (where pr.has_fee and pr.fee_payment_integrated) as fee_procedures_integrated,
        count(*) filter (where pr.has_fee and coalesce(a.paid_online_dossiers, 0) > 0) as fee_procedures_paid,
        count(*) filter (where pr.applicant_citizen) as citizen_procedures,
        count(*) filter (where pr.applicant_citizen and pr.population_data_connected) as citizen_connected
    from procedures as pr
    inner join (select distinct period_label, period_start, period_end from rule_quarters) as q
        on pr.period_label = q.period_label
    left join procedure_activity as a
        on pr.period_label = a.period_label
        and pr.unit_code = a.unit_code
        and pr.procedure_code = a.procedure_code
    group by all
),

feedback_judged as (
    select
        rq.rule_version,
        f.period_label,
        f.unit_code,
        f.is_received_in_period,
        f.has_more_dislikes,
        f.is_repeat,
        case
            when rq.feedback_deadline_basis = 'feed_due_at' then f.is_on_time_feed_due_at
            when f.is_handled_by_period_end
                then f.handled_working_day_number <= f.received_working_day_number + rq.feedback_limit_working_days
            else f.period_end_working_day_number <= f.received_working_day_number + rq.feedback_limit_working_days
        end as is_on_time
    from feedback as f
    inner join rule_quarters as rq on f.period_label = rq.period_label
),

feedback_counts as (
    select
        rule_version,
        period_label,
        unit_code,
        count(*) as in_population,
        count(*) filter (where is_on_time) as on_time,
        count(*) filter (where is_received_in_period) as received,
        count(*) filter (
            where is_received_in_period and not (has_more_dislikes or not coalesce(is_on_time, false) or is_repeat)
        ) as received_satisfied
    from feedback_judged
    group by all
),

unit_quarters as (
    select rq.*, u.unit_code
    from rule_quarters as rq
    inner join units as u on rq.period_label = u.period_label
),

quarter_wide as (
    select
        uq.rule_version,
        uq.period_label,
        uq.period_type,
        uq.period_year,
        uq.months,
        uq.unit_code,
        uq.fallback_denominator_1_4,
        uq.sync_rate_source_3_3,
        coalesce(dc.ended_in_period, 0) as ended_in_period,
        coalesce(dc.processing_days, 0) as processing_days,
        coalesce(dc.received, 0) as received,
        coalesce(dc.received_synced, 0) as received_synced,
        coalesce(dc.paper_ended, 0) as paper_ended,
        coalesce(dc.paper_ended_e_result, 0) as paper_ended_e_result,
        coalesce(dc.received_digitised, 0) as received_digitised,
        coalesce(dc.certification_requests, 0) as certification_requests,
        coalesce(dc.certified_e_copies, 0) as certified_e_copies,
        coalesce(dc.received_reused, 0) as received_reused,
        coalesce(dc.received_store_linked, 0) as received_store_linked,
        coalesce(dc.received_population_db, 0) as received_population_db,
        coalesce(dc.received_full_eligible, 0) as received_full_eligible,
        coalesce(dc.received_full_online, 0) as received_full_online,
        coalesce(dc.received_online, 0) as received_online,
        coalesce(dc.received_fee, 0) as received_fee,
        coalesce(dc.received_fee_paid, 0) as received_fee_paid,
        coalesce(t.in_population, 0) as dossiers_in_population,
        coalesce(t.on_time, 0) as dossiers_on_time,
        coalesce(c.dossiers_with_complaint, 0) as dossiers_with_complaint,
        coalesce(pc.announced, 0) as announced,
        coalesce(pc.announced_on_time, 0) as announced_on_time,
        coalesce(pc.publish_due, 0) as publish_due,
        coalesce(pc.published_on_time, 0) as published_on_time,
        coalesce(pc.published, 0) as published,
        coalesce(pc.published_complete, 0) as published_complete,
        coalesce(pc.procedures, 0) as procedures,
        coalesce(pc.online_procedures, 0) as online_procedures,
        coalesce(pc.online_procedures_used, 0) as online_procedures_used,
        coalesce(pc.fee_procedures, 0) as fee_procedures,
        coalesce(pc.fee_procedures_integrated, 0) as fee_procedures_integrated,
        coalesce(pc.fee_procedures_paid, 0) as fee_procedures_paid,
        coalesce(pc.citizen_procedures, 0) as citizen_procedures,
        coalesce(pc.citizen_connected, 0) as citizen_connected,
        coalesce(fc.in_population, 0) as feedback_in_population,
        coalesce(fc.on_time, 0) as feedback_on_time,
        coalesce(fc.received, 0) as feedback_received,
        coalesce(fc.received_satisfied, 0) as feedback_satisfied
    from unit_quarters as uq
    left join dossier_counts as dc on uq.period_label = dc.period_label and uq.unit_code = dc.unit_code
    left join timeliness as t
        on uq.rule_version = t.rule_version and uq.period_label = t.period_label and uq.unit_code = t.unit_code
    left join complaints as c on uq.period_label = c.period_label and uq.unit_code = c.unit_code
    left join procedure_counts as pc on uq.period_label = pc.period_label and uq.unit_code = pc.unit_code
    left join feedback_counts as fc
        on uq.rule_version = fc.rule_version and uq.period_label = fc.period_label and uq.unit_code = fc.unit_code
),

sync_base as (
    -- 1.4: max of the two receipt counts; with both at 0, last year's receipts x months / 12
    select
        w.*,
        greatest(w.received, w.received_synced) as sync_denominator_current,
        sum(greatest(w.received, w.received_synced)) filter (where w.period_type = 'quarter') over (
            partition by w.rule_version, w.unit_code, w.period_year
        ) as year_receipts
    from quarter_wide as w
),

last_year as (
    select distinct rule_version, unit_code, period_year + 1 as next_year, year_receipts as last_year_receipts
    from sync_base
),

sync_denominator as (
    select
        s.*,
        case
            when s.sync_denominator_current > 0 then s.sync_denominator_current
            when s.fallback_denominator_1_4 = 'last_year_months'
                then coalesce(ly.last_year_receipts, 0) * s.months / 12.0
            else 0
        end as sync_denominator
    from sync_base as s
    left join last_year as ly
        on s.rule_version = ly.rule_version
        and s.unit_code = ly.unit_code
        and s.period_year = ly.next_year
),

with_sync_rate as (
    select
        *,
        case
            when sync_rate_source_3_3 = 'ratio_1_4' and sync_denominator > 0
                then least(greatest(received_synced / sync_denominator, 0), 1)
            else 1
        end as sync_rate
    from sync_denominator
),

quarter_long as (
    select
        rule_version,
        period_label,
        period_year,
        unit_code,
        unnest([
            { 'indicator_id': '1.1', 'numerator': announced_on_time, 'denominator': announced },
            { 'indicator_id': '1.2', 'numerator': published_on_time, 'denominator': publish_due },
            { 'indicator_id': '1.3', 'numerator': published_complete, 'denominator': published },
            { 'indicator_id': '1.4', 'numerator': received_synced, 'denominator': sync_denominator },
            { 'indicator_id': '2.1', 'numerator': dossiers_on_time, 'denominator': dossiers_in_population },
            { 'indicator_id': '2.2', 'numerator': processing_days, 'denominator': ended_in_period },
            { 'indicator_id': '4.1', 'numerator': paper_ended_e_result, 'denominator': paper_ended },
            { 'indicator_id': '4.2', 'numerator': received_digitised, 'denominator': received },
            { 'indicator_id': '4.CC', 'numerator': certified_e_copies, 'denominator': certification_requests },
            { 'indicator_id': '4.3', 'numerator': received_reused, 'denominator': received },
            { 'indicator_id': '4.4', 'numerator': received_store_linked, 'denominator': received },
            { 'indicator_id': '4.5b', 'numerator': received_population_db, 'denominator': received },
            { 'indicator_id': '4.5a', 'numerator': citizen_connected, 'denominator': citizen_procedures },
            { 'indicator_id': '3.FO', 'numerator': received_full_online, 'denominator': received_full_eligible },
            { 'indicator_id': '3.1', 'numerator': online_procedures, 'denominator': procedures },
            { 'indicator_id': '3.2', 'numerator': online_procedures_used, 'denominator': online_procedures },
            { 'indicator_id': '3.3', 'numerator': received_online, 'denominator': received * sync_rate },
            { 'indicator_id': '3.5', 'numerator': fee_procedures_integrated, 'denominator': fee_procedures },
            { 'indicator_id': '3.5b', 'numerator': fee_procedures_paid, 'denominator': fee_procedures },
            { 'indicator_id': '3.6', 'numerator': received_fee_paid, 'denominator': received_fee },
            { 'indicator_id': '5.1', 'numerator': feedback_received, 'denominator': null },
            { 'indicator_id': '5.2', 'numerator': feedback_on_time, 'denominator': feedback_in_population },
            { 'indicator_id': '5.3', 'numerator': feedback_satisfied, 'denominator': feedback_received },
            {
                'indicator_id': '5.4',
                'numerator': dossiers_on_time - dossiers_with_complaint,
                'denominator': dossiers_in_population
            }
        ]) as counts
    from with_sync_rate
),

quarter_rows as (
    select
        rule_version,
        period_label,
        period_year,
        unit_code,
        counts.indicator_id as indicator_id,
        cast(counts.numerator as double) as numerator,
        cast(counts.denominator as double) as denominator
    from quarter_long
),

longer_periods as (
    -- years, half-years and nine months: the quarters they contain
    select l.period_label, q.period_label as quarter_label
    from periods as l
    inner join periods as q
        on q.period_type = 'quarter' and q.period_start between l.period_start and l.period_end
    where l.period_type not in ('quarter', 'month')
),

year_rows as (
    select
        q.rule_version,
        lp.period_label,
        q.unit_code,
        q.indicator_id,
        sum(q.numerator) as numerator,
        sum(q.denominator) as denominator
    from quarter_rows as q
    inner join longer_periods as lp on q.period_label = lp.quarter_label
    inner join rule_periods as rp
        on q.rule_version = rp.rule_version
        and lp.period_label = rp.period_label
    group by all
),

final as (
    select rule_version, period_label, unit_code, indicator_id, numerator, denominator from quarter_rows
    union all
    select rule_version, period_label, unit_code, indicator_id, numerator, denominator from year_rows
)

select * from final
