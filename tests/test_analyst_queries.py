"""Every documented query runs against a published file laid out as the analysts' contract says, and returns
the rows computed by hand from the fixture (tests/fixtures/published_analyst.py lists its totals and ranks)."""

from __future__ import annotations

import duckdb
import pytest

from pipelines.home import PROJECT_ROOT
from pipelines.outputs.queries import load_queries
from tests.fixtures.published_analyst import INJECTION_NAME, build_published_db

QUERIES = load_queries()


@pytest.fixture(scope="module")
def con(tmp_path_factory: pytest.TempPathFactory):
    path = build_published_db(tmp_path_factory.mktemp("published") / "published.duckdb")
    connection = duckdb.connect(str(path), read_only=True)
    yield connection
    connection.close()


def run(con: duckdb.DuckDBPyConnection, name: str, **params) -> list[dict]:
    query = QUERIES[name]
    cur = query.run(con, {**query.example_params, **params})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def pick(rows: list[dict], *keys: str) -> list[tuple]:
    return [tuple(r[k] for k in keys) for r in rows]


def test_there_are_a_dozen_documented_queries_each_in_the_doc():
    doc = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert len(QUERIES) >= 12
    for query in QUERIES.values():
        assert query.title, query.name
        assert f"`{query.name}`" in doc, f"{query.name} is not documented"
        assert query.sql in doc, f"the SQL of {query.name} in the README differs from queries.sql"


def test_every_query_runs_on_the_contract_layout(con):
    for name in QUERIES:
        assert run(con, name), f"{name} returned no rows on the fixture"


def test_peer_group_ranking_uses_competition_ranks_of_the_latest_version(con):
    rows = run(con, "peer_group_ranking", period_label="2026-Q2", peer_group="communes")
    assert pick(rows, "rank_in_peer_group", "unit_code", "total_points_display", "rank_change") == [
        (1, "10003", 100.0, 1), (2, "10001", 99.0, -1), (3, "10004", 97.0, 2), (3, "10005", 97.0, 3),
        (5, "10006", 95.0, -2), (6, "10002", 88.0, -2)]
    assert rows[-1]["g5_points"] == 6.0  # 5.2 and 5.3 with no feedback score 0 under zero_points
    assert rows[4]["unit_name"] == INJECTION_NAME


def test_top_and_bottom_per_peer_group(con):
    rows = run(con, "top_and_bottom_per_peer_group", period_label="2026-Q2", n=2)
    assert pick(rows, "peer_group", "position", "unit_code") == [
        ("communes", "top", "10003"), ("communes", "top", "10001"),
        ("communes", "bottom", "10006"), ("communes", "bottom", "10002"),
        ("provincial_agencies", "top", "TTPV"), ("provincial_agencies", "top", "S01"),
        ("provincial_agencies", "bottom", "S02"), ("provincial_agencies", "bottom", "S03")]


def test_unit_trend_against_peer_median(con):
    rows = run(con, "unit_trend", unit_code="10005")
    # communes' medians: 2025-Q4 {97,97,93,93,92,88} -> 93; 2026-Q1 {99,96,95,94,93,91} -> 94.5; 2026-Q2 v2 -> 97
    assert pick(rows, "period_label", "total_points_display", "peer_median_total", "points_vs_peer_median",
                "rank_in_peer_group", "rank_change", "publication_version") == [
        ("2025-Q4", 88.0, 93.0, -5.0, 6, None, 1),
        ("2026-Q1", 91.0, 94.5, -3.5, 6, 0, 1),
        ("2026-Q2", 97.0, 97.0, 0.0, 3, 3, 2)]


def test_unit_indicator_breakdown(con):
    rows = {r["indicator_id"]: r for r in run(con, "unit_indicator_breakdown", period_label="2026-Q1",
                                              unit_code="10004")}
    assert len(rows) == 24
    assert (rows["4.1"]["ratio_pct"], rows["4.1"]["points"], rows["4.1"]["points_lost"],
            rows["4.1"]["peer_median_points"]) == (50.0, 3.0, 3.0, 6.0)
    assert (rows["2.1"]["points"], rows["2.1"]["points_lost"]) == (19.0, 1.0)
    # communes: 1.2 and 1.3 do not apply (points NULL, rescaled inside G1)
    assert rows["1.2"]["is_applicable"] is False and rows["1.2"]["points"] is None
    assert sum(r["points_lost"] or 0 for r in rows.values()) == pytest.approx(7.0)  # 100 - 93


def test_group_points_vs_peer_median(con):
    rows = run(con, "group_points_vs_peer_median", period_label="2026-Q2", unit_code="10002")
    assert pick(rows, "group_code", "points", "peer_median", "difference") == [
        ("G1", 18.0, 18.0, 0.0), ("G2", 20.0, 20.0, 0.0), ("G3", 22.0, 22.0, 0.0), ("G4", 22.0, 22.0, 0.0),
        ("G4a", 12.0, 12.0, 0.0), ("G4b", 10.0, 10.0, 0.0), ("G5", 6.0, 18.0, -12.0),
        ("total", 88.0, 97.0, -9.0)]


def test_rank_gains_and_the_indicators_that_drove_them(con):
    rows = run(con, "rank_gains_and_drivers", period_label="2026-Q2", peer_group="communes", n=2)
    assert pick(rows, "unit_code", "previous_rank", "rank_in_peer_group", "rank_change", "points_gained") == [
        ("10005", 6, 3, 3, 6.0), ("10004", 5, 3, 2, 4.0)]
    assert rows[0]["improved_indicators"] == "3.FO Hồ sơ trực tuyến toàn trình (+6.00)"
    assert rows[1]["improved_indicators"] == ("4.1 Hồ sơ có kết quả điện tử (+3.00); "
                                              "2.1 Hồ sơ giải quyết trước và đúng hạn (+1.00)")
    assert rows[0]["declined_indicators"] is None
    # the previous quarter, 2026-Q1: 10001 climbed four places (5 -> 1) on 2.1 and 3.FO
    earlier = run(con, "rank_gains_and_drivers", period_label="2026-Q1", peer_group="communes", n=1)
    assert pick(earlier, "unit_code", "rank_change", "points_gained") == [("10001", 4, 7.0)]
    assert earlier[0]["improved_indicators"] == ("3.FO Hồ sơ trực tuyến toàn trình (+6.00); "
                                                 "2.1 Hồ sơ giải quyết trước và đúng hạn (+1.00)")


def test_denominator_zero_indicators(con):
    rows = run(con, "denominator_zero_indicators", period_label="2026-Q2")
    assert pick(rows, "unit_code", "indicators_with_zero_denominator", "indicator_ids", "points_not_earned") == [
        ("10002", 2, "5.2, 5.3", 12.0)]
    assert run(con, "denominator_zero_indicators", period_label="2026-Q1") == []


def test_peer_group_distribution(con):
    rows = run(con, "peer_group_distribution")
    assert pick(rows, "period_label", "peer_group", "units", "min_total", "median_total", "max_total") == [
        ("2025-Q4", "communes", 6, 88.0, 93.0, 97.0), ("2025-Q4", "provincial_agencies", 4, 94.0, 98.0, 100.0),
        ("2026-Q1", "communes", 6, 91.0, 94.5, 99.0), ("2026-Q1", "provincial_agencies", 4, 97.0, 97.7, 99.9),
        ("2026-Q2", "communes", 6, 88.0, 97.0, 100.0), ("2026-Q2", "provincial_agencies", 4, 97.0, 98.0, 99.9)]


def test_indicators_losing_most_points(con):
    rows = run(con, "indicators_losing_most_points", period_label="2026-Q2", peer_group="communes")
    assert pick(rows, "indicator_id", "points_lost", "units_below_max") == [
        ("5.2", 6.0, 1), ("5.3", 6.0, 1), ("2.1", 4.0, 2), ("3.6", 3.0, 1), ("3.FO", 3.0, 1), ("4.4", 2.0, 1)]


def test_civil_service_tables_read_the_latest_publication_of_the_year(con):
    levels = run(con, "civil_service_level_distribution", year=2026)
    assert pick(levels, "unit_code", "task_group", "xs_count", "total_count", "xs_share_pct",
                "period_label_published", "publication_version") == [
        ("S01", "chuyen_mon", 2, 12, 16.67, "2026-Q2", 2), ("S01", "hanh_chinh", 1, 5, 20.0, "2026-Q2", 2),
        ("S02", "chuyen_mon", 2, 14, 14.29, "2026-Q2", 2)]
    assert levels[0]["unit_name"] == "Sở Nội vụ"
    assert pick(run(con, "civil_service_level_distribution", year=2025), "unit_code", "xs_count") == [("S01", 2)]
    quota = run(con, "civil_service_quota_usage", year=2026)
    assert pick(quota, "unit_code", "task_group", "demoted", "review_flag") == [
        ("S01", "chuyen_mon", 2, False), ("S02", "chuyen_mon", 1, True)]
    agencies = run(con, "agency_ranking", year=2026)
    assert pick(agencies, "rank_in_peer_group", "unit_code", "s_points", "level") == [
        (1, "S01", 92.0, "XS"), (2, "S02", 91.0, "XS"), (3, "S03", 66.0, "HT"), (4, "TTPV", 50.0, "HT")]


def test_publication_history_and_restatement(con):
    history = run(con, "publication_history")
    assert pick(history, "period_label", "version", "units_changed", "is_latest") == [
        ("2025-Q4", 1, 0, True), ("2026-Q1", 1, 0, True), ("2026-Q2", 1, 0, False), ("2026-Q2", 2, 1, True)]
    changes = run(con, "restatement_changes", period_label="2026-Q2")
    assert pick(changes, "unit_code", "earlier_total", "newest_total", "earlier_rank", "newest_rank") == [
        ("10005", 94.0, 97.0, 5, 3), ("10006", 95.0, 95.0, 4, 5)]
    assert run(con, "restatement_changes", period_label="2026-Q1") == []


def test_queries_file_is_parsed_with_typed_parameters():
    assert QUERIES["top_and_bottom_per_peer_group"].example_params == {"period_label": "2026-Q2", "n": 2}
    assert QUERIES["unit_trend"].example_params == {"unit_code": "10005"}
