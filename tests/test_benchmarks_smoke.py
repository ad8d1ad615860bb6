"""The benchmark's smoke mode: a small quarter refreshed end to end, with the floor (one DuckDB script) and the
pandas peer computing the same totals and ranks straight from the landing files."""

from pathlib import Path

import pandas as pd

from benchmarks.floor import compare, run_floor
from benchmarks.generate import QUARTER
from benchmarks.run import STAGES, bench


def test_floor_and_peer_agree_with_the_published_index(tmp_path: Path) -> None:
    result = bench("smoke", tmp_path, peer=True, incremental=False)

    assert result["refresh"]["success"]
    assert set(result["refresh"]["stages"]) == set(STAGES)
    assert all(seconds > 0 for seconds in result["refresh"]["stages"].values())
    assert result["refresh"]["peak_rss_gib"] > 0
    # Phú Thọ: the province, 15 departments, the service centre and 148 communes and wards
    assert result["units_scored"] == 165
    assert result["floor"]["differences"] == []
    assert result["peer"]["differences"] == []


def test_compare_reports_a_different_total_and_rank() -> None:
    published = pd.DataFrame({"period_label": [QUARTER] * 2, "unit_code": ["A", "B"], "peer_group": ["p", "p"],
                              "total_points": [80.104, 78.85], "rank_in_peer_group": [1, 2]})
    moved = published.assign(total_points=[80.104, 80.2], rank_in_peer_group=[2, 1])
    problems = compare(published, moved, QUARTER)
    assert "B: total 78.85 != 80.2" in problems
    assert "A: rank 1 != 2" in problems
    assert compare(published, published.assign(total_points=[80.104 + 1e-12, 78.85]), QUARTER) == []


def test_floor_script_runs_on_an_empty_quarter_folder_set(tmp_path: Path) -> None:
    # No landing files at all: DuckDB's globs fail loudly rather than scoring nothing.
    try:
        run_floor(tmp_path)
    except Exception as error:  # noqa: BLE001 - the message is what matters
        assert "No files found" in str(error)
    else:
        raise AssertionError("the floor should refuse an empty landing folder")
