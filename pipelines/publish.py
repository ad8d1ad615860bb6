"""Versioned, immutable publication of a period to the analysts' and the restricted warehouse files.

A period that passes its blocking checks becomes a *ready* candidate: a frozen copy of its rows under the
published contracts, with a content hash. A steward approves it (or it is approved automatically when the
installation says so) and it is published as (period, version): the new published file is the previous one
plus the new version's rows, written aside and swapped in atomically, so analysts keep querying the old file
while it is built. A published version is never modified; publishing identical content again is a no-op.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import yaml

from pipelines import __version__
from pipelines.home import PROJECT_ROOT, PUBLISHED_CONTRACTS_DIR, Home
from pipelines.periods import parse_period
from pipelines.warehouse import relation_exists

AUDIT_DDL = """
create schema if not exists meta;
create sequence if not exists meta.audit_seq;
create table if not exists meta.audit_log (
    event_id bigint default nextval('meta.audit_seq') primary key,
    event_at timestamp not null,
    actor varchar not null,
    action varchar not null,
    period_label varchar,
    version integer,
    details varchar
);
create table if not exists meta.publications (
    period_label varchar not null,
    version integer not null,
    status varchar not null,
    content_hash varchar not null,
    inputs varchar,
    rule_versions varchar,
    code_version varchar,
    gate_summary varchar,
    created_at timestamp not null,
    decided_by varchar,
    decided_at timestamp,
    decision_reason varchar,
    accepted_warnings varchar,
    diff varchar,
    primary key (period_label, version)
);
alter table meta.publications add column if not exists as_of date;
alter table meta.publications add column if not exists window_end date;
create table if not exists meta.publication_journal (
    period_label varchar not null,
    version integer not null,
    state varchar not null,
    moves varchar not null,
    started_at timestamp not null,
    finished_at timestamp,
    primary key (period_label, version)
);
"""


class PublicationError(RuntimeError):
    """A publication step that must not go ahead, with the reason and what to do next."""


@dataclass(frozen=True)
class PublishedTable:
    """One table of a published contract: its columns, where its rows come from, how a period selects them."""

    name: str
    columns: tuple[str, ...]
    source: str
    period_column: str
    period_match: str  # 'label': rows of the period; 'year': rows of the period's year
    rule_version_column: str | None = None  # when set, only the installation's published rule version


@dataclass(frozen=True)
class PublicationTarget:
    """A published warehouse file and the contract that defines what goes into it."""

    name: str
    contract: Path
    tables: tuple[PublishedTable, ...]

    def db_path(self, home: Home) -> Path:
        return home.published_db if self.name == "analyst" else home.restricted_db


def _custom(obj: dict[str, Any]) -> dict[str, Any]:
    return {c["property"]: c["value"] for c in obj.get("customProperties", []) or []}


def load_target(name: str) -> PublicationTarget:
    """Read `data_contracts/published/<name>.odcs.yaml`: the contract is the only schema of a publication."""
    path = PUBLISHED_CONTRACTS_DIR / f"{name}.odcs.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    tables = []
    for obj in doc.get("schema", []):
        custom = _custom(obj)
        columns = tuple(p["name"] for p in obj.get("properties", []))
        tables.append(
            PublishedTable(
                name=obj["name"],
                columns=columns,
                source=custom["source"],
                period_column=custom.get("periodColumn", "period_label"),
                period_match=custom.get("periodMatch", "label"),
                rule_version_column=custom.get("ruleVersionColumn"),
            )
        )
    return PublicationTarget(name=name, contract=path, tables=tuple(tables))


def publication_targets() -> list[PublicationTarget]:
    """The analysts' publication and the restricted one (personal data)."""
    return [load_target("analyst"), load_target("restricted")]


@dataclass
class Candidate:
    """A frozen, hashed copy of one period's publishable rows."""

    period_label: str
    version: int
    status: str
    content_hash: str
    is_new: bool
    inputs: list[dict[str, Any]] = field(default_factory=list)


def ensure_meta(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(AUDIT_DDL)


def audit(con: duckdb.DuckDBPyConnection, actor: str, action: str, period_label: str | None,
          version: int | None, details: dict[str, Any] | None = None) -> None:
    """Append one event to the audit log (the log is never updated or deleted)."""
    ensure_meta(con)
    con.execute(
        "insert into meta.audit_log (event_at, actor, action, period_label, version, details)"
        " values (?, ?, ?, ?, ?, ?)",
        [datetime.now(), actor, action, period_label, version, json.dumps(details or {}, ensure_ascii=False)],
    )


def _period_filter(table: PublishedTable, period_label: str, rule_version: str) -> tuple[str, list[Any]]:
    if table.period_match == "year":
        where, params = f"cast({table.period_column} as varchar) = ?", [str(parse_period(period_label).start.year)]
    else:
        where, params = f"{table.period_column} = ?", [period_label]
    if table.rule_version_column:
        where += f" and {table.rule_version_column} = ?"
        params.append(rule_version)
    return where, params


def _candidate_select(table: PublishedTable, period_label: str, rule_version: str) -> tuple[str, list[Any]]:
    where, params = _period_filter(table, period_label, rule_version)
    cols = ", ".join(table.columns)
    return f"select {cols} from {table.source} where {where}", params


def code_version() -> str:
    """The package version and, when available, the commit the code runs from."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, check=False, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{__version__}+{commit}" if commit else __version__


# Sums of doubles computed in parallel can differ in their last bits between two runs over the same inputs;
# the content hash compares numbers at this many decimals so that such a re-run is recognised as identical.
HASH_DECIMALS = 9
# Restatement diffs compare points as they are published: `display_decimals` of rule_766_param (766 spec §8.3),
# this when a warehouse has no rule seeds.
DEFAULT_DIFF_DECIMALS = 2


def _diff_decimals(con: duckdb.DuckDBPyConnection) -> int:
    if not relation_exists(con, "seeds.rule_766_param"):
        return DEFAULT_DIFF_DECIMALS
    value = con.execute("select max(cast(param_value as integer)) from seeds.rule_766_param"
                        " where param_key = 'display_decimals'").fetchone()[0]
    return DEFAULT_DIFF_DECIMALS if value is None else int(value)


def _rows_hash(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> str:
    """A hash of a query's rows independent of row order, with floating-point columns at HASH_DECIMALS."""
    described = con.execute(f"select * from ({sql}) limit 0", params).description
    columns = [
        f'round("{name}", {HASH_DECIMALS})' if str(kind).upper() in ("DOUBLE", "FLOAT", "REAL") else f'"{name}"'
        for name, kind, *_ in described
    ]
    return con.execute(
        f"select coalesce(md5(string_agg(t::varchar, '|' order by t::varchar)), '')"
        f" from (select {', '.join(columns)} from ({sql})) t",
        params,
    ).fetchone()[0]


def _content_hash(con: duckdb.DuckDBPyConnection, period_label: str, targets: list[PublicationTarget],
                  rule_version: str) -> str:
    """A hash of every publishable row of the period, independent of row order and storage."""
    parts = []
    for target in targets:
        for table in target.tables:
            if not relation_exists(con, table.source):
                parts.append(f"{target.name}.{table.name}:absent")
                continue
            sql, params = _candidate_select(table, period_label, rule_version)
            parts.append(f"{target.name}.{table.name}:{_rows_hash(con, sql, params)}")
    return con.execute("select md5(?)", ["\n".join(parts)]).fetchone()[0]


def _inputs(con: duckdb.DuckDBPyConnection, window_end: date | None = None) -> list[dict[str, Any]]:
    """The current loads a version was built from: within its window (as macro `current_rows` reads them), a
    delivery labelled for a period starting after `window_end` is not an input, save a reference feed's
    earliest snapshot."""
    from pipelines.contracts import all_contracts  # noqa: PLC0415
    from pipelines.ingest.load import label_as_of  # noqa: PLC0415

    reference_feeds = {feed for feed, contract in all_contracts().items() if contract.is_reference}
    if not relation_exists(con, "meta.loads"):
        return []
    rows = con.execute(
        "select feed, period_label, source_file, file_hash from meta.loads where is_current and status = 'loaded'"
        " order by feed, period_label, source_file"
    ).fetchall()
    earliest: dict[str, date] = {}
    for feed, label, _file, _hash in rows:
        start = label_as_of(label)
        if feed in reference_feeds and start is not None:
            earliest[feed] = min(earliest.get(feed, start), start)

    def within(feed: str, label: str) -> bool:
        start = label_as_of(label)
        return (window_end is None or start is None or start <= window_end
                or (feed in reference_feeds and start == earliest.get(feed)))

    return [{"feed": f, "period": p, "file": s, "sha256": h} for f, p, s, h in rows if within(f, p)]


def _rule_versions(con: duckdb.DuckDBPyConnection) -> list[str]:
    versions: set[str] = set()
    for relation, column in (("marts.unit_service_index", "rule_version"),
                             ("marts.civil_servant_yearly_ratings", "rule_set"),
                             ("marts.agency_ratings", "rule_set")):
        if relation_exists(con, relation):
            versions.update(r[0] for r in con.execute(f"select distinct {column} from {relation}").fetchall() if r[0])
    return sorted(versions)


def prepare_candidate(con: duckdb.DuckDBPyConnection, period_label: str, gate_summary: dict[str, Any],
                      rule_version: str, actor: str = "pipeline", as_of: date | None = None,
                      window_end: date | None = None) -> Candidate:
    """Freeze the period's publishable rows (of the published 766 rule version) as a ready candidate;
    reuse an identical one; no-op when identical content is already published. `as_of` is set when the
    period was still running (a provisional version); `window_end` is the last day its data may belong to."""
    ensure_meta(con)
    targets = publication_targets()
    content_hash = _content_hash(con, period_label, targets, rule_version)
    latest = con.execute(
        "select version, status, content_hash from meta.publications where period_label = ?"
        " and status in ('published', 'ready') order by version desc",
        [period_label],
    ).fetchall()
    for version, status, existing_hash in latest:
        if existing_hash == content_hash:
            if status == "ready":  # the same rows, judged by this run's gate
                con.execute("update meta.publications set gate_summary = ? where period_label = ? and version = ?",
                            [json.dumps(gate_summary, ensure_ascii=False), period_label, version])
            return Candidate(period_label, version, status, content_hash, is_new=False)
    published_versions = [v for v, s, _ in latest if s == "published"]
    # An older ready candidate that nobody decided on is replaced by the new one.
    con.execute("update meta.publications set status = 'withdrawn' where period_label = ? and status = 'ready'",
                [period_label])
    version = (con.execute("select coalesce(max(version), 0) from meta.publications where period_label = ?",
                           [period_label]).fetchone()[0]) + 1
    con.execute("create schema if not exists candidates")
    for target in targets:
        for table in target.tables:
            name = f"candidates.{target.name}__{table.name}"
            if not relation_exists(con, table.source):
                continue
            sql, params = _candidate_select(table, period_label, rule_version)
            if not relation_exists(con, name):
                con.execute(f"create table {name} as select ? as period_label_published, ? as publication_version, *"
                            f" from ({sql}) where false", [period_label, version] + params)
            con.execute(f"insert into {name} select ?, ?, * from ({sql})", [period_label, version] + params)
    window_end = window_end or parse_period(period_label).end
    inputs = _inputs(con, window_end)
    con.execute(
        "insert into meta.publications (period_label, version, status, content_hash, inputs, rule_versions,"
        " code_version, gate_summary, created_at, as_of, window_end) values (?, ?, 'ready', ?, ?, ?, ?, ?, ?, ?, ?)",
        [period_label, version, content_hash, json.dumps(inputs, ensure_ascii=False),
         json.dumps(_rule_versions(con)), code_version(), json.dumps(gate_summary, ensure_ascii=False),
         datetime.now(), as_of, window_end],
    )
    audit(con, actor, "candidate_ready", period_label, version,
          {"content_hash": content_hash, "previous_published": published_versions[:1],
           "as_of": as_of.isoformat() if as_of else None})
    return Candidate(period_label, version, "ready", content_hash, is_new=True, inputs=inputs)


def _diff(con: duckdb.DuckDBPyConnection, period_label: str, version: int,
          prev_version: int | None) -> dict[str, Any]:
    """What changed against the previous published version: units' points and ranks, agencies' scores, levels
    and ranks, by how much, and which input files differ. Points are compared at the published precision
    (display_decimals of the rule seed), so floating-point noise never makes a change and the same inputs give
    the same diff."""
    if prev_version is None:
        return {}
    decimals = _diff_decimals(con)
    name = "candidates.analyst__unit_service_index"
    changes = con.execute(
        f"""
        with n as (select unit_code, round(total_points, {decimals}) as total, rank_in_peer_group
                   from {name} where period_label_published = ? and publication_version = ?),
             o as (select unit_code, round(total_points, {decimals}) as total, rank_in_peer_group
                   from {name} where period_label_published = ? and publication_version = ?),
             compared as (
                 select coalesce(n.unit_code, o.unit_code) as unit_code, o.total as old_total, n.total as new_total,
                        round(coalesce(n.total, 0) - coalesce(o.total, 0), {decimals}) as delta,
                        o.rank_in_peer_group as old_rank, n.rank_in_peer_group as new_rank
                 from n full join o using (unit_code)
                 where n.total is distinct from o.total or n.rank_in_peer_group is distinct from o.rank_in_peer_group)
        -- no -0.0: an unchanged total is 0
        select unit_code, old_total, new_total, case when delta = 0 then 0.0 else delta end as delta_points,
               old_rank, new_rank
        from compared
        order by abs(delta_points) desc, unit_code
        """,
        [period_label, version, period_label, prev_version],
    ).fetchall()
    old_inputs, new_inputs = (
        {(i["feed"], i["period"], i["file"]): i["sha256"] for i in json.loads(r[0] or "[]")}
        for r in con.execute(
            "select inputs from meta.publications where period_label = ? and version in (?, ?) order by version",
            [period_label, prev_version, version],
        ).fetchall()
    )
    changed_inputs = sorted(
        {f"{k[0]}/{k[1]}/{Path(k[2]).name}" for k in set(old_inputs) | set(new_inputs)
         if old_inputs.get(k) != new_inputs.get(k)}
    )
    agencies = "candidates.analyst__agency_ratings"
    agency_changes = []
    if relation_exists(con, agencies):
        agency_changes = con.execute(
            f"""
            select coalesce(n.unit_code, o.unit_code), round(o.s_points, {decimals}),
                   round(n.s_points, {decimals}), o.level, n.level, o.rank_in_peer_group, n.rank_in_peer_group
            from (select * from {agencies} where period_label_published = ? and publication_version = ?) n
            full join (select * from {agencies} where period_label_published = ? and publication_version = ?) o
              using (year, unit_code)
            where round(n.s_points, {decimals}) is distinct from round(o.s_points, {decimals})
               or n.level is distinct from o.level
               or n.rank_in_peer_group is distinct from o.rank_in_peer_group
            order by 1
            """,
            [period_label, version, period_label, prev_version],
        ).fetchall()
    return {
        "against_version": prev_version,
        "agencies_changed": [
            {"unit_code": u, "old_score": os_, "new_score": ns, "old_level": ol, "new_level": nl, "old_rank": orank,
             "new_rank": nrank}
            for u, os_, ns, ol, nl, orank, nrank in agency_changes
        ],
        "units_changed": [
            {"unit_code": u, "old_total": ot, "new_total": nt, "delta_points": d, "old_rank": orank,
             "new_rank": nrank}
            for u, ot, nt, d, orank, nrank in changes
        ],
        "changed_inputs": changed_inputs,
    }


def _build_file(con: duckdb.DuckDBPyConnection, target: PublicationTarget, db_path: Path,
                period_label: str, version: int) -> Path:
    """Write previous content + the new version to a file aside (`<file>.building`), durable on disk; the
    switch to it is made by `_complete_switch`."""
    tmp = db_path.with_suffix(".duckdb.building")
    tmp.unlink(missing_ok=True)
    con.execute(f"attach '{tmp}' as pub")
    try:
        has_prev = db_path.exists()
        if has_prev:
            con.execute(f"attach '{db_path}' as prev (read_only)")
        con.execute("create schema if not exists pub.versions")
        # The register first: the latest-version views order publications by it.
        con.execute(
            "create table pub.main.publications as select period_label, version, content_hash, rule_versions,"
            " code_version, decided_by as approved_by, decided_at as approved_at, as_of, window_end,"
            " as_of is not null as is_provisional, diff"
            " from meta.publications where status = 'published' or (period_label = ? and version = ?)"
            " order by period_label, version", [period_label, version]
        )
        for table in target.tables:
            cand = f"candidates.{target.name}__{table.name}"
            if not relation_exists(con, cand):
                continue
            hist = f"pub.versions.{table.name}"
            if has_prev and relation_exists(con, f"versions.{table.name}", catalog="prev"):
                con.execute(f"create table {hist} as select * from prev.versions.{table.name}")
                con.execute(f"insert into {hist} select * from {cand} where period_label_published = ?"
                            f" and publication_version = ?", [period_label, version])
            else:
                con.execute(f"create table {hist} as select * from {cand} where period_label_published = ?"
                            f" and publication_version = ?", [period_label, version])
            # Views are bound inside the new file, so they must not name the temporary catalog.
            cols = ", ".join(table.columns)
            home_catalog = con.execute("select current_database()").fetchone()[0]
            con.execute("use pub")
            try:
                con.execute(f"create view main.{table.name} as {_latest_view_sql(table, cols)}")
            finally:
                con.execute(f"use \"{home_catalog}\"")
        if has_prev:
            con.execute("detach prev")
    finally:
        con.execute("detach pub")
    _fsync(tmp)
    return tmp


def _fsync(path: Path) -> None:
    """Flush a file (or every file of a folder) and its folder to disk."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        with file.open("rb") as handle:
            os.fsync(handle.fileno())
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


def _milestone(name: str) -> None:
    """A point of the publication protocol where the fault tests (CHAMDIEM_FAULT_AT=name) kill the process."""
    if os.environ.get("CHAMDIEM_FAULT_AT") == name:
        os._exit(86)


def _complete_switch(con: duckdb.DuckDBPyConnection, period_label: str, version: int, moves: list[list[str]],
                     decision: dict[str, Any]) -> None:
    """Move every staged file of a version into place, then mark the version published. Idempotent: after a
    crash at any point it is run again from the journal and finishes the same switch."""
    for number, (staged, final) in enumerate(moves):
        staged_path, final_path = Path(staged), Path(final)
        if staged_path.exists():
            if staged_path.is_dir() and final_path.exists():
                shutil.rmtree(final_path)
            os.replace(staged_path, final_path)
        if number == 0:
            _milestone("between_swaps")
    _milestone("after_swaps")
    con.execute("begin transaction")
    con.execute("update meta.publications set status = 'published' where period_label = ? and version = ?",
                [period_label, version])
    con.execute("update meta.publication_journal set state = 'done', finished_at = ? where period_label = ?"
                " and version = ?", [datetime.now(), period_label, version])
    audit(con, decision.get("approved_by") or "pipeline", "approved_and_published", period_label, version,
          decision.get("details"))
    con.execute("commit")


def recover(con: duckdb.DuckDBPyConnection, home: Home) -> list[str]:
    """Finish any publication a crash interrupted after its files were staged (the journal says which), and
    remove staged files no journal entry needs. Returns what was repaired, for the operator."""
    ensure_meta(con)
    repaired = []
    pending = con.execute("select period_label, version, moves from meta.publication_journal"
                          " where state = 'switching' order by started_at").fetchall()
    for period_label, version, moves_json in pending:
        entry = json.loads(moves_json)
        _complete_switch(con, period_label, version, entry["moves"], entry["decision"])
        repaired.append(f"{period_label} version {version}: interrupted publication completed")
    for leftover in [*home.warehouse_dir.glob("*.duckdb.building"), *home.exports.glob("*/.v*.building")]:
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
        repaired.append(f"{leftover.name}: unfinished staging removed")
    return repaired


def _latest_view_sql(table: PublishedTable, cols: str) -> str:
    """The analysts' default view: the latest version of each period. A yearly table is republished with each
    quarter of its year and by the year-end; its view shows, per year, the year-end publication when there is
    one (its latest version), else the publication whose data reaches furthest into the year."""
    grain = table.period_column if table.period_match == "year" else "period_label_published"
    order = ("regexp_full_match(period_label_published, '\\d{4}') desc, _window_end desc nulls last,"
             " period_label_published desc, publication_version desc")
    return (
        f"select {cols}, period_label_published, publication_version from ("
        f" select *, dense_rank() over (partition by {grain} order by {order}) as _latest from ("
        f" select v.*, p.window_end as _window_end from versions.{table.name} as v left join main.publications as p"
        f" on p.period_label = v.period_label_published and p.version = v.publication_version))"
        f" where _latest = 1"
    )


def approve(con: duckdb.DuckDBPyConnection, home: Home, period_label: str, approved_by: str,
            accept_warnings_reason: str | None = None) -> dict[str, Any]:
    """Publish the ready candidate of a period as a new immutable version, all or nothing: the analysts' file,
    the restricted file and the exports are staged aside, the switch is journaled, the files are moved into
    place and only then is the version marked published (a crash in between is completed by `recover`)."""
    ensure_meta(con)
    recover(con, home)
    if not approved_by.strip():
        raise PublicationError("an approval needs the steward's name: --by NAME")
    row = con.execute(
        "select version, gate_summary from meta.publications where period_label = ? and status = 'ready'"
        " order by version desc limit 1",
        [period_label],
    ).fetchone()
    if row is None:
        published = con.execute("select max(version) from meta.publications where period_label = ?"
                                " and status = 'published'", [period_label]).fetchone()[0]
        if published is not None:
            return {"period_label": period_label, "version": published, "status": "already_published"}
        raise PublicationError(
            f"{period_label} has no candidate ready for approval: run `chamdiem refresh --period {period_label}`"
            " and make sure its blocking checks pass (`chamdiem status`)"
        )
    version, gate_json = row
    gate = json.loads(gate_json or "{}")
    if gate.get("blocking_failures"):
        raise PublicationError(f"{period_label} v{version} failed blocking checks: {gate['blocking_failures']}")
    warnings = gate.get("warnings", [])
    if warnings and not (accept_warnings_reason or "").strip():
        raise PublicationError(
            f"{period_label} v{version} has {len(warnings)} warning finding(s): {warnings}. Accept them with a"
            " written reason: --accept-warnings \"REASON\""
        )
    prev_version = con.execute("select max(version) from meta.publications where period_label = ?"
                               " and status = 'published'", [period_label]).fetchone()[0]
    diff = _diff(con, period_label, version, prev_version)
    now = datetime.now()
    # The decision is recorded on the candidate, which stays 'ready' until every file of the version is in place.
    con.execute(
        "update meta.publications set decided_by = ?, decided_at = ?, decision_reason = ?,"
        " accepted_warnings = ?, diff = ? where period_label = ? and version = ?",
        [approved_by, now, "approved", json.dumps({"warnings": warnings, "reason": accept_warnings_reason},
                                                  ensure_ascii=False),
         json.dumps(diff, ensure_ascii=False, default=str), period_label, version],
    )
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # 1. Stage the analysts' file, the restricted file and the exports aside, durable on disk.
    export_dir = home.exports / period_label / f"v{version}"
    try:
        moves = [[str(_build_file(con, target, target.db_path(home), period_label, version)),
                  str(target.db_path(home))] for target in publication_targets()]
        moves.append([str(export_parquet(con, home, period_label, version, staged=True)), str(export_dir)])
    except BaseException:
        recover(con, home)  # nothing is journaled yet: drop what was staged, the published version stays
        raise
    _milestone("after_staging")
    # 2. Journal the switch: from here on, any command that starts completes it (see `recover`).
    decision = {"approved_by": approved_by, "details": {
        "accepted_warnings_reason": accept_warnings_reason, "diff_units": len(diff.get("units_changed", [])),
        "exports": str(export_dir)}}
    con.execute("insert or replace into meta.publication_journal values (?, ?, 'switching', ?, ?, null)",
                [period_label, version, json.dumps({"moves": moves, "decision": decision}, ensure_ascii=False),
                 datetime.now()])
    _milestone("after_journal")
    # 3. Switch every file, then mark the version published.
    _complete_switch(con, period_label, version, moves, decision)
    return {"period_label": period_label, "version": version, "status": "published", "diff": diff,
            "published_db": str(home.published_db), "exports": str(export_dir)}


def reject(con: duckdb.DuckDBPyConnection, period_label: str, rejected_by: str, reason: str) -> int:
    """Refuse the ready candidate of a period, with a reason kept in the audit log."""
    ensure_meta(con)
    if not reason.strip() or not rejected_by.strip():
        raise PublicationError("a rejection needs --by NAME and --reason TEXT")
    row = con.execute("select version from meta.publications where period_label = ? and status = 'ready'"
                      " order by version desc limit 1", [period_label]).fetchone()
    if row is None:
        raise PublicationError(f"{period_label} has no candidate ready to reject")
    con.execute("update meta.publications set status = 'rejected', decided_by = ?, decided_at = ?,"
                " decision_reason = ? where period_label = ? and version = ?",
                [rejected_by, datetime.now(), reason, period_label, row[0]])
    audit(con, rejected_by, "rejected", period_label, row[0], {"reason": reason})
    return row[0]


def export_parquet(con: duckdb.DuckDBPyConnection, home: Home, period_label: str, version: int,
                   staged: bool = False) -> Path:
    """Parquet copies of the analysts' tables for one published version (never the restricted ones); `staged`
    writes them to `.v<N>.building` beside the final folder, durable, for the publication switch to move."""
    out = home.exports / period_label / (f".v{version}.building" if staged else f"v{version}")
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for table in load_target("analyst").tables:
        cand = f"candidates.analyst__{table.name}"
        if relation_exists(con, cand):
            con.execute(
                f"copy (select * exclude (period_label_published) from {cand} where period_label_published = ?"
                f" and publication_version = ?) to '{out / (table.name + '.parquet')}' (format parquet)",
                [period_label, version],
            )
    if staged:
        _fsync(out)
    return out


def published_content_hash(home: Home, period_label: str, version: int) -> str:
    """Recompute a published version's hash from the analysts' and restricted files (for audits and tests)."""
    con = duckdb.connect()
    try:
        parts = []
        for target in publication_targets():
            path = target.db_path(home)
            con.execute(f"attach '{path}' as f (read_only)")
            for table in target.tables:
                if not relation_exists(con, f"versions.{table.name}", catalog="f"):
                    parts.append(f"{target.name}.{table.name}:absent")
                    continue
                cols = ", ".join(table.columns)
                sql = (f"select {cols} from f.versions.{table.name} where period_label_published = ?"
                       f" and publication_version = ?")
                parts.append(f"{target.name}.{table.name}:{_rows_hash(con, sql, [period_label, version])}")
            con.execute("detach f")
        return con.execute("select md5(?)", ["\n".join(parts)]).fetchone()[0]
    finally:
        con.close()
