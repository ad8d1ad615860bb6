"""Blocking, partition-aware asset checks: a failure stops publication and says why in its metadata."""


import dagster as dg

from pipelines.assets.ingest import LOADS_KEY
from pipelines.partitions import quarterly_partitions, run_window
from pipelines.quality.gate import run_candidate_gate, run_contract_gate
from pipelines.quality.results import GateResult
from pipelines.resources import WarehouseResource

INDEX_KEY = dg.AssetKey(["marts", "unit_service_index"])


def _check_result(results: list[GateResult], extra: dict[str, object] | None = None) -> dg.AssetCheckResult:
    failures = [r.describe() for r in results if r.blocks]
    warnings = [r.describe() for r in results if not r.passed and r.severity == "warn"]
    metadata: dict[str, object] = {
        "checks": len(results),
        "failed": len(failures),
        "failures": dg.MetadataValue.json(failures[:50]),
        "warnings": dg.MetadataValue.json(warnings[:50]),
    }
    metadata.update(extra or {})
    return dg.AssetCheckResult(
        passed=not failures,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata=metadata,
        description="; ".join(failures[:5]) if failures else f"{len(results)} checks passed",
    )


@dg.asset_check(asset=LOADS_KEY, name="contract_checks", blocking=True, partitions_def=quarterly_partitions,
                description="Files readable, rows read = accepted + quarantined, quarantine share under the "
                            "threshold, required feeds delivered.")
def contract_checks(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    window = run_window(context)
    period = window.quarter
    con = warehouse.connect()
    try:
        results = run_contract_gate(con, warehouse.home, period, warehouse.settings,
                                    context.op_execution_context.run_id, as_of=window.as_of)
    finally:
        con.close()
    return _check_result(results, {"period": period.label})


@dg.asset_check(asset=INDEX_KEY, name="publication_candidate_checks", blocking=True,
                partitions_def=quarterly_partitions,
                description="Reconciliation of counts and the Great Expectations checkpoint on the candidate: "
                            "each unit scored once, points within [0, max], groups sum to the total, valid ranks.")
def publication_candidate_checks(context: dg.AssetCheckExecutionContext,
                                 warehouse: WarehouseResource) -> dg.AssetCheckResult:
    window = run_window(context)
    period = window.quarter
    con = warehouse.connect()
    try:
        results, docs = run_candidate_gate(con, warehouse.home, period, warehouse.settings,
                                           context.op_execution_context.run_id, as_of=window.as_of)
    finally:
        con.close()
    extra: dict[str, object] = {"period": period.label}
    if docs is not None:
        extra["data_docs"] = dg.MetadataValue.path(str(docs))
    return _check_result(results, extra)
