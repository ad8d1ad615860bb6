"""Ingestion: delivered files -> `raw.<feed>` (accepted rows), `raw.quarantine` and `meta.loads`.

The contracts in `data_contracts/inbound/` say everything about a feed; this package reads a file in any of
the delivered formats (`readers`), checks its rows against the contract in one SQL query (`validate`) and
writes the outcome with its lineage (`load`).
"""

from pipelines.ingest.load import (
    LoadResult,
    discover_periods,
    ensure_schema,
    ingest_file,
    ingest_landing,
)

__all__ = ["LoadResult", "discover_periods", "ensure_schema", "ingest_file", "ingest_landing"]
