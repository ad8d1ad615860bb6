{% macro disclosure_rules(years) -%}
    {#- The small-cell protection rules (seed rule_disclosure) in force on the last day of each year of the
        relation or CTE `years` (a column `year`): min_cell_size k and the two switches. -#}
    select
        y.year,
        cast(max(case when r.key = 'min_cell_size' then r.value end) as integer) as k,
        cast(max(case when r.key = 'suppress_homogeneous_groups' then r.value end) as boolean) as homogeneous_rule,
        cast(max(case when r.key = 'complementary_suppression' then r.value end) as boolean) as complementary_rule
    from (select distinct year from {{ years }}) as y
    inner join {{ ref('rule_disclosure') }} as r
        on r.effective_from <= make_date(y.year, 12, 31)
        and (r.effective_to is null or r.effective_to >= make_date(y.year, 12, 31))
    group by y.year
{%- endmacro %}

{% macro with_rating_status(relation) -%}
    {#- Every column of `relation` with the year's rating_status and as_of (int_cs_rule_params). -#}
    select
        f.*,
        ry.rating_status,
        ry.as_of
    from {{ relation }} as f
    left join {{ ref('int_cs_rule_params') }} as ry on ry.year = f.year
{%- endmacro %}
