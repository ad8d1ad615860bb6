"""Read-only access to the analysts' published file, and the contract that describes its tables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines.home import PUBLISHED_CONTRACTS_DIR


class OutputError(RuntimeError):
    """An output that cannot be produced, with what to do next."""


@dataclass(frozen=True)
class ContractColumn:
    """One column of a published table as the contract describes it."""

    name: str
    logical_type: str | None
    business_name: str | None
    description: str | None


@dataclass(frozen=True)
class ContractTable:
    """One table of the analysts' contract, in the contract's column order."""

    name: str
    description: str
    period_column: str
    period_match: str
    columns: tuple[ContractColumn, ...]


def analyst_contract() -> list[ContractTable]:
    """The tables of `data_contracts/published/analyst.odcs.yaml`, in contract order."""
    doc = yaml.safe_load((PUBLISHED_CONTRACTS_DIR / "analyst.odcs.yaml").read_text(encoding="utf-8"))
    tables = []
    for obj in doc.get("schema", []):
        custom = {c["property"]: c["value"] for c in obj.get("customProperties", []) or []}
        tables.append(ContractTable(
            name=obj["name"],
            description=str(obj.get("description", "")),
            period_column=custom.get("periodColumn", "period_label"),
            period_match=custom.get("periodMatch", "label"),
            columns=tuple(ContractColumn(p["name"], p.get("logicalType"), p.get("businessName"),
                                         p.get("description")) for p in obj.get("properties", [])),
        ))
    return tables


def open_published(path: Path) -> duckdb.DuckDBPyConnection:
    """Open the published file read-only, or say how to get one."""
    path = Path(path)
    if not path.exists():
        raise OutputError(f"no published warehouse at {path}: run `chamdiem demo` or `chamdiem publish --period"
                          " YYYY-Qn --approve --by NAME` first (or point --home / CHAMDIEM_HOME at the right home)")
    return duckdb.connect(str(path), read_only=True)


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether `schema.table` (table or view) exists in the published file."""
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def relation_columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    """Column names of `schema.table`, in order."""
    return [r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ?"
        " order by ordinal_position", [schema, table]).fetchall()]


@dataclass(frozen=True)
class Publication:
    """One published version of a period, from the `publications` register."""

    period_label: str
    version: int
    approved_by: str | None
    approved_at: Any


def publication(con: duckdb.DuckDBPyConnection, period_label: str, version: int | None = None) -> Publication:
    """The latest (or the given) published version of a period; an error lists the periods that exist."""
    sql = "select period_label, version, approved_by, approved_at from publications where period_label = ?"
    params: list[Any] = [period_label]
    if version is not None:
        sql += " and version = ?"
        params.append(version)
    row = con.execute(sql + " order by version desc limit 1", params).fetchone()
    if row is None:
        known = [f"{p} v{v}" for p, v in con.execute(
            "select period_label, version from publications order by period_label, version").fetchall()]
        what = f"{period_label} version {version}" if version is not None else period_label
        raise OutputError(f"{what} is not published; published: {', '.join(known) or 'nothing yet'}."
                          f" Next: chamdiem status, then chamdiem publish --period {period_label} --approve --by NAME")
    return Publication(*row)


def version_rows(con: duckdb.DuckDBPyConnection, table: ContractTable, pub: Publication,
                 columns: list[str] | None = None) -> tuple[list[str], list[tuple]]:
    """The rows one published version holds for a table (from `versions.<table>`), in contract column order.

    Reading the version rather than the main-schema view keeps yearly tables (published again with each
    quarter of their year) to the rows of exactly this publication.
    """
    present = set(relation_columns(con, "versions", table.name))
    cols = [c for c in (columns or [c.name for c in table.columns]) if c in present]
    order = [c for c in ("peer_group", "rank_in_peer_group", "unit_code", "task_group", "group_code", "indicator_id")
             if c in cols]
    sql = (f"select {', '.join(cols)} from versions.{table.name}"
           " where period_label_published = ? and publication_version = ?"
           + (f" order by {', '.join(order)}" if order else ""))
    return cols, con.execute(sql, [pub.period_label, pub.version]).fetchall()
