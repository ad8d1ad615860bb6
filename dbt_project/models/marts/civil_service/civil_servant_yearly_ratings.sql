-- Restricted (personal data). One row per civil servant and year (spec §4.6-4.10): Y, preliminary level,
-- overrides, XS quota under both readings, final level with reason codes, or the reason the person is not rated.
-- With cap_head_by_unit_rating on, a head's final level never exceeds the agency level of the rating unit.
with yearly as (
    select * from {{ ref('int_cs_yearly_scores') }}
),

partitions as (
    select * from {{ ref('int_cs_quota_partitions') }}
),

selection as (
    select * from {{ ref('int_cs_quota_selection') }}
),

agencies as (
    select * from {{ ref('agency_ratings') }}
),

params as (
    select * from {{ ref('int_cs_rule_params') }}
),

joined as (
    select
        y.*,
        p.quota_partition,
        p.x_max_reading1 as quota_x_max_reading1,
        p.x_max_reading2 as quota_x_max_reading2,
        p.quota_reading_used,
        p.uses_exception,
        coalesce(s.is_quota_demoted, false) as quota_demoted,
        coalesce(s.is_manual_review, false) as is_manual_review,
        coalesce(s.is_tie_break_review, false) as is_tie_break_review,
        a.level as unit_agency_level,
        pa.cap_head_by_unit_rating
    from yearly as y
    inner join params as pa on pa.year = y.year
    left join partitions as p
        on p.year = y.year and p.unit_code = y.rating_unit_code and p.task_group = y.task_group
    left join selection as s on s.year = y.year and s.staff_id = y.staff_id
    left join agencies as a on a.year = y.year and a.unit_code = y.rating_unit_code
),

after_quota as (
    select
        *,
        case when quota_demoted then 'T' else level_after_overrides end as level_after_quota
    from joined
),

capped as (
    select
        *,
        cap_head_by_unit_rating
        and role = 'head'
        and unit_agency_level is not null
        and level_after_quota is not null
        and list_position(['KHT', 'HT', 'T', 'XS'], level_after_quota)
        > list_position(['KHT', 'HT', 'T', 'XS'], unit_agency_level) as is_capped_by_unit
    from after_quota
),

final as (
    select
        year,
        staff_id,
        full_name,
        rating_unit_code,
        task_group,
        role,
        periods_scored,
        units_served,
        y_score,
        preliminary_level,
        override_codes,
        level_after_overrides,
        quota_partition,
        quota_x_max_reading1,
        quota_x_max_reading2,
        quota_reading_used,
        quota_demoted,
        is_manual_review or is_tie_break_review as quota_review_flag,
        case when is_capped_by_unit then unit_agency_level else level_after_quota end as final_level,
        nullif(concat_ws(
            ',',
            case when preliminary_level is not null then 'THRESHOLD_' || preliminary_level end,
            override_codes,
            case when level_after_overrides = 'XS' and uses_exception then 'QUOTA_EXCEPTION_RATE' end,
            case when quota_demoted then 'QUOTA_DEMOTED' end,
            case when is_tie_break_review then 'QUOTA_TIE_BREAK_REVIEW' end,
            case when is_manual_review then 'QUOTA_MANUAL_REVIEW' end,
            case when is_capped_by_unit then 'CAP_HEAD_BY_UNIT' end,
            case when worked_months_flag and not_rated_reason is null then 'WORKED_MONTHS_BELOW_FLAG' end
        ), '') as reason_codes,
        not_rated_reason,
        worked_months_flag,
        rule_set,
        engine_version
    from capped
)

{{ with_rating_status('final') }}
