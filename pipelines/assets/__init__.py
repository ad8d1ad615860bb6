"""Assets per stage: ingest, transform (dbt), publish."""
