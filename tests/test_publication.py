"""Versioned, immutable publication: candidates, approval, no-op re-publication, restatement diffs."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines import publish
from pipelines.home import Home
from pipelines.warehouse import connect

RULE = "766-portal"


def _marts(con: duckdb.DuckDBPyConnection, totals: dict[str, float]) -> None:
    """A minimal working warehouse: the two 766 marts for 2026-Q1 and one load record."""
    con.execute("create schema if not exists marts")
    con.execute("create schema if not exists meta")
    con.execute("drop table if exists marts.unit_service_index")
    con.execute("drop table if exists marts.service_indicator_points")
    ranked = sorted(totals.items(), key=lambda kv: -round(kv[1], 2))
    rows = []
    for code, total in totals.items():
        rank = 1 + sum(1 for _c, t in ranked if round(t, 2) > round(total, 2))
        rows.append((
            "2026-Q1", "quarter", False, None, code, f"Xã {code}", "commune", "communes",
            16.0, 19.0, 15.0, 10.0, 5.0, 5.0,
            total - 60.0, total, round(total, 2), rank, len(totals), None, None, None, RULE,
        ))
    con.execute(
        """create table marts.unit_service_index (period_label varchar, period_type varchar, is_partial boolean,
        as_of date, unit_code varchar,
        unit_name varchar, unit_kind varchar, peer_group varchar, g1_points double, g2_points double,
        g3_points double, g4_points double, g4a_points double, g4b_points double, g5_points double,
        total_points double, total_points_display double, rank_in_peer_group bigint, peer_group_size bigint,
        previous_rank bigint, rank_change bigint, previous_total_points double, rule_version varchar)""")
    con.executemany("insert into marts.unit_service_index values (" + ",".join("?" * 23) + ")", rows)
    con.execute(
        """create table marts.service_indicator_points as
        select period_label, is_partial, as_of, unit_code, '2.1' as indicator_id, 'Hồ sơ đúng hạn' as indicator_name_vi,
               'G2' as group_code, 'G2' as group5_code, 95.0 as numerator, 100.0 as denominator,
               95.0 as ratio_pct, 'percent' as ratio_kind, null::double as target_pct, 20.0 as max_points,
               g2_points as points,
               'linear' as scoring_method, true as is_applicable, false as is_denominator_zero, rule_version
        from marts.unit_service_index""")
    con.execute("""create table if not exists meta.loads (load_id varchar, feed varchar, period_label varchar,
        source_file varchar, file_hash varchar, status varchar, is_current boolean)""")


def _load(con, file_hash: str) -> None:
    con.execute("update meta.loads set is_current = false")
    con.execute("insert into meta.loads values (?, 'dossiers', '2026-Q1', '/l/dossiers/2026-Q1/hs.csv', ?,"
                " 'loaded', true)", [file_hash[:8], file_hash])


GATE_OK = {"checks": 3, "passed": 3, "blocking_failures": [], "warnings": []}


@pytest.fixture()
def home(tmp_path) -> Home:
    return Home.from_env(tmp_path / "home").ensure()


def test_restatement_gives_version_2_with_diff_and_keeps_version_1(home: Home) -> None:
    con = connect(home)
    _marts(con, {"07900": 80.0, "07894": 75.5, "07909": 70.25})
    _load(con, "a" * 64)
    first = publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE)
    assert (first.version, first.status, first.is_new) == (1, "ready", True)
    assert not home.published_db.exists()  # ready is not published
    published = publish.approve(con, home, "2026-Q1", "Nguyễn Văn A")
    assert published["status"] == "published" and published["version"] == 1
    hash_v1 = publish.published_content_hash(home, "2026-Q1", 1)
    assert hash_v1 == first.content_hash

    # The same inputs again: nothing new.
    again = publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE)
    assert (again.version, again.status, again.is_new) == (1, "published", False)

    # Corrected data for one unit arrive: 07894 gains 6 points and overtakes 07900.
    _marts(con, {"07900": 80.0, "07894": 81.5, "07909": 70.25})
    _load(con, "b" * 64)
    second = publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE)
    assert (second.version, second.is_new) == (2, True)
    outcome = publish.approve(con, home, "2026-Q1", "Trần Thị B")
    diff = outcome["diff"]
    assert diff["against_version"] == 1
    changed = {c["unit_code"]: c for c in diff["units_changed"]}
    assert set(changed) == {"07894", "07900"}
    assert changed["07894"]["delta_points"] == pytest.approx(6.0)
    assert (changed["07894"]["old_rank"], changed["07894"]["new_rank"]) == (2, 1)
    assert (changed["07900"]["old_rank"], changed["07900"]["new_rank"]) == (1, 2)
    assert diff["changed_inputs"] == ["dossiers/2026-Q1/hs.csv"]
    con.close()

    analyst = duckdb.connect(str(home.published_db), read_only=True)
    latest = dict(analyst.execute("select unit_code, total_points from unit_service_index").fetchall())
    assert latest["07894"] == 81.5
    v1 = dict(analyst.execute("select unit_code, total_points from versions.unit_service_index"
                              " where publication_version = 1").fetchall())
    assert v1["07894"] == 75.5
    register = analyst.execute("select version, approved_by from publications order by version").fetchall()
    assert register == [(1, "Nguyễn Văn A"), (2, "Trần Thị B")]
    analyst.close()
    # Publishing version 2 did not change version 1's content.
    assert publish.published_content_hash(home, "2026-Q1", 1) == hash_v1


def test_rejection_and_approval_are_audited_and_warnings_need_a_reason(home: Home) -> None:
    con = connect(home)
    _marts(con, {"07900": 80.0, "07894": 75.5})
    _load(con, "c" * 64)
    gate = {**GATE_OK, "warnings": ["contract:no_unexpected_columns: hs.csv: unknown column 'Ghi chú'"]}
    publish.prepare_candidate(con, "2026-Q1", gate, RULE)
    with pytest.raises(publish.PublicationError, match="written"):
        publish.approve(con, home, "2026-Q1", "Nguyễn Văn A")
    version = publish.reject(con, "2026-Q1", "Nguyễn Văn A", "ratings of 07900 look duplicated")
    assert version == 1
    with pytest.raises(publish.PublicationError, match="no candidate ready"):
        publish.approve(con, home, "2026-Q1", "Nguyễn Văn A")
    _load(con, "d" * 64)
    _marts(con, {"07900": 79.0, "07894": 75.5})
    publish.prepare_candidate(con, "2026-Q1", gate, RULE)
    publish.approve(con, home, "2026-Q1", "Nguyễn Văn A", accept_warnings_reason="column is a free-text note")
    log = con.execute("select actor, action, version, details from meta.audit_log order by event_id").fetchall()
    actions = [(a, b, v) for a, b, v, _ in log]
    assert actions == [
        ("pipeline", "candidate_ready", 1),
        ("Nguyễn Văn A", "rejected", 1),
        ("pipeline", "candidate_ready", 2),
        ("Nguyễn Văn A", "approved_and_published", 2),
    ]
    assert json.loads(log[1][3])["reason"] == "ratings of 07900 look duplicated"
    assert json.loads(log[3][3])["accepted_warnings_reason"] == "column is a free-text note"
    con.close()


def test_blocking_failures_are_never_published(home: Home) -> None:
    con = connect(home)
    _marts(con, {"07900": 80.0})
    _load(con, "e" * 64)
    publish.prepare_candidate(con, "2026-Q1", {**GATE_OK, "blocking_failures": ["gx: points above max"]}, RULE)
    with pytest.raises(publish.PublicationError, match="blocking"):
        publish.approve(con, home, "2026-Q1", "Nguyễn Văn A")
    assert not home.published_db.exists()
    con.close()


def test_personal_data_stays_out_of_the_analyst_contract() -> None:
    analyst = publish.load_target("analyst")
    columns = {c for t in analyst.tables for c in t.columns}
    assert "full_name" not in columns and "staff_id" not in columns
    restricted = publish.load_target("restricted")
    assert {"full_name", "staff_id"} <= {c for t in restricted.tables for c in t.columns}


def test_a_restatement_diff_is_reproducible_at_the_published_precision(home: Home) -> None:
    """Floating-point noise (1e-10) and a change below the second decimal make no 'changed' row and no -0.0;
    the same two versions always give the same diff."""
    con = connect(home)
    _marts(con, {"07900": 80.0, "07894": 75.5, "07909": 70.25})
    _load(con, "e" * 64)
    publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE)
    publish.approve(con, home, "2026-Q1", "Nguyễn Văn A")
    _marts(con, {"07900": 80.0 + 1e-10, "07894": 75.5 - 1e-12, "07909": 71.25})
    _load(con, "f" * 64)
    publish.prepare_candidate(con, "2026-Q1", GATE_OK, RULE)
    diff = publish.approve(con, home, "2026-Q1", "Trần Thị B")["diff"]
    assert [(c["unit_code"], c["delta_points"]) for c in diff["units_changed"]] == [("07909", 1.0)]
    assert publish._diff(con, "2026-Q1", 2, 1) == diff
    assert "-0.0" not in json.dumps(diff)
    con.close()
