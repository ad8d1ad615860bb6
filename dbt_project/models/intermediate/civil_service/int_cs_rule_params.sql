{#- One row per evaluation year with the Decree 335 parameters that apply to it, typed, and how final its
    rating is on var `as_of`: year_to_date, year_end (on or after year_end_rating_from) or final (the year ended).
    The rule set is chosen by var ratings335_rule_set; for every key the version whose validity covers the
    year applies (the latest effective_from wins when a key changes within the year). -#}
{%- set params = [
    ('rated_staff_categories', 'varchar'),
    ('g_max_points', 'double'),
    ('g_step', 'double'),
    ('g_grain', 'varchar'),
    ('task_formula', 'varchar'),
    ('part2_max_points', 'double'),
    ('clamp_abc', 'boolean'),
    ('empty_period_policy', 'varchar'),
    ('deduction_mode', 'varchar'),
    ('deduction_rate', 'double'),
    ('yearly_aggregation', 'varchar'),
    ('threshold_xs', 'double'),
    ('threshold_tot', 'double'),
    ('threshold_ht', 'double'),
    ('classification_rounding', 'varchar'),
    ('float_guard_decimals', 'integer'),
    ('leader_ratio_full', 'double'),
    ('leader_ratio_reduced', 'double'),
    ('leader_d_pass_score', 'double'),
    ('leader_default_ratio', 'double'),
    ('d_test_grain', 'varchar'),
    ('dde_grain', 'varchar'),
    ('min_worked_months', 'integer'),
    ('worked_months_flag_below', 'integer'),
    ('kht_any_period_below_50', 'boolean'),
    ('discipline_date_basis', 'varchar'),
    ('quota_rate', 'integer'),
    ('quota_reading', 'varchar'),
    ('quota_tie_break', 'varchar'),
    ('quota_exception_rate', 'integer'),
    ('agency_threshold_xs', 'double'),
    ('agency_threshold_tot', 'double'),
    ('agency_threshold_ht', 'double'),
    ('agency_quota_rate', 'integer'),
    ('agency_766_g5_max', 'double'),
    ('agency_766_g3g4_max', 'double'),
    ('cap_head_by_unit_rating', 'boolean'),
    ('year_end_open_periods', 'varchar'),
    ('year_end_rating_from', 'varchar'),
] -%}

with config as (
    select * from {{ ref('rule_335_config') }}
),

work_items as (
    select * from {{ ref('stg_work_items') }}
),

general_criteria as (
    select * from {{ ref('stg_general_criteria') }}
),

discipline as (
    select * from {{ ref('stg_discipline') }}
),

agency_tasks as (
    select * from {{ ref('stg_agency_tasks') }}
),

agency_general_criteria as (
    select * from {{ ref('stg_agency_general_criteria') }}
),

evaluation_years as (
    select distinct year(period_start) as year from work_items
    union
    select distinct year(period_start) from general_criteria
    union
    select distinct year(decided_on) from discipline
    union
    select distinct try_cast(left(delivery_period_label, 4) as integer) from agency_tasks
    union
    select distinct cast(year as integer) from agency_general_criteria
),

applicable as (
    select
        y.year,
        c.rule_set,
        c.key,
        c.value,
        c.rule_version,
        c.legal_basis,
        row_number() over (
            partition by y.year, c.key order by c.effective_from desc, c.rule_version desc
        ) as version_rank
    from evaluation_years as y
    inner join config as c
        on c.rule_set = '{{ var("ratings335_rule_set", "nd335_2025") }}'
        and c.effective_from <= make_date(y.year, 12, 31)
        and (c.effective_to is null or c.effective_to >= make_date(y.year, 1, 1))
    where y.year is not null
),

in_force as (
    select * from applicable where version_rank = 1
),

pivoted as (
    select
        year,
        any_value(rule_set) as rule_set,
        max(rule_version) as rule_version,
        '{{ var("ratings335_engine_version", "ratings335-1.0.0") }}' as engine_version,
        {%- for key, type in params %}
        cast(nullif(max(case when key = '{{ key }}' then value end), '') as {{ type }}) as {{ key }}
        {%- if not loop.last %},{% endif %}
        {%- endfor %}
    from in_force
    group by year
),

as_of as (
    -- var `as_of`: the day a yearly rating made before the year ends is computed to
    select try_cast(nullif('{{ var("as_of", "") }}', '') as date) as as_of_date
),

final as (
    select
        p.*,
        case when a.as_of_date < make_date(p.year, 12, 31) then a.as_of_date end as as_of,
        case
            when a.as_of_date is null or a.as_of_date >= make_date(p.year, 12, 31) then 'final'
            when a.as_of_date >= cast(p.year || '-' || coalesce(p.year_end_rating_from, '12-01') as date)
                then 'year_end'
            else 'year_to_date'
        end as rating_status
    from pivoted as p
    cross join as_of as a
)

select * from final
