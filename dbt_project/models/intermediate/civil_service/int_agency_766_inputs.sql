{#- The Decision 766 inputs of the agency rating (spec §5.4), yearly rows only (period_type = 'year',
    label YYYY): the on-time rate of indicator 2.1, satisfaction G5 / 18 × 100 and administrative reform
    (G3 + G4) / 44 × 100. The 766 index writes a row for every unit of the reference, with zero points where
    nothing was handled, so a unit counts as having a 766 result only when indicator 2.1 has a ratio (it handled
    dossiers in the year); otherwise its 766 items are not applicable. This is the only place where the agency
    rating reads the service index.
    var ratings335_use_766_models (default true) can switch the join off where the service-index marts are not
    part of the build. -#}
{%- if var('ratings335_use_766_models', true) %}
with unit_service_index as (
    select * from {{ ref('unit_service_index') }}
),

indicator_points as (
    select * from {{ ref('service_indicator_points') }}
),
{%- else %}
with unit_service_index as (
    select
        cast(null as varchar) as period_label,
        cast(null as varchar) as period_type,
        cast(null as varchar) as unit_code,
        cast(null as varchar) as rule_version,
        cast(null as boolean) as is_default_rule_version,
        cast(null as double) as g3_points,
        cast(null as double) as g4_points,
        cast(null as double) as g5_points
    where false
),

indicator_points as (
    select
        cast(null as varchar) as period_label,
        cast(null as varchar) as period_type,
        cast(null as varchar) as unit_code,
        cast(null as varchar) as rule_version,
        cast(null as varchar) as indicator_id,
        cast(null as double) as ratio_pct
    where false
),
{%- endif %}

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

yearly_index as (
    select
        cast(period_label as integer) as year,
        unit_code,
        rule_version,
        cast(g3_points as double) as g3_points,
        cast(g4_points as double) as g4_points,
        cast(g5_points as double) as g5_points
    from unit_service_index
    -- the published (default) rule version of the 766 index
    where period_type = 'year' and is_default_rule_version
),

indicator_2_1 as (
    select
        cast(period_label as integer) as year,
        unit_code,
        rule_version,
        cast(ratio_pct as double) as ratio_pct
    from indicator_points
    where period_type = 'year' and indicator_id = '2.1'
),

final as (
    select
        y.year,
        y.unit_code,
        y.rule_version as rule_version_766,
        i.ratio_pct as dossiers_on_time_pct,
        y.g5_points,
        y.g3_points,
        y.g4_points,
        100.0 * y.g5_points / pa.agency_766_g5_max as satisfaction_pct,
        100.0 * (coalesce(y.g3_points, 0) + coalesce(y.g4_points, 0)) / pa.agency_766_g3g4_max as admin_reform_766_pct
    from yearly_index as y
    inner join params as pa on pa.year = y.year
    inner join indicator_2_1 as i
        on i.year = y.year and i.unit_code = y.unit_code and i.rule_version = y.rule_version
    where i.ratio_pct is not null
)

select * from final
