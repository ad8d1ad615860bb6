-- Restricted (personal data). One row per civil servant, unit and evaluation period with every intermediate
-- value of the Decree 335 period score (spec §4.11 rule 38): A, a, b, c, d, đ (dd), e, T, Part II, G, S_p.
with scores as (
    select * from {{ ref('int_cs_period_scores') }}
),

final as (
    select
        staff_id,
        full_name,
        unit_code,
        task_group,
        role,
        period_label,
        period_type,
        period_start,
        assigned_total_a,
        a_pct,
        b_pct,
        c_pct,
        d_pct,
        dd_pct,
        e_pct,
        t_pct,
        part2_points,
        g_points,
        s_points,
        is_insufficient_data,
        rule_set,
        engine_version
    from scores
)

select * from final
