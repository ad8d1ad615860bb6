"""Small-cell protection of the analysts' people aggregates: the SQL of the protected level distribution, run
on hand-made groups with the shipped rule_disclosure seed (min_cell_size 5)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1] / "dbt_project"
MODEL = ROOT / "models" / "marts" / "civil_service" / "civil_service_level_distribution_protected.sql"
SEED = ROOT / "seeds" / "rules" / "rule_disclosure.csv"
MACROS = ROOT / "macros" / "disclosure.sql"

#  unit, group,  XS, T,  HT, KHT, not rated
GROUPS = [
    ("U1", "big", 6, 20, 8, 0, 0),    # nothing small: published as is
    ("U2", "one", 6, 20, 2, 0, 0),    # HT = 2: hidden, and one more cell (the smallest visible: KHT 0)
    ("U3", "tiny", 0, 3, 0, 0, 1),    # 4 people: every count hidden
    ("U4", "same", 0, 9, 0, 0, 0),    # everyone Tốt: hidden though 9 >= 5
    ("U5", "two", 1, 10, 7, 3, 0),    # XS 1 and KHT 3: two small cells, no complement needed
]


def _protected(groups) -> dict[str, dict]:
    con = duckdb.connect()
    con.execute("create table distribution (year int, unit_code varchar, task_group varchar, xs_count bigint,"
                " tot_count bigint, ht_count bigint, kht_count bigint, not_rated_count bigint, rated_count bigint,"
                " total_count bigint, rule_set varchar, engine_version varchar, rating_status varchar, as_of date)")
    for unit, group, xs, tot, ht, kht, nr in groups:
        con.execute("insert into distribution values (2026, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'nd335_2025', 'e', 'final',"
                    " null)", [unit, group, xs, tot, ht, kht, nr, xs + tot + ht + kht, xs + tot + ht + kht + nr])
    con.execute(f"create table rule_disclosure as select * from read_csv('{SEED}', header = true,"
                " types = {'value': 'VARCHAR', 'effective_from': 'DATE', 'effective_to': 'DATE'})")
    # The model as dbt renders it (its macros included), with refs to the tables made here.
    import jinja2

    refs = {"civil_service_level_distribution": "distribution", "rule_disclosure": "rule_disclosure"}
    source = (MACROS.read_text(encoding="utf-8") + MODEL.read_text(encoding="utf-8"))
    sql = jinja2.Environment().from_string(source).render(ref=refs.__getitem__)
    rows = con.execute(sql).fetchall()
    names = [d[0] for d in con.description]
    con.close()
    return {r[names.index("unit_code")]: dict(zip(names, r, strict=True)) for r in rows}


LEVELS = ("xs_count", "tot_count", "ht_count", "kht_count", "not_rated_count")


@pytest.mark.parametrize(("unit", "expected", "reason"), [
    ("U1", (6, 20, 8, 0, 0), None),
    ("U2", (6, 20, None, None, 0), "cell_below_min_cell_size"),
    ("U3", (None,) * 5, "group_below_min_cell_size"),
    ("U4", (None,) * 5, "all_rated_share_one_level"),
    ("U5", (None, 10, 7, None, 0), "cell_below_min_cell_size"),
])
def test_small_cells_are_suppressed_with_their_complement(unit, expected, reason) -> None:
    row = _protected(GROUPS)[unit]
    assert tuple(row[c] for c in LEVELS) == expected
    assert row["suppression_reason"] == reason
    assert row["is_suppressed"] is (reason is not None)
    assert row["total_count"] == sum(GROUPS[[g[0] for g in GROUPS].index(unit)][2:])
    # rated_count would give the not-rated count back: published only when nothing is hidden
    assert (row["rated_count"] is None) is (reason is not None)


def test_no_hidden_cell_can_be_derived_from_the_total() -> None:
    for row in _protected(GROUPS).values():
        hidden = [c for c in LEVELS if row[c] is None]
        assert len(hidden) != 1, row
