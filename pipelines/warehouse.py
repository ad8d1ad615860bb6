"""Opening the DuckDB warehouse files with the installation's memory and thread limits."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.settings import Settings


def connect(home: Home, settings: Settings | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the working warehouse. DuckDB allows one process per file while it is open for writing, so
    every stage that opens it runs serially in one process."""
    settings = settings or Settings.load(home)
    home.ensure()
    return open_db(home.working_db, settings, read_only=read_only, spill_dir=home.warehouse_dir / "spill")


def open_db(
    path: Path, settings: Settings, *, read_only: bool = False, spill_dir: Path | None = None
) -> duckdb.DuckDBPyConnection:
    """Open any warehouse file with the configured limits (out-of-core spilling to `spill_dir`)."""
    config: dict[str, str] = {
        "memory_limit": settings.duckdb_memory_limit,
        "threads": str(settings.duckdb_threads),
        "preserve_insertion_order": "false",
    }
    if spill_dir is not None and not read_only:
        spill_dir.mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(spill_dir)
    return duckdb.connect(str(path), read_only=read_only, config=config)


def relation_exists(con: duckdb.DuckDBPyConnection, relation: str, catalog: str | None = None) -> bool:
    """Whether `schema.table` (a table or a view) exists, optionally in an attached catalog."""
    schema, _, table = relation.rpartition(".")
    sql = "select count(*) from information_schema.tables where table_schema = ? and table_name = ?"
    params: list[str] = [schema or "main", table]
    if catalog:
        sql += " and table_catalog = ?"
        params.append(catalog)
    return con.execute(sql, params).fetchone()[0] > 0
