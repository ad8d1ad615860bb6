"""The quarterly refresh job: ingest, build, check and publish one quarter (partitioned like its assets)."""

import dagster as dg

quarterly_refresh = dg.define_asset_job(
    name="quarterly_refresh",
    selection=dg.AssetSelection.all(),
    description="Ingest the quarter's landing files, score them with dbt, run the gate, prepare (and on "
                "approval publish) the quarter.",
)
