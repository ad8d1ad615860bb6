"""The quality gate's faster paths find what the straightforward ones found.

The anomaly rules count several ratios of a feed in one pass, take example rows from a top-n aggregate,
and the gate keeps the findings of a quarter's loads for the candidate gate's report; the GX checkpoint runs
in an in-memory context and builds its Data Docs once. Each test plants something and checks that it is
still found, with the rows a steward would open.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines.home import Home
from pipelines.periods import parse_period
from pipelines.quality.gate import run_candidate_gate, run_contract_gate
from pipelines.settings import Settings
from pipelines.stewardship.anomalies import Finding, find_anomalies, load_findings, load_rules, store_findings
from tests.test_stewardship import PERIOD, _bounds, generate_clean, plant, source_file, write_warehouse

RULE_VERSION = "766-portal"
DOCS = Path("gx", "gx", "uncommitted", "data_docs", "local_site", "index.html")


def _plant_late_unit(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """U16 finishes nine in ten of its quarter's dossiers a day after their deadline (inside the quarter)."""
    d = frames["dossiers"].copy()
    end = pd.Timestamp(_bounds(PERIOD)[1])
    rows = d.index[(d["_period_label"] == PERIOD) & (d["unit_code"] == "U16") & d["finished_at"].notna()
                   & (d["due_at"] + pd.Timedelta(days=1) < end)]
    late = rows[: int(0.9 * len(rows))]
    d.loc[late, "finished_at"] = d.loc[late, "due_at"] + pd.Timedelta(days=1)
    d.loc[late, "returned_at"] = pd.NaT
    d.loc[late, "status"] = "finished"
    return {**frames, "dossiers": d}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory):
    frames, planted = plant(generate_clean())
    path = tmp_path_factory.mktemp("gate_speed") / "working.duckdb"
    con = write_warehouse(path, _plant_late_unit(frames))
    yield con, planted, path
    con.close()


@pytest.fixture(scope="module")
def findings(warehouse) -> list[Finding]:
    return find_anomalies(warehouse[0], PERIOD)


def _first_rows(con: duckdb.DuckDBPyConnection, unit: str, condition: str, limit: int = 5) -> list[dict]:
    rows = con.execute(
        f"select _source_file, _row_number, dossier_id from raw.dossiers"
        f" where _load_id = 'dossiers-{PERIOD}' and unit_code = ? and {condition}"
        f" order by _source_file, _row_number limit {limit}", [unit]).fetchall()
    return [{"file": f, "row": r, "id": i} for f, r, i in rows]


def test_two_ratios_of_one_feed_counted_in_one_pass(warehouse, findings) -> None:
    con, _, _ = warehouse
    jumps = {(f.unit_code, f.metric): f for f in findings if f.finding_code == "ratio_jump"}
    assert set(jumps) == {("U07", "online_share"), ("U16", "on_time_share")}
    start, end = _bounds(PERIOD)
    in_quarter = f"finished_at >= '{start}' and finished_at < '{end}'"
    on_time = con.execute(
        f"select avg((finished_at <= due_at)::int) from raw.dossiers where _load_id = 'dossiers-{PERIOD}'"
        f" and unit_code = 'U16' and {in_quarter}").fetchone()[0]
    late = jumps[("U16", "on_time_share")]
    assert late.value == pytest.approx(on_time)
    assert late.value < 0.15 < late.reference_value
    # The examples are the unit's first on-time rows of the quarter, in file and row order.
    assert late.examples == _first_rows(con, "U16", f"{in_quarter} and finished_at <= due_at")
    online = jumps[("U07", "online_share")]
    received = f"received_at >= '{start}' and received_at < '{end}' and channel = 'online'"
    assert online.examples == _first_rows(con, "U07", received)


def test_copied_and_shared_dossiers_still_found(warehouse, findings) -> None:
    _, planted, _ = warehouse
    copied = {f.unit_code: f for f in findings if f.finding_code == "dossier_copied_across_units"}
    assert set(copied) == {"U13", "U14"}
    assert copied["U13"].value == 2.0
    assert {e["id"] for e in copied["U13"].examples} == set(planted["U13"]) | set(planted["U14"])
    shared = {f.unit_code: f for f in findings if f.finding_code == "dossier_id_in_two_units"}
    assert set(shared) == {"U09", "U10"}
    assert {e["id"] for e in shared["U10"].examples} == set(planted["U10"])
    assert {e["file"] for e in shared["U09"].examples} == {source_file("dossiers", PERIOD)}


def test_stored_findings_are_reused_only_for_the_same_loads_and_rules(tmp_path: Path, warehouse,
                                                                     findings) -> None:
    con, _, path = warehouse
    copy = tmp_path / "working.duckdb"
    con.execute("checkpoint")
    copy.write_bytes(path.read_bytes())
    other = duckdb.connect(str(copy))
    try:
        rules = load_rules()
        store_findings(other, PERIOD, findings, rules)
        assert load_findings(other, PERIOD, rules) == findings
        assert load_findings(other, "2025-Q4", rules) is None
        stricter = load_rules()
        stricter.rules["identical_ratings"]["min_ratings"] = 1000
        assert load_findings(other, PERIOD, stricter) is None
        # A re-delivered file is a new current load: the findings must be computed again.
        other.execute("update meta.loads set is_current = false where load_id = ?", [f"ratings-{PERIOD}"])
        assert load_findings(other, PERIOD, rules) is None
    finally:
        other.close()


def _candidate(con: duckdb.DuckDBPyConnection) -> None:
    """A scored candidate of 20 units in one peer group, with U02's rank wrong."""
    units = [f"U{i:02d}" for i in range(1, 21)]
    index = pd.DataFrame({
        "unit_code": units, "period_label": PERIOD, "rule_version": RULE_VERSION, "peer_group": "commune",
        "g1_points": 10.0, "g2_points": 20.0, "g3_points": 15.0, "g4_points": 5.0, "g4a_points": 3.0,
        "g4b_points": 2.0, "g5_points": [float(30 - i) for i in range(20)]})
    index["total_points"] = index[["g1_points", "g2_points", "g3_points", "g4_points", "g5_points"]].sum(axis=1)
    index["total_points_display"] = index["total_points"]
    index["rank_in_peer_group"] = range(1, 21)
    index.loc[1, "rank_in_peer_group"] = 7
    index["peer_group_size"] = 20
    points = pd.DataFrame({"unit_code": units, "indicator_id": "1.1", "points": 2.0, "max_points": 2.0,
                           "ratio_pct": 100.0, "period_label": PERIOD, "rule_version": RULE_VERSION})
    con.execute("create schema if not exists marts")
    con.register("idx", index)
    con.register("pts", points)
    con.execute("create or replace table marts.unit_service_index as select * from idx")
    con.execute("create or replace table marts.service_indicator_points as select * from pts")
    con.unregister("idx")
    con.unregister("pts")


def test_both_gates_record_the_same_checks_and_write_report_and_docs(tmp_path: Path, warehouse,
                                                                     findings) -> None:
    con, _, path = warehouse
    con.execute("checkpoint")
    home = Home(tmp_path / "home")
    home.warehouse_dir.mkdir(parents=True)
    home.working_db.write_bytes(path.read_bytes())
    settings = Settings(required_quarter_feeds=("dossiers",), service_index_rule_version=RULE_VERSION)
    period = parse_period(PERIOD)
    gate_con = duckdb.connect(str(home.working_db))
    try:
        contract = run_contract_gate(gate_con, home, period, settings, "run-1")
        anomaly = [r for r in contract if r.source == "anomaly" and not r.passed]
        assert len(anomaly) == len(findings) == 14
        assert {r.severity for r in anomaly} == {"warn"}
        # The fixture's rejected feedback file blocks; the findings only warn.
        assert [r.check_name for r in contract if r.blocks] == ["no_rejected_files"]
        report = home.report_dir(PERIOD) / "quality.html"
        assert "U16" in report.read_text(encoding="utf-8")

        _candidate(gate_con)
        candidate, docs = run_candidate_gate(gate_con, home, period, settings, "run-1")
        blocking = [r.check_name for r in candidate if r.blocks]
        assert blocking == ["unit_service_index:expect_column_pair_values_to_be_equal:"
                            "rank_in_peer_group_expected_rank"]
        assert [r.check_name for r in candidate if r.source == "reconciliation"] == ["every_unit_scored_once"]
        assert len([r for r in candidate if r.source == "gx"]) == 12  # no group maxima seeded here
        assert docs == home.report_dir(PERIOD) / DOCS
        site = docs.read_text(encoding="utf-8")
        assert f"unit_service_index_{PERIOD}" in site and f"service_indicator_points_{PERIOD}" in site
        html = report.read_text(encoding="utf-8")
        # The candidate gate's report still shows the contract gate's findings and its own failure.
        assert "U16" in html and "rank_in_peer_group_expected_rank" in html
        assert 'href="gx/gx/uncommitted/data_docs/local_site/index.html"' in html
        stored = gate_con.execute("select count(*) from meta.anomaly_findings where period_label = ?",
                                  [PERIOD]).fetchone()[0]
        assert stored == 1
    finally:
        gate_con.close()
