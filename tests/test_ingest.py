"""Ingestion of delivered files: formats, row rules with exact reason codes, rejections, re-delivery."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
import xlsxwriter
from fixtures.ingest_warehouse import LOADED_AT, PROCEDURES, UNITS, reference_warehouse, write_file

from pipelines.ingest import discover_periods, ingest_file, ingest_landing

DOSSIER_HEADER = (
    "Mã hồ sơ,Mã TTHC,Mã đơn vị,Ngày tiếp nhận,Hạn xử lý,Trạng thái,Kênh nộp,Số lần bổ sung,Lệ phí,Cột lạ\n"
)


_write = write_file


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    """A warehouse with the units and procedures snapshots of 2026-Q1 loaded."""
    return reference_warehouse(tmp_path)


def _quarantine(con: duckdb.DuckDBPyConnection, load_id: str) -> list[tuple]:
    return con.execute(
        "select row_number, column_name, reason_code from raw.quarantine where load_id = ? order by row_number",
        [load_id],
    ).fetchall()


def test_bad_rows_are_quarantined_with_exact_reasons(con, tmp_path) -> None:
    rows = [
        'H1,1.001,7900,2026-01-05 08:00,2026-01-10,Đã hoàn thành,Trực tuyến,0,"12,5",zz',  # ok
        "H2,1.001,07903,05/01/2026,46037,đang xử lý , TRỰC TIẾP,1,0,",  # ok: labels, serial due date
        "H3,1.001,09999,2026-01-05,2026-01-10,Đang xử lý,Trực tiếp,0,0,",  # unknown unit
        "H4,1.001,07900,2026-01-05,2026-01-01,Đang xử lý,Trực tiếp,0,0,",  # due before received
        "H5,1.001,07900,2026-01-05,2026-01-06,Đang xử lý,Trực tiếp,-1,0,",  # negative count
        "H6,1.001,07900,2026-13-05,2026-01-06,Đang xử lý,Trực tiếp,0,0,",  # bad date
        "H7,1.001,07900,2026-01-05,2026-01-06,Đang chờ,Trực tiếp,0,0,",  # unknown enum spelling
        "H8,1.001,07900,2030-01-05,2030-01-06,Đang xử lý,Trực tiếp,0,0,",  # future date
        "H9,1.001,07900,2026-01-05,2026-01-06,Đang xử lý,Trực tiếp,0,0,",  # duplicate (1)
        "H9,1.001,07900,2026-01-07,2026-01-09,Đang xử lý,Trực tiếp,0,0,",  # duplicate (2)
        "H10,1.001,07900,1999-12-31,2026-01-06,Đang xử lý,Trực tiếp,0,0,",  # before 2000
        "H11,1.001,07900,2026-01-05",  # truncated last line
    ]
    path = _write(tmp_path / "hs.csv", DOSSIER_HEADER + "\n".join(rows))
    r = ingest_file(con, "dossiers", "2026-Q1", path, loaded_at=LOADED_AT)
    assert (r.status, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("loaded", 12, 2, 10)
    assert r.warnings == ["unknown column 'Cột lạ' ignored (not in the dossiers contract)"]
    assert _quarantine(con, r.load_id) == [
        (3, "unit_code", "unknown_unit"),
        (4, "due_at", "due_before_received"),
        (5, "supplement_count", "negative_number"),
        (6, "received_at", "invalid_date"),
        (7, "status", "unknown_enum"),
        (8, "received_at", "future_date"),
        (9, "dossier_id", "duplicate_id"),
        (10, "dossier_id", "duplicate_id"),
        (11, "received_at", "before_2000"),
        (12, None, "truncated_row"),
    ]
    reason = con.execute("select reason from raw.quarantine where row_number = 6").fetchone()[0]
    assert reason == (
        "dossiers/2026-Q1/hs.csv row 6, column received_at: '2026-13-05' is not a date "
        "(expected ISO 2026-03-31, 31/03/2026 or an Excel serial)"
    )
    original = json.loads(con.execute("select original_row from raw.quarantine where row_number = 7").fetchone()[0])
    assert original["Trạng thái"] == "Đang chờ"
    accepted = con.execute(
        "select dossier_id, unit_code, received_at, due_at, status, channel, fee_amount, _row_number "
        "from raw.dossiers order by dossier_id"
    ).fetchall()
    assert accepted == [
        ("H1", "07900", datetime(2026, 1, 5, 8, 0), datetime(2026, 1, 10, 23, 59, 59), "finished", "online", 12.5, 1),
        ("H2", "07903", datetime(2026, 1, 5, 0, 0), datetime(2026, 1, 15, 23, 59, 59), "processing", "direct", 0.0, 2),
    ]
    loads = con.execute(
        "select rows_read, rows_accepted, rows_quarantined, status, is_current, warnings "
        "from meta.loads where load_id = ?",
        [r.load_id],
    ).fetchone()
    assert loads == (12, 2, 10, "loaded", True, r.warnings)


def test_leading_zero_of_a_commune_code_is_restored_only_for_four_digits(con) -> None:
    codes = [row[0] for row in con.execute("select unit_code from raw.units order by unit_code").fetchall()]
    assert codes == ["07900", "07903", "25"]


@pytest.mark.parametrize(
    ("content", "name", "expected"),
    [
        (b"\x00\x01\x02\xff\xfe junk \x00" * 200, "junk.csv", "binary content"),
        ("Mã hồ sơ,Mã TTHC\nA,1.001\n".encode(), "miss.csv", "missing required column(s): unit_code (Mã đơn vị)"),
        (b"", "empty.csv", "empty file"),
        (b"\xff\xd8\xff\xe0 not really", "scan.pdf", "unsupported file type"),
    ],
)
def test_whole_file_rejections_are_recorded_not_raised(con, tmp_path, content, name, expected) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    r = ingest_file(con, "dossiers", "2026-Q1", path, loaded_at=LOADED_AT)
    assert r.status == "rejected" and expected in r.reject_reason
    assert r.reject_reason.startswith(f"dossiers/2026-Q1/{name}: ")
    row = con.execute(
        "select status, is_current, reject_reason from meta.loads where load_id = ?", [r.load_id]
    ).fetchone()
    assert row == ("rejected", False, r.reject_reason)
    assert con.execute("select count(*) from raw.dossiers").fetchone()[0] == 0


def test_encodings_and_separators(con, tmp_path) -> None:
    utf16 = "Mã hồ sơ\tMã TTHC\tMã đơn vị\tNgày tiếp nhận\tHạn xử lý\nU1\t1.001\t07900\t05/01/2026 08:00\t10/01/2026\n"
    bom = "\ufeffdossier_id,procedure_code,unit_code,received_at,due_at\nB1,1.001,07900,2026-01-05,2026-01-06\n"
    semi = (
        "Mã hồ sơ;Mã TTHC;Mã đơn vị;Ngày tiếp nhận;Hạn xử lý;Số ngày bổ sung;Lệ phí\n"
        "S1;1.001;07900;2026-01-05;2026-01-06;2,5;1.234,5\n"
    )
    results = [
        ingest_file(con, "dossiers", "2026-Q1", _write(tmp_path / "u16.csv", utf16, "utf-16"), loaded_at=LOADED_AT),
        ingest_file(con, "dossiers", "2026-Q1", _write(tmp_path / "bom.csv", bom), loaded_at=LOADED_AT),
        ingest_file(con, "dossiers", "2026-Q1", _write(tmp_path / "semi.csv", semi), loaded_at=LOADED_AT),
    ]
    assert [(r.status, r.rows_accepted) for r in results] == [("loaded", 1)] * 3
    rows = con.execute(
        "select dossier_id, received_at, supplement_days, fee_amount from raw.dossiers order by 1"
    ).fetchall()
    assert rows == [
        ("B1", datetime(2026, 1, 5), None, None),
        ("S1", datetime(2026, 1, 5), 2.5, 1234.5),
        ("U1", datetime(2026, 1, 5, 8, 0), None, None),
    ]


def test_xlsx_with_title_block_merged_cells_totals_row_and_second_sheet(con, tmp_path) -> None:
    path = tmp_path / "hs.xlsx"
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Hồ sơ")
    ws.merge_range("A1:F1", "BÁO CÁO HỒ SƠ TTHC QUÝ 1/2026")
    ws.write("A2", "Đơn vị: UBND tỉnh Phú Thọ")
    ws.write_row(3, 0, ["Mã hồ sơ", "Mã TTHC", "Mã đơn vị", "Ngày tiếp nhận", "Hạn xử lý", "Lệ phí"])
    ws.write_row(4, 0, ["X1", "1.001", 7900, "05/01/2026", 46032, 10000])
    ws.merge_range("C6:C7", "07903")  # one unit code for two dossiers
    ws.write_row(5, 0, ["X2", "1.001"])
    ws.write_row(5, 3, ["2026-01-06", "2026-01-08", 0])
    ws.write_row(6, 0, ["X3", "1.001"])
    ws.write_row(6, 3, ["2026-01-07", "2026-01-09", 0])
    ws.write_row(7, 0, ["Tổng cộng", "", "", "", "", 10000])
    wb.add_worksheet("Ghi chú").write("A1", "ghi chú")
    wb.close()
    r = ingest_file(con, "dossiers", "2026-Q1", path, loaded_at=LOADED_AT)
    assert (r.status, r.rows_read, r.rows_accepted, r.rows_quarantined) == ("loaded", 3, 3, 0)
    assert any("other sheet(s) ignored: 'Ghi chú'" in w for w in r.warnings)
    assert any("totals row(s) at sheet row 8 skipped" in w for w in r.warnings)
    rows = con.execute("select dossier_id, unit_code, due_at, _row_number from raw.dossiers order by 1").fetchall()
    assert rows == [
        ("X1", "07900", datetime(2026, 1, 10, 23, 59, 59), 1),
        ("X2", "07903", datetime(2026, 1, 8, 23, 59, 59), 2),
        ("X3", "07903", datetime(2026, 1, 9, 23, 59, 59), 3),
    ]


def test_json_array_api_page_and_json_lines(con, tmp_path) -> None:
    page = {
        "page": 1,
        "data": [
            {
                "rating_id": "R1",
                "dossier_id": "H1",
                "unit_code": "07900",
                "rated_at": "2026-02-01",
                "rating": "Rất hài lòng",
            },
            {
                "Mã đánh giá": "R2",
                "Mã hồ sơ": "ZZ",
                "Mã đơn vị": 7903,
                "Ngày đánh giá": "01/02/2026",
                "rating": "hài lòng",
            },
        ],
    }
    r1 = ingest_file(con, "ratings", "2026-Q1", _write(tmp_path / "page.json", json.dumps(page)), loaded_at=LOADED_AT)
    array = [
        {
            "rating_id": "R3",
            "dossier_id": "H1",
            "unit_code": "07900",
            "rated_at": "2026-02-02T10:00:00Z",
            "rating": "Không hài lòng",
        }
    ]
    r2 = ingest_file(con, "ratings", "2026-Q1", _write(tmp_path / "arr.json", json.dumps(array)), loaded_at=LOADED_AT)
    lines = json.dumps(array[0] | {"rating_id": "R4"}) + "\n" + '{"rating_id": "R5", "dossier_'
    r3 = ingest_file(con, "ratings", "2026-Q1", _write(tmp_path / "l.jsonl", lines), loaded_at=LOADED_AT)
    assert [(r.rows_read, r.rows_accepted, r.rows_quarantined) for r in (r1, r2, r3)] == [
        (2, 2, 0),
        (1, 1, 0),
        (2, 1, 1),
    ]
    # A rating of a dossier not delivered yet is kept (and counted once the dossier arrives downstream).
    assert "3 row(s)" not in " ".join(r1.warnings) and any("not delivered yet" in w for w in r1.warnings)
    assert _quarantine(con, r3.load_id) == [(2, None, "truncated_row")]
    rows = con.execute("select rating_id, unit_code, rated_at, rating from raw.ratings order by 1").fetchall()
    assert rows == [
        ("R1", "07900", datetime(2026, 2, 1), "very_satisfied"),
        ("R2", "07903", datetime(2026, 2, 1), "satisfied"),
        ("R3", "07900", datetime(2026, 2, 2, 17, 0), "unsatisfied"),
        ("R4", "07900", datetime(2026, 2, 2, 17, 0), "unsatisfied"),
    ]


def test_redelivery_supersedes_and_same_file_is_a_no_op(tmp_path) -> None:
    landing = tmp_path / "landing"
    _write(landing / "units" / "2026-Q1" / "units.csv", UNITS)
    _write(landing / "procedures" / "2026-Q1" / "procedures.csv", PROCEDURES)
    hs = landing / "dossiers" / "2026-Q1" / "hs.csv"
    _write(hs, DOSSIER_HEADER + "H1,1.001,07900,2026-01-05,2026-01-10,,,,,\n")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert discover_periods(landing) == {"units": ["2026-Q1"], "procedures": ["2026-Q1"], "dossiers": ["2026-Q1"]}
    first = ingest_landing(con, landing, ["2026-Q1"])
    assert [(r.feed, r.status) for r in first] == [
        ("units", "loaded"),
        ("procedures", "loaded"),
        ("dossiers", "loaded"),
    ]
    again = ingest_landing(con, landing, ["2026-Q1"])
    assert [r.status for r in again] == ["skipped"] * 3
    _write(
        hs, DOSSIER_HEADER + "H1,1.001,07900,2026-01-05,2026-01-12,,,,,\nH2,1.001,07900,2026-01-06,2026-01-12,,,,,\n"
    )
    third = ingest_landing(con, landing, ["2026-Q1"], feeds=["dossiers"])
    assert [(r.status, r.rows_accepted) for r in third] == [("loaded", 2)]
    loads = con.execute(
        "select load_id, status, is_current from meta.loads where feed = 'dossiers' order by loaded_at, status"
    ).fetchall()
    assert {(lid, st, cur) for lid, st, cur in loads} == {
        (first[2].load_id, "superseded", False),
        (third[0].load_id, "loaded", True),
    }
    # Nothing is lost: the first load's row stays in raw; staging reads current loads only.
    assert con.execute("select _load_id, count(*) from raw.dossiers group by 1 order by 2").fetchall() == [
        (first[2].load_id, 1),
        (third[0].load_id, 2),
    ]
