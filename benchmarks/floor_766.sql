-- The floor: Decision 766 totals and ranks of every quarter delivered, computed by one DuckDB script straight
-- from the landing files, with none of the pipeline's machinery (no contracts, lineage, quarantine, dbt, tests,
-- gate or publication). It reproduces docs/service-index-766.md for the default rule version and its default
-- parameters (zero_points, exclude_and_rescale, clamp, full-precision sums, rank on the total rounded to 2
-- decimals within the feed's peer group, 2 supplement requests make a dossier late, 15 working days for
-- feedback, 1.4 fallback from last year's receipts, 3.3 scaled by R(1.4)); points, targets, scoring methods,
-- applicable levels and group maxima are read from the rule seeds.
--
-- The files are the benchmark's deliveries (no planted errors): the harness (benchmarks/floor.py) replaces
-- ${landing} and ${seeds} and registers two relations DuckDB cannot build alone: `landing_feedback` (the
-- XLSX feedback sheets, read by calamine as text: DuckDB has no XLSX reader without its excel extension)
-- and `vn_holidays(calendar_date, substitute_working_date)` (the `holidays` package's Vietnamese days off).
-- The result is the table `floor_766(period_label, unit_code, peer_group, total_points, rank_in_peer_group)`.

create or replace temp macro label_end(label) as case
    when regexp_full_match(label, '\d{4}-Q[1-4]')
        then cast(make_date(cast(left(label, 4) as integer), 3 * cast(right(label, 1) as integer), 1)
            + interval 1 month - interval 1 day as date)
    when regexp_full_match(label, '\d{4}-\d{2}')
        then cast(make_date(cast(left(label, 4) as integer), cast(right(label, 2) as integer), 1)
            + interval 1 month - interval 1 day as date)
    when regexp_full_match(label, '\d{4}') then make_date(cast(label as integer), 12, 31)
    else try_cast(label as date)
end;

create or replace temp macro flag(value) as coalesce(lower(trim(value)) in ('x', 'có', 'true', '1'), false);

create or replace temp macro round_away(value, digits) as
    cast(round(cast(value * power(10, digits) as decimal(38, 9)), 0) as double) / power(10, digits);

-- ------------------------------------------------------------------------------------------------ landing

create or replace temp table units as
select
    trim(unit_code) as unit_code,
    lower(trim(unit_kind)) as unit_kind,
    trim(peer_group) as peer_group,
    try_cast(valid_from as date) as valid_from,
    try_cast(valid_to as date) as valid_to,
    regexp_extract(filename, '/units/([^/]+)/', 1) as label,
    filename,
    row_number() over (partition by filename) as row_no
from read_csv('${landing}/units/*/*.csv', delim = ';', header = true, all_varchar = true, filename = true);

create or replace temp table procedures as
select
    trim(procedure_code) as procedure_code,
    trim(unit_code) as unit_code,
    lower(trim(online_level)) as online_level,
    flag(has_fee) as has_fee,
    flag(fee_payment_integrated) as fee_payment_integrated,
    flag(applicant_citizen) as applicant_citizen,
    flag(population_data_connected) as population_data_connected,
    flag(requires_paper_result) as requires_paper_result,
    try_cast(announced_on as date) as announced_on,
    try_cast(announce_due_on as date) as announce_due_on,
    try_cast(published_on as date) as published_on,
    try_cast(publish_due_on as date) as publish_due_on,
    flag(components_complete) as components_complete,
    regexp_extract(filename, '/procedures/([^/]+)/', 1) as label,
    filename,
    row_number() over (partition by filename) as row_no
from read_csv('${landing}/procedures/*/*.csv', header = true, all_varchar = true, filename = true);

-- the one-stop system's export: Vietnamese headers in the contract's column order
create or replace temp table dossiers as
select
    trim(column00) as dossier_id,
    trim(column01) as procedure_code,
    trim(column02) as unit_code,
    cast(column03 as timestamp) as received_at,
    cast(column04 as timestamp) as due_at,
    coalesce(cast(nullif(column05, '') as timestamp), cast(nullif(column06, '') as timestamp)) as ended_at,
    column08 = 'Trực tuyến' or lower(column08) = 'online' as is_online,
    flag(column09) as online_full,
    flag(column10) as synced_national,
    coalesce(cast(column11 as integer), 0) as supplement_count,
    coalesce(cast(replace(column12, ',', '.') as double), 0) as supplement_days,
    flag(column13) as digitised,
    flag(column14) as e_result,
    flag(column15) as reused_data,
    flag(column16) as personal_store_linked,
    flag(column17) as population_db_used,
    flag(column19) as paid_online,
    flag(column20) as certification_request,
    flag(column21) as certified_e_copy,
    label_end(regexp_extract(filename, '/dossiers/([^/]+)/', 1)) as delivery_end,
    filename,
    row_number() over (partition by filename) as row_no
from read_csv(
    '${landing}/dossiers/*/*.csv', header = false, skip = 1, filename = true,
    columns = {
        'column00': 'varchar', 'column01': 'varchar', 'column02': 'varchar', 'column03': 'varchar',
        'column04': 'varchar', 'column05': 'varchar', 'column06': 'varchar', 'column07': 'varchar',
        'column08': 'varchar', 'column09': 'varchar', 'column10': 'varchar', 'column11': 'varchar',
        'column12': 'varchar', 'column13': 'varchar', 'column14': 'varchar', 'column15': 'varchar',
        'column16': 'varchar', 'column17': 'varchar', 'column18': 'varchar', 'column19': 'varchar',
        'column20': 'varchar', 'column21': 'varchar'
    }
);

create or replace temp table feedback as
select
    trim(feedback_id) as feedback_id,
    trim(unit_code) as unit_code,
    nullif(trim(dossier_id), '') as dossier_id,
    cast(received_at as timestamp) as received_at,
    cast(nullif(handled_at, '') as timestamp) as handled_at,
    cast(nullif(due_at, '') as timestamp) as due_at,
    coalesce(cast(cast(likes as double) as bigint), 0) as likes,
    coalesce(cast(cast(dislikes as double) as bigint), 0) as dislikes,
    flag(is_repeat) as is_repeat,
    label_end(label) as delivery_end,
    filename,
    row_no
from landing_feedback;

create or replace temp table ratings as
select
    trim(rating_id) as rating_id,
    trim(dossier_id) as dossier_id,
    cast(rated_at as timestamp) as rated_at,
    lower(trim(rating)) in ('unsatisfied', 'không hài lòng') as is_dislike,
    label_end(regexp_extract(filename, '/ratings/([^/]+)/', 1)) as delivery_end,
    filename,
    row_number() over (partition by filename) as row_no
from read_json(
    '${landing}/ratings/*/*.jsonl', format = 'newline_delimited', filename = true,
    columns = {'rating_id': 'varchar', 'dossier_id': 'varchar', 'unit_code': 'varchar', 'rated_at': 'varchar',
               'rating': 'varchar'}
);

-- ------------------------------------------------------------------------------------------------ periods

create or replace temp table quarters as
select
    label as period_label,
    cast(label_end(label) - interval 3 month + interval 1 day as date) as period_start,
    label_end(label) as period_end,
    label_end(label) + interval 1 day - interval 1 second as period_end_ts,
    cast(left(label, 4) as integer) as period_year
from (
    select distinct regexp_extract(f.file, '/(dossiers|feedback|ratings)/([^/]+)/', 2) as label
    from glob('${landing}/*/*/*') as f
)
where regexp_full_match(label, '\d{4}-Q[1-4]');

-- reference snapshot of a quarter: the latest label ending on or before its end, else the earliest
create or replace temp table unit_quarters as
with snapshots as (select distinct label, label_end(label) as snapshot_end from units),
chosen as (
    select q.*, s.label
    from quarters as q cross join snapshots as s
    qualify row_number() over (
        partition by q.period_label
        order by (s.snapshot_end <= q.period_end) desc,
            case when s.snapshot_end <= q.period_end then s.snapshot_end end desc, s.snapshot_end
    ) = 1
)
select c.period_label, c.period_start, c.period_end, c.period_year, u.unit_code, u.peer_group, l.admin_level
from chosen as c
inner join units as u on c.label = u.label
inner join read_csv('${seeds}/rules/rule_766_unit_level.csv', header = true) as l
    on u.unit_kind = l.unit_kind and l.rule_version = '766-portal'
where coalesce(u.valid_from, date '1900-01-01') <= c.period_end
    and coalesce(u.valid_to, date '9999-12-31') >= c.period_start
qualify row_number() over (partition by c.period_label, u.unit_code order by u.filename desc, u.row_no desc) = 1;

create or replace temp table procedure_quarters as
with snapshots as (select distinct label, label_end(label) as snapshot_end from procedures),
chosen as (
    select q.period_label, s.label
    from quarters as q cross join snapshots as s
    qualify row_number() over (
        partition by q.period_label
        order by (s.snapshot_end <= q.period_end) desc,
            case when s.snapshot_end <= q.period_end then s.snapshot_end end desc, s.snapshot_end
    ) = 1
)
select c.period_label, p.*
from chosen as c
inner join procedures as p on c.label = p.label
qualify row_number() over (
    partition by c.period_label, p.procedure_code, p.unit_code order by p.filename desc, p.row_no desc
) = 1;

-- ------------------------------------------------------------------------------- dossiers of each quarter

-- a state delivered for P holds for P and later quarters until the next delivery of the same dossier
create or replace temp table dossier_quarters as
with states as (
    select *, lead(delivery_end) over (partition by dossier_id order by delivery_end) as next_end
    from dossiers
    qualify row_number() over (partition by dossier_id, delivery_end order by filename desc, row_no desc) = 1
)
select
    q.period_label,
    s.dossier_id,
    s.unit_code,
    s.procedure_code,
    cast(s.received_at as date) >= q.period_start as received,
    s.ended_at is not null and s.ended_at <= q.period_end_ts and cast(s.ended_at as date) >= q.period_start
        as ended,
    epoch(case when s.ended_at <= q.period_end_ts then s.ended_at else q.period_end_ts end)
        - s.supplement_days * 86400 <= epoch(s.due_at) and s.supplement_count < 2 as on_time,
    greatest((epoch(s.ended_at) - epoch(s.received_at)) / 86400.0 - s.supplement_days, 0) as processing_days,
    coalesce(p.requires_paper_result, false) as paper,
    coalesce(p.has_fee, false) as fee,
    coalesce(p.online_level = 'full', false) as full_eligible,
    s.is_online, s.online_full, s.synced_national, s.digitised, s.e_result, s.reused_data,
    s.personal_store_linked, s.population_db_used, s.paid_online, s.certification_request, s.certified_e_copy
from states as s
inner join quarters as q
    on s.delivery_end <= q.period_end and coalesce(s.next_end, date '9999-12-31') > q.period_end
    and cast(s.received_at as date) <= q.period_end
left join procedure_quarters as p
    on q.period_label = p.period_label and s.procedure_code = p.procedure_code and s.unit_code = p.unit_code
where cast(s.received_at as date) >= q.period_start or s.ended_at is null
    or cast(s.ended_at as date) >= q.period_start;

-- ------------------------------------------------------------------------------------------------ counts

create or replace temp table dossier_counts as
select
    period_label,
    unit_code,
    count(*) as in_population,
    count(*) filter (where on_time) as on_time,
    count(*) filter (where ended) as ended,
    sum(processing_days) filter (where ended) as processing_days,
    count(*) filter (where received) as received,
    count(*) filter (where received and synced_national) as synced,
    count(*) filter (where ended and paper) as paper_ended,
    count(*) filter (where ended and paper and e_result) as paper_e_result,
    count(*) filter (where received and digitised and (e_result or not paper)) as digitised,
    count(*) filter (where received and certification_request) as certification,
    count(*) filter (where received and certification_request and certified_e_copy) as certified,
    count(*) filter (where received and reused_data) as reused,
    count(*) filter (where received and personal_store_linked) as store_linked,
    count(*) filter (where received and population_db_used) as population_db,
    count(*) filter (where received and full_eligible) as full_eligible,
    count(*) filter (where received and full_eligible and online_full) as full_online,
    count(*) filter (where received and is_online and (e_result or not paper)) as online,
    count(*) filter (where received and fee) as fee,
    count(*) filter (where received and fee and paid_online) as fee_paid
from dossier_quarters
group by all;

-- 5.4: feedback received in the quarter naming the dossier, or an unsatisfied rating given in it
create or replace temp table complaint_counts as
with feedback_states as (
    select *, lead(delivery_end) over (partition by feedback_id order by delivery_end) as next_end
    from feedback
    qualify row_number() over (partition by feedback_id, delivery_end order by filename desc, row_no desc) = 1
),
rating_states as (
    select *, lead(delivery_end) over (partition by rating_id order by delivery_end) as next_end
    from ratings
    qualify row_number() over (partition by rating_id, delivery_end order by filename desc, row_no desc) = 1
),
complaints as (
    select q.period_label, f.dossier_id
    from feedback_states as f
    inner join quarters as q
        on f.delivery_end <= q.period_end and coalesce(f.next_end, date '9999-12-31') > q.period_end
        and cast(f.received_at as date) between q.period_start and q.period_end
    where f.dossier_id is not null
    union
    select q.period_label, r.dossier_id
    from rating_states as r
    inner join quarters as q
        on r.delivery_end <= q.period_end and coalesce(r.next_end, date '9999-12-31') > q.period_end
        and cast(r.rated_at as date) between q.period_start and q.period_end
    where r.is_dislike
)
select d.period_label, d.unit_code, count(*) as complaints
from dossier_quarters as d
semi join complaints as c on d.period_label = c.period_label and d.dossier_id = c.dossier_id
group by all;

create or replace temp table procedure_counts as
with activity as (
    select
        period_label, unit_code, procedure_code,
        bool_or(received and is_online) as has_online,
        bool_or(received and paid_online) as has_paid
    from dossier_quarters
    group by all
)
select
    p.period_label,
    p.unit_code,
    count(*) filter (where p.announced_on between q.period_start and q.period_end) as announced,
    count(*) filter (
        where p.announced_on between q.period_start and q.period_end
        and (p.announce_due_on is null or p.announced_on <= p.announce_due_on)
    ) as announced_on_time,
    count(*) filter (where p.publish_due_on between q.period_start and q.period_end) as publish_due,
    count(*) filter (
        where p.publish_due_on between q.period_start and q.period_end and p.published_on <= p.publish_due_on
    ) as published_on_time,
    count(*) filter (where p.published_on <= q.period_end) as published,
    count(*) filter (where p.published_on <= q.period_end and p.components_complete) as published_complete,
    count(*) as procedures,
    count(*) filter (where p.online_level in ('partial', 'full')) as online_procedures,
    count(*) filter (where p.online_level in ('partial', 'full') and a.has_online) as online_used,
    count(*) filter (where p.has_fee) as fee_procedures,
    count(*) filter (where p.has_fee and p.fee_payment_integrated) as fee_integrated,
    count(*) filter (where p.has_fee and a.has_paid) as fee_paid,
    count(*) filter (where p.applicant_citizen) as citizen,
    count(*) filter (where p.applicant_citizen and p.population_data_connected) as citizen_connected
from procedure_quarters as p
inner join quarters as q on p.period_label = q.period_label
left join activity as a
    on p.period_label = a.period_label and p.unit_code = a.unit_code and p.procedure_code = a.procedure_code
group by all;

-- 5.2 / 5.3: judged against the feed's due_at (working-day numbers kept for the alternative basis)
create or replace temp table feedback_counts as
with days as (
    select cast(d as date) as calendar_date
    from range(date '2015-01-01', date '2041-01-01', interval 1 day) as r (d)
),
calendar as (
    select
        d.calendar_date,
        sum(case when coalesce(c.is_working_day, case when s.calendar_date is not null then true end,
            isodow(d.calendar_date) < 6 and h.calendar_date is null) then 1 else 0 end)
            over (order by d.calendar_date) as wdn
    from days as d
    left join (select distinct calendar_date from vn_holidays) as h on d.calendar_date = h.calendar_date
    left join (select distinct substitute_working_date as calendar_date from vn_holidays) as s
        on d.calendar_date = s.calendar_date
    left join read_csv('${seeds}/calendar/calendar_compensatory_days.csv', header = true) as c
        on d.calendar_date = c.calendar_date
),
states as (
    select *, lead(delivery_end) over (partition by feedback_id order by delivery_end) as next_end
    from feedback
    qualify row_number() over (partition by feedback_id, delivery_end order by filename desc, row_no desc) = 1
),
judged as (
    select
        q.period_label,
        f.unit_code,
        cast(f.received_at as date) >= q.period_start as received,
        f.dislikes > f.likes or f.is_repeat as unhappy,
        -- 5.2 on the feed's own deadline (rule_766_param feedback_deadline_basis = feed_due_at)
        case when f.handled_at <= q.period_end_ts then f.handled_at <= f.due_at
            else f.due_at >= q.period_end_ts end as on_time
    from states as f
    inner join quarters as q
        on f.delivery_end <= q.period_end and coalesce(f.next_end, date '9999-12-31') > q.period_end
        and cast(f.received_at as date) <= q.period_end
    where cast(f.received_at as date) >= q.period_start or f.handled_at is null
        or cast(f.handled_at as date) >= q.period_start
)
select
    period_label,
    unit_code,
    count(*) as in_population,
    count(*) filter (where on_time) as on_time,
    count(*) filter (where received) as received,
    count(*) filter (where received and not unhappy and coalesce(on_time, false)) as satisfied
from judged
group by all;

-- ------------------------------------------------------------------------------------------------ scoring

create or replace temp table unit_counts as
with wide as (
    select
        u.period_label, u.period_year, u.unit_code, u.peer_group, u.admin_level,
        coalesce(d.in_population, 0) as in_population, coalesce(d.on_time, 0) as on_time,
        coalesce(d.ended, 0) as ended, coalesce(d.processing_days, 0) as processing_days,
        coalesce(d.received, 0) as received, coalesce(d.synced, 0) as synced,
        coalesce(d.paper_ended, 0) as paper_ended, coalesce(d.paper_e_result, 0) as paper_e_result,
        coalesce(d.digitised, 0) as digitised, coalesce(d.certification, 0) as certification,
        coalesce(d.certified, 0) as certified, coalesce(d.reused, 0) as reused,
        coalesce(d.store_linked, 0) as store_linked, coalesce(d.population_db, 0) as population_db,
        coalesce(d.full_eligible, 0) as full_eligible, coalesce(d.full_online, 0) as full_online,
        coalesce(d.online, 0) as online, coalesce(d.fee, 0) as fee, coalesce(d.fee_paid, 0) as fee_paid,
        coalesce(c.complaints, 0) as complaints,
        coalesce(p.announced, 0) as announced, coalesce(p.announced_on_time, 0) as announced_on_time,
        coalesce(p.publish_due, 0) as publish_due, coalesce(p.published_on_time, 0) as published_on_time,
        coalesce(p.published, 0) as published, coalesce(p.published_complete, 0) as published_complete,
        coalesce(p.procedures, 0) as procedures, coalesce(p.online_procedures, 0) as online_procedures,
        coalesce(p.online_used, 0) as online_used, coalesce(p.fee_procedures, 0) as fee_procedures,
        coalesce(p.fee_integrated, 0) as fee_integrated, coalesce(p.fee_paid, 0) as fee_procedures_paid,
        coalesce(p.citizen, 0) as citizen, coalesce(p.citizen_connected, 0) as citizen_connected,
        coalesce(f.in_population, 0) as feedback_population, coalesce(f.on_time, 0) as feedback_on_time,
        coalesce(f.received, 0) as feedback_received, coalesce(f.satisfied, 0) as feedback_satisfied
    from unit_quarters as u
    left join dossier_counts as d on u.period_label = d.period_label and u.unit_code = d.unit_code
    left join complaint_counts as c on u.period_label = c.period_label and u.unit_code = c.unit_code
    left join procedure_counts as p on u.period_label = p.period_label and u.unit_code = p.unit_code
    left join feedback_counts as f on u.period_label = f.period_label and u.unit_code = f.unit_code
),
sync as (
    -- 1.4: max of the two receipt counts; with both 0, last year's receipts x 3 / 12
    select w.*, coalesce(
        nullif(greatest(w.received, w.synced), 0),
        (select sum(greatest(y.received, y.synced)) from wide as y
         where y.unit_code = w.unit_code and y.period_year = w.period_year - 1) * 3 / 12.0,
        0) as sync_denominator
    from wide as w
)
select
    *,
    case when sync_denominator > 0 then least(greatest(synced / sync_denominator, 0), 1) else 1 end as sync_rate
from sync;

create or replace temp table floor_766 as
with long as (
    select
        period_label, unit_code, peer_group, admin_level,
        unnest([
            {'id': '1.1', 'n': announced_on_time, 'd': announced},
            {'id': '1.2', 'n': published_on_time, 'd': publish_due},
            {'id': '1.3', 'n': published_complete, 'd': published},
            {'id': '1.4', 'n': synced, 'd': sync_denominator},
            {'id': '2.1', 'n': on_time, 'd': in_population},
            {'id': '2.2', 'n': processing_days, 'd': ended},
            {'id': '4.1', 'n': paper_e_result, 'd': paper_ended},
            {'id': '4.2', 'n': digitised, 'd': received},
            {'id': '4.CC', 'n': certified, 'd': certification},
            {'id': '4.3', 'n': reused, 'd': received},
            {'id': '4.4', 'n': store_linked, 'd': received},
            {'id': '4.5b', 'n': population_db, 'd': received},
            {'id': '4.5a', 'n': citizen_connected, 'd': citizen},
            {'id': '3.FO', 'n': full_online, 'd': full_eligible},
            {'id': '3.1', 'n': online_procedures, 'd': procedures},
            {'id': '3.2', 'n': online_used, 'd': online_procedures},
            {'id': '3.3', 'n': online, 'd': received * sync_rate},
            {'id': '3.5', 'n': fee_integrated, 'd': fee_procedures},
            {'id': '3.5b', 'n': fee_procedures_paid, 'd': fee_procedures},
            {'id': '3.6', 'n': fee_paid, 'd': fee},
            {'id': '5.1', 'n': feedback_received, 'd': null},
            {'id': '5.2', 'n': feedback_on_time, 'd': feedback_population},
            {'id': '5.3', 'n': feedback_satisfied, 'd': feedback_received},
            {'id': '5.4', 'n': on_time - complaints, 'd': in_population}
        ]) as c
    from unit_counts
),
indicators as (
    select * from read_csv('${seeds}/rules/rule_766_indicator.csv', header = true)
    where rule_version = '766-portal'
),
points as (
    select
        l.period_label, l.unit_code, l.peer_group, i.group_code, i.pmax,
        case
            when not list_contains(string_split(i.applicable_levels, '|'), l.admin_level) then null
            when i.scoring_method = 'monitor_only' or i.ratio_kind = 'count' then 0
            when coalesce(l.c.d, 0) = 0 then 0
            when i.scoring_method = 'linear' then i.pmax * least(greatest(100.0 * l.c.n / l.c.d, 0), 100) / 100
            when i.scoring_method = 'capped_linear_to_target'
                then i.pmax * least(least(greatest(100.0 * l.c.n / l.c.d, 0), 100), i.target) / i.target
            when i.scoring_method = 'threshold'
                then case when least(greatest(100.0 * l.c.n / l.c.d, 0), 100) >= i.target then i.pmax else 0 end
        end as points
    from long as l
    inner join indicators as i on l.c.id = i.indicator_id
),
groups as (
    select * from read_csv('${seeds}/rules/rule_766_group.csv', header = true) where rule_version = '766-portal'
),
leaves as (
    -- excluded (not applicable) indicators leave the group, which is rescaled over the others
    select
        p.period_label, p.unit_code, p.peer_group, g.group_code, g.parent_group_code,
        case
            when not bool_or(p.points is null and p.pmax > 0) then coalesce(sum(p.points), 0)
            when sum(p.pmax) filter (where p.points is not null) > 0
                then g.max_points * sum(p.points) / sum(p.pmax) filter (where p.points is not null)
        end as points
    from points as p
    inner join groups as g on p.group_code = g.group_code
    group by p.period_label, p.unit_code, p.peer_group, g.group_code, g.parent_group_code, g.max_points
),
top_level as (
    select period_label, unit_code, peer_group, group_code, points from leaves where parent_group_code is null
    union all
    select period_label, unit_code, peer_group, parent_group_code,
        case when bool_and(points is not null) then sum(points) end
    from leaves
    where parent_group_code is not null
    group by all
),
totals as (
    select
        period_label, unit_code, peer_group,
        case when bool_and(points is not null) then sum(points) end as total_points
    from top_level
    group by all
)
select
    period_label,
    unit_code,
    peer_group,
    total_points,
    case when total_points is not null then rank() over (
        partition by period_label, peer_group, total_points is not null
        order by round_away(total_points, 2) desc
    ) end as rank_in_peer_group
from totals;
