"""Gate results: one record per check, stored in `meta.gate_results` and summarised for publication."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb

GATE_DDL = """
create schema if not exists meta;
create table if not exists meta.gate_results (
    period_label varchar not null,
    run_id varchar not null,
    check_name varchar not null,
    source varchar not null,
    severity varchar not null,
    passed boolean not null,
    details varchar,
    checked_at timestamp not null
);
"""


@dataclass(frozen=True)
class GateResult:
    """The outcome of one check for one period. `severity` is 'error' (blocks publication) or 'warn'."""

    check_name: str
    source: str  # contract | dbt | gx | reconciliation
    passed: bool
    severity: str = "error"
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> bool:
        return not self.passed and self.severity == "error"

    def describe(self) -> str:
        reason = self.details.get("reason") or json.dumps(self.details, ensure_ascii=False, default=str)[:400]
        return f"{self.source}:{self.check_name}: {reason}"


def record(con: duckdb.DuckDBPyConnection, period_label: str, run_id: str, results: list[GateResult]) -> None:
    """Store results of one gate run; earlier runs stay (the latest run_id per period is the current gate)."""
    con.execute(GATE_DDL)
    now = datetime.now()
    con.executemany(
        "insert into meta.gate_results values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [period_label, run_id, r.check_name, r.source, r.severity, r.passed,
             json.dumps(r.details, ensure_ascii=False, default=str), now]
            for r in results
        ],
    )


def for_run(con: duckdb.DuckDBPyConnection, period_label: str, run_id: str) -> list[GateResult]:
    """The results one run recorded for a period (dbt and python checks of one refresh share its run_id)."""
    con.execute(GATE_DDL)
    rows = con.execute(
        "select check_name, source, passed, severity, details from meta.gate_results"
        " where period_label = ? and run_id = ? order by source, check_name",
        [period_label, run_id],
    ).fetchall()
    return [GateResult(n, s, p, sev, json.loads(d or "{}")) for n, s, p, sev, d in rows]


def latest(con: duckdb.DuckDBPyConnection, period_label: str) -> list[GateResult]:
    """The results of the latest gate run of a period."""
    con.execute(GATE_DDL)
    row = con.execute("select run_id from meta.gate_results where period_label = ? order by checked_at desc"
                      " limit 1", [period_label]).fetchone()
    return for_run(con, period_label, row[0]) if row else []


def summarise(results: list[GateResult]) -> dict[str, Any]:
    """What publication needs to know: blocking failures, warnings, counts."""
    return {
        "checks": len(results),
        "passed": sum(r.passed for r in results),
        "blocking_failures": [r.describe() for r in results if r.blocks],
        "warnings": [r.describe() for r in results if not r.passed and r.severity == "warn"],
    }
