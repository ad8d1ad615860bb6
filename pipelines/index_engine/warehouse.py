"""Running a definition on the warehouse marts for one period."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from .definition import DefinitionError, load_definition
from .engine import IndexRun, resolve_definition, run_index
from .persist import write_run


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _has_column(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    schema, _, name = table.rpartition(".")
    rows = con.execute(
        "select count(*) from information_schema.columns where table_name = ? and column_name = ?"
        + (" and table_schema = ?" if schema else ""),
        [name, column] + ([schema] if schema else []),
    ).fetchone()
    return bool(rows and rows[0])


def warehouse_inputs(con: duckdb.DuckDBPyConnection, defn_path: str | Path, period_label: str,
                     *, peer_group: str | None = None) -> pl.DataFrame:
    """The wide indicator table the definition's ``warehouse`` block describes, for one period.

    Indicator values come from the long indicator table (one row per unit and indicator), pivoted to one column
    per indicator; units (name and unit-group columns) from the units table; optional denominators from a
    query joined on unit_code.
    """
    defn = resolve_definition(load_definition(defn_path), None)
    wh: dict[str, Any] = defn.warehouse or {}
    if not wh:
        raise DefinitionError(defn.source_path, "index_run.warehouse", "the definition has no warehouse block")
    table = wh.get("indicators_table", "marts.service_indicator_points")
    value_col = wh.get("value_column", "points")
    mapping = wh.get("columns") or {}
    pivots = []
    for code in defn.indicator_codes:
        spec = mapping.get(code, {})
        ind_id = str(spec.get("indicator_id", code)).replace("'", "''")
        col = _quote(spec.get("column", value_col))
        pivots.append(f"max(case when indicator_id = '{ind_id}' then {col} end) as {_quote(code)}")
    units_table = wh.get("units_table", "marts.unit_service_index")
    # Unit-group columns come from the units table unless the block says some come from the denominators.
    unit_groups = list(wh.get("unit_groups", defn.unit_groups)) + list(wh.get("unit_columns", []))
    groups = ", ".join(f"u.{_quote(g)}" for g in unit_groups)
    unit_where = ["true"]
    point_where = "period_label = ?"
    params: list[Any] = [period_label]
    source_rv = wh.get("source_rule_version")
    if source_rv is not None:
        # The marts hold every rule version side by side; read the one the definition is built on.
        point_where += " and rule_version = ?"
        params.append(source_rv)
    if _has_column(con, units_table, "period_label"):
        unit_where.append("u.period_label = ?")
        params.append(period_label)
    if source_rv is not None and _has_column(con, units_table, "rule_version"):
        unit_where.append("u.rule_version = ?")
        params.append(source_rv)
    if wh.get("unit_filter"):
        unit_where.append(f"({wh['unit_filter']})")
    if peer_group is not None:
        unit_where.append("u.peer_group = ?")
        params.append(peer_group)
    denominators = wh.get("denominators_query")
    den_cte = f", denominators as ({denominators})" if denominators else ""
    den_join = "left join denominators as d on d.unit_code = u.unit_code" if denominators else ""
    den_cols = ", d.* exclude (unit_code)" if denominators else ""
    sql = f"""
        with points as (
            select * from {table} where {point_where}
        ),

        pivoted as (
            select unit_code, {", ".join(pivots)}
            from points
            group by unit_code
        ){den_cte},

        final as (
            select
                u.unit_code, u.unit_name{", " + groups if groups else ""}{den_cols},
                p.* exclude (unit_code)
            from (select distinct unit_code, unit_name{", " + ", ".join(_quote(g) for g in unit_groups)
                  if unit_groups else ""}
                  from {units_table} as u where {" and ".join(unit_where)}) as u
            left join pivoted as p on p.unit_code = u.unit_code
            {den_join}
        )

        select * from final order by unit_code
    """
    try:
        return con.execute(sql, params).pl()
    except duckdb.Error as exc:
        raise DefinitionError(defn.source_path, "index_run.warehouse",
                              f"could not build the input table from the warehouse: {exc}") from exc


def run_on_warehouse(con: duckdb.DuckDBPyConnection, definition_path: str | Path, period_label: str,
                     *, peer_group: str | None = None, seed: int | None = None, with_uncertainty: bool = True,
                     with_sensitivity: bool = False, schema: str = "indices") -> IndexRun:
    """Build the inputs from the warehouse marts for one period, run the definition and write the results.

    Results go to ``<schema>.*`` (see :func:`write_run`). ``peer_group`` restricts the units to one peer group.
    """
    defn = load_definition(definition_path)
    data = warehouse_inputs(con, definition_path, period_label, peer_group=peer_group)
    run = run_index(defn, data, seed=seed, with_uncertainty=with_uncertainty, with_sensitivity=with_sensitivity,
                    period_label=period_label)
    write_run(con, run, schema=schema)
    return run
