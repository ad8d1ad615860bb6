"""Headless runs of the Dagster definitions (the CLI and the tests use these; the UI runs the same job)."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pipelines.errors import lock_message
from pipelines.home import Home
from pipelines.periods import FIRST_QUARTER, RefreshWindow, check_refreshable, today_in_province


@dataclass
class RefreshOutcome:
    """What a refresh did: success, why not, and the publication state it left for each period it published
    (the quarter, and the longer period of the run such as the year)."""

    period_label: str
    success: bool
    run_id: str
    publication: dict[str, Any] = field(default_factory=dict)
    blocking_failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    log_path: Path | None = None
    as_of: date | None = None
    quarter_label: str = ""
    publications: list[dict[str, Any]] = field(default_factory=list)  # one per published label, quarter first
    repaired: list[str] = field(default_factory=list)  # interrupted publications completed before the run


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
                accept_warnings_reason: str | None = None, log_level: str = "WARNING",
                as_of: date | None = None, today: date | None = None,
                on_wait: Callable[[dict[str, object]], None] | None = None) -> RefreshOutcome:
    """Run the quarterly job in this process for a period as of a date and report what happened.

    A closed quarter is scored final; the running quarter as of `as_of` (default today in the province),
    provisional; a half-year, nine months or year runs on its last started quarter and is published with it.
    Runs of one home go one at a time: while another holds the home, this one waits (`on_wait` is told who).
    """
    from pipelines.locks import hold_run_lock, release_run_lock  # noqa: PLC0415

    today = today or today_in_province()
    window = check_refreshable(period_label, date.fromisoformat(FIRST_QUARTER), today, as_of)
    prepare_environment(home)
    hold_run_lock(home, f"chamdiem refresh --period {window.period.label}", on_wait=on_wait)
    try:
        return _run_refresh_locked(home, window, approved_by, accept_warnings_reason, log_level)
    finally:
        release_run_lock(home)


def _run_refresh_locked(home: Home, window: RefreshWindow, approved_by: str | None,
                        accept_warnings_reason: str | None, log_level: str) -> RefreshOutcome:
    period = window.quarter
    repaired = recover_interrupted(home)
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
    from pipelines.partitions import AS_OF_TAG, PERIOD_TAG  # noqa: PLC0415

    tags = {"chamdiem/trigger": "cli", "chamdiem/pid": str(os.getpid()),
            AS_OF_TAG: (window.as_of or window.window_end).isoformat()}
    if window.extra_periods:
        tags[PERIOD_TAG] = window.period.label
    log_path = home.root / "logs" / f"refresh-{window.period.label}-{datetime.now():%Y%m%dT%H%M%S}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    # dbt's and GX's own output goes to a log file; the terminal shows the outcome.
    with dg.DagsterInstance.get() as instance, log_path.open("w", encoding="utf-8") as log, \
            contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        repaired += fail_orphaned_runs(instance)
        result = job.execute_in_process(partition_key=period.partition_key, instance=instance,
                                        run_config=run_config, raise_on_error=False,
                                        tags=tags)
    errors = []
    new_versions: dict[str, bool] = {}
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            # the step's own exception, not Dagster's wrapper around it
            while error.cause is not None and "DagsterExecutionStepExecutionError" in (error.cls_name or ""):
                error = error.cause
            errors.append(f"{event.step_key}: {lock_message(error.message) or error.message.strip()[:1500]}")
        if event.is_step_materialization:
            materialization = event.step_materialization_data.materialization
            if materialization.asset_key.path == ["published", "analyst_warehouse"]:
                value = materialization.metadata.get("publications")
                for item in (value.value if value is not None else []):
                    new_versions[item["period"]] = bool(item["is_new_version"])
    con = connect(home)
    try:
        gate = summarise(latest(con, period.label))
        publications = []
        if relation_exists(con, "meta.publications"):
            for label in window.published_labels:
                rows = con.execute(
                    "select period_label, version, status, content_hash, decided_by, as_of from meta.publications"
                    " where period_label = ? order by version desc limit 1", [label]).fetchall()
                if rows:
                    pub = dict(zip(("period_label", "version", "status", "content_hash", "decided_by", "as_of"),
                                   rows[0], strict=True))
                    # A re-run whose content equals the latest version made no new version.
                    pub["unchanged"] = new_versions.get(label) is False
                    publications.append(pub)
    finally:
        con.close()
    published_ok = result.success and not gate["blocking_failures"]
    main_pub = next((p for p in publications if p["period_label"] == window.period.label), {})
    return RefreshOutcome(window.period.label, published_ok, result.run_id, main_pub, gate["blocking_failures"],
                          gate["warnings"], errors, log_path, window.as_of, period.label, publications, repaired)


def fail_orphaned_runs(instance) -> list[str]:
    """Mark failed the runs a dead CLI process left STARTED: their process (tag chamdiem/pid) is gone, and this
    process holds the home's run lock, so no run of this home is executing."""
    from dagster import DagsterRunStatus, RunsFilter  # noqa: PLC0415

    repaired = []
    runs = instance.get_runs(filters=RunsFilter(statuses=[DagsterRunStatus.STARTED, DagsterRunStatus.STARTING]))
    for run in runs:
        pid = run.tags.get("chamdiem/pid")
        if pid and pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            instance.report_run_failed(run, message=f"the process {pid} running it ended without finishing it")
            repaired.append(f"run {run.run_id[:8]}: left started by process {pid}, which ended; marked failed")
    return repaired


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover_interrupted(home: Home) -> list[str]:
    """Complete a publication a crash interrupted and clean its leftovers, before anything else runs."""
    from pipelines.publish import recover  # noqa: PLC0415
    from pipelines.warehouse import connect  # noqa: PLC0415

    if not home.working_db.exists():
        return []
    con = connect(home)
    try:
        return recover(con, home)
    finally:
        con.close()
