"""The period's official tables as one Excel workbook, in Vietnamese, safe to open.

One sheet per published table of the period (the analysts' contract decides which), a title row with the
period and the publication version, Vietnamese headers and value labels, number formats, a frozen header,
an autofilter and fitted column widths. Every text value is written with `write_string` and never as a
formula; a text that Excel would read as a formula (starting with = + - @, a tab or a carriage return) also
gets the quote prefix, Excel's own "apostrophe" marker, so that editing the cell cannot turn it into one.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from pipelines.outputs import labels
from pipelines.outputs.published import (
    ContractTable,
    Publication,
    analyst_contract,
    open_published,
    publication,
    relation_exists,
    version_rows,
)

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER_FORMATS = {"points": "0.00", "ratio": '0.00"%"', "days": '0.00" ngày"', "count": "0", "integer": "0"}
# The unit of a row's ratio_pct follows its ratio_kind (2.2 is an average in days, 5.1 a count).
RATIO_KIND_FORMATS = {"average": "days", "count": "count"}
MAX_COLUMN_WIDTH = 60
TITLE_ROW, HEADER_ROW, FIRST_DATA_ROW = 0, 1, 2


def is_formula_like(text: str) -> bool:
    """Whether a spreadsheet would take this text for a formula (CSV/formula injection)."""
    return text.startswith(FORMULA_TRIGGERS)


def _publication_title(table: ContractTable, pub: Publication) -> str:
    title = labels.TABLE_TITLES.get(table.name, table.description.split(":")[0] or table.name)
    approved = ""
    if pub.approved_at is not None:
        when = pub.approved_at.strftime("%d/%m/%Y") if isinstance(pub.approved_at, datetime | date) \
            else str(pub.approved_at)
        approved = f", phê duyệt ngày {when}" + (f" bởi {pub.approved_by}" if pub.approved_by else "")
    return f"{title} — Kỳ {pub.period_label} — Phiên bản công bố {pub.version}{approved}"


class _Writer:
    """Cell writing with the formats of one workbook."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 13})
        self.header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "border": 1, "text_wrap": True,
                                       "valign": "top"})
        self.text = book.add_format({})
        self.quoted = book.add_format({"quote_prefix": True})
        self.numbers = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}

    def cell(self, sheet: Worksheet, row: int, col: int, value: Any, kind: str | None) -> int:
        """Write one value; return its display width."""
        if value is None:
            sheet.write_blank(row, col, None, self.text)
            return 0
        if kind is not None and isinstance(value, int | float) and not isinstance(value, bool):
            sheet.write_number(row, col, value, self.numbers[kind])
            return len(f"{value:.2f}") if kind != "integer" else len(str(value))
        text = value if isinstance(value, str) else str(value)
        # write_string never creates a formula; the quote prefix keeps it text even after an edit in Excel.
        sheet.write_string(row, col, text, self.quoted if is_formula_like(text) else self.text)
        return len(text)


def _write_sheet(book: xlsxwriter.Workbook, writer: _Writer, table: ContractTable, pub: Publication,
                 columns: list[str], rows: Iterable[tuple]) -> int:
    sheet = book.add_worksheet(labels.sheet_name(table.name))
    by_name = {c.name: c for c in table.columns}
    kinds = [labels.number_kind(c, by_name[c].logical_type if c in by_name else None) for c in columns]
    sheet.write_string(TITLE_ROW, 0, _publication_title(table, pub), writer.title)
    widths = []
    for col, name in enumerate(columns):
        text = labels.header(name, by_name[name].business_name if name in by_name else None)
        sheet.write_string(HEADER_ROW, col, text, writer.header)
        widths.append(min(max(len(text) // 2 + 2, 10), 30))
    ratio_kind_at = columns.index("ratio_kind") if "ratio_kind" in columns else None
    count = 0
    for count, row in enumerate(rows, start=1):
        row_kind = RATIO_KIND_FORMATS.get(row[ratio_kind_at]) if ratio_kind_at is not None else None
        for col, (name, value) in enumerate(zip(columns, row, strict=True)):
            kind = row_kind if row_kind and name == "ratio_pct" else kinds[col]
            width = writer.cell(sheet, HEADER_ROW + count, col, labels.value_label(name, value), kind)
            widths[col] = max(widths[col], min(width + 2, MAX_COLUMN_WIDTH))
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width)
    sheet.set_row(HEADER_ROW, 45)
    sheet.freeze_panes(FIRST_DATA_ROW, 0)
    sheet.autofilter(HEADER_ROW, 0, HEADER_ROW + max(count, 1), len(columns) - 1)
    return count


def export_xlsx(published_db: Path, period_label: str, out_path: Path, *, tables: list[str] | None = None,
                version: int | None = None) -> Path:
    """Write the period's published tables (latest version, or `version`) to one workbook at `out_path`.

    `tables` restricts the sheets to these contract tables; by default every contract table the period has
    rows for. Returns `out_path`.
    """
    out_path = Path(out_path)
    con = open_published(published_db)
    try:
        pub = publication(con, period_label, version)
        contract = [t for t in analyst_contract() if tables is None or t.name in tables]
        unknown = set(tables or ()) - {t.name for t in contract}
        if unknown:
            raise ValueError(f"unknown tables {sorted(unknown)}; the contract has"
                             f" {[t.name for t in analyst_contract()]}")
        out_path.parent.mkdir(parents=True, exist_ok=True)
        book = xlsxwriter.Workbook(str(out_path), {"strings_to_formulas": False, "strings_to_urls": False,
                                                   "strings_to_numbers": False})
        try:
            writer = _Writer(book)
            book.set_properties({"title": f"chamdiem {period_label} v{pub.version}", "company": "chamdiem"})
            for table in contract:
                if not relation_exists(con, "versions", table.name):
                    continue
                columns, rows = version_rows(con, table, pub)
                if rows:
                    _write_sheet(book, writer, table, pub, columns, rows)
        finally:
            book.close()
    finally:
        con.close()
    return out_path
