"""The quality gate: contract checks on raw feeds, dbt tests, reconciliation and a GX checkpoint."""
