"""Dagster resources: where the installation lives and how the warehouse is opened."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import duckdb
from dagster_dbt import DbtCliResource

from pipelines.dbt import dbt_project, guarded_dbt_executable
from pipelines.home import Home
from pipelines.settings import Settings
from pipelines.warehouse import connect


class WarehouseResource(dg.ConfigurableResource):
    """The chamdiem home folder; an empty value means `$CHAMDIEM_HOME` (default `~/.chamdiem`)."""

    home_dir: str = ""

    @property
    def home(self) -> Home:
        return Home.from_env(self.home_dir or None).ensure()

    @property
    def settings(self) -> Settings:
        return Settings.load(self.home)

    def connect(self, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """A connection to the working warehouse; close it before the step ends (one writer at a time)."""
        return connect(self.home, self.settings, read_only=read_only)


class ChamdiemDbtCliResource(DbtCliResource):
    """`DbtCliResource` without the in-process dbt adapter dagster-dbt opens before every invocation.

    That adapter only serves `fetch_column_metadata` / `fetch_row_counts`, which the pipeline does not use;
    opening it imports and configures dbt's adapter stack in the Dagster process (1-3 s per refresh).
    """

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        return None


def build_resources(home_dir: str = "") -> dict[str, object]:
    """The resources every definition uses, for one home folder."""
    return {
        "warehouse": WarehouseResource(home_dir=home_dir),
        "dbt": ChamdiemDbtCliResource(
            project_dir=dbt_project,
            profiles_dir=str(dbt_project.profiles_dir),
            dbt_executable=str(guarded_dbt_executable(Home.from_env(home_dir or None).root)),
            global_config_flags=["--no-use-colors", "--no-send-anonymous-usage-stats"],
        ),
    }
