"""The home's Dagster instance stores run events through the kept-open SQLite event log."""

from __future__ import annotations

import dagster as dg

from pipelines.dagster_storage import LocalSqliteEventLogStorage
from pipelines.home import Home


@dg.op
def _two() -> int:
    return 2


@dg.job
def _tiny_job() -> None:
    _two()


def test_a_run_is_stored_and_read_back_through_the_home_instance(tmp_path) -> None:
    home = Home(tmp_path / "home").ensure()
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as instance:
        storage = instance.event_log_storage
        assert isinstance(storage, LocalSqliteEventLogStorage)
        result = _tiny_job.execute_in_process(instance=instance)
        assert result.success
        kinds = [r.dagster_event.event_type for r in instance.all_logs(result.run_id) if r.dagster_event]
        assert dg.DagsterEventType.RUN_SUCCESS in kinds and dg.DagsterEventType.STEP_SUCCESS in kinds
        # the run's shard stays open between events and commits without a full sync (WAL, synchronous=NORMAL)
        with storage.run_connection(result.run_id) as conn:
            assert conn.exec_driver_sql("pragma synchronous").scalar() == 1
            assert conn.exec_driver_sql("pragma journal_mode").scalar() == "wal"
    with dg.DagsterInstance.from_config(str(home.dagster_home)) as reopened:
        assert reopened.get_run_by_id(result.run_id) is not None
        again = [r.dagster_event.event_type for r in reopened.all_logs(result.run_id) if r.dagster_event]
        assert again == kinds


def test_ensure_keeps_an_operator_storage_choice(tmp_path) -> None:
    home = Home(tmp_path / "home")
    home.dagster_home.mkdir(parents=True)
    custom = "telemetry:\n  enabled: false\nstorage:\n  postgres:\n    postgres_url: postgresql://x\n"
    (home.dagster_home / "dagster.yaml").write_text(custom)
    home.ensure()
    assert (home.dagster_home / "dagster.yaml").read_text() == custom
    fresh = Home(tmp_path / "other").ensure()
    text = (fresh.dagster_home / "dagster.yaml").read_text()
    assert "telemetry:\n  enabled: false" in text and "class: LocalSqliteEventLogStorage" in text
    # runs launched by the UI, the schedule or the sensor queue and run one at a time
    assert "class: QueuedRunCoordinator" in text and "max_concurrent_runs: 1" in text


def test_a_copied_home_keeps_its_dagster_history_inside_itself(tmp_path, monkeypatch):
    import shutil  # noqa: PLC0415

    from pipelines.dagster_storage import LocalSqliteEventLogStorage  # noqa: PLC0415
    from pipelines.home import Home  # noqa: PLC0415

    original = Home.from_env(tmp_path / "original").ensure()
    # A home written before the path was relative names its own absolute folder.
    yaml_path = original.dagster_home / "dagster.yaml"
    yaml_path.write_text(yaml_path.read_text(encoding="utf-8").replace(
        "base_dir: history/runs", f'base_dir: "{original.dagster_home}/history/runs"'), encoding="utf-8")
    shutil.copytree(original.root, tmp_path / "copy")
    copy = Home.from_env(tmp_path / "copy").ensure()
    text = (copy.dagster_home / "dagster.yaml").read_text(encoding="utf-8")
    assert str(original.root) not in text
    assert "base_dir: history/runs" in text
    monkeypatch.setenv("DAGSTER_HOME", str(copy.dagster_home))
    storage = LocalSqliteEventLogStorage("history/runs")
    assert str(copy.dagster_home / "history" / "runs") in storage._base_dir
    storage.dispose()
