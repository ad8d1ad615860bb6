"""Whole runs of the index engine: definitions, step order, SQL path, effective weights, decomposition,
Monte Carlo, Sobol indices, persistence, the CLI and the 766 point-sum definition on a hand-built warehouse."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.index_engine import (
    DefinitionError,
    load_definition,
    parse_definition,
    run_core_sql,
    run_index,
    run_on_warehouse,
    saltelli_design,
    sobol_indices,
    write_run,
    write_run_files,
)
from pipelines.index_engine.cli import index as index_cli

DEFINITIONS = Path(__file__).resolve().parent.parent / "index_definitions"


def _defn(hierarchy: list[dict], pipeline: list[dict], **extra: object):  # type: ignore[no-untyped-def]
    return parse_definition({"index_run": {"code": "t", "rule_version": "t1", "hierarchy": hierarchy,
                                           "pipeline": pipeline, **extra}})


# -- definitions -----------------------------------------------------------------------------------------


def test_definition_errors_name_file_and_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("index_run:\n  code: x\n  rule_version: v\n  hierarchy: [{code: A, level: 2}, "
                   "{code: a, level: 1, parent: A}]\n  pipeline:\n    - {step: normalise, method: minmaxx}\n"
                   "    - {step: aggregate}\n")
    with pytest.raises(DefinitionError) as err:
        load_definition(bad)
    assert str(bad) in str(err.value)
    assert "index_run.pipeline[0].method" in str(err.value)
    assert "minmax" in str(err.value)
    bad.write_text("index_run:\n  code: x\n  rule_version: v\n  hierarchy: [{code: A, level: 2}, "
                   "{code: a, level: 1, parent: B}]\n  pipeline: [{step: aggregate}]\n")
    with pytest.raises(DefinitionError, match=r"index_run\.hierarchy\.a\.parent: parent 'B' is not a node"):
        load_definition(bad)
    bad.write_text("index_run:\n  code: x\n  rule_version: v\n  hierarchy: [{code: A, level: 2}, "
                   "{code: a, level: 1, parent: A}]\n  pipeline: [{step: rank}, {step: aggregate}]\n")
    with pytest.raises(DefinitionError, match="'rank' must come after 'aggregate'"):
        load_definition(bad)


def test_point_sum_maxima_are_validated() -> None:
    with pytest.raises(DefinitionError, match=r"G1\.max_points: expected the sum of the children's maxima 10"):
        _defn([{"code": "T", "level": 3, "max_points": 100}, {"code": "G1", "level": 2, "parent": "T",
                                                               "max_points": 100},
               {"code": "a", "level": 1, "parent": "G1", "max_points": 10}],
              [{"step": "aggregate", "method": "sum"}], scale=100)


def test_example_definitions_load() -> None:
    cdi = load_definition(DEFINITIONS / "commune_digital_index.yaml")
    assert cdi.uncertainty and cdi.uncertainty["N"] == 1000
    s766 = load_definition(DEFINITIONS / "service_index_766.yaml")
    assert s766.root.max_points == 100
    assert sorted(n.max_points for n in s766.nodes if n.level == 2 and n.parent == "TOTAL") == [18, 18, 20, 22]


# -- effective weights and decomposition ----------------------------------------------------------------


def test_effective_weight_is_product_along_path() -> None:
    hierarchy = [{"code": "IDX", "level": 4}]
    data: dict[str, list] = {"unit_code": ["u1", "u2"]}
    rng = np.random.default_rng(3)
    for s in range(2):
        hierarchy.append({"code": f"S{s}", "level": 3, "parent": "IDX"})
        for p in range(3):
            hierarchy.append({"code": f"P{s}{p}", "level": 2, "parent": f"S{s}"})
            for i in range(4):
                hierarchy.append({"code": f"i{s}{p}{i}", "level": 1, "parent": f"P{s}{p}"})
                data[f"i{s}{p}{i}"] = rng.uniform(0, 100, 2).tolist()
    run = run_index(_defn(hierarchy, [{"step": "normalise", "method": "none"}, {"step": "aggregate"}]),
                    pl.DataFrame(data), with_uncertainty=False)
    ew = run.effective_weights["effective_weight"].to_numpy()
    np.testing.assert_allclose(ew, 1 / 24)
    assert round(1 / 24, 6) == 0.041667
    contrib = run.contributions.filter(pl.col("scope") == "index").group_by("unit_code").agg(
        pl.col("contribution").sum()).sort("unit_code")
    scores = run.index_scores().sort("unit_code")
    np.testing.assert_allclose(contrib["contribution"], scores["score"], rtol=0, atol=1e-12)


def test_effective_weights_per_unit_with_missing_data() -> None:
    hierarchy = [{"code": "IDX", "level": 3}, {"code": "P1", "level": 2, "parent": "IDX"},
                 {"code": "P2", "level": 2, "parent": "IDX"}, {"code": "a", "level": 1, "parent": "P1"},
                 {"code": "b", "level": 1, "parent": "P1"}, {"code": "c", "level": 1, "parent": "P2"}]
    data = pl.DataFrame({"unit_code": ["u1", "u2"], "a": [10.0, None], "b": [30.0, 40.0], "c": [50.0, 60.0]})
    run = run_index(_defn(hierarchy, [{"step": "normalise", "method": "none"}, {"step": "aggregate"}]), data,
                    with_uncertainty=False)
    ew = {(r["unit_code"], r["indicator_code"]): r["effective_weight"]
          for r in run.effective_weights.iter_rows(named=True)}
    assert (ew["u1", "a"], ew["u1", "b"], ew["u1", "c"]) == (0.25, 0.25, 0.5)
    assert (ew["u2", "a"], ew["u2", "b"], ew["u2", "c"]) == (0.0, 0.5, 0.5)
    # CI = Σ ew I exactly: u1 = 0.25*10 + 0.25*30 + 0.5*50 = 35; u2 = 0.5*40 + 0.5*60 = 50
    assert run.index_scores().sort("unit_code")["score"].to_list() == [35.0, 50.0]


def test_decomposition_worked_example() -> None:
    hierarchy = [{"code": "CI", "level": 2}, {"code": "a", "level": 1, "parent": "CI", "weight": 2},
                 {"code": "b", "level": 1, "parent": "CI", "weight": 1},
                 {"code": "c", "level": 1, "parent": "CI", "weight": 1}]
    data = pl.DataFrame({"unit_code": ["u1"], "a": [80.0], "b": [50.0], "c": [60.0]})
    run = run_index(_defn(hierarchy, [{"step": "normalise", "method": "none", "upper": 100},
                                      {"step": "aggregate"}]), data, with_uncertainty=False)
    c = run.contributions.filter(pl.col("scope") == "index").sort("component_code")
    assert c["effective_weight"].to_list() == [0.5, 0.25, 0.25]
    assert c["contribution"].to_list() == [40.0, 12.5, 15.0]
    assert c["points_lost"].to_list() == [10.0, 12.5, 10.0]
    assert run.index_scores()["score"][0] == 67.5
    assert sum(c["points_lost"]) == 100 - 67.5


def test_geometric_decomposes_in_log_space() -> None:
    hierarchy = [{"code": "CI", "level": 2}, {"code": "a", "level": 1, "parent": "CI"},
                 {"code": "b", "level": 1, "parent": "CI"}, {"code": "c", "level": 1, "parent": "CI"}]
    data = pl.DataFrame({"unit_code": ["u1"], "a": [80.0], "b": [50.0], "c": [60.0]})
    run = run_index(_defn(hierarchy, [{"step": "normalise", "method": "none"},
                                      {"step": "aggregate", "method": "geometric"}]), data, with_uncertainty=False)
    score = run.index_scores()["score"][0]
    assert score == pytest.approx(62.1447, abs=5e-5)
    c = run.contributions.filter(pl.col("scope") == "index")
    assert set(c["space"]) == {"log"}
    assert c["contribution"].sum() == pytest.approx(np.log(score), abs=1e-12)


# -- step order and the datasets of a run ----------------------------------------------------------------


def _order_data() -> pl.DataFrame:
    x = [*range(1, 11), 30, 100, None]
    return pl.DataFrame({"unit_code": [f"u{i:02d}" for i in range(13)], "x": [float(v) if v else None for v in x],
                         "y": [float(v) for v in range(13)]})


def test_step_order_changes_the_result() -> None:
    hierarchy = [{"code": "CI", "level": 2}, {"code": "x", "level": 1, "parent": "CI"},
                 {"code": "y", "level": 1, "parent": "CI"}]
    impute = {"step": "impute", "method": "mean"}
    treat = {"step": "treat_outliers"}
    tail = [{"step": "normalise", "method": "minmax"}, {"step": "aggregate"}, {"step": "rank"}]
    first = run_index(_defn(hierarchy, [impute, treat, *tail]), _order_data(), with_uncertainty=False)
    second = run_index(_defn(hierarchy, [treat, impute, *tail]), _order_data(), with_uncertainty=False)
    imputed_first = first.wide("impute").filter(pl.col("unit_code") == "u12")["x"][0]
    imputed_second = second.wide("impute").filter(pl.col("unit_code") == "u12")["x"][0]
    assert imputed_first == pytest.approx((55 + 130) / 12)  # the mean still holds the outlier 100
    assert imputed_second == pytest.approx((55 + 60) / 12)  # 100 was winsorised to 30 first
    s1 = first.index_scores().sort("unit_code")["score"].to_numpy()
    s2 = second.index_scores().sort("unit_code")["score"].to_numpy()
    assert not np.allclose(s1, s2)
    # every step left its own dataset, keyed by (step_no, step_name)
    assert sorted(first.steps)[:3] == [(1, "impute"), (2, "treat_outliers"), (3, "normalise")]
    assert sorted(second.steps)[:3] == [(1, "treat_outliers"), (2, "impute"), (3, "normalise")]
    flags = first.dataset("impute").filter(pl.col("is_imputed"))
    assert flags.select("unit_code", "node_code").rows() == [("u12", "x")]
    log = first.treatment_log.row(0, named=True)
    assert (log["indicator_code"], log["treatment"], log["n_winsorised"], log["side"], log["treated_units"]) == (
        "x", "winsorised", 1, "high", "u11")


def test_screening_drops_units_with_reason() -> None:
    hierarchy = [{"code": "CI", "level": 2}] + [{"code": c, "level": 1, "parent": "CI"} for c in "abc"]
    data = pl.DataFrame({"unit_code": ["u1", "u2", "u3"], "a": [1.0, 2.0, None], "b": [1.0, None, None],
                         "c": [3.0, 2.0, 1.0]})
    run = run_index(_defn(hierarchy, [{"step": "screen", "unit_min_availability": 0.6667},
                                      {"step": "normalise", "method": "minmax"}, {"step": "aggregate"},
                                      {"step": "rank"}]), data, with_uncertainty=False)
    dropped = run.steps[(1, "screen")].extra["dropped_units"]
    assert dropped["unit_code"].to_list() == ["u3"]
    assert "0.3333 < 0.6667" in dropped["reason"][0]  # u2 at 2/3 stays
    scores = run.index_scores()
    assert scores.filter(pl.col("unit_code") == "u3")["rank"][0] is None
    assert scores["unit_code"].to_list()[-1] == "u3"  # unranked units listed last


def test_group_mean_imputation() -> None:
    hierarchy = [{"code": "CI", "level": 2}, {"code": "a", "level": 1, "parent": "CI"}]
    data = pl.DataFrame({"unit_code": ["1", "2", "3", "4"], "region": ["N", "N", "S", "S"],
                         "a": [10.0, None, 30.0, 50.0]})
    run = run_index(_defn(hierarchy, [{"step": "impute", "method": "group_mean", "group_column": "region"},
                                      {"step": "normalise", "method": "none"}, {"step": "aggregate"}],
                          inputs={"unit_groups": ["region"]}), data, with_uncertainty=False)
    assert run.wide("impute")["a"].to_list() == [10.0, 10.0, 30.0, 50.0]


# -- SQL path --------------------------------------------------------------------------------------------


def _sql_case(aggregation: dict, normalise: dict) -> tuple:
    rng = np.random.default_rng(42)
    m = 40
    data = {"unit_code": [f"{i:05d}" for i in range(m)], "region": [f"R{i % 3}" for i in range(m)],
            "population": rng.integers(1000, 50000, m).astype(float)}
    hierarchy = [{"code": "IDX", "level": 3}]
    for p in range(3):
        hierarchy.append({"code": f"P{p}", "level": 2, "parent": "IDX", "weight": p + 1})
        for i in range(3):
            code = f"i{p}{i}"
            v = rng.uniform(1, 100, m)
            v[rng.choice(m, 4, replace=False)] = np.nan
            data[code] = v
            node = {"code": code, "level": 1, "parent": f"P{p}", "weight": 1 + i, "direction": -1 if i == 2 else 1,
                    "goalpost_low": 0, "goalpost_high": 120}
            if code == "i00":
                node["denominator"] = "population"
            hierarchy.append(node)
    data["population"][5] = 0.0  # a zero denominator gives NULL
    pipeline = [{"step": "denominate", "multiplier": 1000}, {"step": "screen", "unit_min_availability": 0.75},
                normalise, {"step": "weight", "scheme": "metadata"}, aggregation,
                {"step": "rank", "precision": 2, "partition": ["region"]}]
    return _defn(hierarchy, pipeline, inputs={"unit_groups": ["region"]}), pl.DataFrame(data)


@pytest.mark.parametrize(("aggregation", "normalise"), [
    ({"step": "aggregate", "method": "arithmetic"},
     {"step": "normalise", "method": "minmax", "overrides": {
         "i01": {"method": "zscore", "a": 10, "b": 50}, "i11": {"method": "goalposts", "scale": 100},
         "i21": {"method": "rank"}}}),
    ({"step": "aggregate", "by_level": {2: "geometric", 3: "arithmetic"}},
     {"step": "normalise", "method": "minmax", "range": [1, 100], "overrides": {"i12": {"method": "rank"}}}),
])
def test_sql_path_equals_polars_path(aggregation: dict, normalise: dict) -> None:
    defn, data = _sql_case(aggregation, normalise)
    run = run_index(defn, data, with_uncertainty=False)
    sql = run_core_sql(defn, data).sort(["node_code", "unit_code"])
    py = run.scores.select("unit_code", "node_code", "score", "rank").sort(["node_code", "unit_code"])
    assert sql["unit_code"].to_list() == py["unit_code"].to_list()
    a, b = sql["score"].to_numpy().astype(float), py["score"].to_numpy().astype(float)
    assert np.array_equal(np.isnan(a), np.isnan(b))
    assert np.nanmax(np.abs(a - b)) < 1e-9
    assert sql["rank"].to_list() == py["rank"].to_list()
    assert py["score"].null_count() > 0  # the screen and the zero denominator did bite


# -- uncertainty and sensitivity -------------------------------------------------------------------------


def _province(m: int = 150, q: int = 20, seed: int = 1) -> tuple:
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {"unit_code": [f"{i:05d}" for i in range(m)],
                               "region": [f"R{i % 4}" for i in range(m)]}
    for j in range(q):
        v = rng.lognormal(3, 1.5 if j % 5 == 0 else 0.5, m)
        v[rng.choice(m, 5, replace=False)] = np.nan
        data[f"i{j:02d}"] = v
    hierarchy = [{"code": "IDX", "level": 3}] + [{"code": f"P{p}", "level": 2, "parent": "IDX"} for p in range(4)]
    hierarchy += [{"code": f"i{j:02d}", "level": 1, "parent": f"P{j % 4}"} for j in range(q)]
    unc = {"N": 1000, "seed": 11, "weight_noise": {2: 0.25},
           "factors": ["weights", "impute_method", "winmax", "normalise_method", "aggregate_method",
                       "exclude_indicator"],
           "alternatives": {"impute_method": ["none", "mean", "group_mean"], "winmax": [1, 3, 5],
                            "normalise_method": [{"method": "minmax", "range": [1, 100]},
                                                 {"method": "zscore", "a": 10, "b": 100}, "rank"],
                            "aggregate_method": ["arithmetic", "geometric"], "exclude_indicator": "each"}}
    pipeline = [{"step": "screen", "unit_min_availability": 0.6667},
                {"step": "impute", "method": "none", "group_column": "region"}, {"step": "treat_outliers"},
                {"step": "normalise", "method": "minmax", "range": [1, 100]}, {"step": "aggregate"},
                {"step": "rank", "precision": 2}]
    defn = _defn(hierarchy, pipeline, inputs={"unit_groups": ["region"]}, uncertainty=unc,
                 sensitivity={"N": 100, "Nboot": 50})
    return defn, pl.DataFrame(data)


def test_monte_carlo_at_province_scale_is_fast_and_reproducible() -> None:
    defn, data = _province()
    t0 = time.perf_counter()
    run = run_index(defn, data)
    elapsed = time.perf_counter() - t0
    assert elapsed < 30, f"1000 replications took {elapsed:.1f} s"
    again = run_index(defn, data)
    assert run.rank_intervals.equals(again.rank_intervals)
    assert run.rank_shifts.equals(again.rank_shifts)
    other = run_index(defn, data, seed=12)
    assert not run.rank_shifts.equals(other.rank_shifts)
    ri = run.rank_intervals
    assert ri.height == 150
    assert (ri["rank_q05"] <= ri["median_rank"]).all() and (ri["median_rank"] <= ri["rank_q95"]).all()
    # percentiles are numpy's linear ones over the stored replications
    reps = run.replications.filter(pl.col("unit_code") == "00000")["rank"].to_numpy()
    assert ri.filter(pl.col("unit_code") == "00000")["rank_q95"][0] == pytest.approx(np.percentile(reps, 95))
    shift = run.rank_shifts["mean_abs_rank_shift"]
    assert shift.len() == 1000 and shift.min() >= 0 and shift.mean() > 0
    assert set(run.uncertainty_design["aggregate_method"]) == {"arithmetic", "geometric"}


def test_weight_noise_only_keeps_ranks_near_nominal() -> None:
    defn, data = _province(m=30, q=8)
    defn.uncertainty = {**defn.uncertainty, "N": 200, "factors": ["weights"], "weight_noise": {2: 0.0}}
    run = run_index(defn, data)
    # no noise at all: every replication reproduces the nominal ranks
    assert run.rank_shifts["mean_abs_rank_shift"].max() == 0


def test_sobol_check_function() -> None:
    rng = np.random.default_rng(2026)
    n, d = 20000, 3
    x = saltelli_design(n, d, rng)
    y = x[:, 0] + 2 * x[:, 1] + 3 * x[:, 2]
    res = sobol_indices(y, n, d, n_boot=50, rng=rng)
    np.testing.assert_allclose(res["s1"], [1 / 14, 4 / 14, 9 / 14], atol=0.02)
    np.testing.assert_allclose(res["st"], [1 / 14, 4 / 14, 9 / 14], atol=0.02)
    assert (res["s1_q05"] <= res["s1"]).all() and (res["s1"] <= res["s1_q95"]).all()


def test_sensitivity_on_a_run() -> None:
    defn, data = _province(m=40, q=8)
    defn.uncertainty = {**defn.uncertainty, "N": 50}
    run = run_index(defn, data, with_sensitivity=True)
    sens = run.sensitivity
    assert sens["n_runs"][0] == 100 * (6 + 2)
    # normalisation and aggregation choices move ranks far more than ±25% weights
    st = dict(zip(sens["factor"], sens["st"], strict=True))
    assert st["normalise_method"] > st["weights"]


# -- persistence and the CLI -----------------------------------------------------------------------------


def test_write_run_and_files(tmp_path: Path) -> None:
    defn = load_definition(DEFINITIONS / "commune_digital_index.yaml")
    defn.uncertainty = {**defn.uncertainty, "N": 100}
    run = run_index(defn)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_run(con, run)
    write_run(con, run)  # same run_id: rows are replaced, not duplicated
    assert con.execute("select count(*) from indices.runs").fetchone()[0] == 1
    n_scores = con.execute("select count(*) from indices.scores where run_id = ?", [run.run_id]).fetchone()[0]
    assert n_scores == 148 * 4  # index + 3 pillars per unit
    steps = con.execute("select distinct step_name from indices.step_data order by 1").fetchall()
    assert ("treat_outliers",) in steps and ("aggregate:level_2",) in steps
    treated = con.execute("select treatment from indices.treatment_log where indicator_code = "
                          "'fo_dossiers_per_1000'").fetchone()[0]
    assert treated == "winsorised"
    assert con.execute("select count(*) from indices.rank_intervals").fetchone()[0] == 148
    # every indicator's contributions add up to the index score
    gap = con.execute("""
        select max(abs(c.total - s.score)) from (
            select unit_code, sum(contribution) as total from indices.contributions
            where scope = 'index' group by unit_code) as c
        inner join indices.scores as s on s.unit_code = c.unit_code and s.is_index
    """).fetchone()[0]
    assert gap < 1e-9
    paths = write_run_files(run, tmp_path / "files")
    assert (tmp_path / "files" / "scores.parquet") in paths
    assert pl.read_parquet(tmp_path / "files" / "scores.parquet").height == n_scores


def test_cli_build(tmp_path: Path) -> None:
    result = CliRunner().invoke(index_cli, [
        "build", str(DEFINITIONS / "commune_digital_index.yaml"), "--out", str(tmp_path / "out"),
        "--warehouse", str(tmp_path / "w.duckdb"), "--samples", "50", "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "Phường Vĩnh Yên" in result.output
    assert (tmp_path / "out" / "rank_intervals.parquet").exists()
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    assert con.execute("select seed from indices.runs").fetchone()[0] == 3


# -- 766 point sum on a hand-built warehouse -------------------------------------------------------------

PMAX = {"1.1": ("G1", 6), "1.2": ("G1", 4), "1.3": ("G1", 2), "1.4": ("G1", 6), "2.1": ("G2", 20),
        "4.1": ("G3", 6), "4.2": ("G3", 4), "4.CC": ("G3", 2), "4.3": ("G3", 2), "4.4": ("G3", 4),
        "4.5b": ("G3", 2), "4.5a": ("G3", 2), "3.FO": ("G4a", 12), "3.5": ("G4b", 2), "3.5b": ("G4b", 2),
        "3.6": ("G4b", 6), "5.2": ("G5", 6), "5.3": ("G5", 6), "5.4": ("G5", 6)}


def _warehouse_766(path: Path) -> duckdb.DuckDBPyConnection:
    """Four communes and one department, 2026-Q1; 1.2 and 1.3 do not apply to communes (points NULL)."""
    points = {
        # full marks on every applicable indicator: G1 = 18 * 12 / 12 -> total 100
        "C1": dict.fromkeys(PMAX, 1.0),
        # half marks everywhere: total 50
        "C2": dict.fromkeys(PMAX, 0.5),
        # full marks but 2.1 at half (10 of 20): total 90
        "C3": {**dict.fromkeys(PMAX, 1.0), "2.1": 0.5},
        # 1.4 at half: G1 = 18 * (6 + 3) / 12 = 13.5 -> total 95.5
        "C4": {**dict.fromkeys(PMAX, 1.0), "1.4": 0.5},
        # a department, every indicator applicable, 3.6 at 1/3: G4b = 2 + 2 + 2 -> total 96
        "D1": {**dict.fromkeys(PMAX, 1.0), "3.6": 1 / 3},
    }
    expected = {"C1": 100.0, "C2": 50.0, "C3": 90.0, "C4": 95.5, "D1": 96.0}
    rows = []
    for unit, share in points.items():
        for ind, (group, pmax) in PMAX.items():
            applicable = unit == "D1" or ind not in ("1.2", "1.3")
            for rule_version, factor in (("766-portal", 1.0), ("766-decision", 0.1)):
                rows.append({
                    "period_label": "2026-Q1", "unit_code": unit, "indicator_id": ind, "group_code": group,
                    "group5_code": "G4" if group.startswith("G4") else group, "numerator": 1.0,
                    "denominator": 1.0, "ratio_pct": 100.0 * share[ind], "target_pct": None,
                    "max_points": float(pmax),
                    "points": pmax * share[ind] * factor if applicable else None,
                    "rule_version": rule_version,
                })
    con = duckdb.connect(str(path))
    con.execute("create schema marts")
    con.register("pts", pl.DataFrame(rows).to_arrow())
    con.execute("create table marts.service_indicator_points as select * from pts")
    units = []
    for unit, total in expected.items():
        peer = "department" if unit == "D1" else "commune"
        units.append({"period_label": "2026-Q1", "unit_code": unit, "unit_name": f"Unit {unit}",
                      "peer_group": peer, "total_points": total, "rule_version": "766-portal",
                      "is_partial": False})
    uf = pl.DataFrame(units)
    con.register("u", uf.to_arrow())
    con.execute("""create table marts.unit_service_index as
                   select *, rank() over (partition by peer_group order by total_points desc) as rank_in_peer_group
                   from u""")
    return con


def test_766_point_sum_reproduces_mart_totals(tmp_path: Path) -> None:
    con = _warehouse_766(tmp_path / "wh.duckdb")
    run = run_on_warehouse(con, DEFINITIONS / "service_index_766.yaml", "2026-Q1", with_uncertainty=False)
    got = con.execute("""
        select m.unit_code, m.total_points, s.score, m.rank_in_peer_group, s.rank
        from marts.unit_service_index as m
        inner join indices.scores as s on s.unit_code = m.unit_code and s.is_index and s.run_id = ?
        order by m.unit_code
    """, [run.run_id]).fetchall()
    assert len(got) == 5
    for unit, total, score, mart_rank, rank in got:
        assert abs(total - score) < 1e-9, unit
        assert mart_rank == rank, unit
    assert [r[2] for r in got] == pytest.approx([100.0, 50.0, 90.0, 95.5, 96.0], abs=1e-12)
    # point-sum decomposition: contributions are the points, points lost Pmax - P (re-scaled in G1 for communes)
    c1 = run.contributions.filter((pl.col("unit_code") == "C4") & (pl.col("scope") == "index"))
    assert c1["contribution"].sum() == pytest.approx(95.5)
    assert c1["points_lost"].sum() == pytest.approx(4.5)
    g1 = run.scores.filter((pl.col("unit_code") == "C4") & (pl.col("node_code") == "G1"))["score"][0]
    assert g1 == pytest.approx(13.5)


def test_commune_definition_on_the_warehouse(tmp_path: Path) -> None:
    con = _warehouse_766(tmp_path / "wh.duckdb")
    con.execute("alter table marts.unit_service_index add column unit_kind varchar default 'commune'")
    con.execute("create schema staging")
    con.execute("""create table staging.stg_units as
                   select * from (values ('C1', 2000, date '2025-07-01'), ('C1', 4000, date '2026-01-01'),
                                         ('C2', 1000, date '2025-07-01'), ('C3', 500, date '2025-07-01'),
                                         ('C4', 250, date '2025-07-01'))
                   as t(unit_code, population, valid_from)""")
    con.execute("update marts.service_indicator_points set numerator = 40 where indicator_id = '3.FO'")
    run = run_on_warehouse(con, DEFINITIONS / "commune_digital_index.yaml", "2026-Q1", peer_group="commune",
                           with_uncertainty=False)
    assert run.units["unit_code"].to_list() == ["C1", "C2", "C3", "C4"]
    # 40 fully-online dossiers per 1,000 inhabitants, with the latest population snapshot (4,000 for C1)
    per_capita = run.wide("denominate").sort("unit_code")["fo_dossiers_per_1000"].to_list()
    assert per_capita == [10.0, 40.0, 80.0, 160.0]
    assert con.execute("select count(*) from indices.scores where node_code = 'CDI'").fetchone()[0] == 4


def test_coherence_report() -> None:
    hierarchy = [{"code": "CI", "level": 2}] + [{"code": c, "level": 1, "parent": "CI"} for c in "abc"]
    data = pl.DataFrame({"unit_code": ["1", "2", "3", "4"], "a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 4.0, 6.0, 8.0],
                         "c": [4.0, 3.0, 2.0, 1.0]})
    run = run_index(_defn(hierarchy, [{"step": "normalise", "method": "none"}, {"step": "aggregate"}]), data,
                    with_uncertainty=False)
    coh = {r["node_code"]: r for r in run.coherence.iter_rows(named=True)}
    # CI = (a + b + c) / 3 = (7 + 2a)/3 rises with a: perfect correlation; c runs against the index
    assert coh["a"]["pearson_index"] == pytest.approx(1.0)
    assert coh["c"]["spearman_index"] == pytest.approx(-1.0)
    assert coh["a"]["mean_effective_weight"] == pytest.approx(1 / 3)
    # Cronbach: item variances 5/3, 20/3, 5/3 (sum 10); the total 7 + 2a has variance 4 * 5/3 = 20/3
    assert coh["CI"]["cronbach_alpha"] == pytest.approx(1.5 * (1 - 10 / (20 / 3)))
