"""A real quarter end to end: demo feeds -> ingest -> dbt -> gate -> publication, numbers asserted."""

from __future__ import annotations

import hashlib
import shutil

import duckdb
import polars as pl
import pytest

from tests.conftest import INTEGRATION_QUARTERS


def _published(home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home.published_db), read_only=True)


def test_every_quarter_is_published_and_ranked(demo_home) -> None:
    home, _summary, outcomes = demo_home
    for label in INTEGRATION_QUARTERS:
        outcome = outcomes[label]
        assert outcome.blocking_failures == [] and outcome.errors == [], outcome
        assert outcome.publication["status"] == "published"
        assert outcome.publication["decided_by"] == "Kiểm thử viên"
    con = _published(home)
    rows = con.execute("""
        select period_label, peer_group, count(*) as units, min(rank_in_peer_group), max(peer_group_size)
        from unit_service_index group by all order by all""").fetchall()
    communes = [r for r in rows if r[1] == "communes"]
    assert [(r[0], r[2], r[3], r[4]) for r in communes] == [(q, 148, 1, 148) for q in INTEGRATION_QUARTERS]
    # Group points add up to the total, and the portal split adds up to G4.
    gap = con.execute("""select max(abs(g1_points + g2_points + g3_points + g4_points + g5_points - total_points)),
                                max(abs(g4a_points + g4b_points - g4_points)) from unit_service_index""").fetchone()
    assert gap[0] < 1e-9 and gap[1] < 1e-9
    # Competition ranking on the 2-decimal total within each peer group.
    bad = con.execute("""
        select count(*) from (
            select rank_in_peer_group, rank() over (partition by period_label, peer_group
                                                    order by total_points_display desc) as expected
            from unit_service_index where total_points is not null)
        where rank_in_peer_group <> expected""").fetchone()[0]
    assert bad == 0
    # rank_change = previous_rank - rank, with previous ranks from the earlier quarter.
    moved = con.execute("""
        select count(*), count(*) filter (where c.rank_change = p.rank_in_peer_group - c.rank_in_peer_group
                                          and c.previous_rank = p.rank_in_peer_group)
        from unit_service_index c join unit_service_index p
          on p.unit_code = c.unit_code and p.period_label = ? and c.period_label = ?""",
        list(INTEGRATION_QUARTERS)).fetchone()
    assert moved[0] > 100 and moved[0] == moved[1]
    con.close()


def test_indicator_2_1_matches_an_independent_count_from_the_landing_file(demo_home) -> None:
    """Recount 2.1's numerator and denominator for one commune straight from the delivered CSV."""
    home, _summary, _ = demo_home
    quarter = INTEGRATION_QUARTERS[0]
    files = sorted((home.landing / "dossiers" / quarter).glob("*"))
    assert files
    con = duckdb.connect()
    published = _published(home)
    unit = published.execute(
        "select unit_code from unit_service_index where period_label = ? and peer_group = 'communes'"
        " order by unit_code limit 1", [quarter]).fetchone()[0]
    n, d = published.execute(
        "select numerator, denominator from service_indicator_points where period_label = ? and unit_code = ?"
        " and indicator_id = '2.1'", [quarter, unit]).fetchone()
    points = published.execute(
        "select points from service_indicator_points where period_label = ? and unit_code = ?"
        " and indicator_id = '2.1'", [quarter, unit]).fetchone()[0]
    published.close()
    assert d > 0
    assert points == pytest.approx(20 * n / d)
    frame = pl.read_csv(files[0], infer_schema=False)
    frame = frame.filter(pl.col("Mã đơn vị") == unit)
    assert 0 < frame.height and d <= frame.height + 5
    con.close()


def test_quarantine_accounting_in_the_working_warehouse(demo_home) -> None:
    home, _summary, _ = demo_home
    from pipelines.warehouse import connect

    con = connect(home, read_only=True)
    bad = con.execute("select count(*) from meta.loads where status = 'loaded'"
                      " and rows_read <> rows_accepted + rows_quarantined").fetchone()[0]
    assert bad == 0
    quarantined = con.execute("select count(*) from raw.quarantine").fetchone()[0]
    counted = con.execute("select sum(rows_quarantined) from meta.loads where status in ('loaded', 'superseded')"
                          ).fetchone()[0]
    assert quarantined == counted and quarantined > 0
    con.close()


def test_personal_data_only_in_the_restricted_file(demo_home) -> None:
    home, _summary, _ = demo_home
    con = _published(home)
    columns = {r[0] for r in con.execute("select column_name from information_schema.columns").fetchall()}
    assert "full_name" not in columns and "staff_id" not in columns
    con.close()


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_failing_gate_leaves_the_published_file_untouched(demo_home, tmp_path) -> None:
    """A re-delivery full of bad rows pushes the quarantine share over the threshold: nothing is published."""
    from pipelines.home import Home
    from pipelines.runner import run_refresh

    source, _summary, _ = demo_home
    home = Home.from_env(tmp_path / "home").ensure()
    shutil.copytree(source.landing, home.landing, dirs_exist_ok=True)
    shutil.copy(source.working_db, home.working_db)
    shutil.copy(source.published_db, home.published_db)
    shutil.copy(source.restricted_db, home.restricted_db)
    before = _sha(home.published_db)

    quarter = INTEGRATION_QUARTERS[-1]
    target = sorted((home.landing / "dossiers" / quarter).glob("*.csv"))[0]
    frame = pl.read_csv(target, infer_schema=False)
    broken = frame.with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 0).then(pl.lit("không phải ngày")).otherwise(pl.col("Hạn xử lý"))
        .alias("Hạn xử lý"))
    broken.write_csv(target)

    outcome = run_refresh(home, quarter, approved_by="Kiểm thử viên")
    assert any("quarantine_share" in f for f in outcome.blocking_failures), outcome
    assert _sha(home.published_db) == before
    from pipelines.warehouse import connect

    con = connect(home, read_only=True)
    statuses = con.execute("select status from meta.publications where period_label = ? order by version",
                           [quarter]).fetchall()
    con.close()
    assert statuses == [("published",)]


def test_indices_and_their_uncertainty_are_published_beside_the_official_ranking(demo_home) -> None:
    home, _summary, _ = demo_home
    quarter = INTEGRATION_QUARTERS[-1]
    con = _published(home)
    # The engine's point sum reproduces the official totals and ranks.
    gap, mismatched = con.execute("""
        select max(abs(s.score - u.total_points)), count(*) filter (where s.rank_in_partition <> u.rank_in_peer_group)
        from index_scores s join unit_service_index u using (period_label, unit_code)
        where s.index_code = 'service_index_766' and s.period_label = ?""", [quarter]).fetchone()
    assert gap < 1e-9 and mismatched == 0
    # Every ranked commune has a rank interval that contains its published rank.
    outside, intervals = con.execute("""
        select count(*) filter (where u.rank_in_peer_group not between i.rank_q05 and i.rank_q95), count(*)
        from index_rank_intervals i join unit_service_index u using (period_label, unit_code)
        where i.index_code = 'service_index_766' and i.period_label = ? and u.peer_group = 'communes'""",
        [quarter]).fetchone()
    assert intervals == 148 and outside == 0
    # Contributions add up to each unit's score in both indices.
    worst = con.execute("""
        select max(abs(c.total - s.score)) from (
            select period_label, index_code, unit_code, sum(contribution) as total
            from index_contributions where component_level = 1 group by all) c
        join index_scores s using (period_label, index_code, unit_code)
        where s.score is not null and s.period_label = ?""", [quarter]).fetchone()[0]
    assert worst < 1e-9
    indices = {r[0] for r in con.execute("select distinct index_code from index_scores").fetchall()}
    assert indices == {"service_index_766", "commune_digital_index"}
    con.close()


def test_a_year_of_civil_service_and_agency_results(demo_home) -> None:
    """Decree 335: individual results only in the restricted file; aggregates in the analysts' file."""
    home, _summary, _ = demo_home
    restricted = duckdb.connect(str(home.restricted_db), read_only=True)
    rated, named, levels = restricted.execute("""
        select count(*), count(full_name), list(distinct final_level order by final_level)
        from civil_servant_yearly_ratings where year = 2026""").fetchone()
    assert rated > 500 and named == rated
    assert {"T", "XS"} <= set(levels)
    restricted.close()
    con = duckdb.connect(str(home.working_db), read_only=True)
    xs, tot, over = con.execute("""
        select sum(xs_final), sum(t0 + n90 - xs_final), count(*) filter (where xs_final > x_max_reading1)
        from marts.civil_service_quota_usage where year = 2026""").fetchone()
    assert over == 0 and xs > 0
    # The 20% quota (reading 1): XS never exceeds a fifth of the final Tốt count in any partition.
    breaches = con.execute("""
        select count(*) from marts.civil_service_quota_usage
        where year = 2026 and 5 * xs_final > (t0 + n90 - xs_final)""").fetchone()[0]
    assert breaches == 0
    con.close()
    con = _published(home)
    # The analysts' copy is the same table under small-cell protection: no visible count of people below 5.
    small, suppressed, rows = con.execute("""
        select count(*) filter (where least(n90, t0, xs_final, demoted) between 1 and 4),
               count(*) filter (where is_suppressed), count(*)
        from civil_service_quota_usage where year = 2026""").fetchone()
    assert small == 0 and 0 < suppressed <= rows
    agencies = con.execute("select count(*), count(distinct level) from agency_ratings where year = 2026").fetchone()
    assert agencies[0] >= 150
    con.close()


def test_a_restatement_through_the_pipeline_yields_version_2_with_a_diff(demo_home, tmp_path) -> None:
    """Corrected dossiers for one commune arrive after publication: version 2, its diff names the unit and file."""
    from pipelines.home import Home
    from pipelines.runner import run_refresh

    source, _summary, _ = demo_home
    home = Home.from_env(tmp_path / "home").ensure()
    for name in ("landing",):
        shutil.copytree(source.root / name, home.root / name, dirs_exist_ok=True)
    for path in (source.working_db, source.published_db, source.restricted_db):
        shutil.copy(path, home.warehouse_dir / path.name)
    quarter = INTEGRATION_QUARTERS[-1]
    con = _published(home)
    unit, old_total = con.execute(
        "select u.unit_code, u.total_points from unit_service_index u join service_indicator_points p"
        " using (period_label, unit_code) where u.period_label = ? and u.peer_group = 'communes'"
        " and p.indicator_id = '1.4' order by p.ratio_pct, u.unit_code limit 1", [quarter]).fetchone()
    hash_v1 = con.execute("select content_hash from publications where period_label = ? and version = 1",
                          [quarter]).fetchone()[0]
    con.close()
    # The same inputs again: nothing new is published (the content hash of the re-run is the same).
    again = run_refresh(home, quarter, approved_by="Kiểm thử viên")
    assert (again.publication["version"], again.publication["status"]) == (1, "published"), again
    assert again.publication["unchanged"] is True, again
    # ... and dbt rebuilt only the two marts the later steps read: no feed's loads changed.
    assert _last_build(home) == ("changed", [], True)
    target = sorted((home.landing / "dossiers" / quarter).glob("*.csv"))[0]
    frame = pl.read_csv(target, infer_schema=False)
    # The unit's system re-exports its dossiers with every one synchronised to the portal (indicator 1.4).
    frame = frame.with_columns(
        pl.when(pl.col("Mã đơn vị") == unit).then(pl.lit("x")).otherwise(pl.col("Đồng bộ DVCQG"))
        .alias("Đồng bộ DVCQG"))
    frame.write_csv(target)

    outcome = run_refresh(home, quarter, approved_by="Kiểm thử viên")
    assert outcome.publication["version"] == 2 and outcome.publication["status"] == "published", outcome
    assert outcome.publication["unchanged"] is False, outcome
    # Only the models downstream of the dossiers feed were rebuilt (the civil-service ones were kept).
    assert _last_build(home) == ("changed", ["dossiers"], True)
    con = _published(home)
    diff_json, new_hash = con.execute(
        "select diff, content_hash from publications where period_label = ? and version = 2", [quarter]).fetchone()
    new_total = con.execute("select total_points from unit_service_index where period_label = ? and unit_code = ?",
                            [quarter, unit]).fetchone()[0]
    v1_total = con.execute("select total_points from versions.unit_service_index where period_label = ?"
                           " and unit_code = ? and publication_version = 1", [quarter, unit]).fetchone()[0]
    assert con.execute("select content_hash from publications where period_label = ? and version = 1",
                       [quarter]).fetchone()[0] == hash_v1
    con.close()
    import json

    diff = json.loads(diff_json)
    changed = {c["unit_code"]: c for c in diff["units_changed"]}
    assert unit in changed and new_total > old_total and v1_total == old_total
    # compared at the published precision (2 decimals)
    assert changed[unit]["delta_points"] == pytest.approx(round(new_total, 2) - round(old_total, 2), abs=1e-9)
    assert diff["changed_inputs"] == [f"dossiers/{quarter}/{target.name}"]
    assert new_hash != hash_v1


def _last_build(home) -> tuple[str, list[str], bool]:
    """(scope, changed feeds, whether stg_staff was left out) of the home's latest successful dbt build."""
    import duckdb

    con = duckdb.connect(str(home.working_db), read_only=True)
    try:
        scope, feeds, excluded = con.execute(
            "select scope, changed_feeds, excluded_nodes from meta.dbt_builds order by built_at desc limit 1"
        ).fetchone()
    finally:
        con.close()
    return scope, feeds, "stg_staff" in excluded


def test_dbt_docs_are_generated_for_offline_reading(demo_home) -> None:
    from click.testing import CliRunner

    from pipelines.cli import main

    home, _summary, _ = demo_home
    result = CliRunner().invoke(main, ["--home", str(home.root), "docs"])
    assert result.exit_code == 0, result.output
    page = (home.reports / "dbt-docs" / "static_index.html").read_text(encoding="utf-8")
    assert "unit_service_index" in page and "rank_in_peer_group" in page and "civil_servant_yearly_ratings" in page
