"""The Dagster definitions load, and the schedule and sensor target the right quarters."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from pipelines.periods import labels_for_quarter, parse_period, previous_quarter, quarter_from_partition_key


def test_definitions_load(tmp_path: Path) -> None:
    from pipelines.definitions import build_definitions

    defs = build_definitions(str(tmp_path / "home"))
    job = defs.resolve_job_def("quarterly_refresh")
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"meta/loads", "raw/dossiers", "marts/unit_service_index", "published/analyst_warehouse"} <= keys
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert {"contract_checks", "publication_candidate_checks"} <= checks
    assert job.partitions_def is not None
    assert job.partitions_def.get_partition_keys()[:2] == ["2025-07-01", "2025-10-01"]
    assert defs.resolve_schedule_def("quarterly_refresh_schedule").cron_schedule == "0 6 11 1,4,7,10 *"
    assert defs.resolve_sensor_def("landing_sensor") is not None


def test_schedule_runs_the_previous_quarter_after_the_grace_period(tmp_path: Path) -> None:
    from pipelines.schedules import quarterly_schedule

    schedule = quarterly_schedule(grace_days=10)
    when = datetime(2026, 4, 11, 6, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
    context = dg.build_schedule_context(scheduled_execution_time=when)
    request = schedule(context)
    assert request.partition_key == "2026-01-01"


def test_sensor_maps_files_to_quarters(tmp_path: Path) -> None:
    from pipelines.sensors import affected_quarters

    landing = tmp_path / "landing"
    files = [landing / "dossiers" / "2026-Q1" / "hs.csv", landing / "work_items" / "2026-05" / "w.csv",
             landing / "units" / "2025-Q3" / "u.csv", landing / "junk.txt"]
    assert affected_quarters(landing, files) == {"2026-01-01", "2026-04-01", "2025-07-01"}


def test_periods() -> None:
    q = parse_period("2026-Q1")
    assert (q.start, q.end, q.months) == (date(2026, 1, 1), date(2026, 3, 31), 3)
    assert labels_for_quarter(q) == ["2026-Q1", "2026-01", "2026-02", "2026-03", "2026"]
    assert previous_quarter(q).label == "2025-Q4"
    assert quarter_from_partition_key("2026-07-01").label == "2026-Q3"


def test_the_dbt_reference_feeds_are_the_contracts_reference_feeds():
    """Macro reference_feeds() (which snapshots fall back to their earliest) names the feeds whose contract says
    periodKind: reference; the publication's inputs read the contracts."""
    import re
    from pathlib import Path

    from pipelines.contracts import all_contracts

    macro = (Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "current_rows.sql").read_text()
    body = macro[macro.index("macro reference_feeds()"):]
    named = set(re.findall(r"'(\w+)'", body[: body.index("endmacro")]))
    assert named == {feed for feed, contract in all_contracts().items() if contract.is_reference}
