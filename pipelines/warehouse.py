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


class QueryRefused(ValueError):
    """A query the analysts' boundary does not run, with the reason in one line."""


# What a reader of a published file may run: queries, and plans of queries.
_READ_STATEMENTS = ("SELECT", "EXPLAIN")


def open_published(path: Path, settings: Settings | None = None) -> duckdb.DuckDBPyConnection:
    """The analysts' query boundary on a published file: read-only, no file system beyond the file itself (no
    reads or writes of other files, no ATTACH, COPY or EXPORT), no extension install or load, and the
    configuration locked so none of this can be switched back on from SQL."""
    limits = settings or Settings()
    config = {
        "enable_external_access": "false",
        "autoinstall_known_extensions": "false",
        "autoload_known_extensions": "false",
        "allow_community_extensions": "false",
        "memory_limit": limits.duckdb_memory_limit,
        "threads": str(limits.duckdb_threads),
        "lock_configuration": "true",
    }
    return duckdb.connect(str(path), read_only=True, config=config)


def check_query(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Refuse anything but one SELECT (or EXPLAIN) statement: the boundary's second line behind its settings."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise QueryRefused(str(exc).splitlines()[0]) from exc
    if len(statements) != 1:
        raise QueryRefused(f"one statement at a time, please (got {len(statements)})")
    kind = statements[0].type.name
    if kind not in _READ_STATEMENTS:
        raise QueryRefused(f"only SELECT queries run on the published warehouse, not {kind}")
