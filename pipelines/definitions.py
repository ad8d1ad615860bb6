"""The Dagster code location: assembles assets, checks, jobs, schedules, sensors and resources."""

from __future__ import annotations

import dagster as dg

from pipelines.assets.indices import index_results, official_point_sum_reproduced
from pipelines.assets.ingest import raw_feeds
from pipelines.assets.publish import published_warehouse
from pipelines.assets.transform import dbt_models
from pipelines.checks import contract_checks, publication_candidate_checks
from pipelines.home import Home
from pipelines.jobs import quarterly_refresh
from pipelines.resources import build_resources
from pipelines.schedules import quarterly_schedule
from pipelines.sensors import landing_sensor
from pipelines.settings import Settings


def build_definitions(home_dir: str = "") -> dg.Definitions:
    """Definitions for one home folder (empty: `$CHAMDIEM_HOME`). Steps run in one process, one at a time,
    because DuckDB admits one writer process per warehouse file."""
    settings = Settings.load(Home.from_env(home_dir or None))
    return dg.Definitions(
        assets=[raw_feeds, dbt_models, index_results, published_warehouse],
        asset_checks=[contract_checks, publication_candidate_checks, official_point_sum_reproduced],
        jobs=[quarterly_refresh],
        schedules=[quarterly_schedule(settings.schedule_grace_days)],
        sensors=[landing_sensor(home_dir, settings.sensor_interval_seconds)],
        resources=build_resources(home_dir),
        executor=dg.in_process_executor,
    )


defs = build_definitions()
