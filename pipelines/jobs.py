"""The quarterly refresh job: ingest, build, check and publish one quarter."""

import dagster as dg

from pipelines.partitions import quarterly_partitions

quarterly_refresh = dg.define_asset_job(
    name="quarterly_refresh",
    selection=dg.AssetSelection.all(),
    partitions_def=quarterly_partitions,
    description="Ingest the quarter's landing files, score them with dbt, run the gate, prepare (and on "
                "approval publish) the quarter.",
)
