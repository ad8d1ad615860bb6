"""Ingest the quarter's landing files into the working warehouse under their inbound contracts."""


import dagster as dg

from pipelines.contracts import all_contracts
from pipelines.ingest import ensure_schema, ingest_landing
from pipelines.locks import hold_run_lock
from pipelines.partitions import quarterly_partitions, run_window
from pipelines.periods import labels_for_quarter, quarters_of
from pipelines.resources import WarehouseResource

FEEDS = tuple(all_contracts())
LOADS_KEY = dg.AssetKey(["meta", "loads"])


@dg.multi_asset(
    specs=[dg.AssetSpec(LOADS_KEY, description="One row per file load with row accounting.", group_name="ingest")]
    + [
        dg.AssetSpec(["raw", feed], description=f"Accepted rows of the {feed} feed, with lineage.",
                     group_name="ingest", kinds={"duckdb"})
        for feed in FEEDS
    ]
    + [dg.AssetSpec(["raw", "quarantine"], description="Rows refused by ingestion, with reason and original text.",
                    group_name="ingest", kinds={"duckdb"})],
    partitions_def=quarterly_partitions,
    can_subset=False,
)
def raw_feeds(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Load every file delivered for the quarter (its months and year too) and every reference snapshot; a run
    of a longer period (half-year, nine months, year) loads each of its quarters up to the partition's."""
    window = run_window(context)
    period = window.quarter
    home = warehouse.home
    # One run at a time per home: a run launched by Dagster waits here while another holds the home (the CLI
    # took the lock before starting this run in its own process, so there this is a no-op).
    hold_run_lock(home, f"Dagster run {context.run.run_id[:8]} ({period.label})",
                  on_wait=lambda holder: context.log.info(f"waiting for {holder.get('what')} "
                                                          f"(process {holder.get('pid')}) to finish"))
    # Reference snapshots (units, procedures, products, staff) are loaded whatever their label.
    labels = list(dict.fromkeys(label for q in quarters_of(window.period) if q <= period
                                for label in labels_for_quarter(q)))
    con = warehouse.connect()
    try:
        ensure_schema(con)
        results = ingest_landing(con, home.landing, labels)
    finally:
        con.close()
    by_feed: dict[str, dict[str, int]] = {}
    for r in results:
        tot = by_feed.setdefault(r.feed, {"files": 0, "read": 0, "accepted": 0, "quarantined": 0, "rejected": 0})
        tot["files"] += 1
        tot["read"] += r.rows_read
        tot["accepted"] += r.rows_accepted
        tot["quarantined"] += r.rows_quarantined
        tot["rejected"] += r.status == "rejected"
        if r.status == "rejected":
            context.log.warning(f"{r.source_file}: rejected: {r.reject_reason}")
    context.log.info(f"{period.label}: {len(results)} file(s) considered: {by_feed}")
    yield dg.MaterializeResult(
        asset_key=LOADS_KEY,
        metadata={"period": period.label, "files": len(results),
                  "loaded": sum(r.status == "loaded" for r in results),
                  "skipped_unchanged": sum(r.status == "skipped" for r in results),
                  "rejected": sum(r.status == "rejected" for r in results)},
    )
    for feed in FEEDS:
        tot = by_feed.get(feed, {})
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["raw", feed]),
                                   metadata={k: int(v) for k, v in tot.items()})
    yield dg.MaterializeResult(
        asset_key=dg.AssetKey(["raw", "quarantine"]),
        metadata={"quarantined_rows": sum(r.rows_quarantined for r in results)},
    )
