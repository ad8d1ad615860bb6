-- Every active civil servant of a rated year has exactly one yearly row, with a level or a not-rated reason.
with active as (
    select distinct y.year, s.staff_id
    from {{ ref('int_cs_rule_params') }} as y
    inner join {{ ref('stg_staff') }} as s
        on list_contains(string_split(y.rated_staff_categories, ','), s.staff_category)
        and (s.valid_from is null or s.valid_from <= make_date(y.year, 12, 31))
        and (s.valid_to is null or s.valid_to >= make_date(y.year, 1, 1))
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
