-- Grain of the Decree 335 marts: one row per key.
select 'civil_servant_period_scores' as mart, count(*) as duplicates
from (
    select staff_id, period_type, period_start from {{ ref('civil_servant_period_scores') }}
    group by all having count(*) > 1
)
having count(*) > 0
union all
select 'civil_servant_yearly_ratings', count(*)
from (select year, staff_id from {{ ref('civil_servant_yearly_ratings') }} group by all having count(*) > 1)
having count(*) > 0
union all
select 'civil_service_level_distribution', count(*)
from (
    select year, unit_code, task_group from {{ ref('civil_service_level_distribution') }}
    group by all having count(*) > 1
)
having count(*) > 0
union all
select 'civil_service_quota_usage', count(*)
from (
    select year, unit_code, task_group from {{ ref('civil_service_quota_usage') }}
    group by all having count(*) > 1
)
having count(*) > 0
union all
select 'agency_ratings', count(*)
from (select year, unit_code from {{ ref('agency_ratings') }} group by all having count(*) > 1)
having count(*) > 0
