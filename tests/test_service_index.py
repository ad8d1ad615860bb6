"""Decision 766 service index: dbt scoring checked against the worked examples of spec service-index-766 §10.

The raw deliveries come from fixtures/scenario_766.py. dbt runs once per module on a copy of the project
whose rule seeds gain two test-only rule versions (alternative policies), so the default and alternative
readings are computed side by side:
- `766-test-alt`: denominator_zero_policy = exclude_and_rescale, round_before_rank = false,
  feedback_deadline_basis = working_days (the alternative; the default is feed_due_at);
- `766-test-full`: denominator_zero_policy = full_points.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from fixtures import scenario_766
from fixtures.raw_766 import create_raw_tables

ROOT = Path(__file__).resolve().parents[1]
DBT = Path(sys.executable).parent / "dbt"
SELECTOR = "+path:models/marts/service_index"
BUILD: dict[str, Path] = {}
TEST_VERSIONS = {
    "766-test-alt": {
        "denominator_zero_policy": "exclude_and_rescale",
        "round_before_rank": "false",
        "feedback_deadline_basis": "working_days",
    },
    "766-test-full": {"denominator_zero_policy": "full_points"},
}


def _add_test_rule_versions(seed_dir: Path) -> None:
    """Append copies of the 766-portal rows under the test versions, with their parameter overrides."""
    for path in sorted(seed_dir.glob("rule_766_*.csv")):
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames or []
            rows = list(reader)
        extra = []
        for version, overrides in TEST_VERSIONS.items():
            for row in rows:
                if row["rule_version"] != "766-portal":
                    continue
                copy = {**row, "rule_version": version}
                if "is_default" in copy:
                    copy["is_default"] = "false"
                if "param_key" in copy and copy["param_key"] in overrides:
                    copy["param_value"] = overrides[copy["param_key"]]
                extra.append(copy)
        with path.open("a", newline="", encoding="utf-8") as handle:
            csv.DictWriter(handle, fieldnames=fields, lineterminator="\n").writerows(extra)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Build the scenario's raw tables, run `dbt build` on the 766 models once, return a read-only connection."""
    tmp = tmp_path_factory.mktemp("svc766")
    project = tmp / "dbt_project"
    shutil.copytree(
        ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml")
    )
    _add_test_rule_versions(project / "seeds" / "rules")
    db_path = tmp / "working.duckdb"
    con = duckdb.connect(str(db_path))
    create_raw_tables(con)
    scenario_766.build(con)
    con.close()
    env = {
        **os.environ,
        "CHAMDIEM_WAREHOUSE": str(db_path),
        "DBT_PROFILES_DIR": str(project),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(DBT),
            "build",
            "--select",
            SELECTOR,
            "--target-path",
            str(tmp / "target"),
            "--log-path",
            str(tmp / "logs"),
            "--no-partial-parse",
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    run_results = json.loads((tmp / "target" / "run_results.json").read_text())
    con = duckdb.connect(str(db_path), read_only=True)
    BUILD["target"] = tmp / "target"
    con.execute("create temp table run_results (unique_id varchar, status varchar)")
    con.executemany(
        "insert into run_results values (?, ?)",
        [(r["unique_id"], r["status"]) for r in run_results["results"]],
    )
    yield con
    con.close()


def _indicators(con, unit: str, period: str = "2026-Q1", version: str = "766-portal") -> dict[str, tuple]:
    rows = con.execute(
        """
        select indicator_id, numerator, denominator, ratio_pct, points, is_applicable, is_denominator_zero
        from marts.service_indicator_points
        where unit_code = ? and period_label = ? and rule_version = ?
        """,
        [unit, period, version],
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _index_row(con, unit: str, period: str = "2026-Q1", version: str = "766-portal") -> dict:
    cur = con.execute(
        "select * from marts.unit_service_index where unit_code = ? and period_label = ? and rule_version = ?",
        [unit, period, version],
    )
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, (unit, period, version, rows)
    return dict(zip(names, rows[0], strict=True))


# §10.2: N, D, R (%), P per indicator of the province-level unit
EXAMPLE_10_2 = {
    "1.1": (42, 45, 93.33, 5.60),
    "1.2": (18, 20, 90.00, 3.60),
    "1.3": (240, 250, 96.00, 1.92),
    "1.4": (950, 1000, 95.00, 5.70),
    "2.1": (968, 1000, 96.80, 19.36),
    "4.1": (170, 200, 85.00, 5.10),
    "4.2": (600, 1000, 60.00, 3.00),
    "4.CC": (50, 100, 50.00, 1.00),
    "4.3": (880, 1000, 88.00, 2.00),
    "4.4": (400, 1000, 40.00, 1.60),
    "4.5b": (700, 1000, 70.00, 1.40),
    "4.5a": (120, 120, 100.00, 2.00),
    "3.FO": (270, 600, 45.00, 5.40),
    "3.1": (850, 1000, 85.00, 0.00),
    "3.5": (70, 100, 70.00, 1.75),
    "3.5b": (64, 100, 64.00, 1.60),
    "3.6": (300, 1000, 30.00, 1.80),
    "5.2": (92, 100, 92.00, 5.52),
    "5.3": (85, 100, 85.00, 5.10),
    "5.4": (810, 1000, 81.00, 5.40),
}


@pytest.mark.parametrize("indicator_id", sorted(EXAMPLE_10_2))
def test_worked_example_10_2_indicators(warehouse, indicator_id: str) -> None:
    numerator, denominator, ratio, points = EXAMPLE_10_2[indicator_id]
    got = _indicators(warehouse, "P_B")[indicator_id]
    assert got[0] == numerator and got[1] == denominator
    assert round(got[2], 2) == ratio
    assert got[3] == pytest.approx(points, abs=1e-9)


def test_worked_example_10_2_groups_and_total(warehouse) -> None:
    row = _index_row(warehouse, "P_B")
    expected = {
        "g1_points": 16.82,
        "g2_points": 19.36,
        "g3_points": 16.10,
        "g4a_points": 5.40,
        "g4b_points": 5.15,
        "g4_points": 10.55,
        "g5_points": 16.02,
        "total_points": 78.85,
    }
    for column, value in expected.items():
        assert row[column] == pytest.approx(value, abs=1e-9), column
    assert row["total_points_display"] == 78.85
    assert row["admin_level"] == "province" and row["period_type"] == "quarter"
    assert str(row["period_start"]) == "2026-01-01" and str(row["period_end"]) == "2026-03-31"


def test_decision_version_shows_g4_as_one_group(warehouse) -> None:
    row = _index_row(warehouse, "P_B", version="766-decision")
    assert row["g4_points"] == pytest.approx(10.55)
    assert row["g4a_points"] is None and row["g4b_points"] is None
    assert row["total_points"] == pytest.approx(78.85)


def test_monitor_indicators_score_nothing(warehouse) -> None:
    got = _indicators(warehouse, "P_B")
    # 2.2: average processing days over the dossiers finished in the quarter, shown but not scored
    assert got["2.2"][3] == 0 and got["2.2"][2] > 0
    assert got["5.1"][0] == 100 and got["5.1"][1] is None and got["5.1"][3] == 0
    assert got["3.3"][3] == 0 and got["3.2"][3] == 0


@pytest.mark.parametrize(
    ("unit", "indicator_id", "ratio", "points"),
    [
        ("P_E2", "3.5b", 85.0, 2.00),  # §10.1 #5: capped at target 80
        ("P_E3", "5.4", 95.0, 6.00),  # §10.1 #7: 100 - (3 + 2), above target 90
        ("P_B", "3.5b", 64.0, 1.60),  # §10.1 #4
        ("P_B", "4.2", 60.0, 3.00),  # §10.1 #6
        ("P_B", "5.4", 81.0, 5.40),  # §10.1 #8
    ],
)
def test_worked_examples_10_1(warehouse, unit: str, indicator_id: str, ratio: float, points: float) -> None:
    got = _indicators(warehouse, unit)[indicator_id]
    assert got[2] == pytest.approx(ratio) and got[3] == pytest.approx(points)


def test_commune_without_feedback_zero_points_default(warehouse) -> None:
    got = _indicators(warehouse, "C_K1")
    for indicator_id in ("5.2", "5.3"):
        assert got[indicator_id][1] == 0 and got[indicator_id][2] is None and got[indicator_id][5] is True
        assert got[indicator_id][3] == 0
    assert got["5.4"][3] == pytest.approx(5.40)
    assert _index_row(warehouse, "C_K1")["g5_points"] == pytest.approx(5.40)


def test_commune_without_feedback_exclude_and_rescale(warehouse) -> None:
    got = _indicators(warehouse, "C_K1", version="766-test-alt")
    assert got["5.2"][3] is None and got["5.3"][3] is None
    assert _index_row(warehouse, "C_K1", version="766-test-alt")["g5_points"] == pytest.approx(16.20)


def test_commune_without_feedback_full_points(warehouse) -> None:
    assert _index_row(warehouse, "C_K1", version="766-test-full")["g5_points"] == pytest.approx(6 + 6 + 5.40)


def test_commune_not_applicable_rescales_g1(warehouse) -> None:
    got = _indicators(warehouse, "C_K1")
    assert got["1.1"][3] == pytest.approx(5.60) and got["1.4"][3] == pytest.approx(5.70)
    for indicator_id in ("1.2", "1.3"):
        assert got[indicator_id][4] is False and got[indicator_id][3] is None
    assert _index_row(warehouse, "C_K1")["g1_points"] == pytest.approx(16.95)


def test_ranking_unit_tests_passed(warehouse) -> None:
    """§10.4 is checked by the dbt unit tests on unit_service_index (80.104, 78.85, 78.846, 75.00)."""
    statuses = dict(
        warehouse.execute(
            "select unique_id, status from run_results where unique_id like 'unit_test.%unit_service_index%'"
        ).fetchall()
    )
    assert len(statuses) == 2 and set(statuses.values()) == {"pass"}, statuses


def test_rank_and_previous_rank(warehouse) -> None:
    # 2025-Q4: P_E4 has dossiers, P_B none (the earliest units and procedures snapshot applies); 2026-Q1 the
    # other way round
    assert _index_row(warehouse, "P_E4", "2025-Q4")["rank_in_peer_group"] == 1
    b = _index_row(warehouse, "P_B")
    assert (b["rank_in_peer_group"], b["peer_group_size"], b["previous_rank"], b["rank_change"]) == (1, 2, 2, 1)
    # no dossiers in 2025-Q4, but the procedure catalogue scores: 1.3 = 2 x 220 / 230, 3.5 = 2 x 70 / 80, 4.5a = 2
    assert b["previous_total_points"] == pytest.approx(2 * 220 / 230 + 1.75 + 2)
    e4 = _index_row(warehouse, "P_E4")
    assert (e4["rank_in_peer_group"], e4["rank_change"]) == (2, -1)


def test_fallback_denominator_1_4(warehouse) -> None:
    # P_E4 received 40 dossiers in 2025 and none in 2026-Q1: D = 40 x 3 / 12 = 10, N = 0
    got = _indicators(warehouse, "P_E4")["1.4"]
    assert (got[0], got[1], got[2], got[4], got[5]) == (0, 10, 0, True, False)
    # no data for the year before 2025: plain zero denominator
    assert _indicators(warehouse, "P_E4", "2025-Q1")["1.4"][1] == 10


def test_year_sums_quarters(warehouse) -> None:
    got = _indicators(warehouse, "P_E4", "2025")["2.1"]
    assert (got[0], got[1]) == (39, 40) and got[3] == pytest.approx(20 * 0.975)
    full_year = _index_row(warehouse, "P_E4", "2025")
    assert full_year["period_type"] == "year" and full_year["is_partial"] is False
    partial = _index_row(warehouse, "P_B", "2026")
    assert partial["is_partial"] is True and partial["rank_in_peer_group"] is None
    assert partial["total_points"] == pytest.approx(78.85)


def test_old_quarter_keeps_its_delivered_state(warehouse) -> None:
    assert _indicators(warehouse, "P_S1", "2025-Q4")["2.1"][:2] == (1, 1)
    # the 2026-Q1 file says the dossier ended in December; the superseded load is never read
    assert _indicators(warehouse, "P_S1")["2.1"][:2] == (0, 0)


def test_feedback_deadline_in_working_days_across_tet(warehouse) -> None:
    calendar = dict(
        warehouse.execute(
            """
            select cast(calendar_date as varchar), working_day_number
            from intermediate.int_766_working_day_calendar
            where calendar_date in ('2026-02-13', '2026-03-13', '2026-02-17', '2026-02-16')
            """
        ).fetchall()
    )
    assert calendar["2026-03-13"] - calendar["2026-02-13"] == 15
    assert calendar["2026-02-17"] == calendar["2026-02-13"]  # Tết days are not working days
    # default (feed_due_at): the source system's deadline per item decides; working_days kept as the alternative
    assert _indicators(warehouse, "P_T1")["5.2"][:2] == (2, 5)
    assert _indicators(warehouse, "P_T1", version="766-test-alt")["5.2"][:2] == (3, 5)


def test_feedback_deadline_basis_defaults_to_feed_due_at(warehouse) -> None:
    """Both rule versions read the deadline the source set (it reflects refusal 2, supplement 5, ... days)."""
    rows = warehouse.execute(
        "select distinct rule_version, feedback_deadline_basis from intermediate.int_766_rule_periods "
        "where rule_version in ('766-portal', '766-decision') order by 1").fetchall()
    assert rows == [("766-decision", "feed_due_at"), ("766-portal", "feed_due_at")]


def test_compensatory_saturday_is_a_working_day(warehouse) -> None:
    rows = dict(
        warehouse.execute(
            """
            select cast(calendar_date as varchar), is_working_day from intermediate.int_766_working_day_calendar
            where calendar_date in ('2025-04-26', '2025-05-02', '2025-01-29')
            """
        ).fetchall()
    )
    assert rows == {"2025-04-26": True, "2025-05-02": False, "2025-01-29": False}


def test_marts_are_unique_and_complete(warehouse) -> None:
    duplicates = warehouse.execute(
        """
        select count(*) from (
            select rule_version, period_label, unit_code, indicator_id from marts.service_indicator_points
            group by all having count(*) > 1)
        """
    ).fetchone()[0]
    assert duplicates == 0
    periods = warehouse.execute("select distinct period_label from marts.unit_service_index order by 1").fetchall()
    assert [p[0] for p in periods] == ["2025", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026", "2026-Q1"]


def test_not_null_columns_names_each_empty_column_and_its_count(warehouse) -> None:
    """The folded not-null test passes on the built mart and, on a copy with planted NULLs, returns one row per
    empty column with the number of rows that leave it empty."""
    compiled = next(
        text for path in BUILD["target"].glob("compiled/**/not_null_columns_unit_service_*.sql")
        if '"unit_service_index"' in (text := path.read_text())
    )
    statuses = warehouse.execute(
        "select distinct status from run_results where unique_id like 'test.%.not_null_columns_%'"
    ).fetchall()
    assert statuses == [("pass",)]
    relation = compiled.split("from ", 1)[1].split()[0]
    warehouse.execute(f"create or replace temp table planted as select * from {relation}")
    warehouse.execute("update planted set unit_code = null where rowid < 3")
    warehouse.execute("update planted set peer_group = null where rowid = 5")
    rows = warehouse.execute(compiled.replace(relation, "planted")).fetchall()
    assert sorted(rows) == [("peer_group", 1), ("unit_code", 3)]


def test_average_processing_time_is_in_days_and_never_negative(warehouse) -> None:
    got = _indicators(warehouse, "P_D2")
    numerator, denominator, ratio = got["2.2"][:3]
    assert (numerator, denominator) == (pytest.approx(16.0), 10)
    assert ratio == pytest.approx(1.6)
    kind = warehouse.execute(
        "select distinct ratio_kind from marts.service_indicator_points where indicator_id = '2.2'").fetchall()
    assert kind == [("average",)]
