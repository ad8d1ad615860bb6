"""The analyst notebooks run headless as scripts on a published file and save their charts as PNG files."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.home import PROJECT_ROOT
from tests.fixtures.published_analyst import build_published_db

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

EXPECTED_CHARTS = {
    "rankings_overview": ["ranking_2026-Q2_communes.png", "ranking_2026-Q2_provincial_agencies.png",
                          "distribution_2026-Q2.png"],
    "unit_drilldown": ["unit_10005_2026-Q1_groups.png", "unit_10005_2026-Q1_points_lost.png",
                       "unit_10005_trend.png"],
    "quarterly_trends": ["trend_peer_group_medians.png", "trend_group_attainment_communes.png"],
}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_published_db(tmp_path_factory.mktemp("published") / "published.duckdb")


@pytest.fixture(scope="module")
def mpl_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One matplotlib cache for the module: building the font cache once keeps the runs quick."""
    return tmp_path_factory.mktemp("mpl")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("notebook", sorted(EXPECTED_CHARTS))
def test_notebook_runs_headless_and_saves_its_charts(notebook: str, published: Path, mpl_config: Path,
                                                     tmp_path: Path):
    out = tmp_path / "charts"
    env = {**os.environ, "CHAMDIEM_PUBLISHED_DB": str(published), "CHAMDIEM_NOTEBOOK_OUT": str(out),
           "CHAMDIEM_UNIT": "10005", "CHAMDIEM_PERIOD": "2026-Q1", "MPLBACKEND": "Agg",
           "MPLCONFIGDIR": str(mpl_config)}
    before = _digest(published)
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "notebooks" / f"{notebook}.py")], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=240, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    for name in EXPECTED_CHARTS[notebook]:
        chart = out / name
        assert chart.exists(), f"{notebook} did not save {name}; saved {sorted(p.name for p in out.iterdir())}"
        assert chart.stat().st_size > 5_000
        assert chart.read_bytes()[:8] == PNG_SIGNATURE
    assert _digest(published) == before, "a notebook changed the published file"


def test_notebooks_read_the_home_from_chamdiem_home(tmp_path, monkeypatch):
    from pipelines.outputs.notebook_support import published_db_path  # noqa: PLC0415

    monkeypatch.delenv("CHAMDIEM_PUBLISHED_DB", raising=False)
    monkeypatch.setenv("CHAMDIEM_HOME", str(tmp_path / "province"))
    assert published_db_path() == (tmp_path / "province" / "warehouse" / "published.duckdb").resolve()
    # An explicit published file still wins.
    monkeypatch.setenv("CHAMDIEM_PUBLISHED_DB", str(tmp_path / "copy.duckdb"))
    assert published_db_path() == tmp_path / "copy.duckdb"
