{{ config(severity='warn') }}
-- Finding (warning): agencies' approved general-criteria codes outside the rubric in force. They are not counted
-- in G (int_agency_general_points); the steward maps them to rubric items or has the delivery corrected.
select year, unit_code, g_non_rubric_items, g_non_rubric_codes
from {{ ref('int_agency_general_points') }}
where g_non_rubric_items > 0
