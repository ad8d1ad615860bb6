{% macro applicable_snapshot(periods, snapshots, snapshot_date, snapshot_key='snapshot_label', period_keys=['period_label']) -%}
    {#- The reference snapshot (units, procedures, staff, products) that applies to each period: the latest
        snapshot whose `snapshot_date` falls on or before the period's `period_end`, else the earliest snapshot
        delivered (a period older than every snapshot still gets one). A snapshot without a date is chosen only
        when no snapshot has one.
        periods:      relation or CTE with the `period_keys` columns and `period_end`
        snapshots:    relation or CTE with one row per snapshot: `snapshot_key` and `snapshot_date`
        snapshot_date: the day that stands for a snapshot (the caller chooses its first or its last day)
        Returns one row per period: the `period_keys` columns and the chosen `snapshot_key`. -#}
    select
        {%- for key in period_keys %}
        p.{{ key }},
        {%- endfor %}
        s.{{ snapshot_key }}
    from {{ periods }} as p
    cross join {{ snapshots }} as s
    qualify row_number() over (
        partition by {% for key in period_keys %}p.{{ key }}{{ ', ' if not loop.last }}{% endfor %}
        order by (s.{{ snapshot_date }} <= p.period_end) desc,
            case when s.{{ snapshot_date }} <= p.period_end then s.{{ snapshot_date }} end desc,
            s.{{ snapshot_date }} asc
    ) = 1
{%- endmacro %}
