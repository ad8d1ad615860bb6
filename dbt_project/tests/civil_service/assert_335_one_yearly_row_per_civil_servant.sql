-- Every active civil servant of a rated year (on the payroll of the year's HR snapshot, or scored in the year)
-- has exactly one yearly row, with a level or a not-rated reason.
with params as (
    select * from {{ ref('int_cs_rule_params') }}
),

staff as (
    select * from {{ ref('stg_staff') }}
),

year_snapshot as (
    select
        pa.year,
        coalesce(
            max(s.snapshot_start) filter (where s.snapshot_start <= make_date(pa.year, 12, 31)),
            min(s.snapshot_start)
        ) as snapshot_start
    from params as pa
    cross join (select distinct snapshot_start from staff) as s
    group by pa.year
),

active as (
    select distinct pa.year, s.staff_id
    from params as pa
    inner join year_snapshot as ys on ys.year = pa.year
    inner join staff as s
        on s.snapshot_start = ys.snapshot_start
        and list_contains(string_split(pa.rated_staff_categories, ','), s.staff_category)
        and (s.valid_from is null or s.valid_from <= make_date(pa.year, 12, 31))
        and (s.valid_to is null or s.valid_to >= make_date(pa.year, 1, 1))
    union
    select distinct year, staff_id from {{ ref('int_cs_period_scores') }}
),

rows_per_person as (
    select
        a.year,
        a.staff_id,
        count(r.staff_id) as yearly_rows,
        count(*) filter (where r.final_level is null and r.not_rated_reason is null) as rows_without_outcome
    from active as a
    left join {{ ref('civil_servant_yearly_ratings') }} as r
        on r.year = a.year and r.staff_id = a.staff_id
    group by a.year, a.staff_id
)

select * from rows_per_person
where yearly_rows <> 1 or rows_without_outcome > 0
