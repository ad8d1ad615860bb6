"""What `chamdiem status` shows: periods, loads, gate results and published versions."""

from __future__ import annotations

from typing import Any

from pipelines.home import Home
from pipelines.locks import lock_holder
from pipelines.warehouse import connect, open_published, relation_exists

Table = tuple[str, list[str], list[tuple[Any, ...]]]


def running_tables(home: Home, holder: dict[str, Any]) -> list[Table]:
    """What status can show while a run holds the working warehouse: the run, and the published register read
    from the analysts' file (which the run never holds)."""
    out: list[Table] = [("Running now", ["what", "process", "since"],
                         [(holder.get("what"), holder.get("pid"), holder.get("since"))])]
    if home.published_db.exists():
        con = open_published(home.published_db)
        try:
            rows = con.execute(
                "select period_label, version, approved_by, strftime(approved_at, '%Y-%m-%d %H:%M'),"
                " case when is_provisional then 'provisional as of ' || strftime(as_of, '%Y-%m-%d') else 'final' end"
                " from publications order by period_label, version").fetchall()
        finally:
            con.close()
        out.append(("Published versions (analysts' file)", ["period", "version", "approved by", "approved at",
                                                             "state"], rows))
    return out


def status_tables(home: Home) -> list[Table]:
    """Tables for the status command (read-only queries of the working warehouse); while a run holds the
    warehouse, the run and the published register instead."""
    holder = lock_holder(home)
    if holder is not None:
        return running_tables(home, holder)
    con = connect(home, read_only=True)
    out: list[Table] = []
    try:
        if relation_exists(con, "meta.loads"):
            cols = ["feed", "period", "files", "rows read", "accepted", "quarantined", "rejected files",
                    "last load"]
            rows = con.execute(
                """
                select feed, period_label, count(*), sum(rows_read), sum(rows_accepted), sum(rows_quarantined),
                       count(*) filter (where status = 'rejected'), strftime(max(loaded_at), '%Y-%m-%d %H:%M')
                from meta.loads where is_current group by all order by period_label, feed
                """).fetchall()
            out.append(("Current loads", cols, rows))
        if relation_exists(con, "meta.gate_results"):
            rows = con.execute(
                """
                with last_run as (
                    select period_label, arg_max(run_id, checked_at) as run_id
                    from meta.gate_results group by period_label
                )
                select g.period_label, count(*), count(*) filter (where passed),
                       count(*) filter (where not passed and severity = 'error'),
                       count(*) filter (where not passed and severity = 'warn'),
                       case when count(*) filter (where not passed and severity = 'error') = 0
                            then 'pass' else 'BLOCKED' end
                from meta.gate_results g join last_run using (period_label, run_id)
                group by all order by 1
                """).fetchall()
            out.append(("Quality gate (latest run per period)",
                        ["period", "checks", "passed", "blocking failures", "warnings", "gate"], rows))
        if relation_exists(con, "meta.publications"):
            rows = con.execute(
                """
                select period_label, version, status, left(content_hash, 12), decided_by,
                       strftime(coalesce(decided_at, created_at), '%Y-%m-%d %H:%M')
                from meta.publications order by period_label, version
                """).fetchall()
            out.append(("Publications", ["period", "version", "status", "content hash", "decided by", "when"],
                        rows))
    finally:
        con.close()
    return out
