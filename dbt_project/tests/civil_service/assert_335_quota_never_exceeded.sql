-- The XS quota is never exceeded: in every partition the final XS count stays within x_max.
select *
from {{ ref('civil_service_quota_usage') }}
where xs_final > x_max
