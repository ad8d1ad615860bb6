"""Headless runs of the Dagster definitions (the CLI and the tests use these; the UI runs the same job)."""

from __future__ import annotations

import contextlib
import os
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.home import Home
from pipelines.periods import FIRST_QUARTER, check_refreshable, today_in_province


@dataclass
class RefreshOutcome:
    """What a quarterly refresh did: success, why not, and the publication state it left."""

    period_label: str
    success: bool
    run_id: str
    publication: dict[str, Any] = field(default_factory=dict)
    blocking_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    log_path: Path | None = None


def prepare_environment(home: Home) -> None:
    """Point Dagster at the home's instance (telemetry off) and keep GX and dbt offline."""
    home.ensure()
    os.environ["DAGSTER_HOME"] = str(home.dagster_home)
    os.environ["CHAMDIEM_HOME"] = str(home.root)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # Notices about Dagster features in preview (partitioned asset checks) are for developers, not operators.
    warnings.filterwarnings("ignore", message=".*currently in preview.*")
    warnings.filterwarnings("ignore", message=".*varying BackfillPolicies.*")


def run_refresh(home: Home, period_label: str, *, approved_by: str | None = None,
                accept_warnings_reason: str | None = None, log_level: str = "WARNING") -> RefreshOutcome:
    """Run the quarterly job for one quarter in this process and report what happened."""
    period = check_refreshable(period_label, date.fromisoformat(FIRST_QUARTER), today_in_province())
    prepare_environment(home)
    import dagster as dg  # noqa: PLC0415 - after DAGSTER_HOME is set

    from pipelines.definitions import build_definitions  # noqa: PLC0415
    from pipelines.quality.results import latest, summarise  # noqa: PLC0415
    from pipelines.warehouse import connect, relation_exists  # noqa: PLC0415

    defs = build_definitions(str(home.root))
    job = defs.resolve_job_def("quarterly_refresh")
    run_config = {
        "ops": {"published__analyst_warehouse": {"config": {
            "approve": bool(approved_by), "approved_by": approved_by or "",
            "accept_warnings_reason": accept_warnings_reason or ""}}},
        # The run's events are kept in the Dagster instance; the terminal only shows problems.
        "loggers": {"console": {"config": {"log_level": log_level}}},
    }
    log_path = home.root / "logs" / f"refresh-{period.label}-{datetime.now():%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dbt's and GX's own output goes to a log file; the terminal shows the outcome.
    with dg.DagsterInstance.get() as instance, log_path.open("w", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        result = job.execute_in_process(partition_key=period.partition_key, instance=instance,
                                        run_config=run_config, raise_on_error=False,
                                        tags={"chamdiem/trigger": "cli"})
    errors = []
    is_new_version = None
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            errors.append(f"{event.step_key}: {event.step_failure_data.error.message.strip()[:1500]}")
        if event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key.path == ["published", "analyst_warehouse"]:
                value = materialization.metadata.get("is_new_version")
                is_new_version = None if value is None else bool(value.value)
    con = connect(home)
    try:
        gate = summarise(latest(con, period.label))
        publication = {}
        rows = []
        if relation_exists(con, "meta.publications"):
            rows = con.execute(
                "select version, status, content_hash, decided_by from meta.publications where period_label = ?"
                " order by version desc limit 1", [period.label]).fetchall()
        if rows:
            publication = dict(zip(("version", "status", "content_hash", "decided_by"), rows[0], strict=True))
            # A re-run whose content equals the latest version made no new version.
            publication["unchanged"] = is_new_version is False
    finally:
        con.close()
    published_ok = result.success and not gate["blocking_failures"]
    return RefreshOutcome(period.label, published_ok, result.run_id, publication, gate["blocking_failures"],
                          gate["warnings"], errors, log_path)


