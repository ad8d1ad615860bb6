"""The quality gate of a quarter: what blocks publication, recorded per run in `meta.gate_results`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipelines.home import Home
from pipelines.periods import Period
from pipelines.quality.contract_checks import contract_checks
from pipelines.quality.gx_checkpoint import run_checkpoint
from pipelines.quality.reconciliation import reconciliation_checks
from pipelines.quality.results import GateResult, record
from pipelines.settings import Settings
from pipelines.stewardship.anomalies import (
    Finding,
    find_anomalies,
    gate_results,
    load_findings,
    load_rules,
    store_findings,
)
from pipelines.stewardship.report import collect_report, refresh_gate, write_quality_report


def run_contract_gate(con: duckdb.DuckDBPyConnection, home: Home, period: Period, settings: Settings,
                      run_id: str, as_of: date | None = None) -> list[GateResult]:
    """Checks of the raw feeds under their contracts, and anomaly findings (warnings), before scoring.
    The steward's quality report is written at once, so it exists even when the gate stops the run here."""
    rules = load_rules()
    results = contract_checks(con, period, settings)
    findings = find_anomalies(con, period.label, rules, as_of=as_of)
    results += gate_results(findings, rules)
    record(con, period.label, run_id, results)
    # Kept for the candidate gate's report, which shows the same findings as long as the loads are unchanged.
    store_findings(con, period.label, findings, rules)
    _write_report(con, home, period, findings)
    return results


def run_candidate_gate(con: duckdb.DuckDBPyConnection, home: Home, period: Period, settings: Settings,
                       run_id: str, as_of: date | None = None) -> tuple[list[GateResult], Path | None]:
    """Reconciliation and the GX checkpoint on the publication candidate (after scoring)."""
    rule_version = settings.service_index_rule_version
    results = reconciliation_checks(con, period, rule_version)
    # The findings were computed by the contract gate over the same loads; they are recomputed only when the
    # loads or the rules changed since (or no contract gate ran for them).
    rules = load_rules()
    findings = load_findings(con, period.label, rules)
    if findings is None:
        findings = find_anomalies(con, period.label, rules, as_of=as_of)
        store_findings(con, period.label, findings, rules)
    report = collect_report(con, home, period.label, findings)
    gx_results, docs = run_checkpoint(con, period, rule_version, home.report_dir(period.label))
    results += gx_results
    record(con, period.label, run_id, results)
    write_quality_report(con, home, period.label, report=refresh_gate(con, home, report))
    return results, docs


def _write_report(con: duckdb.DuckDBPyConnection, home: Home, period: Period, findings: list[Finding]) -> Path:
    return write_quality_report(con, home, period.label, report=collect_report(con, home, period.label, findings))
