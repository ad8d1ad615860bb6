"""dbt models (staging -> intermediate -> marts) as Dagster assets, built for one quarter at a time."""


import json
import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.dbt import MANIFEST_PATH, dbt_env, dbt_project, ensure_manifest, plan_build, record_build
from pipelines.partitions import quarterly_partitions, run_window
from pipelines.quality.dbt_results import from_run_results
from pipelines.quality.results import record
from pipelines.resources import WarehouseResource


class ChamdiemTranslator(DagsterDbtTranslator):
    """Asset keys follow the warehouse: [schema, table] for models and seeds, [source, table] for sources."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        kind = dbt_resource_props["resource_type"]
        if kind == "source":
            return dg.AssetKey([dbt_resource_props["source_name"], dbt_resource_props["name"]])
        return dg.AssetKey([dbt_resource_props.get("schema") or "main", dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("schema") or "dbt"


translator = ChamdiemTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    partitions_def=quarterly_partitions,
    dagster_dbt_translator=translator,
)
def dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    """`dbt build` for the quarter: the models downstream of feeds whose loads changed since the last
    successful build (every model the first time, or when the project or the window changed); the window
    (`as_of`, `window_end`, longer periods) reaches dbt as `--vars`; test outcomes also go to the gate record."""
    window = run_window(context)
    period = window.quarter
    home = warehouse.home
    settings = warehouse.settings
    os.environ.update(dbt_env(home.working_db))
    os.environ["CHAMDIEM_DUCKDB_MEMORY_LIMIT"] = settings.duckdb_memory_limit
    os.environ["CHAMDIEM_DUCKDB_THREADS"] = str(settings.duckdb_threads)
    con = warehouse.connect()
    try:
        plan = plan_build(con, json.loads(MANIFEST_PATH.read_text(encoding="utf-8")),
                          rebuild_all=settings.dbt_rebuild_all, dbt_vars=window.dbt_vars())
    finally:
        con.close()
    context.log.info(f"dbt build for {period.label} (vars {window.dbt_vars()}): {plan.describe()}")
    # One target folder per home: dbt re-parses only the files that changed since the home's last build.
    invocation = dbt.cli(["build", *plan.cli_args()], context=context, raise_on_error=False,
                         target_path=home.dbt_target)
    yield from invocation.stream()
    run_results = invocation.get_artifact("run_results.json")
    results = from_run_results(run_results)
    con = warehouse.connect()
    try:
        record(con, period.label, context.run_id, results)
        if invocation.is_successful():
            record_build(con, context.run_id, period.label, plan)
    finally:
        con.close()
    if not invocation.is_successful():
        failed = [r.describe() for r in results if r.blocks]
        errors = [r.get("unique_id") for r in run_results.get("results", []) if r.get("status") == "error"]
        raise dg.Failure(
            description=f"dbt build failed for {period.label}: publication is blocked.",
            metadata={"failed_tests": dg.MetadataValue.json(failed[:50]),
                      "errored_nodes": dg.MetadataValue.json(errors[:50])},
        )
