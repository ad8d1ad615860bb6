"""Messy deliveries: re-delivery under another name, supplements, number styles, wrapped headers, JSON oddities,
every reason of a quarantined row."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from fixtures.ingest_warehouse import PROCEDURES, UNITS, reference_warehouse, write_file

from pipelines.ingest import ingest_file, ingest_landing

HEADER = "Mã hồ sơ,Mã TTHC,Mã đơn vị,Ngày tiếp nhận,Hạn xử lý\n"


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return reference_warehouse(tmp_path)


def _current(con: duckdb.DuckDBPyConnection, feed: str = "dossiers") -> list[tuple]:
    return con.execute(
        f"""
        select r.dossier_id from raw.{feed} as r join meta.loads as l on l.load_id = r._load_id
        where l.is_current order by 1
        """
    ).fetchall()


def test_redelivery_under_another_name_replaces_and_a_supplement_adds(tmp_path) -> None:
    landing = tmp_path / "landing"
    write_file(landing / "units" / "2026-Q1" / "units.csv", UNITS)
    write_file(landing / "procedures" / "2026-Q1" / "procedures.csv", PROCEDURES)
    folder = landing / "dossiers" / "2026-Q1"
    first = write_file(folder / "ho_so_q1.csv", HEADER + "H1,1.001,07900,2026-01-05,2026-01-10\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ingest_landing(con, landing, ["2026-Q1"])
    # The restatement comes under a new name (the source system stamps the export time into it).
    second = write_file(
        folder / "ho_so_q1_ban_sua.csv",
        HEADER + "H1,1.001,07900,2026-01-05,2026-01-12\nH2,1.001,07900,2026-01-06,2026-01-12\n",
    )
    os.utime(second, (first.stat().st_mtime + 10,) * 2)
    ingest_landing(con, landing, ["2026-Q1"], feeds=["dossiers"])
    assert _current(con) == [("H1",), ("H2",)]
    rows = con.execute(
        "select file_name, status, is_current from meta.loads where feed = 'dossiers' order by file_name"
    ).fetchall()
    assert rows == [("ho_so_q1.csv", "superseded", False), ("ho_so_q1_ban_sua.csv", "loaded", True)]
    # A declared supplement adds rows on top of the current delivery; it does not replace it.
    supplement = write_file(folder / "ho_so_q1.supplement.csv", HEADER + "H3,1.001,07903,2026-02-01,2026-02-05\n")
    os.utime(supplement, (first.stat().st_mtime + 20,) * 2)
    ingest_landing(con, landing, ["2026-Q1"], feeds=["dossiers"])
    assert _current(con) == [("H1",), ("H2",), ("H3",)]
    # The next full delivery replaces the earlier one and its supplement.
    third = write_file(tmp_path / "ho_so_q1_lan3.csv", HEADER + "H9,1.001,07900,2026-01-05,2026-01-10\n")
    ingest_file(con, "dossiers", "2026-Q1", third)
    assert _current(con) == [("H9",)]
    # Another feed's or period's loads are untouched.
    assert con.execute("select count(*) from meta.loads where feed = 'units' and is_current").fetchone()[0] == 1
