{% macro round_half_away_766(expr, digits) -%}
    {#- Round half away from zero to `digits` decimals (a constant or a column). The scaled DOUBLE is first
        fixed to 9 decimals so that binary noise (7884.4999999 for 78.845 x 100) cannot move the result;
        DuckDB rounds DECIMAL half away from zero. -#}
    (cast(round(cast(({{ expr }}) * power(10, {{ digits }}) as decimal(38, 9)), 0) as double)
        / power(10, {{ digits }}))
{%- endmacro %}

{% macro label_period_start_766(label) -%}
    {#- First day of a period label: YYYY-Qn, YYYY-MM, YYYY or an ISO date (snapshot labels). -#}
    case
        when regexp_full_match({{ label }}, '\d{4}-Q[1-4]')
            then make_date(cast(left({{ label }}, 4) as integer), 3 * cast(right({{ label }}, 1) as integer) - 2, 1)
        when regexp_full_match({{ label }}, '\d{4}-\d{2}')
            then make_date(cast(left({{ label }}, 4) as integer), cast(right({{ label }}, 2) as integer), 1)
        when regexp_full_match({{ label }}, '\d{4}')
            then make_date(cast({{ label }} as integer), 1, 1)
        else try_cast({{ label }} as date)
    end
{%- endmacro %}

{% macro label_period_end_766(label) -%}
    {#- Last day of a period label (see label_period_start_766). -#}
    case
        when regexp_full_match({{ label }}, '\d{4}-Q[1-4]')
            then cast(make_date(cast(left({{ label }}, 4) as integer), 3 * cast(right({{ label }}, 1) as integer) - 2, 1)
                + interval 3 month - interval 1 day as date)
        when regexp_full_match({{ label }}, '\d{4}-\d{2}')
            then cast(make_date(cast(left({{ label }}, 4) as integer), cast(right({{ label }}, 2) as integer), 1)
                + interval 1 month - interval 1 day as date)
        when regexp_full_match({{ label }}, '\d{4}')
            then make_date(cast({{ label }} as integer), 12, 31)
        else try_cast({{ label }} as date)
    end
{%- endmacro %}
