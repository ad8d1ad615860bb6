"""Decree 335/2025 ratings: the worked examples of spec §4.13 and §5, against the Python reference and through
dbt on a hand-made warehouse (tests/ratings335_fixture.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import duckdb
import pytest
import ratings335_fixture as fixture

from pipelines import ratings335 as r

DBT_PROJECT = Path(__file__).resolve().parents[1] / "dbt_project"
DBT = Path(__file__).resolve().parents[1] / ".venv" / "bin" / "dbt"

EXAMPLE_A = [
    r.WorkLine(k=1.0, assigned=4, completed=4, quality_fails=1, delays=1),
    r.WorkLine(k=2.5, assigned=2, completed=1),
    r.WorkLine(k=0.5, assigned=10, completed=10),
]

# (T0, N90, reading 1, reading 2, reading 1 with the 25% exception) — spec §4.13 Example D
EXAMPLE_D = [
    (12, 5, 2, 2, 3),
    (4, 6, 1, 0, 2),
    (0, 3, 0, 0, 0),
    (10, 2, 2, 2, 2),
    (25, 10, 5, 5, 7),
]


# --- the Python reference ----------------------------------------------------------------------------------


def test_example_a_reference() -> None:
    total_a, a, b, c = r.task_ratios(EXAMPLE_A)
    assert total_a == 14.0
    assert a == pytest.approx(82.142857, abs=1e-6)
    assert b == pytest.approx(80.357143, abs=1e-6)
    assert c == pytest.approx(80.357143, abs=1e-6)
    t = r.task_score(a, b, c)
    assert t == pytest.approx(80.952381, abs=1e-6)
    assert r.part2(t) == pytest.approx(56.666667, abs=1e-6)
    s = r.period_score(26, EXAMPLE_A)
    assert round(s, 2) == 82.67
    assert r.classify(s) == "T"


def test_compound_deduction_differs_from_linear() -> None:
    compound = r.Params(deduction_mode="compound")
    assert r.deduction_factor(2) == 0.5
    assert r.deduction_factor(2, compound) == pytest.approx(0.5625)
    assert r.deduction_factor(5) == 0.0  # linear has a floor of 0
    # two events on a single completed unit: linear keeps 0.5 of it, compound 0.5625
    assert r.spread_points(1, 2) == 0.5
    assert r.spread_points(1, 2, compound) == pytest.approx(0.5625)
    # bundles spread events one per unit first: 4 units, 2 events -> 2 × 1 + 2 × 0.75
    assert r.spread_points(4, 2) == 3.5


def test_exempt_events_are_not_counted() -> None:
    _, a, b, c = r.task_ratios([r.WorkLine(k=1, assigned=4, completed=4, quality_fails=3, delays=2, exempt=True)])
    assert (a, b, c) == (100.0, 100.0, 100.0)


def test_nothing_assigned_is_insufficient_data() -> None:
    assert r.task_ratios([]) == (0.0, None, None, None)
    assert r.period_score(30, []) is None
    assert r.yearly_score([None, None]) is None
    assert r.yearly_score([None, 80.0, 90.0]) == 85.0


def test_example_b_reference() -> None:
    head_d = r.leader_d([39.0, 87.666667, 95.0])
    assert head_d == 50.0
    head = 28 + r.part2(r.task_score(100, 100, 100, (head_d, 100, 100)))
    assert r.task_score(100, 100, 100, (50, 100, 100)) == pytest.approx(91.666667, abs=1e-6)
    assert head == pytest.approx(92.166667, abs=1e-6)
    deputy_d = r.leader_d([95.0, None])  # insufficient subordinate ignored
    assert deputy_d == 100.0
    deputy = 27 + r.part2(r.task_score(95, 90, 85, (deputy_d, 50, 100)))
    assert r.part2(r.task_score(95, 90, 85, (100, 50, 100))) == pytest.approx(60.666667, abs=1e-6)
    assert deputy == pytest.approx(87.666667, abs=1e-6)
    assert r.leader_d([None], declared=50.0) == 50.0
    assert r.leader_d([]) == 100.0


def test_example_c_reference() -> None:
    y = r.yearly_score([85.20, 90.10, 88.75, 92.40])
    assert y == pytest.approx(89.1125)
    assert r.classify(y) == "T"  # not XS although two quarters were >= 90


def test_classification_rounding_option() -> None:
    assert r.classify(89.995) == "T"
    assert r.classify(89.995, r.Params(classification_rounding="2dp")) == "XS"
    assert r.classify(356.45 / 4) == "T"
    assert r.classify(69.99999999999999) == "T"  # float noise removed by the 6-decimal guard
    assert r.classify(50.0) == "HT" and r.classify(49.99) == "KHT"


@pytest.mark.parametrize(("t0", "n90", "reading1", "reading2", "exception"), EXAMPLE_D)
def test_example_d_reference(t0: int, n90: int, reading1: int, reading2: int, exception: int) -> None:
    assert r.quota_x_max(t0, n90, 20, "final_tot") == reading1
    assert r.quota_x_max(t0, n90, 20, "original_tot") == reading2
    assert r.quota_x_max(t0, n90, 25, "final_tot") == exception


def test_example_e_reference() -> None:
    assert r.period_score(25, [r.WorkLine(1, 1, 1)]) == 95.0
    assert r.period_score(25, [r.WorkLine(1, 5, 1)]) == pytest.approx(39.0)
    assert r.classify(r.period_score(25, [r.WorkLine(1, 5, 1)])) == "KHT"
    assert r.period_score(25, [r.WorkLine(1, 5, 0)]) == 25.0
    assert r.classify(r.period_score(30, [r.WorkLine(1, 5, 5)])) == "XS"


def test_quota_selection_tie_rules() -> None:
    cands = [r.Candidate("a", 100, 70, 30), r.Candidate("b", 95, 70, 25), r.Candidate("c", 95, 70, 25)]
    tied = r.select_quota(cands, 2)
    assert tied.kept == ["a"] and sorted(tied.demoted) == ["b", "c"] and tied.manual_review
    cands[2] = r.Candidate("c", 95, 65, 30)
    broken = r.select_quota(cands, 2)
    assert broken.kept == ["a", "b"] and broken.demoted == ["c"]
    assert broken.tie_break_review and not broken.manual_review


def test_overrides_reference() -> None:
    assert r.override_codes(95, disciplined=True) == ["OVR_C_DISCIPLINE"]
    assert r.override_codes(95, unit_corruption=True, is_leader=False) == []
    assert r.override_codes(95, unit_corruption=True, is_leader=True) == ["OVR_D_UNIT_CORRUPTION"]
    assert r.override_codes(80, period_scores=[40, 120]) == []
    assert r.override_codes(80, period_scores=[40], p=r.Params(kht_any_period_below_50=True)) == [
        "OVR_A_SCORE_BELOW_50"]
    assert r.level_after_overrides(100, ["OVR_B_DEGRADATION"]) == "KHT"


def test_agency_reference() -> None:
    g = 25 + r.admin_reform_points(10, 12)
    assert g == 27.5
    part, s = r.agency_score(g, [75, 50, 90, 80])
    assert part == pytest.approx(51.625) and s == pytest.approx(79.125)
    part, s = r.agency_score(30, [100, 100, None, None])  # 766 not applicable: re-weighted
    assert s == 100.0
    assert r.cap_level("XS", "T") == "T" and r.cap_level("HT", "T") == "HT"


# --- through dbt --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Build the fixture warehouse and run `dbt build` once for the whole module."""
    root = tmp_path_factory.mktemp("ratings335")
    project = fixture.prepare_project(DBT_PROJECT, root / "dbt_project")
    db = root / "working.duckdb"
    fixture.build_warehouse(db, fixture.scenario())
    env = dict(os.environ)
    env.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_PROFILES_DIR": str(project),
                "CHAMDIEM_WAREHOUSE": str(db), "DO_NOT_TRACK": "1"})
    result = subprocess.run(
        [str(DBT), "build", "--select", "+path:models/marts/civil_service", "--indirect-selection", "cautious",
         "--target-path", str(root / "target"), "--log-path", str(root / "logs")],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


def test_real_766_marts_offer_the_columns_read(warehouse: duckdb.DuckDBPyConnection) -> None:
    """The stand-ins mimic the real 766 marts: every column int_agency_766_inputs reads must exist in them."""
    needed = {
        "unit_service_index": {"period_label", "period_type", "unit_code", "rule_version",
                               "is_default_rule_version", "g3_points", "g4_points", "g5_points"},
        "service_indicator_points": {"period_label", "period_type", "unit_code", "rule_version", "indicator_id",
                                     "ratio_pct"},
    }
    for name, columns in needed.items():
        stand_in = {d[0] for d in warehouse.execute(f"select * from marts.{name} limit 0").description}
        assert columns <= stand_in
        real = DBT_PROJECT / "models" / "marts" / "service_index" / f"{name}.sql"
        if real.exists():
            text = real.read_text(encoding="utf-8")
            missing = {c for c in columns if c not in text}
            assert not missing, f"{real} no longer provides {sorted(missing)}"


def _period(con: duckdb.DuckDBPyConnection, staff_id: str, label: str) -> dict:
    cur = con.execute("select * from marts.civil_servant_period_scores where staff_id = ? and period_label = ?",
                      [staff_id, label])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, (staff_id, label, rows)
    return dict(zip(names, rows[0], strict=True))


def _yearly(con: duckdb.DuckDBPyConnection, staff_id: str) -> dict:
    cur = con.execute("select * from marts.civil_servant_yearly_ratings where year = 2026 and staff_id = ?",
                      [staff_id])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, (staff_id, rows)
    return dict(zip(names, rows[0], strict=True))


def test_example_a_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    row = _period(warehouse, "A1", "2026-01")
    assert row["assigned_total_a"] == 14.0  # the superseded load of A1's January is not read
    assert row["a_pct"] == pytest.approx(82.142857, abs=1e-6)
    assert row["b_pct"] == pytest.approx(80.357143, abs=1e-6)
    assert row["c_pct"] == pytest.approx(80.357143, abs=1e-6)
    assert row["t_pct"] == pytest.approx(80.952381, abs=1e-6)
    assert row["part2_points"] == pytest.approx(56.666667, abs=1e-6)
    assert row["g_points"] == 26.0  # the self-assessment row is not added to the manager's
    assert round(row["s_points"], 2) == 82.67
    assert row["d_pct"] is None and row["rule_set"] == "nd335_2025" and row["engine_version"] == r.ENGINE_VERSION


def test_example_b_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    head = _period(warehouse, "HB", "2026-01")
    deputy = _period(warehouse, "DB", "2026-01")
    assert (head["d_pct"], head["dd_pct"], head["e_pct"]) == (50.0, 100.0, 100.0)
    assert head["t_pct"] == pytest.approx(91.666667, abs=1e-6)
    assert head["part2_points"] == pytest.approx(64.166667, abs=1e-6)
    assert round(head["s_points"], 2) == 92.17
    assert (deputy["a_pct"], deputy["b_pct"], deputy["c_pct"]) == (95.0, 90.0, 85.0)
    assert (deputy["d_pct"], deputy["dd_pct"], deputy["e_pct"]) == (100.0, 50.0, 100.0)
    assert deputy["part2_points"] == pytest.approx(60.666667, abs=1e-6)
    assert round(deputy["s_points"], 2) == 87.67
    levels = dict(warehouse.execute(
        "select staff_id, tree_height from intermediate.int_cs_period_scores where period_label = '2026-01' "
        "and staff_id in ('HB', 'DB', 'XB1', 'XB2')").fetchall())
    assert levels == {"XB1": 0, "XB2": 0, "DB": 1, "HB": 2}


def test_example_c_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    scores = [_period(warehouse, "C1", f"2026-Q{q}")["s_points"] for q in range(1, 5)]
    assert [round(s, 2) for s in scores] == [85.20, 90.10, 88.75, 92.40]
    row = _yearly(warehouse, "C1")
    assert row["y_score"] == pytest.approx(89.1125)
    assert row["periods_scored"] == 4
    assert row["preliminary_level"] == "T" and row["final_level"] == "T"
    assert row["reason_codes"] == "THRESHOLD_T"


def test_example_d_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    usage = {row[0]: row[1:] for row in warehouse.execute(
        "select task_group, t0, n90, x_max_reading1, x_max_reading2, x_max, xs_final, demoted, uses_exception "
        "from marts.civil_service_quota_usage where unit_code = 'UD'").fetchall()}
    for t0, n90, reading1, reading2, exception in EXAMPLE_D:
        got = usage[f"D{t0}_{n90}"]
        assert got[:2] == (t0, n90)
        if (t0, n90) == (25, 10):  # approved in rule_335_quota_exception: 25% instead of 20%
            assert got[2] == exception and got[3] == (25 * t0) // 100 and got[7] is True
        else:
            assert got[2:4] == (reading1, reading2) and got[7] is False
        assert got[5] == got[4] and got[6] == n90 - got[4]
    # the candidates with the highest Y keep XS
    kept = [row[0] for row in warehouse.execute(
        "select staff_id from marts.civil_servant_yearly_ratings where task_group = 'D12_5' and final_level = 'XS' "
        "order by staff_id").fetchall()]
    assert kept == ["D12_5_X00", "D12_5_X01"]
    demoted = _yearly(warehouse, "D12_5_X02")
    assert demoted["level_after_overrides"] == "XS" and demoted["final_level"] == "T"
    assert demoted["quota_demoted"] and "QUOTA_DEMOTED" in demoted["reason_codes"]
    assert demoted["quota_x_max_reading1"] == 2 and demoted["quota_reading_used"] == "final_tot"


def test_quota_ties_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert _yearly(warehouse, "TIE_X00")["final_level"] == "XS"
    for staff_id in ("TIE_X01", "TIE_X02"):
        row = _yearly(warehouse, staff_id)
        assert row["final_level"] == "T" and row["quota_review_flag"]
        assert "QUOTA_MANUAL_REVIEW" in row["reason_codes"]
    assert _yearly(warehouse, "BRK_X01")["final_level"] == "XS"
    brk = _yearly(warehouse, "BRK_X02")
    assert brk["final_level"] == "T" and "QUOTA_TIE_BREAK_REVIEW" in brk["reason_codes"]
    flags = dict(warehouse.execute(
        "select task_group, review_flag from marts.civil_service_quota_usage where unit_code = 'UD'").fetchall())
    assert flags["TIE"] and flags["BRK"] and not flags["D12_5"]


def test_example_e_and_overrides_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    assert _period(warehouse, "E1", "2026-01")["s_points"] == 95.0
    e2 = _yearly(warehouse, "E2")
    assert e2["y_score"] == pytest.approx(39.0) and e2["final_level"] == "KHT"
    assert e2["override_codes"] == "OVR_A_SCORE_BELOW_50"  # its 2025 warning does not count in 2026
    e3 = _yearly(warehouse, "E3")
    assert e3["y_score"] == 25.0 and e3["override_codes"] == "OVR_A_SCORE_BELOW_50"  # not a leader: no (d)
    e4 = _yearly(warehouse, "E4")
    assert e4["preliminary_level"] == "XS" and e4["override_codes"] == "OVR_C_DISCIPLINE"
    assert e4["final_level"] == "KHT"
    assert _yearly(warehouse, "E1")["override_codes"] == "OVR_B_DEGRADATION"
    he = _period(warehouse, "HE", "2026-01")
    assert (he["d_pct"], he["dd_pct"], he["e_pct"]) == (100.0, 50.0, 100.0)  # quarterly đ copied to January
    assert he["s_points"] == pytest.approx(30 + 0.7 * 550 / 6)
    head = _yearly(warehouse, "HE")
    assert head["override_codes"] == "OVR_D_UNIT_CORRUPTION" and head["final_level"] == "KHT"


def test_movers_insufficient_and_not_rated_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    mover = _yearly(warehouse, "M1")
    assert mover["rating_unit_code"] == "UB" and mover["units_served"] == 2
    assert mover["y_score"] == pytest.approx((86.0 + 100.0) / 2)
    assert _period(warehouse, "M1", "2026-01")["unit_code"] == "UA"
    feb = _period(warehouse, "I1", "2026-02")
    assert feb["is_insufficient_data"] and feb["s_points"] is None and feb["a_pct"] is None
    i1 = _yearly(warehouse, "I1")
    assert i1["periods_scored"] == 1 and i1["y_score"] == 90.0  # exempt events cost nothing
    n1 = _yearly(warehouse, "N1")
    assert n1["final_level"] is None and n1["not_rated_reason"] == "no_valid_period"
    assert warehouse.execute(
        "select count(*) from marts.civil_servant_yearly_ratings where staff_id = 'V1'").fetchone() == (0,)


def test_distribution_matches_yearly_rows_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    dist = warehouse.execute(
        "select xs_count, tot_count, ht_count, kht_count, not_rated_count, total_count "
        "from marts.civil_service_level_distribution where unit_code = 'UA' and task_group = 'ALL'").fetchone()
    assert dist == (0, 2, 0, 0, 1, 3)  # A1 T, I1 XS demoted by the quota (x_max 0), N1 not rated
    columns = {d[0] for d in warehouse.execute(
        "select * from marts.civil_service_level_distribution limit 0").description}
    assert not columns & {"staff_id", "full_name"}


def test_agency_ratings_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = {row[0]: row[1:] for row in warehouse.execute(
        "select unit_code, g_points, tasks_on_time_pct, tasks_quality_pct, dossiers_on_time_pct, satisfaction_pct, "
        "part2_points, s_points, level, rank_in_peer_group, uses_766, g_non_rubric_items "
        "from marts.agency_ratings").fetchall()}
    # the yearly 766 result of UA, default rule version (real 766 models, or the stand-ins where absent)
    g3, g4, g5, r21 = warehouse.execute(
        "select i.g3_points, i.g4_points, i.g5_points, p.ratio_pct from marts.unit_service_index as i "
        "join marts.service_indicator_points as p on p.period_label = i.period_label and p.unit_code = i.unit_code "
        "and p.rule_version = i.rule_version and p.indicator_id = '2.1' "
        "where i.unit_code = 'UA' and i.period_type = 'year' and i.period_label = '2026' "
        "and i.is_default_rule_version").fetchone()
    ua, ub = rows["UA"], rows["UB"]
    assert ua[0] == pytest.approx(25 + r.admin_reform_points(g3, g4))  # 5 × 5 declared + 5 × (G3 + G4) / 44
    assert ua[0] < 30 and ua[10] == 1 and ub[10] == 0  # UA's code outside the rubric adds nothing, is counted
    assert ua[1:3] == (75.0, 50.0)  # T4 late, T3 and T4 without quality, T5 cancelled
    assert ua[3] == pytest.approx(r21) and ua[4] == pytest.approx(100 * g5 / 18)
    part, s = r.agency_score(ua[0], [75.0, 50.0, r21, 100 * g5 / 18])
    assert ua[5] == pytest.approx(part) and ua[6] == pytest.approx(s)
    assert ua[7] == r.classify(s) and ua[9] is True
    # UB handles no procedures: the 766 items are re-weighted away, its declared admin-reform points stay
    assert ub[0] == 30.0 and ub[3] is None and ub[4] is None and ub[9] is False
    assert ub[6] == 100.0 and ub[7:9] == ("XS", 1) and ua[8] == 2


def test_agency_items_outside_rubric_listed_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    rows = warehouse.execute(
        "select unit_code, g_other_points, admin_reform_declared_points, g_non_rubric_items, g_non_rubric_codes "
        "from intermediate.int_agency_general_points where year = 2026 order by unit_code").fetchall()
    # codes are read in lower case
    assert rows == [("UA", 25.0, 4.0, 1, "g5-cchc-chuyen-doi-so"), ("UB", 25.0, 5.0, 0, None)]


def test_rule_versions_dbt(warehouse: duckdb.DuckDBPyConnection) -> None:
    params = warehouse.execute(
        "select rule_set, rule_version, worked_months_flag_below, quota_rate, deduction_mode, quota_reading "
        "from intermediate.int_cs_rule_params where year = 2026").fetchone()
    assert params == ("nd335_2025", 2, 3, 20, "linear", "final_tot")
    assert not _yearly(warehouse, "C1")["worked_months_flag"]  # 12 months
    assert _yearly(warehouse, "A1")["worked_months_flag"]  # 1 month < 3


def test_demo_agency_criteria_are_rubric_items() -> None:
    """The demo's agencies declare the rubric's own items, so G is not filled by codes the rating ignores."""
    import csv

    from pipelines.demo import names

    with (DBT_PROJECT / "seeds" / "rules" / "rule_335_agency_g_rubric.csv").open(encoding="utf-8") as f:
        items = {row["item_id"] for row in csv.DictReader(f)}
    assert set(names.AGENCY_CRITERIA) == items
