"""No orphans, no collisions: the dbt child dies with its refresh, runs of one home go one at a time, and
runs left started by a dead process are marked failed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pipelines.dbt import guarded_dbt_executable, write_guard
from pipelines.home import Home
from pipelines.locks import hold_run_lock, lock_holder, release_run_lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0): read its state
    state = Path(f"/proc/{pid}/stat").read_text().split()[2] if Path(f"/proc/{pid}/stat").exists() else "X"
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_dbt_child_dies_when_its_refresh_is_killed(tmp_path) -> None:
    """The guard that runs dbt binds the child to its parent: kill -9 the parent, the child goes too."""
    guard = write_guard(tmp_path / "bin" / "sleeper", Path("/bin/sleep"))
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import subprocess, sys, time
        child = subprocess.Popen([{str(guard)!r}, "120"])
        print(child.pid, flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    time.sleep(0.5)
    assert _alive(child_pid)
    parent.kill()
    parent.wait()
    deadline = time.time() + 5
    while _alive(child_pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(child_pid), "the child outlived its killed parent"


def test_the_guarded_dbt_is_this_environments_dbt(tmp_path) -> None:
    guard = guarded_dbt_executable(tmp_path)
    out = subprocess.run([str(guard), "--version"], capture_output=True, text=True, check=True, timeout=60).stdout
    assert "dbt" in out.lower() or "Core" in out


def _hold_in_child(home: Home, what: str, seconds: int) -> subprocess.Popen:
    """Another process that takes the home's run lock and keeps it `seconds` (or until killed)."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from pipelines.home import Home
        from pipelines.locks import hold_run_lock
        hold_run_lock(Home.from_env({str(home.root)!r}), {what!r})
        print("held", flush=True)
        time.sleep({seconds})
    """)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_second_run_waits_for_the_first_instead_of_failing(tmp_path) -> None:
    home = Home.from_env(tmp_path / "home").ensure()
    holder = _hold_in_child(home, "chamdiem refresh --period 2026-Q3", 3)
    seen = []
    started = time.monotonic()
    hold_run_lock(home, "chamdiem refresh --period 2026-Q2", on_wait=seen.append)
    waited = time.monotonic() - started
    try:
        assert seen and seen[0]["pid"] == holder.pid and seen[0]["what"] == "chamdiem refresh --period 2026-Q3"
        assert waited > 1.0  # it waited for the holder to end rather than failing
        assert holder.wait(timeout=10) == 0
        me = lock_holder(home)
        assert me is not None and me["pid"] == os.getpid()
        hold_run_lock(home, "again")  # re-entrant within the process
    finally:
        release_run_lock(home)
    assert lock_holder(home) is None


def test_a_killed_holder_never_leaves_a_stale_lock(tmp_path) -> None:
    home = Home.from_env(tmp_path / "home").ensure()
    holder = _hold_in_child(home, "refresh", 60)
    assert lock_holder(home)["pid"] == holder.pid
    holder.kill()
    holder.wait()
    assert lock_holder(home) is None
    hold_run_lock(home, "next refresh", timeout_seconds=5)
    release_run_lock(home)


def test_runs_left_started_by_a_dead_process_are_marked_failed(tmp_path, monkeypatch) -> None:
    import dagster as dg

    from pipelines.runner import fail_orphaned_runs

    home = Home.from_env(tmp_path / "home").ensure()
    monkeypatch.setenv("DAGSTER_HOME", str(home.dagster_home))
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.DagsterInstance.get() as instance:
        @dg.op
        def noop():
            return 1

        @dg.job
        def sample():
            noop()

        orphan = instance.create_run_for_job(sample, tags={"chamdiem/pid": str(dead.pid)})
        instance.handle_run_event(orphan.run_id, dg.DagsterEvent(
            event_type_value="PIPELINE_START", job_name="sample", message="started"))
        live = instance.create_run_for_job(sample, tags={"chamdiem/pid": str(os.getppid())})
        instance.handle_run_event(live.run_id, dg.DagsterEvent(
            event_type_value="PIPELINE_START", job_name="sample", message="started"))
        assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.STARTED
        repaired = fail_orphaned_runs(instance)
        assert [line.split(":")[0] for line in repaired] == [f"run {orphan.run_id[:8]}"]
        assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED


def test_status_works_while_a_refresh_holds_the_home(tmp_path) -> None:
    import duckdb
    from click.testing import CliRunner

    from pipelines.cli import main

    home = Home.from_env(tmp_path / "home").ensure()
    con = duckdb.connect(str(home.working_db))  # the refresh's writer holds the working warehouse
    con.execute("create schema meta")
    pub = duckdb.connect(str(home.published_db))
    pub.execute("create table publications as select '2026-Q3' as period_label, 1 as version,"
                " 'Nguyễn Văn A' as approved_by, timestamp '2026-10-12 09:00' as approved_at,"
                " null::date as as_of, false as is_provisional")
    pub.close()
    holder = _hold_in_child(home, "chamdiem refresh --period 2026-Q4", 30)
    try:
        result = CliRunner().invoke(main, ["--home", str(home.root), "status"])
        quality = CliRunner().invoke(main, ["--home", str(home.root), "quality", "--period", "2026-Q4"])
    finally:
        holder.kill()
        holder.wait()
        con.close()
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Running now" in result.output and "2026-Q4" in result.output and str(holder.pid) in result.output
    assert "2026-Q3" in result.output and "final" in result.output
    assert quality.exit_code == 0 and "Traceback" not in quality.output, quality.output
    assert "is running and holds the warehouse" in " ".join(quality.output.split())
