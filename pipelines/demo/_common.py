"""Shared building blocks of the demo generator: seeded random streams, working days, file writers.

Every random draw comes from a stream keyed by (seed, feed, period, ...) so that adding a feed or a
period never shifts the numbers of another one, and the same seed always gives the same bytes.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import holidays
import numpy as np
import polars as pl
import xlsxwriter

MINUTES_PER_DAY = 1440


def rng_for(seed: int, *keys: str | int) -> np.random.Generator:
    """A random stream that depends only on the seed and the keys (never on Python's string hashing)."""
    words = [seed & 0xFFFFFFFF] + [zlib.crc32(str(key).encode("utf-8")) for key in keys]
    return np.random.default_rng(words)


@lru_cache(maxsize=1)
def business_calendar() -> np.busdaycalendar:
    """Monday-to-Friday working days minus Vietnamese public holidays (2024-2027)."""
    days = sorted(holidays.country_holidays("VN", years=range(2024, 2028)))
    return np.busdaycalendar(weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]"))


def add_working_days(days: np.ndarray, offsets: np.ndarray | int) -> np.ndarray:
    """Shift dates (datetime64[D]) by working days; a date off work first rolls to the next working day."""
    return np.busday_offset(days, offsets, roll="forward", busdaycal=business_calendar())


def working_days_in(start: date, end: date) -> np.ndarray:
    """Every working day from start to end inclusive, as datetime64[D]."""
    span = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)
    return span[np.is_busday(span, busdaycal=business_calendar())]


def to_minutes(day: date) -> int:
    """Minutes since the epoch of the start of a day (local time; no offsets anywhere in the demo)."""
    return int(np.datetime64(day, "m").astype(np.int64))


def steps(values: np.ndarray, step: float) -> np.ndarray:
    """Round to a multiple of `step` (points are entered in steps of 0.25)."""
    return np.round(values / step) * step


def bool_text(values: pl.Expr, true: str, false: str) -> pl.Expr:
    """Print a boolean column the way a source system does (`x`/empty, `có`/`không`)."""
    return pl.when(values).then(pl.lit(true)).otherwise(pl.lit(false))


# ---------------------------------------------------------------------------------------------- writers


def write_csv(
    frame: pl.DataFrame,
    path: Path,
    *,
    separator: str = ",",
    bom: bool = False,
    utf16: bool = False,
) -> int:
    """Write a CSV the way the source systems deliver it; returns the number of data rows.

    `utf16` writes Excel's "Unicode text": UTF-16 LE with a BOM, CRLF line ends.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if utf16:
        text = frame.write_csv(separator=separator, line_terminator="\r\n")
        path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    else:
        frame.write_csv(path, separator=separator, include_bom=bom)
    return frame.height


def write_jsonl(frame: pl.DataFrame, path: Path) -> int:
    """Write JSON lines (an API export); keys in column order, nulls as JSON null."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_ndjson(path)
    return frame.height


def _cell(value: object) -> object:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    return value


def write_xlsx(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    created: datetime,
    sheet_name: str = "Sheet1",
    title_lines: Sequence[str] = (),
    footer: Sequence[object] | None = None,
    notes: Sequence[str] = (),
) -> int:
    """Write an official-template workbook: optional title block, header, rows, totals row, notes sheet.

    The document properties carry a fixed `created` time (xlsxwriter also fixes the zip entry times),
    so the same rows always give the same bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False})
    workbook.set_properties({"created": created, "author": "UBND tỉnh Phú Thọ"})
    bold = workbook.add_format({"bold": True})
    sheet = workbook.add_worksheet(sheet_name)
    row_no = 0
    for line in title_lines:
        sheet.write_string(row_no, 0, line, bold)
        row_no += 1
    for col, name in enumerate(header):
        sheet.write_string(row_no, col, name, bold)
    row_no += 1
    for values in rows:
        for col, value in enumerate(values):
            value = _cell(value)
            if value is None or value == "":
                continue
            if isinstance(value, str):
                sheet.write_string(row_no, col, value)
            else:
                sheet.write(row_no, col, value)
        row_no += 1
    if footer is not None:
        for col, value in enumerate(footer):
            if value is not None:
                sheet.write(row_no, col, _cell(value), bold)
    if notes:
        note_sheet = workbook.add_worksheet("Ghi chú")
        for i, line in enumerate(notes):
            note_sheet.write_string(i, 0, line)
    workbook.close()
    return len(rows)


def dumps_sorted(value: object) -> str:
    """Stable JSON text (used for small metadata)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
