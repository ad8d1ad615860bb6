{#- Period scores S_p = G + 0.7 T, computed bottom-up along the management tree (spec §4.4 rule 18, §4.10).
    Level h holds the people whose subtree is h deep: staff (0) first, then deputies, then heads. A leader's
    d is tested on the S_p of the same period of everyone in their subtree, all of whom sit on lower levels and
    are therefore already scored: 100 when every scored subordinate has S_p >= 50, else 50. Subordinates with
    insufficient data are ignored; with no scored subordinate the declared d (else the default 100) applies.
    var ratings335_max_tree_height bounds the levels; a singular test checks that no period was left out. -#}
{%- set max_height = var('ratings335_max_tree_height', 5) | int -%}

with base as (
    select * from {{ ref('int_cs_period_base') }}
),

tree as (
    select * from {{ ref('int_cs_management_tree') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

base_with_params as (
    select
        b.*,
        pa.float_guard_decimals,
        pa.leader_d_pass_score,
        pa.leader_ratio_full,
        pa.leader_ratio_reduced
    from base as b
    inner join params as pa on pa.year = b.year
),
{% for h in range(max_height + 1) %}
{%- if h > 0 %}
d_level_{{ h }} as (
    select
        t.period_start,
        t.period_type,
        t.leader_staff_id as staff_id,
        count(s.s_points) as d_subordinates_scored,
        count(*) filter (
            where round(s.s_points, s.float_guard_decimals) < s.leader_d_pass_score
        ) as d_subordinates_below
    from tree as t
    inner join (
        {%- for lower in range(h) %}
        select * from scores_level_{{ lower }}
        {%- if not loop.last %}
        union all by name
        {%- endif %}
        {%- endfor %}
    ) as s
        on s.staff_id = t.subordinate_staff_id
        and s.period_start = t.period_start
        and s.period_type = t.period_type
    where t.leader_tree_height = {{ h }}
    group by t.period_start, t.period_type, t.leader_staff_id
),
{% endif %}
with_d_level_{{ h }} as (
    select
        b.*,
        {%- if h > 0 %}
        coalesce(dl.d_subordinates_scored, 0) as d_subordinates_scored,
        coalesce(dl.d_subordinates_below, 0) as d_subordinates_below,
        {%- else %}
        0 as d_subordinates_scored,
        0 as d_subordinates_below,
        {%- endif %}
        case
            when not b.is_leader then null
            {%- if h > 0 %}
            when coalesce(dl.d_subordinates_scored, 0) = 0 then coalesce(b.d_declared, b.leader_default_ratio)
            when dl.d_subordinates_below > 0 then b.leader_ratio_reduced
            else b.leader_ratio_full
            {%- else %}
            else coalesce(b.d_declared, b.leader_default_ratio)
            {%- endif %}
        end as d_pct
    from base_with_params as b
    {%- if h > 0 %}
    left join d_level_{{ h }} as dl
        on dl.staff_id = b.staff_id and dl.period_start = b.period_start and dl.period_type = b.period_type
    {%- endif %}
    where b.tree_height = {{ h }}
),

t_level_{{ h }} as (
    select
        *,
        case
            when is_insufficient_data then null
            when is_leader then (a_pct + b_pct + c_pct + d_pct + dd_pct + e_pct) / 6.0
            else (a_pct + b_pct + c_pct) / 3.0
        end as t_pct
    from with_d_level_{{ h }}
),

scores_level_{{ h }} as (
    select
        *,
        part2_max_points * t_pct / 100.0 as part2_points,
        case
            when not is_insufficient_data then least(100, greatest(0, g_points + part2_max_points * t_pct / 100.0))
        end as s_points
    from t_level_{{ h }}
),
{% endfor %}
final as (
    {%- for h in range(max_height + 1) %}
    select * from scores_level_{{ h }}
    {%- if not loop.last %}
    union all by name
    {%- endif %}
    {%- endfor %}
)

select * from final
