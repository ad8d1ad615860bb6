"""One file, one load: stage, check, write accepted rows and quarantine, record the load."""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb

from pipelines.contracts import FEEDS, REFERENCE_FEEDS, FeedContract, all_contracts, load_contract
from pipelines.ingest.readers import STAGE_TABLE, FileRejected, file_format_of, stage_file
from pipelines.ingest.validate import CHECKED_TABLE, ReferenceSet, build_check_sql
from pipelines.periods import parse_period

LOCAL_TZ = timezone(timedelta(hours=7))

LOADS_DDL = """
create table if not exists meta.loads (
    load_id VARCHAR,
    feed VARCHAR,
    period_label VARCHAR,
    source_file VARCHAR,
    file_name VARCHAR,
    file_hash VARCHAR,
    file_format VARCHAR,
    rows_read BIGINT,
    rows_accepted BIGINT,
    rows_quarantined BIGINT,
    status VARCHAR,
    reject_reason VARCHAR,
    warnings VARCHAR[],
    loaded_at TIMESTAMP,
    is_current BOOLEAN
)
"""

QUARANTINE_DDL = """
create table if not exists raw.quarantine (
    load_id VARCHAR,
    feed VARCHAR,
    period_label VARCHAR,
    source_file VARCHAR,
    row_number BIGINT,
    column_name VARCHAR,
    reason_code VARCHAR,
    reason VARCHAR,
    original_row VARCHAR
)
"""
# Every reason of a quarantined row: `column_name`/`reason_code` are its first, these all of them.
QUARANTINE_ADDITIONS = (
    "alter table raw.quarantine add column if not exists reason_codes VARCHAR[]",
    "alter table raw.quarantine add column if not exists column_names VARCHAR[]",
)


@dataclass
class LoadResult:
    """The outcome of loading one file. For a loaded file rows_read == rows_accepted + rows_quarantined."""

    load_id: str
    feed: str
    period_label: str
    source_file: str
    file_hash: str
    status: str  # 'loaded' | 'rejected' | 'skipped'
    rows_read: int = 0
    rows_accepted: int = 0
    rows_quarantined: int = 0
    reject_reason: str | None = None
    warnings: list[str] = field(default_factory=list)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create schemas `meta` and `raw`, `meta.loads`, `raw.quarantine` and every `raw.<feed>` (idempotent)."""
    con.execute("create schema if not exists meta")
    con.execute("create schema if not exists raw")
    con.execute(LOADS_DDL)
    con.execute(QUARANTINE_DDL)
    for statement in QUARANTINE_ADDITIONS:
        con.execute(statement)
    for contract in all_contracts().values():
        con.execute(contract.raw_ddl())


def local_now() -> datetime:
    """Now in local time (UTC+7), without offset, as every timestamp in the warehouse."""
    return datetime.now(LOCAL_TZ).replace(tzinfo=None)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


_DATE_LABEL = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def label_as_of(label: str) -> date | None:
    """The day a snapshot label stands for: a date label itself, a period label its first day."""
    if _DATE_LABEL.match(label):
        return date.fromisoformat(label)
    try:
        return parse_period(label).start
    except ValueError:
        return None


def label_end(label: str) -> date | None:
    """The last day of the period a label names (a date label: that day)."""
    if _DATE_LABEL.match(label):
        return date.fromisoformat(label)
    try:
        return parse_period(label).end
    except ValueError:
        return None


def applicable_snapshot(con: duckdb.DuckDBPyConnection, feed: str, period_label: str) -> str | None:
    """Label of the reference snapshot that applies to `period_label`: the latest delivered on or before the
    period's end, else the latest one; None when the feed has no current load."""
    rows = con.execute(
        """
        select period_label, max(loaded_at) from meta.loads
        where feed = ? and is_current and status = 'loaded'
        group by period_label
        """,
        [feed],
    ).fetchall()
    if not rows:
        return None
    ordered = sorted(rows, key=lambda r: (label_as_of(r[0]) or r[1].date(), r[1]))
    end = label_end(period_label)
    eligible = [r for r in ordered if end is not None and (label_as_of(r[0]) or r[1].date()) <= end]
    return (eligible or ordered)[-1][0]


def _reference_sets(
    con: duckdb.DuckDBPyConnection, contract: FeedContract, period_label: str, warnings: list[str]
) -> dict[str, ReferenceSet]:
    refs: dict[str, ReferenceSet] = {}
    for col in contract.columns:
        ref = col.reference
        if ref is None or ref.soft:
            continue
        if ref.feed == contract.feed:
            refs[col.name] = ReferenceSet(col.name, None)  # checked against the same file
            continue
        label = applicable_snapshot(con, ref.feed, period_label)
        if label is None:
            warnings.append(f"column {col.name} not checked: no {ref.feed} snapshot loaded yet")
            continue
        table = f"_ingest_ref_{col.name}"
        con.execute(
            f"""
            create or replace temp table {table} as
            select distinct r.{ref.column} as code
            from raw.{ref.feed} as r
            join meta.loads as l on l.load_id = r._load_id
            where l.feed = ? and l.period_label = ? and l.is_current and l.status = 'loaded'
            """,
            [ref.feed, label],
        )
        refs[col.name] = ReferenceSet(col.name, table)
    return refs


def current_load_fingerprints(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Feed -> digest of the ids of its current loads: what the transforms read of it (a load's rows never
    change; a re-delivery is a new load). Empty before anything was loaded."""
    if not con.execute(
        "select count(*) from information_schema.tables where table_schema = 'meta' and table_name = 'loads'"
    ).fetchone()[0]:  # type: ignore[index]
        return {}
    rows = con.execute(
        "select feed, md5(string_agg(load_id, ',' order by load_id)) from meta.loads where is_current group by feed"
    ).fetchall()
    return dict(rows)


def _soft_reference_warnings(con: duckdb.DuckDBPyConnection, contract: FeedContract) -> list[str]:
    """Rows naming a dossier not delivered yet are kept; say how many, so nobody is surprised later."""
    out = []
    for col in contract.columns:
        ref = col.reference
        if ref is None or not ref.soft:
            continue
        # The file's codes are the small side: look them up in the delivered rows (one scan of the key column)
        # instead of hashing every delivered code for each file (tens of millions of dossiers nationally).
        pending = con.execute(
            f"""
            with named as (
                select distinct p_{col.name} as code from {CHECKED_TABLE}
                where len(_problems) = 0 and p_{col.name} is not null
            ),
            delivered as (
                select distinct n.code
                from named as n
                inner join raw.{ref.feed} as r on r.{ref.column} = n.code
                inner join meta.loads as l on l.load_id = r._load_id
                where l.is_current and l.status = 'loaded'
            )
            select count(*) from {CHECKED_TABLE}
            where len(_problems) = 0 and p_{col.name} is not null
                and p_{col.name} not in (select code from delivered)
            """
        ).fetchone()[0]  # type: ignore[index]
        if pending:
            out.append(
                f"{pending} row(s) name a {ref.feed}.{ref.column} not delivered yet (kept; counted once it arrives)"
            )
    return out


def _previous(con: duckdb.DuckDBPyConnection, feed: str, period_label: str, file_name: str) -> tuple[str, str] | None:
    """(load_id, file_hash) of the latest load of the same feed, period and file name."""
    row = con.execute(
        """
        select load_id, file_hash from meta.loads
        where feed = ? and period_label = ? and file_name = ?
        order by loaded_at desc, is_current desc limit 1
        """,
        [feed, period_label, file_name],
    ).fetchone()
    return (row[0], row[1]) if row else None


def _record(con: duckdb.DuckDBPyConnection, result: LoadResult, file_name: str, fmt: str, loaded_at: datetime) -> None:
    con.execute(
        "insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.load_id,
            result.feed,
            result.period_label,
            result.source_file,
            file_name,
            result.file_hash,
            fmt,
            result.rows_read,
            result.rows_accepted,
            result.rows_quarantined,
            result.status,
            result.reject_reason,
            result.warnings,
            loaded_at,
            result.status == "loaded",
        ],
    )


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    feed: str,
    period_label: str,
    path: Path,
    *,
    loaded_at: datetime | None = None,
) -> LoadResult:
    """Load one delivered file as one load of `feed` for `period_label`.

    The same file (same feed, period, file name and hash as the latest load of that name) is skipped. Any
    other file is a new load that supersedes the earlier loads of the feed and period, whatever their file
    names (their rows stay in `raw`); a supplementary delivery (`is_supplement`) supersedes only an earlier
    load of its own name. A file that cannot be read
    at all is recorded as rejected in `meta.loads`; nothing is raised for bad data.
    """
    contract = load_contract(feed)
    ensure_schema(con)
    path = Path(path)
    loaded_at = loaded_at or local_now()
    file_hash = file_sha256(path)
    source_file = f"{feed}/{period_label}/{path.name}"
    previous = _previous(con, feed, period_label, path.name)
    if previous is not None and previous[1] == file_hash:
        return LoadResult(
            previous[0],
            feed,
            period_label,
            source_file,
            file_hash,
            "skipped",
            warnings=["same file already loaded: nothing to do"],
        )
    result = LoadResult(uuid.uuid4().hex, feed, period_label, source_file, file_hash, "loaded")
    try:
        fmt = file_format_of(path)
    except FileRejected as exc:
        fmt = path.suffix.lstrip(".").lower() or "unknown"
        return _reject(con, result, path.name, fmt, loaded_at, str(exc))

    con.execute("begin transaction")
    try:
        try:
            staged = stage_file(con, contract, path)
        except FileRejected as exc:
            con.execute("rollback")
            return _reject(con, result, path.name, fmt, loaded_at, str(exc))
        fmt = staged.file_format
        result.warnings.extend(staged.warnings)
        refs = _reference_sets(con, contract, period_label, result.warnings)
        con.execute(
            build_check_sql(
                contract,
                staged.mapping,
                source_file,
                loaded_at,
                refs,
                original_keys(staged.headers),
                raw_line=staged.raw_line,
            )
        )
        _write_rows(con, contract, result, loaded_at)
        result.warnings.extend(_soft_reference_warnings(con, contract))
        if result.rows_read == 0:
            result.warnings.append("no data rows below the header")
        _record(con, result, path.name, fmt, loaded_at)
        _supersede_earlier(con, feed, period_label, path.name, result.load_id)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    finally:
        _drop_scratch(con, contract)
    return result


SUPPLEMENT_MARKERS = (".supplement", ".bo-sung", ".bosung")
"""A file whose name before its suffix ends with one of these (`ho_so_2026-Q1.supplement.csv`) is a
supplementary delivery: it adds rows to the current delivery of its feed and period instead of replacing it."""


def is_supplement(file_name: str) -> bool:
    """Whether `file_name` declares a supplementary delivery (see `SUPPLEMENT_MARKERS`)."""
    return Path(file_name).stem.lower().endswith(SUPPLEMENT_MARKERS)


def _supersede_earlier(
    con: duckdb.DuckDBPyConnection, feed: str, period_label: str, file_name: str, load_id: str
) -> None:
    """A delivery replaces the earlier one of the same feed and period whatever its file name (with the
    supplements delivered on top of it); a supplement replaces only an earlier version of itself."""
    same_name_only = "and file_name = ?" if is_supplement(file_name) else ""
    con.execute(
        f"""
        update meta.loads set status = 'superseded', is_current = false
        where feed = ? and period_label = ? {same_name_only} and load_id <> ? and status = 'loaded'
        """,
        [feed, period_label, *([file_name] if same_name_only else []), load_id],
    )


def _drop_scratch(con: duckdb.DuckDBPyConnection, contract: FeedContract) -> None:
    """Drop the temporary relations of one load (the CSV stage is a view, the others tables)."""
    scratch = {STAGE_TABLE, CHECKED_TABLE, *(f"_ingest_ref_{c.name}" for c in contract.columns)}
    for name, kind in con.execute(
        "select table_name, table_type from information_schema.tables where table_schema = 'main' "
        "and table_catalog = 'temp'"
    ).fetchall():
        if name in scratch:
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} if exists temp.main.{name}")


def _reject(
    con: duckdb.DuckDBPyConnection, result: LoadResult, file_name: str, fmt: str, loaded_at: datetime, reason: str
) -> LoadResult:
    result.status = "rejected"
    result.reject_reason = f"{result.source_file}: {reason}"
    _record(con, result, file_name, fmt, loaded_at)
    return result


def original_keys(headers: list[str]) -> list[str]:
    """Keys of the original-row JSON: the delivered headers, made unique (a repeated header gets its position)."""
    keys: list[str] = []
    for i, header in enumerate(headers):
        key = (header or "").strip() or f"column_{i + 1}"
        keys.append(key if key not in keys else f"{key} ({i + 1})")
    return keys


def _write_rows(
    con: duckdb.DuckDBPyConnection, contract: FeedContract, result: LoadResult, loaded_at: datetime
) -> None:
    columns = ", ".join(contract.column_names)
    lineage = "_load_id, _period_label, _source_file, _file_hash, _row_number, _loaded_at"
    params = [result.load_id, result.period_label, result.source_file, result.file_hash, loaded_at]
    con.execute(
        f"""
        insert into raw.{contract.feed} ({columns}, {lineage})
        select {", ".join(f"p_{c}" for c in contract.column_names)}, ?, ?, ?, ?, _row_number, ?
        from {CHECKED_TABLE} where len(_problems) = 0
        """,
        params,
    )
    con.execute(
        f"""
        insert into raw.quarantine (load_id, feed, period_label, source_file, row_number, column_name, reason_code,
                                    reason, original_row, reason_codes, column_names)
        select ?, ?, ?, ?, _row_number, _problems[1].column_name, _problems[1].reason_code,
               array_to_string(list_transform(_problems, x -> x.reason), '; '), _original,
               list_transform(_problems, x -> x.reason_code), list_transform(_problems, x -> x.column_name)
        from {CHECKED_TABLE}
        where len(_problems) > 0
        """,
        [result.load_id, contract.feed, result.period_label, result.source_file],
    )
    counts = con.execute(f"select count(*), count(*) filter (where len(_problems) = 0) from {CHECKED_TABLE}").fetchone()
    result.rows_read, result.rows_accepted = int(counts[0]), int(counts[1])  # type: ignore[index]
    result.rows_quarantined = result.rows_read - result.rows_accepted


# --- the landing folder ----------------------------------------------------------------------------------


def _is_delivery(path: Path) -> bool:
    """Files worth loading: not hidden, not an Excel lock file, not a partial upload."""
    return path.is_file() and not path.name.startswith((".", "~$")) and path.suffix.lower() not in {".part", ".tmp"}


def discover_periods(landing_root: Path) -> dict[str, list[str]]:
    """Feed -> period labels that have a folder with at least one file under `landing_root/<feed>/`."""
    found: dict[str, list[str]] = {}
    for feed in FEEDS:
        feed_dir = Path(landing_root) / feed
        if not feed_dir.is_dir():
            continue
        labels = sorted(d.name for d in feed_dir.iterdir() if d.is_dir() and any(map(_is_delivery, d.iterdir())))
        if labels:
            found[feed] = labels
    return found


def ingest_landing(
    con: duckdb.DuckDBPyConnection,
    landing_root: Path,
    period_labels: Iterable[str],
    feeds: Iterable[str] | None = None,
) -> list[LoadResult]:
    """Load every file under `landing_root/<feed>/<label>/` for the given labels.

    Reference feeds (units, procedures, products, staff) come first and every snapshot folder present is
    loaded whatever its label, so that referential checks of the other feeds see them. Files already loaded
    unchanged are reported as skipped.
    """
    labels = list(dict.fromkeys(period_labels))
    wanted = [f for f in FEEDS if feeds is None or f in set(feeds)]
    unknown = set(feeds or ()) - set(FEEDS)
    if unknown:
        raise ValueError(f"unknown feed(s) {sorted(unknown)}; feeds are {list(FEEDS)}")
    present = discover_periods(landing_root)
    results: list[LoadResult] = []
    for feed in wanted:
        if feed in REFERENCE_FEEDS:
            feed_labels = sorted(present.get(feed, []), key=lambda lb: (label_as_of(lb) or date.max, lb))
        else:
            feed_labels = [lb for lb in labels if lb in present.get(feed, [])]
        for label in feed_labels:
            folder = Path(landing_root) / feed / label
            # In delivery order (the newest last), so that the latest full delivery is the one left current.
            files = [p for p in folder.iterdir() if _is_delivery(p)]
            for path in sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name)):
                results.append(ingest_file(con, feed, label, path))
    return results
