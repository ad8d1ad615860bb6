-- Ratios and scores stay on their scales: a, b, c, d, đ, e, T and S in [0, 100], Part II in [0, 70],
-- G in [0, 30]; yearly Y and agency scores in [0, 100].
select staff_id as id, 'period' as grain
from {{ ref('civil_servant_period_scores') }}
where
    a_pct not between 0 and 100 or b_pct not between 0 and 100 or c_pct not between 0 and 100
    or d_pct not between 0 and 100 or dd_pct not between 0 and 100 or e_pct not between 0 and 100
    or t_pct not between 0 and 100 or s_points not between 0 and 100
    or part2_points not between 0 and 70 or g_points not between 0 and 30
union all
select staff_id, 'year'
from {{ ref('civil_servant_yearly_ratings') }}
where y_score not between 0 and 100
union all
select unit_code, 'agency'
from {{ ref('agency_ratings') }}
where
    s_points not between 0 and 100 or g_points not between 0 and 30 or part2_points not between 0 and 70
    or tasks_on_time_pct not between 0 and 100 or tasks_quality_pct not between 0 and 100
