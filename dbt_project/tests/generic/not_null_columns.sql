{% test not_null_columns(model, columns) %}
{#-
    Every listed column of the model holds a value, checked in one pass over the model (one query, where a
    not_null test per column would scan it once each). A failing row names the column and how many rows
    leave it empty.
-#}
with null_counts as (
    select
        {%- for column in columns %}
        count(*) filter (where {{ adapter.quote(column) }} is null) as {{ adapter.quote(column) }}
        {{- "," if not loop.last }}
        {%- endfor %}
    from {{ model }}
),

unpivoted as (
    unpivot null_counts on columns(*) into name column_name value null_rows
),

final as (
    select
        column_name,
        null_rows
    from unpivoted
    where null_rows > 0
)

select * from final
{% endtest %}
