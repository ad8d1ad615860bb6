"""The year-end that is due now: the running quarter as of a date, the yearly publication, and re-runs of an
earlier quarter that never see later data. One home, four quarters of 2026 exported as of 4 December 2026."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

AS_OF = date(2026, 12, 4)
TODAY = date(2026, 12, 4)
STEWARD = "Kiểm thử viên"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory):
    """2026-Q1..Q3 refreshed and published final, the demo exported as of 4 December (Q4 half delivered)."""
    from pipelines.demo import generate_demo
    from pipelines.home import Home
    from pipelines.runner import run_refresh

    home = Home.from_env(Path(tmp_path_factory.mktemp("yearend")) / "home").ensure()
    generate_demo(home.landing, quarters=("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"), scale=0.1, as_of=AS_OF,
                  bad_rows=False)
    for quarter in ("2026-Q1", "2026-Q2", "2026-Q3"):
        outcome = run_refresh(home, quarter, approved_by=STEWARD, today=TODAY)
        assert outcome.success and outcome.publication["status"] == "published", outcome
    return home


def _working(home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home.working_db), read_only=True)


def _published(home) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home.published_db), read_only=True)


def test_the_demo_export_holds_nothing_after_its_as_of_day(home) -> None:
    dossiers = pl.read_csv(next((home.landing / "dossiers" / "2026-Q4").glob("*.csv")), infer_schema=False)
    received = dossiers["Ngày tiếp nhận"].str.slice(0, 10).str.to_date("%Y-%m-%d")
    # dossiers still open from Q3 are delivered again with their state on 4 December
    assert received.max() == AS_OF and received.filter(received >= date(2026, 10, 1)).len() > 1000
    ratings = pl.read_ndjson(next((home.landing / "ratings" / "2026-Q4").glob("*.jsonl")))
    assert ratings["rated_at"].str.slice(0, 10).max() <= AS_OF.isoformat()


def test_rerunning_an_earlier_unchanged_quarter_makes_no_new_version(home) -> None:
    """After Q3 is loaded, Q2 again: the same content hash, no version 2, and the run says so."""
    from pipelines.publish import published_content_hash
    from pipelines.runner import run_refresh

    con = _published(home)
    hash_v1, window_end = con.execute("select content_hash, window_end from publications"
                                      " where period_label = '2026-Q2'").fetchone()
    con.close()
    assert window_end == date(2026, 6, 30)
    outcome = run_refresh(home, "2026-Q2", approved_by=STEWARD, today=TODAY)
    assert outcome.success, (outcome.errors, outcome.blocking_failures, outcome.warnings)
    assert outcome.publication["version"] == 1 and outcome.publication["unchanged"] is True, outcome
    assert outcome.publication["content_hash"] == hash_v1
    assert published_content_hash(home, "2026-Q2", 1) == hash_v1
    con = _working(home)
    assert con.execute("select count(*) from meta.publications where period_label = '2026-Q2'").fetchone()[0] == 1
    con.close()


def test_two_refreshes_started_together_run_one_after_the_other(home) -> None:
    """Two operators start refreshes of one home at once: the second waits for the first; both end well."""
    import subprocess
    import sys

    def start(period: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "pipelines.cli", "--home", str(home.root), "refresh",
                                 "--period", period, "--approve", "--by", STEWARD],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    first, second = start("2026-Q1"), start("2026-Q3")
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    joined = " ".join(" ".join(o.split()) for o in outputs)
    assert "2026-Q1: unchanged" in joined and "2026-Q3: unchanged" in joined, outputs
    assert "waiting" in joined  # one of them saw the other holding the home
    assert "Traceback" not in joined and "lock" not in joined.lower()


def test_a_restatement_of_q2_holds_no_row_of_q3(home) -> None:
    """One Q2 dossier file changes after Q3 was published: Q2 version 2 is scored from data up to 30 June only,
    its yearly tables are the year to June, and the analysts' yearly view still shows the year to September."""
    from pipelines.runner import run_refresh

    target = next((home.landing / "dossiers" / "2026-Q2").glob("*.csv"))
    frame = pl.read_csv(target, infer_schema=False)
    mixed = frame.group_by("Mã đơn vị").agg(pl.col("Đồng bộ DVCQG").n_unique().alias("values"))
    unit = mixed.filter(pl.col("values") > 1)["Mã đơn vị"].sort()[0]  # a unit with some dossiers not synced
    # The unit's system re-exports its Q2 dossiers with every one synchronised to the portal (indicator 1.4).
    frame.with_columns(pl.when(pl.col("Mã đơn vị") == unit).then(pl.lit("x")).otherwise(pl.col("Đồng bộ DVCQG"))
                       .alias("Đồng bộ DVCQG")).write_csv(target)
    con = _published(home)
    yearly_v1 = con.execute("select period_label_published, count(*) from agency_ratings group by 1").fetchall()
    con.close()
    assert yearly_v1 and yearly_v1[0][0] == "2026-Q3"

    outcome = run_refresh(home, "2026-Q2", approved_by=STEWARD, today=TODAY)
    assert outcome.success and outcome.publication["version"] == 2, outcome
    assert outcome.publication["unchanged"] is False
    con = _working(home)
    try:
        # The build of the restatement read nothing after 30 June: no Q3 period anywhere in the marts.
        assert con.execute("select max(period_end) from marts.unit_service_index where period_type = 'quarter'"
                           ).fetchone()[0] == date(2026, 6, 30)
        assert con.execute("select max(period_start) from marts.civil_servant_period_scores").fetchone()[0] < \
            date(2026, 7, 1)
        assert con.execute("select count(*) from marts.unit_service_index where period_label = '2026-Q3'"
                           ).fetchone()[0] == 0
        # The 2026 yearly 766 rows of the restatement are the sum of Q1 and Q2 only.
        assert con.execute("select max(quarters_present) from intermediate.int_766_periods where period_label = '2026'"
                           ).fetchone()[0] == 2
        # Q2 v2's candidate rows: only Q2 and the year 2026 (as far as June) - never a Q3 label.
        labels = {r[0] for r in con.execute(
            "select distinct period_label from candidates.analyst__unit_service_index"
            " where period_label_published = '2026-Q2' and publication_version = 2").fetchall()}
        assert labels == {"2026-Q2"}
        diff = json.loads(con.execute("select diff from meta.publications where period_label = '2026-Q2'"
                                      " and version = 2").fetchone()[0])
    finally:
        con.close()
    assert diff["against_version"] == 1
    assert diff["changed_inputs"] == [f"dossiers/2026-Q2/{target.name}"]
    assert unit in {c["unit_code"] for c in diff["units_changed"]}
    # Readers of the yearly tables still see the year as far as Q3: a restatement of Q2 does not roll it back.
    con = _published(home)
    assert con.execute("select distinct period_label_published from agency_ratings").fetchall() == [("2026-Q3",)]
    con.close()


def test_the_running_quarter_is_provisional_and_the_year_end_is_published(home) -> None:
    from pipelines.runner import run_refresh

    outcome = run_refresh(home, "2026", approved_by=STEWARD, as_of=AS_OF, today=TODAY)
    assert outcome.success, (outcome.errors, outcome.blocking_failures, outcome.warnings)
    assert (outcome.quarter_label, outcome.as_of) == ("2026-Q4", AS_OF)
    by_label = {p["period_label"]: p for p in outcome.publications}
    assert set(by_label) == {"2026-Q4", "2026"}
    assert all(p["status"] == "published" and p["as_of"] == AS_OF for p in by_label.values()), by_label

    con = _published(home)
    try:
        rows = con.execute("select period_label, version, as_of, window_end, is_provisional from publications"
                           " where period_label in ('2026-Q4', '2026') order by period_label").fetchall()
        assert rows == [("2026", 1, AS_OF, AS_OF, True), ("2026-Q4", 1, AS_OF, AS_OF, True)]
        # The running quarter: every row provisional, scored to 4 December, not ranked (rank_partial_periods).
        q4 = con.execute("select count(*), bool_and(is_partial), min(as_of), max(as_of), count(rank_in_peer_group)"
                         " from unit_service_index where period_label = '2026-Q4'").fetchone()
        assert q4[0] > 100 and q4[1:] == (True, AS_OF, AS_OF, 0)
        # The 766 year is published with the year-end: four quarters, still provisional until 31 December.
        year = con.execute("select count(*), bool_and(is_partial), min(as_of) from unit_service_index"
                           " where period_label = '2026'").fetchone()
        assert year[0] == q4[0] and year[1:] == (True, AS_OF)
        # Decree 335's yearly tables: the year-end publication is what readers see for 2026.
        assert con.execute("select distinct period_label_published from agency_ratings").fetchall() == [("2026",)]
        assert con.execute("select count(*) from agency_ratings where level is not null").fetchone()[0] > 50
        # Rated in December, after year_end_rating_from (12-01): the year-end rating, computed to 4 December.
        assert con.execute("select distinct rating_status, as_of from agency_ratings").fetchall() == [
            ("year_end", AS_OF)]
        assert con.execute("select distinct rating_status from civil_service_level_distribution").fetchall() == [
            ("year_end",)]
    finally:
        con.close()
    # The yearly 2.1 of a unit is its quarters' summed numerators over summed denominators, never averaged.
    con = _working(home)
    try:
        # the running quarter is scored to the as-of day (an open dossier is judged at the end of 4 December)
        assert con.execute("select distinct period_end from marts.unit_service_index where period_label = '2026-Q4'"
                           ).fetchall() == [(AS_OF,)]
        # ... from its own delivery: every dossier received from 1 October to 4 December counts as received
        received_q4 = con.execute(
            "select sum(denominator) from marts.service_indicator_points where period_label = '2026-Q4'"
            " and indicator_id = '4.2' and rule_version = '766-portal'").fetchone()[0]
        announced_q4 = con.execute(
            "select sum(denominator) from marts.service_indicator_points where period_label = '2026-Q4'"
            " and indicator_id = '1.1' and rule_version = '766-portal'").fetchone()[0]
        gap = con.execute(
            """
            with q as (select unit_code, sum(numerator) n, sum(denominator) d from marts.service_indicator_points
                       where indicator_id = '2.1' and period_label like '2026-Q%' and rule_version = '766-portal'
                       group by unit_code)
            select max(abs(y.numerator - q.n) + abs(y.denominator - q.d)), count(*)
            from marts.service_indicator_points y join q using (unit_code)
            where y.indicator_id = '2.1' and y.period_label = '2026' and y.rule_version = '766-portal'
            """).fetchone()
    finally:
        con.close()
    assert gap[1] > 100 and gap[0] == 0
    dossiers = pl.read_csv(next((home.landing / "dossiers" / "2026-Q4").glob("*.csv")), infer_schema=False)
    in_q4 = dossiers.filter(pl.col("Ngày tiếp nhận").str.slice(0, 10) >= "2026-10-01").height
    assert in_q4 > 1000 and received_q4 == in_q4
    # ... and from the procedure catalogue delivered for it: 1.1 counts the announcements of 1 October - 4 December
    catalogue = pl.read_csv(next((home.landing / "procedures" / "2026-Q4").glob("*.csv")), infer_schema=False)
    in_window = pl.col("announced_on").is_between(pl.lit("2026-10-01"), pl.lit(AS_OF.isoformat()))
    announced = catalogue.filter(in_window).height
    assert announced > 100 and announced_q4 == announced


def test_a_month_is_scored_on_request_from_its_quarters_rows(home) -> None:
    """`--period 2026-11` in December: November is closed (final, ranked), scored from the Q4 delivery's rows
    by their dates; the running quarter it belongs to stays as it was."""
    from pipelines.runner import run_refresh

    outcome = run_refresh(home, "2026-11", approved_by=STEWARD, today=TODAY)
    assert outcome.success, (outcome.errors, outcome.blocking_failures, outcome.warnings)
    by_label = {p["period_label"]: p for p in outcome.publications}
    assert by_label["2026-11"]["status"] == "published" and by_label["2026-11"]["as_of"] is None
    assert by_label["2026-Q4"]["version"] == 1 and by_label["2026-Q4"]["as_of"] == AS_OF
    dossiers = pl.read_csv(next((home.landing / "dossiers" / "2026-Q4").glob("*.csv")), infer_schema=False)
    day = dossiers["Ngày tiếp nhận"].str.slice(0, 10)
    in_november = dossiers.filter((day >= "2026-11-01") & (day <= "2026-11-30")).height
    con = _published(home)
    try:
        received, ranked, partial = con.execute(
            "select sum(p.denominator), count(distinct u.rank_in_peer_group), bool_or(u.is_partial)"
            " from service_indicator_points p join unit_service_index u using (period_label, unit_code)"
            " where p.period_label = '2026-11' and p.indicator_id = '4.2'").fetchone()
        period_type = con.execute("select distinct period_type from unit_service_index"
                                  " where period_label = '2026-11'").fetchall()
    finally:
        con.close()
    assert in_november > 300 and received == in_november
    assert ranked > 1 and partial is False and period_type == [("month",)]


def _disclosed(rows, quota: dict, k: int = 5) -> int:
    """People whose level an analyst can read off the level distribution (and quota use) of one version: a
    visible or derivable count of 1..k-1, or a group whose rated members all share a level."""
    disclosed = 0
    for key, counts, total in rows:
        visible = [c for c in counts if c is not None]
        hidden = len(counts) - len(visible)
        known = list(counts)
        if hidden == 1:  # the one hidden cell is the total minus the others
            known[counts.index(None)] = total - sum(visible)
        xs_from_quota = quota.get(key)
        if known[0] is None and xs_from_quota is not None:
            known[0] = xs_from_quota
        levels = [c for c in known[:4] if c is not None]
        rated = total - known[4] if known[4] is not None and None not in known[:4] else None
        if rated and rated in levels:
            disclosed += rated
            continue
        disclosed += sum(c for c in known if c is not None and 0 < c < k)
    return disclosed


def test_no_individual_level_can_be_read_off_the_published_aggregates(home) -> None:
    """The attack of the issue, on the December year-end: small groups, groups sharing one level, a cell
    derived from the total or from the quota table. Unprotected, it finds people; published, no one."""
    levels = ("xs_count", "tot_count", "ht_count", "kht_count", "not_rated_count")

    def attack(con, distribution: str, quota: str) -> int:
        rows = [((y, u, g), list(c), t) for y, u, g, *c, t in con.execute(
            f"select year, unit_code, task_group, {', '.join(levels)}, total_count from {distribution}"
            " where year = 2026").fetchall()]
        xs = {(y, u, g): x for y, u, g, x in con.execute(
            f"select year, unit_code, task_group, xs_final from {quota} where year = 2026").fetchall()}
        return _disclosed(rows, xs)

    con = _working(home)
    try:
        unprotected = attack(con, "marts.civil_service_level_distribution", "marts.civil_service_quota_usage")
        people = con.execute("select count(*) from marts.civil_servant_yearly_ratings where year = 2026").fetchone()[0]
    finally:
        con.close()
    assert unprotected > 0.05 * people  # the attack works on unprotected counts
    con = _published(home)
    try:
        assert attack(con, "civil_service_level_distribution", "civil_service_quota_usage") == 0
        # and every version ever published for the year, not only the latest
        for (label, version) in con.execute("select distinct period_label_published, publication_version"
                                           " from versions.civil_service_level_distribution").fetchall():
            where = f"where period_label_published = '{label}' and publication_version = {version}"
            assert attack(con, f"(select * from versions.civil_service_level_distribution {where})",
                          f"(select * from versions.civil_service_quota_usage {where})") == 0, (label, version)
        suppressed = con.execute("select count(*) filter (where is_suppressed), count(*)"
                                 " from civil_service_level_distribution").fetchone()
    finally:
        con.close()
    assert 0 < suppressed[0] <= suppressed[1]


def test_after_the_year_closes_the_year_end_is_final_with_a_diff(home, monkeypatch) -> None:
    """In January the systems export December too: the year-end re-run is final, with a diff against December's."""
    from datetime import datetime

    from pipelines.demo import generate_demo
    from pipelines.runner import run_refresh

    # It is 10 January 2027: files dated in late December are not in the future for ingestion.
    monkeypatch.setattr("pipelines.ingest.load.local_now", lambda: datetime(2027, 1, 10, 8, 0))
    generate_demo(home.landing, quarters=("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"), scale=0.1,
                  as_of=date(2026, 12, 31), bad_rows=False)
    outcome = run_refresh(home, "2026", approved_by=STEWARD, today=date(2027, 1, 10))
    assert outcome.success, (outcome.errors, outcome.blocking_failures, outcome.warnings)
    by_label = {p["period_label"]: p for p in outcome.publications}
    assert by_label["2026"]["version"] == 2 and by_label["2026"]["as_of"] is None
    assert by_label["2026-Q4"]["version"] == 2 and by_label["2026-Q4"]["as_of"] is None
    con = _published(home)
    try:
        assert con.execute("select is_provisional, window_end from publications where period_label = '2026'"
                           " and version = 2").fetchone() == (False, date(2026, 12, 31))
        assert con.execute("select bool_or(is_partial), count(rank_in_peer_group) > 0 from unit_service_index"
                           " where period_label = '2026-Q4'").fetchone() == (False, True)
        diff = json.loads(con.execute("select diff from publications where period_label = '2026' and version = 2"
                                      ).fetchone()[0])
        assert con.execute("select distinct rating_status, as_of, publication_version from agency_ratings"
                           ).fetchall() == [("final", None, 2)]
    finally:
        con.close()
    assert diff["against_version"] == 1
    assert "dossiers/2026-Q4/ho_so_tthc_2026-Q4.csv" in diff["changed_inputs"]
