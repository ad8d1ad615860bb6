"""Reading a delivered file into a DuckDB staging table of text cells.

Every reader leaves the same thing behind: a temporary table `_ingest_stage` with `_row_number` (1 for the
first data row below the header), `_problem` (a reason code when the row itself is malformed: truncated, too
many fields, invalid JSON) and one VARCHAR column `s<i>` per source column, plus a `StagedFile` saying which
source column holds which canonical column. Parsing and validation happen afterwards, in SQL, the same way
for every format.

Nothing here loops over rows in Python: CSV and JSON lines are read by DuckDB straight from the file
(streaming, spilling to disk when large); XLSX is read by calamine (fastexcel) into Arrow.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from pipelines.contracts import FeedContract, fold_accents, normalise_label

STAGE_TABLE = "_ingest_stage"
SAMPLE_BYTES = 256 * 1024
HEADER_SEARCH_ROWS = 30
# DuckDB reads an empty cell as this string instead of NULL, so a NULL can only mean "the line ended
# before this column": that is how a truncated line is told apart from trailing empty cells.
_NO_NULL = "\x01"
TOTALS_LABELS = ("tổng cộng", "tong cong", "tổng số", "total")

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}


class FileRejected(Exception):
    """The whole file cannot be loaded; the message says why, for the person who delivered it."""


@dataclass
class StagedFile:
    """What a reader found: the staged table's source headers and which holds which canonical column."""

    file_format: str
    headers: list[str]  # source header of s0, s1, ...
    mapping: dict[str, str]  # canonical column -> SQL over the staging columns (`s3`, `coalesce(s0, s6)`)
    warnings: list[str] = field(default_factory=list)
    raw_line: bool = False  # the stage has `_line`: a malformed line's text as delivered


def file_format_of(path: Path) -> str:
    """`csv`, `xlsx` or `json` from the file suffix; FileRejected for anything else."""
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in XLSX_SUFFIXES:
        return "xlsx"
    if suffix in JSON_SUFFIXES:
        return "json"
    raise FileRejected(f"unsupported file type {suffix or '(none)'!r}: expected .csv/.txt/.tsv, .xlsx or .json/.jsonl")


def stage_file(con: duckdb.DuckDBPyConnection, contract: FeedContract, path: Path) -> StagedFile:
    """Read `path` into `_ingest_stage`; FileRejected when the whole file is unusable."""
    fmt = file_format_of(path)
    if path.stat().st_size == 0:
        raise FileRejected("empty file (0 bytes)")
    if fmt == "csv":
        return _stage_csv(con, contract, path)
    if fmt == "xlsx":
        return _stage_xlsx(con, contract, path)
    return _stage_json(con, contract, path)


# --- header recognition ------------------------------------------------------------------------------


def match_headers(contract: FeedContract, headers: list[str]) -> tuple[dict[str, int], list[int]]:
    """Canonical column -> position of its header, and the positions of headers the contract does not know.

    Headers are compared after normalisation (case, spaces, NFC); headers typed without diacritics are
    recognised too. When two headers name the same column the first wins and the second is unknown.
    """
    exact, folded = contract.header_lookup(), contract.folded_header_lookup()
    found: dict[str, int] = {}
    unknown: list[int] = []
    for pos, header in enumerate(headers):
        text = (header or "").strip().rstrip("*:").strip()
        if not text:
            unknown.append(pos)
            continue
        name = exact.get(normalise_label(text)) or folded.get(fold_accents(text))
        if name is None or name in found:
            unknown.append(pos)
        else:
            found[name] = pos
    return found, unknown


def _check_required(contract: FeedContract, found: dict[str, int]) -> None:
    missing = [c for c in contract.required_columns if c not in found]
    if missing:
        names = ", ".join(f"{c} ({contract.column(c).business_name or c})" for c in missing)
        raise FileRejected(f"missing required column(s): {names}")


def _mapping_warnings(contract: FeedContract, headers: list[str], unknown: list[int]) -> list[str]:
    extras = [headers[i] for i in unknown if (headers[i] or "").strip()]
    return [f"unknown column {h!r} ignored (not in the {contract.feed} contract)" for h in extras]


def _best_header_row(contract: FeedContract, rows: list[list[str]]) -> tuple[int, int]:
    """(index, matches) of the row among `rows` that names the most contract columns."""
    best, best_hits = -1, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len(match_headers(contract, [c or "" for c in row])[0])
        if hits > best_hits:
            best, best_hits = i, hits
    return best, best_hits


def _no_header(contract: FeedContract) -> FileRejected:
    example = ", ".join(f"{c.name} / {c.business_name}" for c in contract.columns[:3] if c.business_name)
    return FileRejected(
        f"no header row found in the first {HEADER_SEARCH_ROWS} rows (expected columns such as {example})"
    )


# --- CSV -----------------------------------------------------------------------------------------------


def sniff_encoding(sample: bytes) -> str:
    """`utf-8` or `utf-16` (DuckDB's names); FileRejected for binary junk or an unknown encoding."""
    if sample.startswith(codecs.BOM_UTF8):
        sample = sample[len(codecs.BOM_UTF8) :]
        encoding = "utf-8"
    elif sample.startswith(codecs.BOM_UTF16_LE):
        return "utf-16"
    elif sample.startswith(codecs.BOM_UTF16_BE):
        raise FileRejected("UTF-16 big-endian text is not supported: save as UTF-8 or Excel 'Unicode text'")
    elif len(sample) >= 4 and sample[1::2][:64].count(0) > 0.9 * len(sample[1::2][:64]):
        return "utf-16"  # little-endian without a BOM: every second byte of ASCII text is zero
    else:
        encoding = "utf-8"
    if b"\x00" in sample:
        raise FileRejected("binary content (NUL bytes): not a text file in UTF-8 or UTF-16")
    # The sample may end inside a multi-byte character: decode only up to its last line break.
    cut = sample.rfind(b"\n")
    text_part = sample if cut < 0 or len(sample) < SAMPLE_BYTES else sample[: cut + 1]
    try:
        text = text_part.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileRejected(
            f"not UTF-8 or UTF-16 text (undecodable byte at offset {exc.start}): save the file as UTF-8"
        ) from None
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    if text and controls > 0.01 * len(text):
        raise FileRejected("binary content (control characters): not a text file")
    return encoding


def _decoded_sample(path: Path, encoding: str) -> str:
    with path.open("rb") as fh:
        raw = fh.read(SAMPLE_BYTES)
    return raw.decode("utf-16" if encoding == "utf-16" else "utf-8-sig", errors="ignore")


def _stage_csv(con: duckdb.DuckDBPyConnection, contract: FeedContract, path: Path) -> StagedFile:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise FileRejected("empty file (only blank space)")
    encoding = sniff_encoding(sample)
    text = _decoded_sample(path, encoding)
    lines = text.splitlines()[:HEADER_SEARCH_ROWS]
    if not any(line.strip() for line in lines):
        raise FileRejected("empty file (no header row)")
    # The separator is the one under which some line reads as the best header row.
    best: tuple[int, int, str] = (-1, 0, ",")
    for sep in (",", ";", "\t"):
        rows = [next(csv.reader([line], delimiter=sep), []) for line in lines]
        idx, hits = _best_header_row(contract, rows)
        if hits > best[1]:
            best = (idx, hits, sep)
    header_idx, hits, sep = best
    if hits == 0:
        raise _no_header(contract)
    headers = next(csv.reader([lines[header_idx]], delimiter=sep))
    found, unknown = match_headers(contract, headers)
    _check_required(contract, found)
    n = len(headers)
    # One column more than the header: a row that fills it has too many fields.
    columns = "{" + ", ".join(f"'s{i}': 'VARCHAR'" for i in range(n + 1)) + "}"
    reader = (
        f"read_csv({_sql_text(str(path))}, header = false, skip = {header_idx + 1}, auto_detect = false, "
        f"delim = {_sql_text(sep)}, quote = '\"', "
        f"escape = '\"', encoding = '{encoding}', null_padding = true, strict_mode = false, "
        f"nullstr = '{_NO_NULL}', columns = {columns})"
    )
    blank = " and ".join(f"coalesce(s{i}, '') = ''" for i in range(n))
    try:
        con.execute(
            f"""
            create or replace temp view {STAGE_TABLE} as
            with numbered as (select row_number() over () as _row_number, * from {reader})
            select
                _row_number,
                case when s{n} is not null then 'too_many_fields'
                     when s{n - 1} is null then 'truncated_row' end as _problem,
                {", ".join(f"s{i}" for i in range(n))}
            from numbered
            where not ({blank})
            """
        )
        # A view reads lazily: read the first rows now so an unreadable file is rejected here.
        con.execute(f"select * from {STAGE_TABLE} limit 1").fetchall()
    except duckdb.Error as exc:
        raise FileRejected(f"unreadable as {encoding} CSV: {str(exc).splitlines()[0]}") from None
    warnings = _mapping_warnings(contract, headers, unknown)
    if header_idx:
        warnings.append(f"header found on line {header_idx + 1}; {header_idx} line(s) above it skipped")
    return StagedFile("csv", headers, {c: f"s{i}" for c, i in found.items()}, warnings)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


# --- XLSX ----------------------------------------------------------------------------------------------

_CELL = re.compile(r"([A-Z]+)(\d+)")


def _cell_index(ref: str) -> tuple[int, int]:
    """`B7` -> (row 7, column 2), both 1-based."""
    m = _CELL.fullmatch(ref)
    if not m:
        raise ValueError(ref)
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def _sheet_layout(path: Path, sheet_index: int) -> tuple[tuple[int, int], list[tuple[int, int, int, int]]]:
    """Top-left cell of the used range and the merged ranges (r1, c1, r2, c2) of one sheet, from its XML."""
    with zipfile.ZipFile(path) as zf:
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        book = zf.read("xl/workbook.xml").decode("utf-8")
        rids = re.findall(r"<sheet\b[^>]*?r:id=\"([^\"]+)\"", book)
        targets = dict(re.findall(r"<Relationship\b[^>]*?Id=\"([^\"]+)\"[^>]*?Target=\"([^\"]+)\"", rels))
        targets |= {a: b for b, a in re.findall(r"<Relationship\b[^>]*?Target=\"([^\"]+)\"[^>]*?Id=\"([^\"]+)\"", rels)}
        target = targets[rids[sheet_index]].lstrip("/")
        xml = zf.read(target if target.startswith("xl/") else f"xl/{target}").decode("utf-8")
    # calamine starts the range at the first non-empty cell; the first <c> with a value marks it.
    first_rows = [int(r) for r in re.findall(r"<c r=\"[A-Z]+(\d+)\"[^>]*?>\s*<(?:v|is)>", xml[:200_000])]
    first_cols = [_cell_index(ref)[1] for ref in re.findall(r"<c r=\"([A-Z]+\d+)\"[^>]*?>\s*<(?:v|is)>", xml[:200_000])]
    top_left = (min(first_rows, default=1), min(first_cols, default=1))
    merged = []
    for ref in re.findall(r"<mergeCell ref=\"([A-Z]+\d+):([A-Z]+\d+)\"", xml):
        (r1, c1), (r2, c2) = _cell_index(ref[0]), _cell_index(ref[1])
        merged.append((r1, c1, r2, c2))
    return top_left, merged


def _stage_xlsx(con: duckdb.DuckDBPyConnection, contract: FeedContract, path: Path) -> StagedFile:
    import fastexcel

    try:
        book = fastexcel.read_excel(path)
        sheet = book.load_sheet(0, header_row=None, dtypes="string")
        frame = sheet.to_polars()
    except Exception as exc:  # calamine raises its own error types for corrupt workbooks
        raise FileRejected(f"unreadable as an XLSX workbook: {str(exc).splitlines()[0]}") from None
    warnings: list[str] = []
    if len(book.sheet_names) > 1:
        others = ", ".join(repr(s) for s in book.sheet_names[1:])
        warnings.append(f"only the first sheet {book.sheet_names[0]!r} read; other sheet(s) ignored: {others}")
    if frame.height == 0:
        raise FileRejected("empty workbook (first sheet has no cells)")
    names = [f"s{i}" for i in range(frame.width)]
    frame = frame.rename(dict(zip(frame.columns, names, strict=True)))
    # A date cell reads as `2026-03-31 00:00:00`; keep it a date so a deadline means the end of that day.
    frame = frame.with_columns(pl.col(names).str.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", "$1").str.strip_chars())
    header_idx, hits = _best_header_row(contract, [list(r) for r in frame.head(HEADER_SEARCH_ROWS).rows()])
    if hits == 0:
        raise _no_header(contract)
    headers = [h or "" for h in frame.row(header_idx)]
    found, unknown = match_headers(contract, headers)
    _check_required(contract, found)
    try:
        (top_row, left_col), merged = _sheet_layout(path, 0)
    except (KeyError, IndexError, ValueError, zipfile.BadZipFile):
        (top_row, left_col), merged = (1, 1), []
    frame = frame.with_row_index("_idx")
    header_sheet_row = top_row + header_idx
    # Merged cells inside the data carry their value in the top-left cell only: a reader sees it in every
    # cell of the range, so it is filled across the range (ranges, not rows, are looped over).
    filled = 0
    for r1, c1, r2, c2 in merged:
        if r1 <= header_sheet_row:
            continue
        src_row, src_col = r1 - top_row, c1 - left_col
        if not (0 <= src_row < frame.height and 0 <= src_col < len(names)):
            continue
        value = frame[names[src_col]][src_row]
        rows_ = pl.col("_idx").is_between(r1 - top_row, r2 - top_row)
        cols = [names[c - left_col] for c in range(c1, c2 + 1) if 0 <= c - left_col < len(names)]
        frame = frame.with_columns([pl.when(rows_).then(pl.lit(value)).otherwise(pl.col(c)).alias(c) for c in cols])
        filled += 1
    if filled:
        warnings.append(f"{filled} merged cell range(s) in the data filled with their value")
    data = frame.filter(pl.col("_idx") > header_idx).with_columns(
        (pl.col("_idx") - header_idx).cast(pl.Int64).alias("_row_number")
    )
    non_blank = pl.any_horizontal([pl.col(c).fill_null("") != "" for c in names])
    first_text = pl.coalesce([pl.when(pl.col(c).fill_null("") != "").then(pl.col(c)) for c in names])
    is_total = first_text.str.to_lowercase().str.strip_chars().str.starts_with(TOTALS_LABELS[0])
    for label in TOTALS_LABELS[1:]:
        is_total = is_total | first_text.str.to_lowercase().str.strip_chars().str.starts_with(label)
    totals = data.filter(non_blank & is_total)
    if totals.height:
        sheet_rows = ", ".join(str(header_sheet_row + r) for r in totals["_row_number"].to_list()[:5])
        warnings.append(f"totals row(s) at sheet row {sheet_rows} skipped (not data rows)")
    data = data.filter(non_blank & ~is_total).select(
        "_row_number", pl.lit(None, dtype=pl.String).alias("_problem"), *names
    )
    con.register("_ingest_xlsx", data.to_arrow())
    try:
        con.execute(f"create or replace temp table {STAGE_TABLE} as select * from _ingest_xlsx")
    finally:
        con.unregister("_ingest_xlsx")
    warnings = _mapping_warnings(contract, headers, unknown) + warnings
    if header_idx:
        warnings.append(f"header found on sheet row {header_sheet_row}; title block above it skipped")
    return StagedFile("xlsx", headers, {c: f"s{i}" for c, i in found.items()}, warnings)


# --- JSON ----------------------------------------------------------------------------------------------


def _stage_json(con: duckdb.DuckDBPyConnection, contract: FeedContract, path: Path) -> StagedFile:
    with path.open("rb") as fh:
        sample = fh.read(SAMPLE_BYTES)
    if not sample.strip():
        raise FileRejected("empty file (only blank space)")
    encoding = sniff_encoding(sample)
    if encoding != "utf-8":
        raise FileRejected("JSON must be UTF-8 text")
    head = sample.lstrip(codecs.BOM_UTF8).lstrip()
    first_line = head.split(b"\n", 1)[0].strip()
    warnings: list[str] = []
    if head.startswith(b"{") and _is_json_object(con, first_line) and len(head.strip()) > len(first_line):
        # JSON lines: one object per line, read line by line so a broken line is quarantined, not fatal.
        con.execute(
            """
            create or replace temp table _ingest_json as
            with kept as (
                -- Blank lines are dropped before the numbering, so the rows are numbered as they are read.
                select row_number() over () as _row_number, line
                from read_csv(?, header = false, auto_detect = false, delim = '\x02', quote = '',
                              escape = '', columns = {'line': 'VARCHAR'}, strict_mode = false)
                where trim(coalesce(line, '')) <> ''
            )
            select _row_number,
                   line as j,
                   case when not json_valid(line) then line when json_type(line) <> 'OBJECT' then line end as _line,
                   case when not json_valid(line) or json_type(line) <> 'OBJECT' then
                       case when _row_number = (select max(_row_number) from kept) then 'truncated_row'
                            else 'invalid_json' end
                   end as _problem
            from kept
            """,
            [str(path)],
        )
        fmt = "jsonl"
    else:
        try:
            con.execute(
                "create or replace temp table _ingest_doc as select content::json as doc from read_text(?)", [str(path)]
            )
        except duckdb.Error:
            raise FileRejected("not valid JSON (neither JSON lines, an array nor an API page)") from None
        kind = con.execute("select json_type(doc) from _ingest_doc").fetchone()[0]  # type: ignore[index]
        if kind == "ARRAY":
            rows_expr = "doc"
        elif kind == "OBJECT":
            key = contract.api_rows_key
            keys = con.execute("select json_keys(doc) from _ingest_doc").fetchone()[0]  # type: ignore[index]
            if key not in keys:
                arrays = [
                    k
                    for k in keys
                    if con.execute("select json_type(doc, ?) from _ingest_doc", [f'$."{k}"']).fetchone()[0] == "ARRAY"
                ]
                if len(arrays) != 1:
                    raise FileRejected(f"API page without the rows key {key!r} named in the contract")
                warnings.append(f"rows read from key {arrays[0]!r}; the contract names {key!r}")
                key = arrays[0]
            rows_expr = f"json_extract(doc, '$.\"{key}\"')"
        else:
            raise FileRejected("JSON document is neither an array of rows nor an API page object")
        con.execute(
            f"""
            create or replace temp table _ingest_json as
            with items as (select unnest(from_json({rows_expr}, '["json"]')) as j from _ingest_doc)
            select row_number() over () as _row_number, j::varchar as j,
                   case when json_type(j) <> 'OBJECT' then j::varchar end as _line,
                   case when json_type(j) <> 'OBJECT' then 'invalid_json' end as _problem
            from items
            """
        )
        fmt = "json"
    headers = [
        r[0]
        for r in con.execute(
            """
            with k as (
                select unnest(json_keys(j)) as key, _row_number from _ingest_json where _problem is null
            )
            select key from k group by key order by min(_row_number), key
            """
        ).fetchall()
    ]
    n_rows = con.execute("select count(*) from _ingest_json").fetchone()[0]  # type: ignore[index]
    if n_rows == 0:
        raise FileRejected("empty file (no rows)")
    found, unknown = match_headers(contract, headers)
    if not found and headers:
        raise _no_header(contract)
    _check_required(contract, found)
    # Objects of one export may spell a key two ways (`Mã hồ sơ` and `dossier_id`): take whichever is there.
    exact, folded = contract.header_lookup(), contract.folded_header_lookup()
    groups: dict[str, list[str]] = {}
    for i, header in enumerate(headers):
        name = exact.get(normalise_label(header)) or folded.get(fold_accents(header))
        if name is not None:
            groups.setdefault(name, []).append(f"s{i}")
    unknown = [i for i in unknown if f"s{i}" not in {s for cols in groups.values() for s in cols}]
    mapping = {name: cols[0] if len(cols) == 1 else f"coalesce({', '.join(cols)})" for name, cols in groups.items()}
    # One list of paths parses each object once for all its keys (one path per call would parse it per key).
    values = ", ".join(f"_values[{i + 1}] as s{i}" for i in range(len(headers)))
    con.execute(
        f"""
        create or replace temp table {STAGE_TABLE} as
        with extracted as (
            select _row_number, _problem, _line,
                case when _problem is null then json_extract_string(j, ?::varchar[]) end as _values
            from _ingest_json
        )
        select _row_number, _problem, _line{", " if headers else ""}{values} from extracted
        """,
        [[f'$."{h}"' for h in headers]],
    )
    con.execute("drop table if exists _ingest_json; drop table if exists _ingest_doc")
    return StagedFile(fmt, headers, mapping, _mapping_warnings(contract, headers, unknown) + warnings, raw_line=True)


def _is_json_object(con: duckdb.DuckDBPyConnection, line: bytes) -> bool:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return bool(con.execute("select json_valid(?) and json_type(?) = 'OBJECT'", [text, text]).fetchone()[0])  # type: ignore[index]
