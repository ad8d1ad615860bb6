{% macro current_rows(feed) -%}
    {#- Accepted rows of the current load of every (feed, period, file): superseded loads stay in raw but are not read. -#}
    select r.*
    from {{ source('raw', feed) }} as r
    where r._load_id in (
        select l.load_id from {{ source('meta', 'loads') }} as l
        where l.feed = '{{ feed }}' and l.is_current
    )
{%- endmacro %}
