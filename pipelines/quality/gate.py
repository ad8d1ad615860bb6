"""The quality gate of a quarter: what blocks publication, recorded per run in `meta.gate_results`."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.periods import Period
from pipelines.quality.contract_checks import contract_checks
from pipelines.quality.gx_checkpoint import run_checkpoint
from pipelines.quality.reconciliation import reconciliation_checks
from pipelines.quality.results import GateResult, record
from pipelines.settings import Settings
from pipelines.stewardship.anomalies import find_anomalies, gate_results
from pipelines.stewardship.report import write_quality_report


def run_contract_gate(con: duckdb.DuckDBPyConnection, home: Home, period: Period, settings: Settings,
                      run_id: str) -> list[GateResult]:
    """Checks of the raw feeds under their contracts, and anomaly findings (warnings), before scoring.
    The steward's quality report is written at once, so it exists even when the gate stops the run here."""
    results = contract_checks(con, period, settings)
    results += gate_results(find_anomalies(con, period.label))
    record(con, period.label, run_id, results)
    write_quality_report(con, home, period.label)
    return results


def run_candidate_gate(con: duckdb.DuckDBPyConnection, home: Home, period: Period, settings: Settings,
                       run_id: str) -> tuple[list[GateResult], Path | None]:
    """Reconciliation and the GX checkpoint on the publication candidate (after scoring)."""
    rule_version = settings.service_index_rule_version
    results = reconciliation_checks(con, period, rule_version)
    gx_results, docs = run_checkpoint(con, period, rule_version, home.report_dir(period.label))
    results += gx_results
    record(con, period.label, run_id, results)
    write_quality_report(con, home, period.label)
    return results, docs
