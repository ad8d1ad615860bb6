"""Stewardship: anomaly findings on a hand-built working warehouse, the quality report and the CLI command.

Three quarters of clean data for 20 units come from a seeded generator; each test plants anomalies into the
last quarter and checks that exactly those are found, with the right unit and rows, and that the clean data
yields no finding at all.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from pipelines.home import Home
from pipelines.periods import parse_period
from pipelines.stewardship.anomalies import Finding, find_anomalies, gate_results, load_rules

QUARTERS = ("2025-Q3", "2025-Q4", "2026-Q1")
PERIOD = "2026-Q1"
UNITS = [f"U{i:02d}" for i in range(1, 21)]
PROCEDURES = [f"1.00{1200 + i}" for i in range(12)]
LOAD_DELAY = timedelta(days=5, hours=9)  # files are loaded five days after the quarter ends, at 09:00

DDL = """
create schema if not exists meta;
create schema if not exists raw;
create table meta.loads (
    load_id varchar, feed varchar, period_label varchar, source_file varchar, file_name varchar,
    file_hash varchar, file_format varchar, rows_read bigint, rows_accepted bigint, rows_quarantined bigint,
    status varchar, reject_reason varchar, warnings varchar, loaded_at timestamp, is_current boolean
);
create table raw.dossiers (
    dossier_id varchar, procedure_code varchar, unit_code varchar, received_at timestamp, due_at timestamp,
    finished_at timestamp, returned_at timestamp, status varchar, channel varchar, online_full boolean,
    synced_national boolean, supplement_count bigint, supplement_days double, digitised boolean,
    e_result boolean, reused_data boolean, personal_store_linked boolean, population_db_used boolean,
    fee_amount double, paid_online boolean, certification_request boolean, certified_e_copy boolean,
    _load_id varchar, _period_label varchar, _source_file varchar, _file_hash varchar, _row_number bigint,
    _loaded_at timestamp
);
create table raw.feedback (
    feedback_id varchar, unit_code varchar, dossier_id varchar, category varchar, received_at timestamp,
    due_at timestamp, handled_at timestamp, likes bigint, dislikes bigint, is_repeat boolean,
    _load_id varchar, _period_label varchar, _source_file varchar, _file_hash varchar, _row_number bigint,
    _loaded_at timestamp
);
create table raw.ratings (
    rating_id varchar, dossier_id varchar, unit_code varchar, rated_at timestamp, rating varchar,
    _load_id varchar, _period_label varchar, _source_file varchar, _file_hash varchar, _row_number bigint,
    _loaded_at timestamp
);
create table raw.quarantine (
    load_id varchar, feed varchar, period_label varchar, source_file varchar, row_number bigint,
    column_name varchar, reason_code varchar, reason varchar, original_row varchar
);
"""


def _bounds(label: str) -> tuple[datetime, datetime]:
    period = parse_period(label)
    return datetime.combine(period.start, datetime.min.time()), datetime.combine(
        period.end + timedelta(days=1), datetime.min.time())


def loaded_at(label: str) -> datetime:
    return _bounds(label)[1] + LOAD_DELAY


def source_file(feed: str, label: str) -> str:
    return f"landing/{feed}/{label}/{feed}_{label}.csv"


def generate_clean(seed: int = 766) -> dict[str, pd.DataFrame]:
    """Three quarters of plausible service data: stable unit profiles, sampling noise only."""
    rng = np.random.default_rng(seed)
    base = rng.integers(90, 160, len(UNITS))
    online = rng.uniform(0.2, 0.6, len(UNITS))
    on_time = rng.uniform(0.75, 0.95, len(UNITS))
    unsat = rng.uniform(0.03, 0.12, len(UNITS))
    dossiers, ratings, feedback = [], [], []
    for label in QUARTERS:
        start, end = _bounds(label)
        days = (end - start).days
        for u, unit in enumerate(UNITS):
            n = int(base[u] * rng.normal(1.0, 0.06))
            day = rng.integers(0, days - 25, n)
            minute = rng.integers(7 * 60 + 30, 17 * 60, n)
            received = pd.to_datetime(start) + pd.to_timedelta(day, "D") + pd.to_timedelta(minute, "min")
            limit = rng.integers(5, 15, n)
            due = received.normalize() + pd.to_timedelta(limit, "D") + pd.Timedelta(hours=17)
            span = (due - received) / pd.Timedelta(minutes=1)
            late = rng.random(n) > on_time[u]
            finish_on_time = received + pd.to_timedelta((rng.uniform(0.05, 0.95, n) * (span - 5)).astype(int),
                                                        "min")
            finish_late = due + pd.to_timedelta(rng.integers(1, 6, n), "D") + pd.to_timedelta(
                rng.integers(1, 300, n), "min")
            finished = pd.Series(np.where(late, finish_late, finish_on_time)).astype("datetime64[us]")
            finished = finished.where(finished < pd.Timestamp(end))
            returned_flag = rng.random(n) < 0.5
            returned = (finished + pd.Timedelta(days=1)).where(returned_flag & (finished + pd.Timedelta(days=1)
                                                                                < pd.Timestamp(end)))
            status = np.where(finished.isna(), "processing", np.where(returned.notna(), "returned", "finished"))
            is_online = rng.random(n) < online[u]
            ids = [f"HS-{label}-{unit}-{i:05d}" for i in range(1, n + 1)]
            dossiers.append(pd.DataFrame({
                "dossier_id": ids,
                "procedure_code": np.array(PROCEDURES)[rng.integers(0, len(PROCEDURES), n)],
                "unit_code": unit,
                "received_at": received.astype("datetime64[us]"),
                "due_at": due.astype("datetime64[us]"),
                "finished_at": finished.to_numpy(),
                "returned_at": returned.to_numpy(),
                "status": status,
                "channel": np.where(is_online, "online", "direct"),
                "online_full": is_online & (rng.random(n) < 0.5),
                "synced_national": rng.random(n) < 0.95,
                "supplement_count": np.zeros(n, dtype=np.int64),
                "supplement_days": np.zeros(n),
                "digitised": rng.random(n) < 0.8,
                "e_result": rng.random(n) < 0.7,
                "reused_data": rng.random(n) < 0.3,
                "personal_store_linked": rng.random(n) < 0.3,
                "population_db_used": rng.random(n) < 0.5,
                "fee_amount": np.zeros(n),
                "paid_online": np.zeros(n, dtype=bool),
                "certification_request": np.zeros(n, dtype=bool),
                "certified_e_copy": np.zeros(n, dtype=bool),
                "_period_label": label,
            }))
            done = np.flatnonzero(finished.notna().to_numpy() & (rng.random(n) < 0.45))
            rated = finished.iloc[done] + pd.Timedelta(hours=2)
            keep = (rated < pd.Timestamp(end)).to_numpy()
            done, rated = done[keep], rated[keep]
            draw = rng.random(len(done))
            ratings.append(pd.DataFrame({
                "rating_id": [f"DG-{label}-{unit}-{i:05d}" for i in range(1, len(done) + 1)],
                "dossier_id": np.array(ids)[done],
                "unit_code": unit,
                "rated_at": rated.to_numpy(),
                "rating": np.where(draw < unsat[u], "unsatisfied",
                                   np.where(draw < unsat[u] + 0.3, "very_satisfied", "satisfied")),
                "_period_label": label,
            }))
            m = 3
            fb_received = pd.to_datetime(start) + pd.to_timedelta(rng.integers(0, days - 30, m), "D")
            feedback.append(pd.DataFrame({
                "feedback_id": [f"PAKN-{label}-{unit}-{i}" for i in range(1, m + 1)],
                "unit_code": unit,
                "dossier_id": None,
                "category": "procedure",
                "received_at": fb_received.astype("datetime64[us]"),
                "due_at": (fb_received + pd.Timedelta(days=20)).astype("datetime64[us]"),
                "handled_at": (fb_received + pd.Timedelta(days=3)).astype("datetime64[us]"),
                "likes": rng.integers(0, 4, m),
                "dislikes": rng.integers(0, 2, m),
                "is_repeat": False,
                "_period_label": label,
            }))
    return {"dossiers": pd.concat(dossiers, ignore_index=True),
            "ratings": pd.concat(ratings, ignore_index=True),
            "feedback": pd.concat(feedback, ignore_index=True)}


def write_warehouse(path: Path, frames: dict[str, pd.DataFrame]) -> duckdb.DuckDBPyConnection:
    """One current load per feed and quarter with full lineage, plus a superseded earlier delivery, a
    rejected file and two quarantined rows (which no finding may read)."""
    con = duckdb.connect(str(path))
    con.execute(DDL)
    loads = []
    for feed, frame in frames.items():
        for label in QUARTERS:
            part = frame[frame["_period_label"] == label].reset_index(drop=True).copy()
            quarantined = 2 if (feed, label) == ("dossiers", PERIOD) else 0
            part["_load_id"] = f"{feed}-{label}"
            part["_source_file"] = source_file(feed, label)
            part["_file_hash"] = f"hash-{feed}-{label}"
            part["_row_number"] = np.arange(1, len(part) + 1) + np.where(np.arange(len(part)) >= 10, quarantined, 0)
            part["_loaded_at"] = loaded_at(label)
            con.register("part", part)
            con.execute(f"insert into raw.{feed} by name select * from part")
            con.unregister("part")
            loads.append((f"{feed}-{label}", feed, label, source_file(feed, label), Path(source_file(feed, label)).name,
                          f"hash-{feed}-{label}", "csv", len(part) + quarantined, len(part), quarantined, "loaded",
                          None, None, loaded_at(label), True))
    # An earlier delivery of the quarter's dossiers, replaced by the current one: every dossier of U02
    # finished on its deadline minute and a copy of U01's ids under U02. None of it may be found.
    old = frames["dossiers"].query("_period_label == @PERIOD and unit_code in ('U01', 'U02')").copy()
    old["finished_at"] = old["due_at"]
    old["unit_code"] = "U02"
    old["_load_id"], old["_source_file"], old["_file_hash"] = "dossiers-old", source_file("dossiers", PERIOD), "old"
    old["_row_number"], old["_loaded_at"] = np.arange(1, len(old) + 1), loaded_at(PERIOD) - timedelta(days=2)
    con.register("old", old)
    con.execute("insert into raw.dossiers by name select * from old")
    loads.append(("dossiers-old", "dossiers", PERIOD, source_file("dossiers", PERIOD), f"dossiers_{PERIOD}.csv",
                  "old", "csv", len(old), len(old), 0, "superseded", None, None,
                  loaded_at(PERIOD) - timedelta(days=2), False))
    loads.append(("feedback-extra", "feedback", PERIOD, f"landing/feedback/{PERIOD}/pakn_bo_sung.xlsx",
                  "pakn_bo_sung.xlsx", "extra", "xlsx", 0, 0, 0, "rejected", "missing required column: due_at",
                  None, loaded_at(PERIOD), True))
    con.executemany("insert into meta.loads values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", loads)
    con.executemany(
        "insert into raw.quarantine values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(f"dossiers-{PERIOD}", "dossiers", PERIOD, source_file("dossiers", PERIOD), 11, "unit_code",
          "unknown_unit", "unit_code 'X99' is not in the units snapshot", json.dumps({"unit_code": "X99"})),
         (f"dossiers-{PERIOD}", "dossiers", PERIOD, source_file("dossiers", PERIOD), 12, "received_at",
          "invalid_date", "received_at '31/02/2026' is not a date", json.dumps({"received_at": "31/02/2026"}))],
    )
    return con


@pytest.fixture(scope="module")
def clean_frames() -> dict[str, pd.DataFrame]:
    return generate_clean()


def _q1(frame: pd.DataFrame, unit: str) -> pd.Series:
    return (frame["_period_label"] == PERIOD) & (frame["unit_code"] == unit)


def plant(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], dict[str, list[str]]]:
    """Plant one anomaly per unit into the last quarter; return the frames and the ids planted per unit."""
    d, r = frames["dossiers"].copy(), frames["ratings"].copy()
    end = pd.Timestamp(_bounds(PERIOD)[1])
    planted: dict[str, list[str]] = {}

    # U03: 40 % of its finished dossiers closed exactly on the deadline minute.
    rows = d.index[_q1(d, "U03") & d["finished_at"].notna() & (d["due_at"] < end)]
    pick = rows[: int(0.4 * _q1(d, "U03").sum())]
    d.loc[pick, "finished_at"] = d.loc[pick, "due_at"]
    d.loc[pick, "returned_at"] = pd.NaT
    d.loc[pick, "status"] = "finished"
    planted["U03"] = d.loc[pick, "dossier_id"].tolist()

    # U04: two dossiers finished two hours before they were received.
    pick = d.index[_q1(d, "U04") & d["finished_at"].notna()][:2]
    d.loc[pick, "finished_at"] = d.loc[pick, "received_at"] - pd.Timedelta(hours=2)
    planted["U04"] = d.loc[pick, "dossier_id"].tolist()

    # U05: a finish two days after the file was loaded; U06: a finish after the quarter, before the load.
    for unit, when in (("U05", loaded_at(PERIOD) + timedelta(days=2)), ("U06", datetime(2026, 4, 2, 10, 0))):
        pick = d.index[_q1(d, unit) & d["finished_at"].notna()][:1]
        d.loc[pick, "finished_at"] = when
        d.loc[pick, "returned_at"] = pd.NaT
        d.loc[pick, "status"] = "finished"
        planted[unit] = d.loc[pick, "dossier_id"].tolist()

    # U07: nine in ten dossiers suddenly online.
    rows = d.index[_q1(d, "U07")]
    d.loc[rows[: int(0.9 * len(rows))], "channel"] = "online"

    # U08: every finished dossier rated, all 'very_satisfied'.
    done = d[_q1(d, "U08") & d["finished_at"].notna() & (d["finished_at"] < end - pd.Timedelta(hours=1))]
    r = r[~_q1(r, "U08")]
    u08 = pd.DataFrame({"rating_id": [f"DG-{PERIOD}-U08-{i:05d}" for i in range(1, len(done) + 1)],
                        "dossier_id": done["dossier_id"].to_numpy(), "unit_code": "U08",
                        "rated_at": (done["finished_at"] + pd.Timedelta(minutes=30)).to_numpy(),
                        "rating": "very_satisfied", "_period_label": PERIOD})
    r = pd.concat([r, u08], ignore_index=True)

    # U09 delivers three dossiers under ids that U10 also delivers.
    ids = d.loc[d.index[_q1(d, "U10")][:3], "dossier_id"].tolist()
    d.loc[d.index[_q1(d, "U09")][:3], "dossier_id"] = ids
    planted["U09"] = planted["U10"] = ids

    # U13 delivers copies of two U14 dossiers under its own ids.
    copies = d[_q1(d, "U14") & d["finished_at"].notna()].head(2).copy()
    planted["U14"] = copies["dossier_id"].tolist()
    copies["unit_code"] = "U13"
    copies["dossier_id"] = [f"HS-{PERIOD}-U13-9000{i}" for i in range(len(copies))]
    planted["U13"] = copies["dossier_id"].tolist()
    d = pd.concat([d, copies], ignore_index=True)

    # U11 delivers 20 dossiers instead of about 120; U12 delivers none.
    u11 = d.index[_q1(d, "U11")]
    d = d.drop(u11[20:])
    d = d[~_q1(d, "U12")]
    return {**frames, "dossiers": d.reset_index(drop=True), "ratings": r.reset_index(drop=True)}, planted


@pytest.fixture(scope="module")
def planted_warehouse(tmp_path_factory: pytest.TempPathFactory, clean_frames):
    """The planted warehouse (read by several tests, never written by them) and the ids planted per unit."""
    frames, planted = plant(clean_frames)
    con = write_warehouse(tmp_path_factory.mktemp("planted") / "working.duckdb", frames)
    yield con, planted
    con.close()


@pytest.fixture(scope="module")
def planted_findings(planted_warehouse) -> list[Finding]:
    return find_anomalies(planted_warehouse[0], PERIOD)


def _by(findings: list[Finding], code: str) -> dict[str | None, Finding]:
    return {f.unit_code: f for f in findings if f.finding_code == code}


def test_clean_quarters_have_no_findings(tmp_path: Path, clean_frames) -> None:
    con = write_warehouse(tmp_path / "working.duckdb", clean_frames)
    try:
        for label in QUARTERS:
            assert find_anomalies(con, label) == [], label
    finally:
        con.close()


def test_every_planted_anomaly_is_found_and_nothing_else(planted_warehouse, planted_findings) -> None:
    con, _ = planted_warehouse
    found = {(f.finding_code, f.unit_code, f.metric) for f in planted_findings}
    assert found == {
        ("finish_at_deadline_minute", "U03", "share_finished_at_deadline_minute"),
        ("finish_before_receipt", "U04", "dossiers.finished_at<received_at"),
        ("timestamp_after_load", "U05", "dossiers:received_at|finished_at|returned_at"),
        ("timestamp_after_period_end", "U05", "dossiers:received_at|finished_at|returned_at"),
        ("timestamp_after_period_end", "U06", "dossiers:received_at|finished_at|returned_at"),
        ("ratio_jump", "U07", "online_share"),
        ("identical_ratings", "U08", "share_rated_very_satisfied"),
        ("dossier_id_in_two_units", "U09", "dossier_ids_shared_with_other_units"),
        ("dossier_id_in_two_units", "U10", "dossier_ids_shared_with_other_units"),
        ("dossier_copied_across_units", "U13", "dossiers_matching_other_units"),
        ("dossier_copied_across_units", "U14", "dossiers_matching_other_units"),
        ("too_little_data", "U11", "dossiers:rows"),
        ("no_data", "U12", "dossiers:rows"),
    }
    # The earlier quarters are untouched.
    assert find_anomalies(con, "2025-Q4") == []


def _row_of(con: duckdb.DuckDBPyConnection, dossier_id: str, unit: str) -> dict:
    file, row = con.execute(
        "select _source_file, _row_number from raw.dossiers where dossier_id = ? and unit_code = ?"
        " and _load_id = ?", [dossier_id, unit, f"dossiers-{PERIOD}"]).fetchone()
    return {"file": file, "row": row, "id": dossier_id}


def test_deadline_minute_names_rows_and_shares(planted_warehouse, planted_findings) -> None:
    con, planted = planted_warehouse
    finding = _by(planted_findings, "finish_at_deadline_minute")["U03"]
    finished = con.execute(f"select count(*) from raw.dossiers where _load_id = 'dossiers-{PERIOD}'"
                           " and unit_code = 'U03' and finished_at is not null").fetchone()[0]
    assert finding.value == pytest.approx(len(planted["U03"]) / finished)
    assert finding.reference_value == 0.0  # nobody else finishes on the deadline minute
    assert finding.severity == "warn"
    assert len(finding.examples) == 5
    assert all(e["id"] in planted["U03"] for e in finding.examples)
    first = min(planted["U03"], key=lambda i: _row_of(con, i, "U03")["row"])
    assert finding.examples[0] == _row_of(con, first, "U03")


def test_timestamp_and_order_findings_name_the_rows(planted_warehouse, planted_findings) -> None:
    con, planted = planted_warehouse
    findings = planted_findings
    before = _by(findings, "finish_before_receipt")["U04"]
    assert before.value == 2
    assert {e["id"] for e in before.examples} == set(planted["U04"])
    after_load = _by(findings, "timestamp_after_load")["U05"]
    assert after_load.examples == [_row_of(con, planted["U05"][0], "U05")]
    assert "loaded (2026-04-06 09:00); the latest is 2026-04-08 09:00" in after_load.explanation
    after_end = _by(findings, "timestamp_after_period_end")
    assert after_end["U06"].examples == [_row_of(con, planted["U06"][0], "U06")]
    assert "2026-04-02 10:00" in after_end["U06"].explanation


def test_ratio_jump_against_history_and_peers(planted_warehouse, planted_findings) -> None:
    con, _ = planted_warehouse
    finding = _by(planted_findings, "ratio_jump")["U07"]
    history = con.execute(
        "select median(share) from (select avg((channel = 'online')::int) as share from raw.dossiers"
        " where _load_id in ('dossiers-2025-Q3', 'dossiers-2025-Q4') and unit_code = 'U07'"
        " and received_at >= '2025-07-01' group by _period_label)").fetchone()[0]
    assert finding.reference_value == pytest.approx(history)
    assert finding.value >= 0.89
    assert finding.value - finding.reference_value >= 0.15
    assert all(e["file"] == source_file("dossiers", PERIOD) for e in finding.examples)


def test_identical_ratings_duplicates_and_volume(planted_warehouse, planted_findings) -> None:
    con, planted = planted_warehouse
    findings = planted_findings
    ratings = _by(findings, "identical_ratings")["U08"]
    assert ratings.value == 1.0
    assert 0.2 < ratings.reference_value < 0.4  # about 30 % of the other units' ratings are very satisfied
    shared = _by(findings, "dossier_id_in_two_units")
    assert shared["U09"].value == 3 and "U10" in shared["U09"].explanation
    assert {e["id"] for e in shared["U09"].examples} == set(planted["U09"])
    assert {e["file"] for e in shared["U10"].examples} == {source_file("dossiers", PERIOD)}
    copied = _by(findings, "dossier_copied_across_units")
    assert copied["U13"].value == 2
    assert {e["id"] for e in copied["U13"].examples} == set(planted["U13"]) | set(planted["U14"])
    history = con.execute(
        "select median(n) from (select count(*) as n from raw.dossiers where unit_code = 'U11'"
        " and _load_id in ('dossiers-2025-Q3', 'dossiers-2025-Q4') group by _load_id)").fetchone()[0]
    little = _by(findings, "too_little_data")["U11"]
    assert (little.value, little.reference_value) == (20.0, history)
    assert len(little.examples) == 5
    none = _by(findings, "no_data")["U12"]
    assert none.value == 0.0 and none.examples == [{"file": source_file("dossiers", PERIOD), "row": None,
                                                     "id": None}]


def test_missing_feed_is_one_finding(tmp_path: Path, clean_frames) -> None:
    frames = {**clean_frames, "ratings": clean_frames["ratings"].query("_period_label != @PERIOD")}
    con = write_warehouse(tmp_path / "working.duckdb", frames)
    try:
        con.execute("delete from meta.loads where feed = 'ratings' and period_label = ?", [PERIOD])
        findings = find_anomalies(con, PERIOD)
    finally:
        con.close()
    assert [(f.finding_code, f.unit_code, f.reference_value) for f in findings] == [("feed_missing", None, 2.0)]


def test_gate_results_are_warnings_with_reasons(planted_findings) -> None:
    findings = planted_findings
    results = gate_results(findings)
    failed = [r for r in results if not r.passed]
    assert len(failed) == len(findings) == 13
    assert {r.source for r in results} == {"anomaly"}
    assert {r.severity for r in failed} == {"warn"}
    assert not any(r.blocks for r in results)
    assert "U07" in next(r for r in failed if r.check_name.startswith("ratio_jump")).describe()
    assert [r.check_name for r in results if r.passed] == ["feed_missing"]


def test_thresholds_and_severity_come_from_the_rules_file(tmp_path: Path, planted_warehouse) -> None:
    con, _ = planted_warehouse
    text = Path(load_rules().source).read_text(encoding="utf-8")
    stricter = text.replace("    min_share: 0.10\n", "    min_share: 0.50\n").replace(
        "  identical_ratings:\n    enabled: true\n    severity: warn", "  identical_ratings:\n    enabled: true\n"
        "    severity: error")
    path = tmp_path / "rules.yaml"
    path.write_text(stricter, encoding="utf-8")
    rules = load_rules(path)
    findings = find_anomalies(con, PERIOD, rules)
    assert "finish_at_deadline_minute" not in {f.finding_code for f in findings}
    assert _by(findings, "identical_ratings")["U08"].severity == "error"
    assert any(r.blocks for r in gate_results(findings, rules))


@pytest.fixture(scope="module")
def report_home(tmp_path_factory: pytest.TempPathFactory, clean_frames) -> Home:
    """A home whose working warehouse holds the planted data, a gate run, two publications with a diff, the
    audit log and GX Data Docs, as the pipeline leaves them."""
    from pipelines.publish import audit, ensure_meta
    from pipelines.quality.results import GateResult, record

    home = Home.from_env(tmp_path_factory.mktemp("report") / "home").ensure()
    frames, _ = plant(clean_frames)
    con = write_warehouse(home.working_db, frames)
    try:
        record(con, PERIOD, "run-old", [GateResult("stale_check", "dbt", False, "error", {"reason": "old run"})])
        con.execute("update meta.gate_results set checked_at = checked_at - interval 1 day")
        record(con, PERIOD, "run-new", [
            GateResult("not_null_dossier_id", "dbt", True),
            GateResult("quarantine_share:dossiers", "contract", False, "warn", {"reason": "0.1 % quarantined"}),
        ])
        ensure_meta(con)
        diff = {"against_version": 1, "changed_inputs": [f"dossiers/{PERIOD}/dossiers_{PERIOD}.csv"],
                "units_changed": [{"unit_code": "U07", "old_total": 71.25, "new_total": 74.5, "delta_points": 3.25,
                                   "old_rank": 9, "new_rank": 4}]}
        con.executemany(
            "insert into meta.publications (period_label, version, status, content_hash, created_at, decided_by,"
            " decided_at, decision_reason, accepted_warnings, diff) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(PERIOD, 1, "published", "a" * 32, datetime(2026, 4, 10, 9), "Nguyễn Văn A", datetime(2026, 4, 10, 10),
              "approved", json.dumps({"warnings": [], "reason": None}), "{}"),
             (PERIOD, 2, "published", "b" * 32, datetime(2026, 4, 20, 9), "Trần Thị B", datetime(2026, 4, 20, 10),
              "approved", json.dumps({"warnings": ["x"], "reason": "U07 moved its counter online in March"}),
              json.dumps(diff))])
        audit(con, "Trần Thị B", "approved_and_published", PERIOD, 2, {"diff_units": 1})
    finally:
        con.close()
    docs = home.report_dir(PERIOD) / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html"
    docs.parent.mkdir(parents=True)
    docs.write_text("<html></html>", encoding="utf-8")
    return home


def test_quality_report_has_every_section_and_number(report_home: Home) -> None:
    from pipelines.stewardship.report import collect_report, summary_text, write_quality_report
    from pipelines.warehouse import connect

    con = connect(report_home, read_only=True)
    try:
        report = collect_report(con, report_home, PERIOD)
        path = write_quality_report(con, report_home, PERIOD, report=report)
    finally:
        con.close()
    assert path == report_home.root / "reports" / PERIOD / "quality.html"
    html = path.read_text(encoding="utf-8")
    for heading in ("Files and rows", "Quarantined rows", "Rejected files", "Data freshness",
                    "Units with no or too little data", "Quality gate", "Anomaly findings", "Publication history",
                    "Audit log", "Báo cáo chất lượng dữ liệu"):
        assert heading in html, heading
    assert "http://" not in html and "https://" not in html  # no external assets
    dossiers = next(t for t in report.feed_totals if t["feed"] == "dossiers")
    con = connect(report_home, read_only=True)
    try:
        accepted = con.execute(f"select count(*) from raw.dossiers where _load_id = 'dossiers-{PERIOD}'").fetchone()[0]
    finally:
        con.close()
    assert (dossiers["files"], dossiers["accepted"], dossiers["quarantined"], dossiers["read"]) == (
        1, accepted, 2, accepted + 2)
    assert f"<td class=\"num\">{accepted + 2}</td>" in html
    assert {(q["reason_code"], q["n"]) for q in report.quarantine_reasons} == {("unknown_unit", 1),
                                                                               ("invalid_date", 1)}
    assert "31/02/2026" in html  # the original text of a quarantined row
    assert [f["file_name"] for f in report.rejected_files] == ["pakn_bo_sung.xlsx"]
    assert "missing required column: due_at" in html
    fresh = {f["feed"]: f for f in report.freshness}
    assert fresh["dossiers"]["latest_load"] == loaded_at(PERIOD)
    assert fresh["dossiers"]["latest_record"] == loaded_at(PERIOD) + timedelta(days=2)  # U05's planted finish
    assert [(f.finding_code, f.unit_code) for f in report.volume_findings] == [("no_data", "U12"),
                                                                             ("too_little_data", "U11")]
    assert report.gate_counts == {"checks": 2, "passed": 1, "blocking": 0, "warnings": 1}
    assert "stale_check" not in html and "quarantine_share:dossiers" in html
    assert 'href="gx/gx/uncommitted/data_docs/local_site/index.html"' in html
    assert len(report.findings) == 13 and "HS-2026-Q1-U13-90000" in html
    assert "Version 2 against version 1" in html and "U07 moved its counter online in March" in html
    assert "<td class=\"num\">3.25</td>" in html
    assert "approved_and_published" in html
    text = summary_text(report, path)
    assert f"rows read {sum(t['read'] for t in report.feed_totals)}" in text
    assert "quarantined 2" in text and "Anomalies: 13 finding(s)" in text
    assert "Version 2: published by Trần Thị B" in text and "1 unit(s) changed against version 1" in text


def test_quality_command_prints_summary_and_writes_report(report_home: Home) -> None:
    from click.testing import CliRunner

    from pipelines.cli import main

    result = CliRunner().invoke(main, ["--home", str(report_home.root), "quality", "--period", PERIOD])
    assert result.exit_code == 0, result.output
    assert "Anomalies: 13 finding(s)" in result.output and "identical_ratings" in result.output
    assert (report_home.report_dir(PERIOD) / "quality.html").exists()
    helped = CliRunner().invoke(main, ["quality", "--help"])
    assert helped.exit_code == 0 and "chamdiem quality --period 2026-Q1" in helped.output


def test_quality_command_standalone_reads_home_from_env(report_home: Home, monkeypatch) -> None:
    from click.testing import CliRunner

    from pipelines.stewardship.cli import quality

    monkeypatch.setenv("CHAMDIEM_HOME", str(report_home.root))
    result = CliRunner().invoke(quality, ["--period", PERIOD])
    assert result.exit_code == 0, result.output
    assert "Report:" in result.output


def test_province_wide_shift_is_not_a_jump(tmp_path: Path, clean_frames) -> None:
    """Every unit moves its counters online in the same quarter: a real change, not one unit's anomaly."""
    d = clean_frames["dossiers"].copy()
    q1 = d.index[d["_period_label"] == PERIOD]
    d.loc[q1, "channel"] = np.where(np.random.default_rng(1).random(len(q1)) < 0.9, "online", "direct")
    con = write_warehouse(tmp_path / "working.duckdb", {**clean_frames, "dossiers": d})
    try:
        assert find_anomalies(con, PERIOD) == []
    finally:
        con.close()


def test_one_coincidence_between_two_units_is_not_a_copy(planted_warehouse) -> None:
    con, _ = planted_warehouse
    rules = load_rules()
    copied = {**rules.params("dossier_copied_across_units"), "min_matches": 3}  # U13 holds 2 copies of U14
    stricter = type(rules)(rules.rule_version, rules.max_examples, rules.history_quarters,
                           {"dossier_copied_across_units": copied})
    assert find_anomalies(con, PERIOD, stricter) == []
