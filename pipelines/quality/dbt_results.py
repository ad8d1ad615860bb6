"""dbt test outcomes of a build, as gate results."""

from __future__ import annotations

from typing import Any

from pipelines.quality.results import GateResult


def from_run_results(run_results: dict[str, Any]) -> list[GateResult]:
    """One GateResult per dbt test (severity from the test's own config: error blocks, warn does not)."""
    out: list[GateResult] = []
    for r in run_results.get("results", []):
        uid: str = r.get("unique_id", "")
        if not uid.startswith(("test.", "unit_test.")):
            continue
        status = r.get("status")
        passed = status in ("pass", "success")
        severity = "warn" if status == "warn" else "error"
        out.append(GateResult(
            uid.split(".", 2)[-1], "dbt", passed, severity,
            details={"reason": r.get("message") or status, "status": status, "failures": r.get("failures")},
        ))
    return out
