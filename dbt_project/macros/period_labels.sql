{% macro label_period_start(label) -%}
    {#- First day of a period label: YYYY-Qn, YYYY-MM, YYYY, or an ISO date (a reference snapshot may be labelled
        by its day); any other label gives null. Used for period windows and for the day a snapshot stands for. -#}
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

{% macro label_period_end(label) -%}
    {#- Last day of a period label (see label_period_start). -#}
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
