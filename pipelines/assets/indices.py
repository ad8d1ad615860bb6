"""Composite indices run by the quarterly pipeline: the 766 index as a point sum (to explain and stress-test the
official ranking) and the province's own composite indices, each defined as a file in index_definitions/."""

import dagster as dg
import duckdb

from pipelines.checks import INDEX_KEY
from pipelines.home import PROJECT_ROOT
from pipelines.partitions import quarterly_partitions
from pipelines.periods import quarter_from_partition_key
from pipelines.resources import WarehouseResource

INDEX_DEFINITIONS_DIR = PROJECT_ROOT / "index_definitions"
INDICES_KEY = dg.AssetKey(["indices", "index_results"])
OFFICIAL_POINT_SUM = "service_index_766"

# Analyst-facing views over the engine's run tables: the latest run of each index and period.
PUBLISHED_VIEWS = """
create or replace view indices.latest_runs as
select run_id, index_code, index_name, period_label, rule_version from (
    select *, row_number() over (partition by index_code, period_label order by created_at desc) as rn
    from indices.runs where period_label is not null
) where rn = 1;

create or replace view indices.published_scores as
select r.period_label, r.index_code, r.index_name, s.unit_code, s.unit_name, s.partition_key,
       s.score, s.score_rounded, s.rank as rank_in_partition, r.rule_version
from indices.scores s join indices.latest_runs r using (run_id)
where s.is_index;

create or replace view indices.published_rank_intervals as
select r.period_label, r.index_code, i.unit_code, i.nominal_rank, i.median_rank, i.mean_rank,
       i.rank_q05, i.rank_q95, i.n_replications
from indices.rank_intervals i join indices.latest_runs r using (run_id);

create or replace view indices.published_contributions as
select r.period_label, r.index_code, c.unit_code, c.component_code, c.component_level, c.effective_weight,
       c.value, c.contribution, c.points_lost, c.share
from indices.contributions c join indices.latest_runs r using (run_id)
where c.scope = 'index';

create or replace view indices.published_strengths as
select r.period_label, r.index_code, s.unit_code, s.kind, s.position, s.indicator_code, s.peer_rank, s.n_peers,
       s.value
from indices.strengths s join indices.latest_runs r using (run_id);
"""


def index_definitions() -> list:
    """Every index definition the quarterly pipeline runs, the official point sum first."""
    files = sorted(INDEX_DEFINITIONS_DIR.glob("*.yaml"))
    return sorted(files, key=lambda p: (p.stem != OFFICIAL_POINT_SUM, p.stem))


def ensure_published_views(con: duckdb.DuckDBPyConnection) -> None:
    """Create the analyst-facing views once the engine's tables exist."""
    con.execute(PUBLISHED_VIEWS)


@dg.asset(
    key=INDICES_KEY,
    deps=[INDEX_KEY, dg.AssetKey(["marts", "service_indicator_points"])],
    partitions_def=quarterly_partitions,
    group_name="indices",
    kinds={"duckdb", "python"},
    description="Scores, ranks, rank intervals (Monte Carlo), contributions and strengths of every index "
                "definition in index_definitions/, for the quarter.",
)
def index_results(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    from pipelines.index_engine import run_on_warehouse  # noqa: PLC0415 - numpy/scipy only when needed

    period = quarter_from_partition_key(context.partition_key)
    con = warehouse.connect()
    metadata: dict[str, object] = {"period": period.label}
    try:
        for path in index_definitions():
            run = run_on_warehouse(con, path, period.label)
            metadata[path.stem] = run.run_id
            context.log.info(f"{path.name}: run {run.run_id}")
        ensure_published_views(con)
    finally:
        con.close()
    return dg.MaterializeResult(metadata=metadata)


@dg.asset_check(asset=INDICES_KEY, name="official_point_sum_reproduced", blocking=True,
                partitions_def=quarterly_partitions,
                description="The 766 index expressed with the engine reproduces the published totals and ranks.")
def official_point_sum_reproduced(context: dg.AssetCheckExecutionContext,
                                  warehouse: WarehouseResource) -> dg.AssetCheckResult:
    period = quarter_from_partition_key(context.op_execution_context.partition_key)
    rule_version = warehouse.settings.service_index_rule_version
    con = warehouse.connect(read_only=True)
    try:
        compared, max_gap, rank_mismatches = con.execute(
            """
            select count(*), coalesce(max(abs(e.score - m.total_points)), 0),
                   count(*) filter (where e.rank_in_partition is distinct from m.rank_in_peer_group)
            from marts.unit_service_index m
            join indices.published_scores e
              on e.unit_code = m.unit_code and e.period_label = m.period_label and e.index_code = ?
            where m.period_label = ? and m.rule_version = ?
            """,
            [OFFICIAL_POINT_SUM, period.label, rule_version]).fetchone()
    finally:
        con.close()
    passed = compared > 0 and max_gap < 1e-9 and rank_mismatches == 0
    return dg.AssetCheckResult(
        passed=passed,
        metadata={"units_compared": compared, "max_abs_gap": float(max_gap), "rank_mismatches": rank_mismatches},
        description=f"{compared} units, largest gap {max_gap:.2e}, {rank_mismatches} rank mismatch(es)",
    )
