"""Ingestion reads the common cell shapes first; every shape must still read exactly as the full rules say.

The check query tries the usual timestamp shapes (ISO, day-first), plain numbers and exact yes/no spellings
before the general parsing, and finds repeated keys by a grouped count. These cases mix shapes row by row, so
a fast branch that read a cell differently from the general one, or swallowed a bad cell, fails here.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from fixtures.ingest_warehouse import LOADED_AT, reference_warehouse, write_file

from pipelines.ingest import ingest_file

HEADER = "Mã hồ sơ,Mã TTHC,Mã đơn vị,Ngày tiếp nhận,Hạn xử lý,Trạng thái,Kênh nộp,Số lần bổ sung,Lệ phí,Số hóa\n"


@pytest.fixture
def con(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return reference_warehouse(tmp_path)


def _row(dossier: str, received: str, due: str = "2026-04-30", count: str = "0", fee: str = "0", flag: str = "") -> str:
    return f'{dossier},1.001,07900,"{received}","{due}",Đang xử lý,Trực tuyến,"{count}","{fee}","{flag}"'


def _load(con: duckdb.DuckDBPyConnection, tmp_path: Path, rows: list[str], name: str = "hs.csv"):
    r = ingest_file(
        con, "dossiers", "2026-Q1", write_file(tmp_path / name, HEADER + "\n".join(rows) + "\n"), loaded_at=LOADED_AT
    )
    accepted = dict(
        con.execute(
            "select dossier_id, (received_at, due_at, supplement_count, fee_amount, digitised) from raw.dossiers "
            "where _load_id = ?",
            [r.load_id],
        ).fetchall()
    )
    quarantined = con.execute(
        "select row_number, column_name, reason_code, reason from raw.quarantine where load_id = ? order by row_number",
        [r.load_id],
    ).fetchall()
    return r, accepted, quarantined


def test_timestamp_shapes_mixed_row_by_row_read_exactly(con, tmp_path) -> None:
    rows = [
        _row("A1", "2026-03-31 14:05:09", "2026-04-10"),  # ISO seconds; ISO date deadline: end of that day
        _row("A2", "2026-03-31 14:05", "10/04/2026"),  # ISO minutes; day-first date deadline
        _row("A3", "31/03/2026 14:05", "10/04/2026 17:00"),  # day-first with minutes
        _row("A4", "31/03/2026 14:05:30", "2026-04-10 17:00:00"),  # day-first with seconds
        _row("A5", "31/03/2026", "46122"),  # day-first date; whole Excel serial deadline: end of that day
        _row("A6", "46112.5", "46122.75"),  # Excel serials: 2026-03-31 12:00, 2026-04-10 18:00
        _row("A7", "2026-03-31T07:05:00Z", "2026-04-10T10:00:00+00:00"),  # UTC offsets, read as UTC+7
        _row("A8", "2026-03-31T14:05:00", "2026-04-10T17:00:00"),  # ISO with T
        _row("A9", "2026-03-31 14:05:00+07:00", "2026-04-10"),  # ISO shape with an offset: not the fast path
        _row("A10", "2026-03-31 09:05:00-05:00", "2026-04-10"),  # negative offset: 14:05 at UTC+7
        _row("A11", "31-03-2026", "2026-04-10"),  # a shape only the full list knows
        _row("A12", "2026-13-31 14:05:00", "2026-04-10"),  # ISO shape, impossible month
        _row("A13", "31/02/2026 14:05", "2026-04-10"),  # day-first shape, impossible day
        _row("A14", "hôm qua", "2026-04-10"),  # not a date at all
    ]
    r, accepted, quarantined = _load(con, tmp_path, rows)
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (14, 11, 3)
    received_due = {k: v[:2] for k, v in accepted.items()}
    assert received_due == {
        "A1": (datetime(2026, 3, 31, 14, 5, 9), datetime(2026, 4, 10, 23, 59, 59)),
        "A2": (datetime(2026, 3, 31, 14, 5), datetime(2026, 4, 10, 23, 59, 59)),
        "A3": (datetime(2026, 3, 31, 14, 5), datetime(2026, 4, 10, 17, 0)),
        "A4": (datetime(2026, 3, 31, 14, 5, 30), datetime(2026, 4, 10, 17, 0)),
        "A5": (datetime(2026, 3, 31, 0, 0), datetime(2026, 4, 10, 23, 59, 59)),
        "A6": (datetime(2026, 3, 31, 12, 0), datetime(2026, 4, 10, 18, 0)),
        "A7": (datetime(2026, 3, 31, 14, 5), datetime(2026, 4, 10, 17, 0)),
        "A8": (datetime(2026, 3, 31, 14, 5), datetime(2026, 4, 10, 17, 0)),
        "A9": (datetime(2026, 3, 31, 14, 5), datetime(2026, 4, 10, 23, 59, 59)),
        "A10": (datetime(2026, 3, 31, 21, 5), datetime(2026, 4, 10, 23, 59, 59)),
        "A11": (datetime(2026, 3, 31, 0, 0), datetime(2026, 4, 10, 23, 59, 59)),
    }
    expected = "is not a date (expected ISO 2026-03-31, 31/03/2026 or an Excel serial)"
    assert quarantined == [
        (
            12,
            "received_at",
            "invalid_date",
            f"dossiers/2026-Q1/hs.csv row 12, column received_at: '2026-13-31 14:05:00' {expected}",
        ),
        (
            13,
            "received_at",
            "invalid_date",
            f"dossiers/2026-Q1/hs.csv row 13, column received_at: '31/02/2026 14:05' {expected}",
        ),
        (
            14,
            "received_at",
            "invalid_date",
            f"dossiers/2026-Q1/hs.csv row 14, column received_at: 'hôm qua' {expected}",
        ),
    ]


def test_rows_off_the_dominant_shape_still_read_and_are_still_checked(con, tmp_path) -> None:
    # Day-first dominates; a few rows use ISO, a serial, an offset; one day-first cell is in the future.
    rows = [_row(f"D{i}", f"{i:02d}/03/2026 08:30", f"{i:02d}/04/2026") for i in range(1, 29)]
    rows += [
        _row("I1", "2026-03-29 08:30:00", "2026-04-29"),
        _row("I2", "46110.25", "29/04/2026"),  # 2026-03-29 06:00
        _row("I3", "2026-03-29T01:30:00Z", "2026-04-29 08:00"),
        _row("F1", "05/05/2026 08:30", "06/05/2026"),  # after the load time
        _row("B1", "29/03/2026 08:30", "28/03/2026"),  # due before received
    ]
    r, accepted, quarantined = _load(con, tmp_path, rows)
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (33, 31, 2)
    assert accepted["D7"][:2] == (datetime(2026, 3, 7, 8, 30), datetime(2026, 4, 7, 23, 59, 59))
    assert accepted["I1"][:2] == (datetime(2026, 3, 29, 8, 30), datetime(2026, 4, 29, 23, 59, 59))
    assert accepted["I2"][:2] == (datetime(2026, 3, 29, 6, 0), datetime(2026, 4, 29, 23, 59, 59))
    assert accepted["I3"][:2] == (datetime(2026, 3, 29, 8, 30), datetime(2026, 4, 29, 8, 0))
    assert [(q[0], q[1], q[2]) for q in quarantined] == [
        (32, "received_at", "future_date"),
        (33, "due_at", "due_before_received"),
    ]
    assert quarantined[0][3] == (
        "dossiers/2026-Q1/hs.csv row 32, column received_at: '05/05/2026 08:30' "
        "is in the future (loaded at 2026-04-05 09:00)"
    )


def test_numbers_and_yes_no_spellings_read_as_the_full_rules_say(con, tmp_path) -> None:
    rows = [
        _row("N1", "2026-03-01", count="2", fee="12,5", flag="x"),
        _row("N2", "2026-03-01", count="3", fee="1.234,5", flag="X"),
        _row("N3", "2026-03-01", count="1", fee="1,234.5", flag="Có"),
        _row("N4", "2026-03-01", count="0", fee="1 000", flag="không"),
        _row("N5", "2026-03-01", count="4", fee="7.5", flag="KHÔNG"),
        _row("N6", "2026-03-01", count="1.5", fee="0", flag=""),  # not a whole number
        _row("N7", "2026-03-01", count="0", fee="abc", flag=""),
        _row("N8", "2026-03-01", count="0", fee="-3", flag="có lẽ"),
    ]
    r, accepted, quarantined = _load(con, tmp_path, rows)
    assert {k: v[2:] for k, v in accepted.items()} == {
        "N1": (2, 12.5, True),
        "N2": (3, 1234.5, True),
        "N3": (1, 1234.5, True),
        "N4": (0, 1000.0, False),
        "N5": (4, 7.5, False),
    }
    assert [(q[0], q[1], q[2]) for q in quarantined] == [
        (6, "supplement_count", "not_a_number"),
        (7, "fee_amount", "not_a_number"),
        (8, "digitised", "invalid_boolean"),  # the first problem in contract order; both are listed
    ]
    assert (
        quarantined[2][3]
        .split("; ")[0]
        .startswith("dossiers/2026-Q1/hs.csv row 8, column digitised: 'có lẽ' is not a yes/no value")
    )
    assert quarantined[2][3].split("; ")[1] == (
        "dossiers/2026-Q1/hs.csv row 8, column fee_amount: '-3' is out of range (expected >= 0)"
    )


def test_every_occurrence_of_a_repeated_key_is_quarantined_and_the_rest_accepted(con, tmp_path) -> None:
    rows = [
        _row("K1", "2026-03-01 08:00"),
        _row("K2", "2026-03-02 08:00"),
        _row("K1", "2026-03-03 08:00"),
        _row("K3", "2026-03-04 08:00"),
        _row("K1", "2026-03-05 08:00"),
        _row("K3", "2026-03-06 08:00"),
        _row(" K4 ", "2026-03-07 08:00"),  # the same key once its blanks are trimmed
        _row("K4", "2026-03-08 08:00"),
    ]
    r, accepted, quarantined = _load(con, tmp_path, rows)
    assert (r.rows_read, r.rows_accepted, r.rows_quarantined) == (8, 1, 7)
    assert list(accepted) == ["K2"]
    assert [(q[0], q[1], q[2]) for q in quarantined] == [
        (n, "dossier_id", "duplicate_id") for n in (1, 3, 4, 5, 6, 7, 8)
    ]
    assert quarantined[0][3] == (
        "dossiers/2026-Q1/hs.csv row 1, column dossier_id: 'K1' appears 3 times in the file "
        "(every occurrence quarantined)"
    )
    assert quarantined[2][3].endswith("'K3' appears 2 times in the file (every occurrence quarantined)")


def test_cells_that_broke_a_load_are_quarantined_with_their_reason(con, tmp_path) -> None:
    """An offset marker without a time (`...TZ`) and `inf`/`nan` or a huge whole-number count used to make
    the load fail; they are bad cells like any other: the row is quarantined, the rest of the file loads."""
    rows = [
        _row("B1", "2026-03-31TZ"),
        _row("B2", "2026-03-01", count="inf"),
        _row("B3", "2026-03-01", count="nan"),
        _row("B4", "2026-03-01", count="1e30"),
        _row("B5", "2026-03-01", count="2"),
    ]
    r, accepted, quarantined = _load(con, tmp_path, rows)
    assert (r.status, r.rows_read, r.rows_accepted) == ("loaded", 5, 1)
    assert list(accepted) == ["B5"]
    assert [(q[0], q[1], q[2]) for q in quarantined] == [
        (1, "received_at", "invalid_date"),
        (2, "supplement_count", "not_a_number"),
        (3, "supplement_count", "not_a_number"),
        (4, "supplement_count", "not_a_number"),
    ]
    assert quarantined[0][3].startswith("dossiers/2026-Q1/hs.csv row 1, column received_at: '2026-03-31TZ' is not")
