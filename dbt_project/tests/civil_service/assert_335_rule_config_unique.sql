-- One value per (rule_set, key, effective_from): a rule change is a new row with its own dates.
select rule_set, key, effective_from, count(*) as versions
from {{ ref('rule_335_config') }}
group by rule_set, key, effective_from
having count(*) > 1
