"""The stewards' quality report of one period: `$CHAMDIEM_HOME/reports/<period>/quality.html`.

One self-contained, printable page (no external assets): what was delivered and loaded, what was quarantined
and why, rejected files, data freshness, units with no or too little data, the latest gate results with a link
to the GX Data Docs, the anomaly findings, and the period's publication history with its diffs and audit log.
It only reads the working warehouse.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines.home import Home
from pipelines.periods import labels_for_quarter, parse_period
from pipelines.stewardship.anomalies import Finding, find_anomalies
from pipelines.warehouse import relation_exists

TEMPLATES = Path(__file__).with_name("templates")
VOLUME_CODES = ("feed_missing", "no_data", "too_little_data")
QUARANTINE_EXAMPLES = 3


@dataclass
class QualityReport:
    """Everything the page and the terminal summary show, read once from the warehouse."""

    period_label: str
    generated_at: datetime
    home_root: str
    period_labels: list[str]
    loads: list[dict[str, Any]] = field(default_factory=list)
    feed_totals: list[dict[str, Any]] = field(default_factory=list)
    quarantine_reasons: list[dict[str, Any]] = field(default_factory=list)
    rejected_files: list[dict[str, Any]] = field(default_factory=list)
    freshness: list[dict[str, Any]] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    gate: list[dict[str, Any]] = field(default_factory=list)
    gate_run_at: datetime | None = None
    gx_docs: str | None = None
    publications: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)

    @property
    def volume_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.finding_code in VOLUME_CODES]

    @property
    def gate_counts(self) -> dict[str, int]:
        return {
            "checks": len(self.gate),
            "passed": sum(g["passed"] for g in self.gate),
            "blocking": sum(not g["passed"] and g["severity"] == "error" for g in self.gate),
            "warnings": sum(not g["passed"] and g["severity"] == "warn" for g in self.gate),
        }


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _labels(period_label: str) -> list[str]:
    """The landing labels a period reads: a quarter, its months and its year; any other label alone."""
    period = parse_period(period_label)
    return labels_for_quarter(period) if period.kind == "quarter" else [period.label]


def _loads(con: duckdb.DuckDBPyConnection, labels: list[str]) -> list[dict[str, Any]]:
    return _dicts(con, """
        select feed, period_label, file_name, source_file, status, is_current, rows_read, rows_accepted,
               rows_quarantined, loaded_at, reject_reason, warnings
        from meta.loads
        where list_contains(?, period_label)
        order by feed, period_label, file_name, loaded_at
        """, [labels])


def _feed_totals(loads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for load in loads:
        if not load["is_current"]:
            continue
        t = totals.setdefault(load["feed"], {"feed": load["feed"], "files": 0, "rejected": 0, "read": 0,
                                             "accepted": 0, "quarantined": 0})
        t["files"] += 1
        t["rejected"] += load["status"] == "rejected"
        for key, column in (("read", "rows_read"), ("accepted", "rows_accepted"),
                            ("quarantined", "rows_quarantined")):
            t[key] += load[column] or 0
    return [totals[k] for k in sorted(totals)]


def _quarantine(con: duckdb.DuckDBPyConnection, labels: list[str]) -> list[dict[str, Any]]:
    if not relation_exists(con, "raw.quarantine"):
        return []
    return _dicts(con, f"""
        with current_loads as (
            select load_id from meta.loads where is_current and list_contains(?, period_label)
        ),

        rows_ as (
            select q.* from raw.quarantine as q semi join current_loads as l on q.load_id = l.load_id
        ),

        final as (
            select
                feed,
                reason_code,
                column_name,
                count(*) as n,
                (list({{'file': source_file, 'row': row_number, 'reason': reason, 'original_row': original_row}}
                      order by source_file, row_number))[1:{QUARANTINE_EXAMPLES}] as examples
            from rows_
            group by all
        )

        select * from final order by feed, n desc, reason_code, column_name
        """, [labels])


def _freshness(con: duckdb.DuckDBPyConnection, labels: list[str]) -> list[dict[str, Any]]:
    """Per feed: the latest load of the period and the latest event time in its current rows (deadlines are
    not events, so `due` columns are left out)."""
    feeds = [r[0] for r in con.execute(
        "select distinct feed from meta.loads where is_current and status = 'loaded' and list_contains(?, period_label)"
        " order by feed", [labels]).fetchall()]
    out = []
    for feed in feeds:
        latest_load = con.execute(
            "select max(loaded_at) from meta.loads where feed = ? and is_current and list_contains(?, period_label)",
            [feed, labels]).fetchone()[0]
        latest_record, columns = None, []
        if relation_exists(con, f"raw.{feed}"):
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ?"
                " and data_type like 'TIMESTAMP%' and column_name not like '\\_%' escape '\\'"
                " and column_name not like '%due%' order by ordinal_position", [feed]).fetchall()]
            if columns:
                latest = "greatest(" + ", ".join(f'max("{c}")' for c in columns) + ")"
                latest_record = con.execute(
                    f"select {latest} from raw.{feed} r join meta.loads l on l.load_id = r._load_id"
                    " where l.is_current and list_contains(?, r._period_label)", [labels]).fetchone()[0]
        out.append({"feed": feed, "latest_load": latest_load, "latest_record": latest_record,
                    "columns": ", ".join(columns)})
    return out


def _gate(con: duckdb.DuckDBPyConnection, period_label: str) -> tuple[list[dict[str, Any]], datetime | None]:
    if not relation_exists(con, "meta.gate_results"):
        return [], None
    rows = _dicts(con, """
        with last_run as (
            select arg_max(run_id, checked_at) as run_id from meta.gate_results where period_label = ?
        )
        select source, check_name, severity, passed, details, checked_at
        from meta.gate_results
        where period_label = ? and run_id = (select run_id from last_run)
        order by passed, severity, source, check_name
        """, [period_label, period_label])
    for row in rows:
        details = json.loads(row.pop("details") or "{}")
        row["reason"] = details.get("reason") or json.dumps(details, ensure_ascii=False, default=str)[:300]
    return rows, max((r["checked_at"] for r in rows), default=None)


def _gx_docs(home: Home, period_label: str) -> str | None:
    """The GX Data Docs index under reports/<period>/gx, relative to the report (wherever GX put it)."""
    report_dir = home.report_dir(period_label)
    found = sorted((report_dir / "gx").glob("**/index.html"), key=lambda p: ("data_docs" not in str(p), len(str(p))))
    return found[0].relative_to(report_dir).as_posix() if found else None


def _publications(con: duckdb.DuckDBPyConnection, period_label: str) -> list[dict[str, Any]]:
    if not relation_exists(con, "meta.publications"):
        return []
    rows = _dicts(con, """
        select version, status, content_hash, created_at, decided_by, decided_at, decision_reason,
               accepted_warnings, diff, code_version, rule_versions
        from meta.publications where period_label = ? order by version
        """, [period_label])
    for row in rows:
        row["diff"] = json.loads(row["diff"] or "{}")
        row["accepted_warnings"] = json.loads(row["accepted_warnings"] or "{}")
    return rows


def _audit(con: duckdb.DuckDBPyConnection, period_label: str) -> list[dict[str, Any]]:
    if not relation_exists(con, "meta.audit_log"):
        return []
    return _dicts(con, """
        select event_at, actor, action, version, details from meta.audit_log
        where period_label = ? order by event_at, event_id
        """, [period_label])


def collect_report(con: duckdb.DuckDBPyConnection, home: Home, period_label: str,
                   findings: list[Finding] | None = None) -> QualityReport:
    """Read everything the report shows (anomalies are computed unless given)."""
    labels = _labels(period_label)
    report = QualityReport(period_label, datetime.now(), str(home.root), labels)
    if relation_exists(con, "meta.loads"):
        report.loads = _loads(con, labels)
        report.feed_totals = _feed_totals(report.loads)
        report.rejected_files = [r for r in report.loads if r["status"] == "rejected"]
        report.quarantine_reasons = _quarantine(con, labels)
        report.freshness = _freshness(con, labels)
    report.findings = find_anomalies(con, period_label) if findings is None else findings
    report.gate, report.gate_run_at = _gate(con, period_label)
    report.gx_docs = _gx_docs(home, period_label)
    report.publications = _publications(con, period_label)
    report.audit = _audit(con, period_label)
    return report


def refresh_gate(con: duckdb.DuckDBPyConnection, home: Home, report: QualityReport) -> QualityReport:
    """Read the report's gate section (latest run, Data Docs link) again, for a report collected while the gate
    was still running; the rest of the report is kept."""
    report.gate, report.gate_run_at = _gate(con, report.period_label)
    report.gx_docs = _gx_docs(home, report.period_label)
    return report


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def render(report: QualityReport) -> str:
    """The report as one self-contained HTML page."""
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fmt"] = _fmt
    env.filters["pct"] = lambda v: "" if v is None else f"{100 * v:.1f} %"
    env.filters["basename"] = lambda v: "" if v is None else Path(str(v)).name
    return env.get_template("quality.html.j2").render(r=report, counts=report.gate_counts)


def write_quality_report(con: duckdb.DuckDBPyConnection, home: Home, period_label: str,
                         report: QualityReport | None = None) -> Path:
    """Write `reports/<period>/quality.html` and return its path (the report is collected unless given)."""
    report = report or collect_report(con, home, period_label)
    out = home.report_dir(period_label) / "quality.html"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".html.tmp")
    tmp.write_text(render(report), encoding="utf-8")
    tmp.replace(out)  # readers never see a half-written page
    return out


def summary_text(report: QualityReport, path: Path | None = None) -> str:
    """A few lines for the terminal: loads, quarantine, gate, anomalies, publications, where the page is."""
    lines = [f"Quality of {report.period_label} / Chất lượng dữ liệu {report.period_label}"]
    read = sum(t["read"] for t in report.feed_totals)
    accepted = sum(t["accepted"] for t in report.feed_totals)
    quarantined = sum(t["quarantined"] for t in report.feed_totals)
    files = sum(t["files"] - t["rejected"] for t in report.feed_totals)
    lines.append(f"  Files: {files} loaded, {len(report.rejected_files)} rejected; rows read {read}, "
                 f"accepted {accepted}, quarantined {quarantined}")
    reasons = Counter()
    for q in report.quarantine_reasons:
        reasons[q["reason_code"]] += q["n"]
    if reasons:
        lines.append("  Quarantine reasons: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    for rejected in report.rejected_files:
        lines.append(f"  Rejected file: {rejected['source_file']}: {rejected['reject_reason']}")
    c = report.gate_counts
    if c["checks"]:
        lines.append(f"  Gate (latest run {_fmt(report.gate_run_at)}): {c['checks']} checks, {c['passed']} passed, "
                     f"{c['blocking']} blocking, {c['warnings']} warnings")
    else:
        lines.append("  Gate: no run recorded for this period yet")
    by_code = Counter(f.finding_code for f in report.findings)
    lines.append(f"  Anomalies: {len(report.findings)} finding(s)"
                 + (": " + ", ".join(f"{k} {v}" for k, v in by_code.items()) if by_code else ""))
    for f in report.findings[:15]:
        lines.append(f"    [{f.severity}] {f.finding_code} {f.unit_code or '(all units)'}: {f.explanation}")
    if len(report.findings) > 15:
        lines.append(f"    ... {len(report.findings) - 15} more in the report")
    for p in report.publications:
        lines.append(f"  Version {p['version']}: {p['status']}"
                     + (f" by {p['decided_by']} {_fmt(p['decided_at'])}" if p["decided_by"] else "")
                     + (f", {len(p['diff'].get('units_changed', []))} unit(s) changed against version "
                        f"{p['diff']['against_version']}" if p["diff"].get("against_version") else ""))
    if path is not None:
        lines.append(f"  Report: {path}")
    return "\n".join(lines)
