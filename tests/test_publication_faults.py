"""Publication is all or nothing: a process killed at each step of the switch, a read-write connection held on
the analysts' file, and readers querying across the swap. After each, the register, the analysts' file, the
restricted file and the exports agree, and the next command completes or repairs without manual steps."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from pipelines import publish
from pipelines.errors import lock_message
from pipelines.home import Home
from pipelines.warehouse import connect

RULE = "766-portal"
GATE_OK = {"checks": 3, "passed": 3, "blocking_failures": [], "warnings": []}


def _marts(con: duckdb.DuckDBPyConnection, bonus: float) -> None:
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists meta")
    con.execute(
        "create or replace table marts.unit_service_index as select '2026-Q1' as period_label,"
        " 'quarter' as period_type, false as is_partial, null::date as as_of, code as unit_code, 'Xã ' || code"
        " as unit_name, 'commune' as unit_kind, 'communes' as peer_group, 16.0 as g1_points, 19.0 as g2_points,"
        " 15.0 as g3_points, 10.0 as g4_points, 5.0 as g4a_points, 5.0 as g4b_points, total - 60.0 as g5_points,"
        " total as total_points, round(total, 2) as total_points_display,"
        " rank() over (order by total desc) as rank_in_peer_group, 3::bigint as peer_group_size,"
        " null::bigint as previous_rank, null::bigint as rank_change, null::double as previous_total_points,"
        f" '{RULE}' as rule_version"
        f" from (values ('07900', 80.0), ('07894', 75.5 + {bonus}), ('07909', 70.25)) t(code, total)")
    con.execute(
        "create or replace table marts.service_indicator_points as select period_label, is_partial, as_of,"
        " unit_code, '2.1' as indicator_id, 'Hồ sơ đúng hạn' as indicator_name_vi, 'G2' as group_code,"
        " 'G2' as group5_code, 95.0 as numerator, 100.0 as denominator, 95.0 as ratio_pct, 'percent' as ratio_kind,"
        " null::double as target_pct, 20.0 as max_points, g2_points as points, 'linear' as scoring_method,"
        " true as is_applicable, false as is_denominator_zero, rule_version from marts.unit_service_index")
    con.execute("create table if not exists meta.loads (load_id varchar, feed varchar, period_label varchar,"
                " source_file varchar, file_hash varchar, status varchar, is_current boolean)")
    con.execute("update meta.loads set is_current = false")
    con.execute("insert into meta.loads values (?, 'dossiers', '2026-Q1', '/l/dossiers/2026-Q1/hs.csv', ?,"
                " 'loaded', true)", [f"L{bonus}", f"{bonus:064}"])


@pytest.fixture()
def home(tmp_path) -> Home:
    """Version 1 published; version 2 (07894 gains 6 points) ready for approval."""
    home = Home.from_env(tmp_path / "home").ensure()
    con = connect(home)
    _marts(con, 0.0)
    publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE)
    publish.approve(con, home, "2026-Q1", "Nguyễn Văn A")
    _marts(con, 6.0)
    assert publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE).version == 2
    con.close()
    return home


def _approve_in_child(home: Home, fault: str | None = None) -> subprocess.CompletedProcess:
    code = textwrap.dedent(f"""
        from pipelines import publish
        from pipelines.home import Home
        from pipelines.warehouse import connect
        home = Home.from_env({str(home.root)!r})
        con = connect(home)
        publish.approve(con, home, "2026-Q1", "Trần Thị B")
        con.close()
    """)
    env = {"CHAMDIEM_FAULT_AT": fault} if fault else {}
    import os

    return subprocess.run([sys.executable, "-c", code], env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=120, check=False)


def _state(home: Home) -> dict[str, object]:
    """The version each place holds for 2026-Q1: register, analysts' file, restricted file, exports."""
    con = duckdb.connect(str(home.working_db), read_only=True)
    register = con.execute("select max(version) from meta.publications where period_label = '2026-Q1'"
                           " and status = 'published'").fetchone()[0]
    statuses = dict(con.execute("select version, status from meta.publications").fetchall())
    con.close()
    files = {}
    for name, path in (("analyst", home.published_db), ("restricted", home.restricted_db)):
        f = duckdb.connect(str(path), read_only=True)
        files[name] = f.execute("select max(version) from publications").fetchone()[0]
        f.close()
    latest = duckdb.connect(str(home.published_db), read_only=True)
    shown = latest.execute("select distinct publication_version from unit_service_index").fetchall()
    latest.close()
    exports = sorted(p.name for p in (home.exports / "2026-Q1").iterdir())
    leftovers = sorted(p.name for p in [*home.warehouse_dir.glob("*.building"), *home.exports.rglob("*.building")])
    return {"register": register, "statuses": statuses, **files, "view": shown, "exports": exports,
            "leftovers": leftovers}


CONSISTENT_V1 = {"register": 1, "statuses": {1: "published", 2: "ready"}, "analyst": 1, "restricted": 1,
                 "view": [(1,)], "exports": ["v1"], "leftovers": []}
CONSISTENT_V2 = {"register": 2, "statuses": {1: "published", 2: "published"}, "analyst": 2, "restricted": 2,
                 "view": [(2,)], "exports": ["v1", "v2"], "leftovers": []}


@pytest.mark.parametrize(("fault", "after_recovery"), [
    ("after_staging", CONSISTENT_V1),   # files staged, nothing journaled: the old version stays, staging removed
    ("after_journal", CONSISTENT_V2),   # journaled: the next command completes the switch
    ("between_swaps", CONSISTENT_V2),   # analysts' file at v2, restricted at v1: completed, never left split
    ("after_swaps", CONSISTENT_V2),     # every file moved, register not yet updated: completed
])
def test_a_kill_at_each_step_of_the_switch_is_repaired_by_the_next_command(home, fault, after_recovery) -> None:
    killed = _approve_in_child(home, fault)
    assert killed.returncode == 86, killed.stderr[-2000:]
    con = connect(home)
    try:
        repaired = publish.recover(con, home)
    finally:
        con.close()
    assert repaired, "the interrupted publication left something to repair"
    assert _state(home) == after_recovery
    # And the next approval publishes (or reports) version 2 without any manual step.
    con = connect(home)
    try:
        outcome = publish.approve(con, home, "2026-Q1", "Trần Thị B")
    finally:
        con.close()
    assert outcome["version"] == 2 and outcome["status"] in ("published", "already_published")
    assert _state(home) == CONSISTENT_V2
    assert publish.published_content_hash(home, "2026-Q1", 2) == _register_hash(home, 2)


def _register_hash(home: Home, version: int) -> str:
    con = duckdb.connect(str(home.working_db), read_only=True)
    try:
        return con.execute("select content_hash from meta.publications where period_label = '2026-Q1'"
                           " and version = ?", [version]).fetchone()[0]
    finally:
        con.close()


def test_a_read_write_connection_on_the_analysts_file_blocks_nothing_and_names_the_process(home) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(home.published_db)!r});"
                               " print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        con = connect(home)
        try:
            with pytest.raises(duckdb.IOException) as err:
                publish.approve(con, home, "2026-Q1", "Trần Thị B")
        finally:
            con.close()
        message = lock_message(str(err.value))
        assert message is not None and message.startswith(
            f"published.duckdb is open read-write by process {holder.pid} ")
        assert "analysts must open it read-only" in message
    finally:
        holder.kill()
        holder.wait()
    state = _state(home)
    assert state == CONSISTENT_V1, state
    # Once the connection is closed the same approval goes through.
    con = connect(home)
    try:
        assert publish.approve(con, home, "2026-Q1", "Trần Thị B")["status"] == "published"
    finally:
        con.close()
    assert _state(home) == CONSISTENT_V2


def test_readers_never_see_an_error_or_a_mixed_version_across_the_swap(home) -> None:
    reader = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, time
        seen, errors, end = set(), 0, time.time() + 60
        while time.time() < end:
            try:
                c = duckdb.connect({str(home.published_db)!r}, read_only=True)
                versions = c.execute("select distinct publication_version from unit_service_index").fetchall()
                c.close()
                seen.add(tuple(sorted(v for (v,) in versions)))
                if (2,) in seen:
                    break
            except duckdb.Error as exc:
                errors += 1
                print("error", exc, flush=True)
        print("seen", sorted(seen), "errors", errors, flush=True)
    """)], stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert _approve_in_child(home).returncode == 0
    out, _ = reader.communicate(timeout=90)
    assert out.strip().splitlines()[-1] in ("seen [(1,), (2,)] errors 0", "seen [(2,)] errors 0"), out
