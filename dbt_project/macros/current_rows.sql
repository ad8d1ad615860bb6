{% macro current_rows(feed, dated_by=none) -%}
    {#- Accepted rows of the current load of every (feed, period, file): superseded loads stay in raw but are not
        read. Within a window (var `window_end`), deliveries labelled for a period that starts after it are not
        read (a reference snapshot still falls back to its feed's earliest one, so an old period keeps a map),
        and when `dated_by` names a date column, rows dated after the window end are not read either. -#}
    {%- set window_end = var('window_end', '') %}
    select r.*
    from {{ source('raw', feed) }} as r
    where r._load_id in (
        select l.load_id from {{ source('meta', 'loads') }} as l
        where l.feed = '{{ feed }}' and l.is_current
        {%- if window_end %}
            and (
                {{ label_period_start('l.period_label') }} <= date '{{ window_end }}'
                or {{ label_period_start('l.period_label') }} = (
                    select min({{ label_period_start('f.period_label') }})
                    from {{ source('meta', 'loads') }} as f
                    where f.feed = '{{ feed }}' and f.is_current and f.feed in ({{ reference_feeds() }})
                )
            )
        {%- endif %}
    )
    {%- if window_end and dated_by %}
        and (r.{{ dated_by }} is null or cast(r.{{ dated_by }} as date) <= date '{{ window_end }}')
    {%- endif %}
{%- endmacro %}

{% macro reference_feeds() -%}
    {#- Feeds delivered as snapshots of reference data (each snapshot applies from its label on). -#}
    'units', 'procedures', 'staff', 'products'
{%- endmacro %}
