-- The units snapshot that applies to each scored period: the latest snapshot whose period ends on or before
-- the period end, else the earliest snapshot delivered. One row per (period, unit).
with units as (
    select * from {{ ref('stg_units') }}
),

periods as (
    select * from {{ ref('int_766_periods') }}
),

snapshots as (
    select distinct
        delivery_period_label as snapshot_label,
        {{ label_period_end('delivery_period_label') }} as snapshot_end
    from units
),

snapshot_periods as (
    -- a running quarter takes the snapshot delivered for it (labelled with it), as a closed one does
    select period_label, state_period_end as period_end from periods
),

chosen as (
    {{ applicable_snapshot('snapshot_periods', 'snapshots', snapshot_date='snapshot_end') }}
),

unit_rows as (
    select
        c.period_label,
        c.snapshot_label,
        u.*,
        row_number() over (
            partition by c.period_label, u.unit_code order by u.loaded_at desc, u.source_row_number desc
        ) as row_rank
    from chosen as c
    inner join units as u on c.snapshot_label = u.delivery_period_label
),

final as (
    select
        r.period_label,
        r.unit_code,
        r.unit_name,
        r.unit_kind,
        r.peer_group,
        r.parent_unit_code,
        r.population,
        r.valid_from,
        r.valid_to,
        r.snapshot_label
    from unit_rows as r
    inner join periods as p on r.period_label = p.period_label
    where r.row_rank = 1
        -- units that exist at some point of the period
        and coalesce(r.valid_from, date '1900-01-01') <= p.period_end
        and coalesce(r.valid_to, date '9999-12-31') >= p.period_start
)

select * from final
