{% macro delivery_states(relation, id_column) -%}
    {#-
        Every delivered state of each record of a quarterly feed, with the range of scoring periods it holds
        for: a state delivered for period P applies to P and later periods until the next delivery of the same
        id. Two files of one period naming the same id: the later load wins. Re-scoring an old quarter after
        newer files arrive therefore reads the same rows as before. `relation` is a staging relation (or CTE)
        with delivery_period_label, loaded_at and source_row_number.
    -#}
    with delivery_labels as (
        -- parse each delivery label once, not once per row
        select
            delivery_period_label,
            {{ label_period_end('delivery_period_label') }} as delivery_period_end
        from (select distinct delivery_period_label from {{ relation }}) as labels
    ),

    dated as (
        select
            r.*,
            l.delivery_period_end
        from {{ relation }} as r
        inner join delivery_labels as l on r.delivery_period_label = l.delivery_period_label
    ),

    -- Most ids are delivered once: they need no window. Only the ids delivered more than once go through
    -- the two windows, which otherwise sort every wide row (half the cost of the dossier models).
    repeated as (
        select {{ id_column }} from dated group by {{ id_column }} having count(*) > 1
    ),

    delivered_once as (
        select
            d.*,
            cast(null as date) as next_delivery_period_end
        from dated as d
        anti join repeated as r on d.{{ id_column }} = r.{{ id_column }}
    ),

    one_per_delivery as (
        select d.*
        from dated as d
        semi join repeated as r on d.{{ id_column }} = r.{{ id_column }}
        qualify row_number() over (
            partition by d.{{ id_column }}, d.delivery_period_end order by d.loaded_at desc, d.source_row_number desc
        ) = 1
    ),

    delivered_again as (
        select
            *,
            lead(delivery_period_end) over (partition by {{ id_column }} order by delivery_period_end)
                as next_delivery_period_end
        from one_per_delivery
    )

    select * from delivered_once
    union all by name
    select * from delivered_again
{%- endmacro %}


{% macro state_holds_for_period(state, period) -%}
    {#- The join condition between a delivered state (from delivery_states) and a scoring period: the state
        delivered for the period's own label (state_period_end: a running quarter's nominal end, not its as-of
        day), or the latest earlier one. -#}
    {{ state }}.delivery_period_end <= {{ period }}.state_period_end
    and coalesce({{ state }}.next_delivery_period_end, date '9999-12-31') > {{ period }}.state_period_end
{%- endmacro %}
