"""Which dbt models a refresh rebuilds: everything the first time, then only what a changed feed reaches."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines import dbt as dbt_mod
from pipelines.dbt import ALWAYS_BUILT, MANIFEST_PATH, ensure_manifest, plan_build, record_build


@pytest.fixture(scope="module")
def manifest() -> dict:
    ensure_manifest()
    return json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))


def _warehouse(manifest: dict) -> duckdb.DuckDBPyConnection:
    """A warehouse holding every model and seed as an empty table, and three current loads."""
    con = duckdb.connect()
    con.execute("create schema meta")
    con.execute("create table meta.loads (load_id varchar, feed varchar, is_current boolean)")
    con.execute("insert into meta.loads values ('a', 'dossiers', true), ('b', 'ratings', true), "
                "('c', 'staff', true), ('old', 'ratings', false)")
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed"):
            con.execute(f"create table main.{node['name']} (x integer)")
    return con


def _new_load(con: duckdb.DuckDBPyConnection, feed: str, load_id: str) -> None:
    con.execute("update meta.loads set is_current = false where feed = ?", [feed])
    con.execute("insert into meta.loads values (?, ?, true)", [load_id, feed])


def test_first_build_is_full_then_nothing_is_rebuilt_but_the_marts_later_steps_read(manifest) -> None:
    con = _warehouse(manifest)
    first = plan_build(con, manifest)
    assert first.full and first.reason == "first build of this warehouse" and first.cli_args() == []
    record_build(con, "run-1", "2026-Q1", first)

    again = plan_build(con, manifest)
    models_and_seeds = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")}
    assert not again.full and again.changed_feeds == ()
    assert set(again.excluded) == models_and_seeds - set(ALWAYS_BUILT)
    assert again.cli_args()[0] == "--exclude"


def test_a_late_ratings_file_rebuilds_what_ratings_reach_and_keeps_the_rest(manifest) -> None:
    con = _warehouse(manifest)
    record_build(con, "run-1", "2026-Q1", plan_build(con, manifest))
    _new_load(con, "ratings", "b2")
    plan = plan_build(con, manifest)
    assert not plan.full and plan.changed_feeds == ("ratings",)
    excluded = set(plan.excluded)
    # rebuilt: the ratings staging model and what reads it, down to the index and the agency ratings
    assert {"stg_ratings", "int_766_ratings_resolved", "unit_service_index", "agency_ratings"}.isdisjoint(excluded)
    # kept: other feeds' staging, the rule seeds, the dossier-level model that reads no ratings
    assert {"stg_dossiers", "stg_staff", "rule_766_indicator", "int_766_dossier_states"} <= excluded
    # and a failed build is not recorded: the next plan still sees ratings as changed
    assert plan_build(con, manifest).changed_feeds == ("ratings",)


def test_a_changed_project_or_a_missing_table_forces_a_full_build(manifest, monkeypatch) -> None:
    con = _warehouse(manifest)
    record_build(con, "run-1", "2026-Q1", plan_build(con, manifest))
    con.execute("drop table main.int_766_indicator_points")
    missing = plan_build(con, manifest)
    assert missing.full and "int_766_indicator_points" in missing.reason
    con.execute("create table main.int_766_indicator_points (x integer)")
    assert not plan_build(con, manifest).full
    monkeypatch.setattr(dbt_mod, "project_fingerprint", lambda: "another project")
    changed = plan_build(con, manifest)
    assert changed.full and changed.reason == "the dbt project or a package it uses changed"
    assert plan_build(con, manifest, rebuild_all=True).reason == "requested"


def test_the_project_fingerprint_follows_the_files(tmp_path, monkeypatch) -> None:
    project = tmp_path / "dbt_project"
    for folder in ("models", "seeds", "macros", "tests"):
        (project / folder).mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    (project / "profiles.yml").write_text("x: {}\n")
    (project / "models" / "a.sql").write_text("select 1")
    monkeypatch.setattr(dbt_mod, "DBT_PROJECT_DIR", project)
    before = dbt_mod.project_fingerprint()
    assert dbt_mod.project_fingerprint() == before
    (project / "models" / "a.sql").write_text("select 2")
    assert dbt_mod.project_fingerprint() != before
