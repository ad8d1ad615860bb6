{#- Agencies' general criteria per unit and year (spec §5.2): approved points per rubric item (latest delivery
    wins), valid when 0 <= points <= the item's maximum and on its step. The rubric item marked source_766
    (administrative reform) is kept apart so the rating can replace it by the 766 groups G3 + G4. Only items of
    the rubric in force count: an approved code outside it adds nothing (otherwise a local code for
    administrative reform would be counted once declared and once from the 766 index); such items are counted in
    g_non_rubric_items and listed by the warning test assert_335_agency_g_items_in_rubric. -#}
with criteria as (
    select * from {{ ref('stg_agency_general_criteria') }}
),

rubric as (
    select * from {{ ref('rule_335_agency_g_rubric') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

latest as (
    select
        cast(c.year as integer) as year,
        c.unit_code,
        c.criterion,
        c.points,
        c.max_points,
        row_number() over (
            partition by c.year, c.unit_code, c.criterion order by c.loaded_at desc, c.source_row_number desc
        ) as delivery_rank
    from criteria as c
    where c.approved
),

items as (
    select
        l.year,
        l.unit_code,
        l.criterion,
        l.points,
        r.item_id is not null as is_rubric_item,
        r.source_766,
        least(coalesce(l.max_points, r.max_points), coalesce(r.max_points, l.max_points)) as item_max,
        coalesce(r.step, pa.g_step) as item_step,
        pa.g_max_points
    from latest as l
    inner join params as pa on pa.year = l.year
    left join rubric as r
        on r.item_id = l.criterion
        and r.rule_set = pa.rule_set
        and r.effective_from <= make_date(l.year, 12, 31)
        and (r.effective_to is null or r.effective_to >= make_date(l.year, 1, 1))
    where l.delivery_rank = 1
),

validated as (
    select
        *,
        points is not null and points >= 0 and (item_max is null or points <= item_max)
        and abs(points / item_step - round(points / item_step)) < 1e-9 as is_valid_item
    from items
),

rubric_766_max as (
    select pa.year, max(r.max_points) as admin_reform_max_points
    from params as pa
    inner join rubric as r
        on r.rule_set = pa.rule_set
        and r.source_766 is not null
        and r.effective_from <= make_date(pa.year, 12, 31)
        and (r.effective_to is null or r.effective_to >= make_date(pa.year, 1, 1))
    group by pa.year
),

final as (
    select
        v.year,
        v.unit_code,
        coalesce(
            sum(v.points) filter (where v.is_rubric_item and v.is_valid_item and v.source_766 is null), 0
        ) as g_other_points,
        sum(v.points) filter (
            where v.is_rubric_item and v.is_valid_item and v.source_766 is not null
        ) as admin_reform_declared_points,
        any_value(m.admin_reform_max_points) as admin_reform_max_points,
        count(*) filter (where v.is_rubric_item and not v.is_valid_item) as g_invalid_items,
        count(*) filter (where not v.is_rubric_item) as g_non_rubric_items,
        string_agg(v.criterion, ', ' order by v.criterion) filter (where not v.is_rubric_item) as g_non_rubric_codes,
        any_value(v.g_max_points) as g_max_points
    from validated as v
    left join rubric_766_max as m on m.year = v.year
    group by v.year, v.unit_code
)

select * from final
