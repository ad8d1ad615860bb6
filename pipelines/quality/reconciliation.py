"""Reconciliation of counts between accepted raw rows, staging and the scored marts of a quarter."""

from __future__ import annotations

import duckdb

from pipelines.periods import Period
from pipelines.quality.results import GateResult
from pipelines.warehouse import relation_exists


def reconciliation_checks(con: duckdb.DuckDBPyConnection, period: Period,
                          rule_version: str) -> list[GateResult]:
    """Nothing is lost between stages, and every unit of the period is scored exactly once."""
    results: list[GateResult] = []
    for feed in ("dossiers", "feedback", "ratings"):
        stg = f"staging.stg_{feed}"
        if not (relation_exists(con, f"raw.{feed}") and relation_exists(con, stg)):
            continue
        loads_accepted = con.execute(
            "select coalesce(sum(rows_accepted), 0) from meta.loads where feed = ? and period_label = ?"
            " and is_current and status = 'loaded'", [feed, period.label]).fetchone()[0]
        raw_rows = con.execute(
            f"select count(*) from raw.{feed} where _period_label = ? and _load_id in"
            f" (select load_id from meta.loads where is_current)", [period.label]).fetchone()[0]
        stg_rows = con.execute(f"select count(*) from {stg} where delivery_period_label = ?",
                                   [period.label]).fetchone()[0]
        ok = loads_accepted == raw_rows == stg_rows
        results.append(GateResult(
            f"{feed}_rows_reconcile", "reconciliation", ok,
            details={"reason": f"accepted {loads_accepted}, raw {raw_rows}, staging {stg_rows}",
                     "accepted": loads_accepted, "raw": raw_rows, "staging": stg_rows},
        ))

    if relation_exists(con, "marts.unit_service_index"):
        scored, distinct_units, dupes = con.execute(
            "select count(*), count(distinct unit_code), count(*) - count(distinct unit_code)"
            " from marts.unit_service_index where period_label = ? and rule_version = ?",
            [period.label, rule_version]).fetchone()
        expected = con.execute(
            "select count(distinct unit_code) from staging.stg_units"
            " where valid_from <= ? and (valid_to is null or valid_to > ?)",
            [period.end, period.start]).fetchone()[0] if relation_exists(con, "staging.stg_units") else distinct_units
        ok = scored > 0 and dupes == 0 and distinct_units == expected
        results.append(GateResult(
            "every_unit_scored_once", "reconciliation", ok,
            details={"reason": f"{distinct_units} units scored ({dupes} duplicated) of {expected} active units",
                     "scored_rows": scored, "active_units": expected, "duplicates": dupes},
        ))
    else:
        results.append(GateResult("every_unit_scored_once", "reconciliation", False,
                                  details={"reason": "marts.unit_service_index was not built"}))
    return results
