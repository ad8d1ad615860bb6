"""The analysts' query boundary: `chamdiem sql` reads the analysts' file and nothing else (issue: an analyst
could COPY over published.duckdb, read /etc/passwd, attach the restricted file or write into landing/)."""

from __future__ import annotations

import hashlib

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.cli import main
from pipelines.home import Home


@pytest.fixture()
def home(tmp_path) -> Home:
    """A home whose published file has one table, beside a restricted file holding a name."""
    home = Home.from_env(tmp_path / "home").ensure()
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(home.published_db))
    con.execute("create table unit_service_index as select '07900' as unit_code, 81.25 as total_points")
    con.close()
    con = duckdb.connect(str(home.restricted_db))
    con.execute("create table civil_servant_yearly_ratings as select 'Nguyễn Văn A' as full_name, 'XS' as final_level")
    con.close()
    return home


def _sql(home: Home, query: str):
    return CliRunner().invoke(main, ["--home", str(home.root), "sql", query])


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_select_on_the_analysts_file_runs(home) -> None:
    result = _sql(home, "select unit_code, total_points from unit_service_index")
    assert result.exit_code == 0, result.output
    assert "07900" in result.output and "81.25" in result.output


@pytest.mark.parametrize(("attack", "expected"), [
    # write over the published file itself, or anywhere else
    ("copy (select 1 as x) to '{published}' (format csv)", "refused: only SELECT queries"),
    ("copy unit_service_index to '{landing}/dossiers/2026-Q1/ho_so.csv'", "refused: only SELECT queries"),
    ("export database '{tmp}/dump'", "refused: only SELECT queries"),
    # read another file of the machine or the restricted file
    ("select * from read_csv('/etc/passwd')", "Permission Error"),
    ("select * from read_text('/etc/hostname')", "Permission Error"),
    ("select * from '{restricted}'", "Permission Error"),
    ("attach '{restricted}' as r", "refused: only SELECT queries"),
    # switch the guards off, load code, or change the data
    ("set enable_external_access = true", "refused: only SELECT queries"),
    ("select set_config('enable_external_access', 'true')", ""),
    ("install httpfs", "refused: only SELECT queries"),
    ("load httpfs", "refused: only SELECT queries"),
    ("create table t as select 1", "refused: only SELECT queries"),
    ("select 1; copy (select 1) to '{tmp}/x.csv'", "refused: one statement at a time"),
])
def test_every_attack_is_refused_and_changes_nothing(home, tmp_path, attack, expected) -> None:
    before = _digest(home.published_db)
    query = attack.format(published=home.published_db, restricted=home.restricted_db, landing=home.landing,
                          tmp=tmp_path)
    result = _sql(home, query)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert expected in result.output.replace("\n", " ")
    assert "Nguyễn" not in result.output
    assert _digest(home.published_db) == before
    assert not list(home.landing.rglob("*.csv"))
    assert not (tmp_path / "dump").exists() and not (tmp_path / "x.csv").exists()


def test_the_boundary_settings_hold_even_when_a_statement_gets_through(home) -> None:
    """Behind the statement check, DuckDB's own settings refuse file access and configuration changes."""
    from pipelines.warehouse import open_published

    con = open_published(home.published_db)
    try:
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"attach '{home.restricted_db}' as r")
        with pytest.raises(duckdb.PermissionException):
            con.execute("copy (select 1) to '/tmp/chamdiem-boundary-test.csv'")
        with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
            con.execute("set enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.execute("create table t as select 1")
        assert con.execute("select count(*) from unit_service_index").fetchone() == (1,)
    finally:
        con.close()
