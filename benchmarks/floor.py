"""Run the floor script (`floor_766.sql`) on a landing folder, and read the pipeline's published index.

The script is plain DuckDB SQL; this module only fills in the folders and registers the two inputs DuckDB
cannot read alone (XLSX feedback sheets, the `holidays` package's Vietnamese days off).
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import duckdb
import fastexcel
import holidays
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.demo.generate import FEEDBACK_HEADERS_VI
from pipelines.demo.service import FEEDBACK_COLUMNS
from pipelines.settings import project_path

FLOOR_SQL = Path(__file__).with_name("floor_766.sql")
SEEDS = project_path("dbt_project", "seeds")
RESULT_COLUMNS = ["period_label", "unit_code", "peer_group", "total_points", "rank_in_peer_group"]
_SUBSTITUTED = re.compile(r"substituted from (\d{2}/\d{2}/\d{4})")


def read_feedback_sheets(landing_root: Path) -> pa.Table:
    """Every feedback workbook's data rows as text: the header row is found by its first cell, the title
    block above it and the totals row below the data are skipped."""
    header = FEEDBACK_HEADERS_VI
    tables = []
    for path in sorted(Path(landing_root).glob("feedback/*/*.xlsx")):
        batch = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string").to_arrow()
        sheet = pa.Table.from_batches([batch])
        first = sheet.column(0).to_pylist()
        start = first.index(header[0]) + 1
        body = sheet.slice(start).rename_columns(FEEDBACK_COLUMNS)
        body = body.filter(pc.is_valid(body.column("received_at")))
        n = body.num_rows
        tables.append(
            body.append_column("label", pa.array([path.parent.name] * n))
            .append_column("filename", pa.array([str(path)] * n))
            .append_column("row_no", pa.array(range(1, n + 1), pa.int64()))
        )
    if not tables:
        text = [(c, pa.string()) for c in [*FEEDBACK_COLUMNS, "label", "filename"]]
        schema = pa.schema([*text, ("row_no", pa.int64())])
        return schema.empty_table()
    return pa.concat_tables(tables)


def vietnam_holidays() -> pd.DataFrame:
    """Days off 2015-2040 and the Saturdays worked in exchange (as the pipeline's calendar model reads them)."""
    rows = []
    for day, name in sorted(holidays.country_holidays("VN", years=range(2015, 2041)).items()):
        match = _SUBSTITUTED.search(name)
        swapped = datetime.strptime(match.group(1), "%m/%d/%Y").date() if match else None
        rows.append({"calendar_date": day, "substitute_working_date": swapped})
    frame = pd.DataFrame(rows)
    frame["calendar_date"] = pd.to_datetime(frame["calendar_date"]).dt.date
    return frame


def run_floor(landing_root: Path, *, memory_limit: str = "6GB", threads: int = 2,
              temp_directory: Path | None = None) -> pd.DataFrame:
    """Totals and ranks of every quarter delivered under `landing_root`, computed by `floor_766.sql`."""
    config = {"memory_limit": memory_limit, "threads": str(threads), "preserve_insertion_order": "false"}
    if temp_directory is not None:
        config["temp_directory"] = str(temp_directory)
    con = duckdb.connect(config=config)
    try:
        con.register("landing_feedback", read_feedback_sheets(landing_root))
        con.register("vn_holidays", vietnam_holidays())
        sql = (FLOOR_SQL.read_text(encoding="utf-8")
               .replace("${landing}", str(Path(landing_root).resolve()))
               .replace("${seeds}", str(SEEDS)))
        con.execute(sql)
        return con.sql(f"select {', '.join(RESULT_COLUMNS)} from floor_766 order by all").df()
    finally:
        con.close()


def published_index(published_db: Path, period_label: str) -> pd.DataFrame:
    """The published `unit_service_index` rows of one quarter (the analysts' copy)."""
    con = duckdb.connect(str(published_db), read_only=True)
    try:
        return con.execute(
            f"select {', '.join(RESULT_COLUMNS)} from unit_service_index where period_label = ? order by all",
            [period_label],
        ).df()
    finally:
        con.close()


def compare(expected: pd.DataFrame, actual: pd.DataFrame, period_label: str, *, tolerance: float = 1e-9) -> list[str]:
    """Differences between two result tables for one quarter (empty when totals agree to `tolerance` and
    ranks exactly)."""
    exp = expected[expected["period_label"] == period_label].set_index("unit_code")
    act = actual[actual["period_label"] == period_label].set_index("unit_code")
    problems = []
    if set(exp.index) != set(act.index):
        missing = sorted(set(exp.index) - set(act.index))[:5]
        extra = sorted(set(act.index) - set(exp.index))[:5]
        problems.append(f"units differ: missing {missing}, extra {extra}")
    both = exp.index.intersection(act.index)
    e, a = exp.loc[both], act.loc[both]
    diff = (e["total_points"].astype(float) - a["total_points"].astype(float)).abs()
    null_mismatch = e["total_points"].isna() != a["total_points"].isna()
    bad = both[(diff > tolerance).to_numpy() | null_mismatch.to_numpy()]
    for unit in list(bad)[:5]:
        problems.append(f"{unit}: total {float(e.at[unit, 'total_points'])!r} != {float(a.at[unit, 'total_points'])!r}")
    if len(bad):
        problems.append(f"{len(bad)} unit(s) with a different total")
    er = e["rank_in_peer_group"].astype("Int64")
    ar = a["rank_in_peer_group"].astype("Int64")
    rank_bad = both[(er.fillna(-1) != ar.fillna(-1)).to_numpy()]
    for unit in list(rank_bad)[:5]:
        problems.append(f"{unit}: rank {er[unit]} != {ar[unit]}")
    if len(rank_bad):
        problems.append(f"{len(rank_bad)} unit(s) with a different rank")
    return problems
