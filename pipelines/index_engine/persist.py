"""Writing a run: long tables keyed by run_id in DuckDB (schema ``indices``), or Parquet/CSV files."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl

from .engine import IndexRun

# table name -> function giving the run's rows (without run_id)
TABLES = ("runs", "units", "step_data", "dropped_units", "treatment_log", "node_weights", "effective_weights",
          "scores", "contributions", "strengths", "coherence", "rank_intervals", "rank_shifts", "uncertainty_design",
          "uncertainty_replications", "sensitivity")


def run_tables(run: IndexRun) -> dict[str, pl.DataFrame]:
    """Every dataset of the run as a long table, each with the run_id as first column."""
    defn = run.definition
    steps = []
    dropped = []
    for (no, name), ds in sorted(run.steps.items()):
        if name == "rank":
            continue  # the rank dataset is indices.scores
        steps.append(ds.data.with_columns(pl.lit(no).alias("step_no"), pl.lit(name).alias("step_name"),
                                          pl.lit(json.dumps(ds.params, default=str)).alias("step_params"))
                     .select("step_no", "step_name", "unit_code", "node_code", "value", "is_imputed", "flag",
                             "step_params"))
        if "dropped_units" in ds.extra:
            dropped.append(ds.extra["dropped_units"].with_columns(pl.lit(no).alias("step_no")))
    tables: dict[str, pl.DataFrame | None] = {
        "runs": pl.DataFrame([{
            "index_code": defn.code, "index_name": defn.name, "rule_version": defn.rule_version,
            "period_label": run.period_label, "definition_path": str(defn.source_path or ""),
            "definition": defn.config_json(), "step_order": " > ".join(s.kind for s in defn.pipeline),
            "engine_version": run.engine_version, "seed": run.seed, "created_at": run.created_at,
            "n_units": run.units.height, "n_scored": int(run.units["is_scored"].sum()),
            "n_indicators": len(defn.indicators), "timings": json.dumps(run.timings),
            "legal_basis": defn.provenance.get("legal_basis"), "evidence_tag": defn.provenance.get("evidence_tag"),
        }], schema_overrides={"seed": pl.Int64, "period_label": pl.Utf8, "legal_basis": pl.Utf8,
                              "evidence_tag": pl.Utf8}),
        "units": run.units,
        "step_data": pl.concat(steps) if steps else None,
        "dropped_units": pl.concat(dropped) if dropped else None,
        "treatment_log": run.treatment_log,
        "node_weights": run.node_weights,
        "effective_weights": run.effective_weights,
        "scores": run.scores,
        "contributions": run.contributions,
        "strengths": run.strengths,
        "coherence": run.coherence,
        "rank_intervals": run.rank_intervals,
        "rank_shifts": run.rank_shifts,
        "uncertainty_design": run.uncertainty_design,
        "uncertainty_replications": run.replications,
        "sensitivity": run.sensitivity,
    }
    return {k: v.select(pl.lit(run.run_id).alias("run_id"), pl.all()) for k, v in tables.items()
            if v is not None}


def write_run(con: duckdb.DuckDBPyConnection, run: IndexRun, schema: str = "indices") -> dict[str, int]:
    """Write every dataset of the run into ``<schema>.<table>``, replacing earlier rows of the same run_id.

    Tables are created on first use from the run's columns; later runs append. Returns rows written per table.
    """
    con.execute(f"create schema if not exists {schema}")
    written: dict[str, int] = {}
    for name, df in run_tables(run).items():
        exists = con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name]).fetchone()[0]
        view = f"_ie_{name}"
        con.register(view, df.to_arrow())
        try:
            if not exists:
                con.execute(f"create table {schema}.{name} as select * from {view}")
            else:
                _replace_run_rows(con, schema, name, view, run.run_id)
            written[name] = df.height
        finally:
            con.unregister(view)
    return written


def _replace_run_rows(con: duckdb.DuckDBPyConnection, schema: str, name: str, view: str, run_id: str) -> None:
    """Replace the run's rows. Definitions differ in their unit attributes and optional outputs: when the
    columns do not fit the table, the table is rebuilt with the union of columns, types relaxed to a common
    supertype, and the other runs' rows kept."""
    con.execute("begin")
    try:
        con.execute(f"delete from {schema}.{name} where run_id = ?", [run_id])
        con.execute(f"insert into {schema}.{name} by name select * from {view}")
        con.execute("commit")
        return
    except duckdb.Error:
        con.execute("rollback")
    others = con.execute(f"select * from {schema}.{name} where run_id <> ?", [run_id]).pl()
    combined = pl.concat([others, con.execute(f"select * from {view}").pl()], how="diagonal_relaxed")
    con.register("_ie_combined", combined.to_arrow())
    try:
        con.execute(f"create or replace table {schema}.{name} as select * from _ie_combined")
    finally:
        con.unregister("_ie_combined")


def write_run_files(run: IndexRun, out_dir: str | Path, *, fmt: str = "parquet") -> list[Path]:
    """Write every dataset of the run as ``<out_dir>/<table>.parquet`` (or ``.csv``). Returns the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, df in run_tables(run).items():
        path = out / f"{name}.{fmt}"
        if fmt == "csv":
            df.write_csv(path)
        else:
            df.write_parquet(path)
        paths.append(path)
    return paths
