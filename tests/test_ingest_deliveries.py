"""Messy deliveries: re-delivery under another name, supplements, number styles, wrapped headers, JSON oddities,
every reason of a quarantined row."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import pytest
from fixtures.ingest_warehouse import LOADED_AT, PROCEDURES, UNITS, reference_warehouse, write_file

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


def _reasons(con: duckdb.DuckDBPyConnection, load_id: str) -> list[tuple]:
    return con.execute(
        "select row_number, reason_codes, column_names from raw.quarantine where load_id = ? order by row_number",
        [load_id],
    ).fetchall()


def test_every_reason_is_kept_with_distinct_reference_codes_and_no_follow_on_errors(con, tmp_path) -> None:
    rows = [
        "H1,9.999,09999,2026-13-05,2026-01-10",  # unknown procedure, unknown unit and a bad date
        "H2,1.001,07900,2026-01-05,2026-01-10",  # ok
        "H3,1.001",  # truncated: the empty unit and dates are part of that problem
    ]
    r = ingest_file(con, "dossiers", "2026-Q1", write_file(tmp_path / "hs.csv", HEADER + "\n".join(rows)))
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (3, 1, 2)
    assert _reasons(con, r.load_id) == [
        (1, ["unknown_procedure", "unknown_unit", "invalid_date"], ["procedure_code", "unit_code", "received_at"]),
        (3, ["truncated_row"], [None]),
    ]
    first = con.execute("select column_name, reason_code, reason from raw.quarantine where row_number = 1").fetchone()
    assert first[:2] == ("procedure_code", "unknown_procedure") and first[2].count("; ") == 2
    units = "unit_code,unit_name,unit_kind,peer_group,parent_unit_code,valid_from\nX1,Xã Một,xã,commune,99,2025-07-01\n"
    u = ingest_file(con, "units", "2026-Q2", write_file(tmp_path / "dv.csv", units))
    assert _reasons(con, u.load_id) == [(1, ["unknown_parent"], ["parent_unit_code"])]


def test_a_broken_json_line_keeps_its_text(con, tmp_path) -> None:
    good = {"rating_id": "R1", "dossier_id": "H1", "unit_code": "07900", "rated_at": "2026-02-01", "rating": "hài lòng"}
    broken = '{"rating_id": "R2", "dossier_id": "H1" "unit_code": "07900"}'
    lines = "\n".join([json.dumps(good), broken, json.dumps(good | {"rating_id": "R3"})])
    r = ingest_file(con, "ratings", "2026-Q1", write_file(tmp_path / "dg.jsonl", lines), loaded_at=LOADED_AT)
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (3, 2, 1)
    row = con.execute("select row_number, reason_codes, original_row from raw.quarantine").fetchone()
    assert row == (2, ["invalid_json"], broken)
