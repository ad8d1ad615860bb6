"""Point sums under Monte Carlo weight noise (spec index-methods §7.3, §11.3): the replication total
Σ P_q (w'_q / w_q) (Σ w_q / Σ w'_q), with w the maximum points, and the 766 definition's rank intervals."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from pipelines.index_engine import load_definition, parse_definition, run_index
from pipelines.index_engine.engine import prepare_inputs
from pipelines.index_engine.methods import aggregate
from pipelines.index_engine.tree import Tree, aggregate_tree
from pipelines.index_engine.uncertainty import Evaluator, Factor

DEFINITION_766 = Path(__file__).resolve().parent.parent / "index_definitions" / "service_index_766.yaml"


# -- the formula -----------------------------------------------------------------------------------------


def test_noisy_point_sum_formula() -> None:
    points = np.array([[6.0, 1.0], [2.0, 4.0]])
    maxima = np.array([6.0, 4.0])
    sampled = maxima * np.array([0.8, 1.2])  # u = -0.8 and +0.8 at f = 0.25
    # (6 x 0.8 + 1 x 1.2) x 10 / 9.6 and (2 x 0.8 + 4 x 1.2) x 10 / 9.6
    got = aggregate(points, sampled, "sum", nominal_weights=maxima)
    np.testing.assert_allclose(got, [6.25, 6.4 / 0.96], rtol=0, atol=1e-12)
    # full marks keep the group's maximum whatever the draw
    assert aggregate(maxima[None, :], sampled, "sum", nominal_weights=maxima)[0] == pytest.approx(10.0, abs=1e-12)


def test_unperturbed_weights_give_the_plain_sum_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 6, size=(50, 7))
    points[rng.random(points.shape) < 0.2] = np.nan
    maxima = rng.uniform(1, 6, size=7)
    plain = aggregate(points, np.ones(7), "sum")
    noisy = aggregate(points, maxima, "sum", nominal_weights=maxima)
    assert np.array_equal(plain, noisy, equal_nan=True)


# -- a hand-computed case: 3 units, 2 groups -------------------------------------------------------------


def _tiny(missing_g: str) -> tuple:
    """T (10) = G1 (6: a 4, b 2) + G2 (4: c 4). U3 has no value for a (excluded indicator)."""
    hierarchy = [
        {"code": "T", "level": 3, "max_points": 10},
        {"code": "G1", "level": 2, "parent": "T", "max_points": 6},
        {"code": "G2", "level": 2, "parent": "T", "max_points": 4},
        {"code": "a", "level": 1, "parent": "G1", "max_points": 4},
        {"code": "b", "level": 1, "parent": "G1", "max_points": 2},
        {"code": "c", "level": 1, "parent": "G2", "max_points": 4},
    ]
    pipeline = [{"step": "normalise", "method": "none"},
                {"step": "aggregate", "method": "sum", "missing_by_level": {2: missing_g, 3: "null"}},
                {"step": "rank", "precision": 2}]
    defn = parse_definition({"index_run": {
        "code": "tiny", "rule_version": "t1", "scale": 10, "hierarchy": hierarchy, "pipeline": pipeline,
        "uncertainty": {"N": 2, "seed": 1, "weight_noise": {2: 0.25}, "factors": ["weights"]}}})
    data = pl.DataFrame({"unit_code": ["U1", "U2", "U3"], "a": [4.0, 1.0, None], "b": [2.0, 1.0, 1.5],
                         "c": [1.0, 4.0, 3.0]})
    return defn, data


@pytest.mark.parametrize(("missing_g", "nominal", "replicated", "ranks"), [
    # G1 of U3 scaled up to 6 x 1.5 / 2 = 4.5; T = (G1 x 0.8 + G2 x 1.2) x 10 / (6 x 0.8 + 4 x 1.2)
    ("rescale", [7.0, 6.0, 7.5], [6.0 / 0.96, 6.4 / 0.96, 7.2 / 0.96], [3, 2, 1]),
    # G1 of U3 is what is present, 1.5: T = (1.2 + 3.6) / 0.96 = 5
    ("skip", [7.0, 6.0, 4.5], [6.25, 6.4 / 0.96, 5.0], [2, 1, 3]),
    # a missing indicator makes G1, then T, missing
    ("null", [7.0, 6.0, None], [6.25, 6.4 / 0.96, None], [2, 1, None]),
])
def test_one_weight_draw_gives_the_hand_computed_totals(missing_g: str, nominal: list, replicated: list,
                                                        ranks: list) -> None:
    defn, data = _tiny(missing_g)
    run = run_index(defn, data, with_uncertainty=False)
    got = run.index_scores().sort("unit_code")["score"].to_list()
    assert got == pytest.approx(nominal, abs=1e-12)
    inp = prepare_inputs(defn, data)
    tree = Tree.from_definition(defn)
    assert tree.codes == ["a", "b", "c", "G1", "G2", "T"]
    # One draw: G1's weight 25% x 0.8 down, G2's 25% x 0.8 up; indicators and the root untouched.
    pool = np.array([[1.0, 1.0, 1.0, 0.8, 1.2, 1.0]])
    ev = Evaluator(run, inp, tree, [Factor("weights", [0])], pool)
    scores = ev.scores(np.zeros((1, 1)))
    expected = np.array([np.nan if v is None else v for v in replicated])
    np.testing.assert_allclose(scores[0], expected, rtol=0, atol=1e-12)
    assert ev.ranks(scores)[0].tolist() == pytest.approx([np.nan if r is None else r for r in ranks],
                                                         nan_ok=True)


def test_sampled_weights_do_not_touch_the_groups_with_every_indicator_present() -> None:
    defn, data = _tiny("rescale")
    inp = prepare_inputs(defn, data)
    tree = Tree.from_definition(defn)
    nominal = np.ones(len(tree.codes))
    sampled = np.array([[1.0, 1.0, 1.0, 0.8, 1.2, 1.0]])
    vals = aggregate_tree(tree, inp.raw[None, :, :], sampled, {}, "sum", missing={2: "rescale", 3: "null"},
                          nominal_weights=nominal)[0]
    # no noise inside the groups: G1 and G2 are the nominal points (U3's G1 scaled up to its maximum)
    np.testing.assert_array_equal(vals[:, 3], [6.0, 2.0, 4.5])
    np.testing.assert_array_equal(vals[:, 4], [1.0, 4.0, 3.0])


# -- the 766 definition ----------------------------------------------------------------------------------


def _data_766() -> pl.DataFrame:
    """The example points (148 communes), with one unit at full marks and two partial periods."""
    defn = load_definition(DEFINITION_766)
    data = pl.read_csv(defn.data_input.file, schema_overrides={"unit_code": pl.Utf8, "is_partial": pl.Utf8},
                       infer_schema_length=10000)
    maxima = {n.code: n.max_points for n in defn.indicators}
    first = data["unit_code"][0]
    full = [pl.when(pl.col("unit_code") == first).then(pl.lit(maxima[c]) if data[c][0] is not None
                                                       else pl.lit(None)).otherwise(pl.col(c)).alias(c)
            for c in maxima]
    partial = pl.col("unit_code").is_in(data["unit_code"][1:3].to_list())
    return data.with_columns(*full, pl.when(partial).then(pl.lit("true")).otherwise(pl.col("is_partial"))
                             .alias("is_partial"))


def test_766_definition_has_the_uncertainty_block() -> None:
    defn = load_definition(DEFINITION_766)
    unc = defn.uncertainty
    assert unc is not None
    assert unc["N"] == 1000 and isinstance(unc["seed"], int)
    assert unc["weight_noise"] == {2: 0.25, 3: 0.25}
    assert unc["factors"] == ["weights"]
    rank = defn.steps("rank")[0].params
    assert rank == {"precision": 2, "ties": "min", "partition": ["peer_group"], "exclude_when": "is_partial"}


def test_766_without_noise_reproduces_the_nominal_ranks() -> None:
    defn = load_definition(DEFINITION_766)
    defn.uncertainty = {**defn.uncertainty, "N": 50, "weight_noise": {2: 0.0, 3: 0.0}}
    data = _data_766()
    run = run_index(defn, data)
    ri = run.rank_intervals
    ranked = ri.filter(pl.col("nominal_rank").is_not_null())
    assert ranked.height == data.height - 2
    assert (ranked["rank_q05"] == ranked["nominal_rank"]).all()
    assert (ranked["rank_q95"] == ranked["nominal_rank"]).all()
    assert run.rank_shifts["mean_abs_rank_shift"].max() == 0
    # every replication's total is the nominal total, bit for bit
    nominal = dict(zip(run.index_scores()["unit_code"], run.index_scores()["score"], strict=True))
    reps = run.replications
    assert all(s == nominal[u] for u, s in zip(reps["unit_code"], reps["score"], strict=True))


def test_766_rank_intervals_contain_the_nominal_rank() -> None:
    defn = load_definition(DEFINITION_766)
    data = _data_766()
    t0 = time.perf_counter()
    run = run_index(defn, data)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5, f"1000 replications of the 766 index took {elapsed:.1f} s"
    # the nominal run is untouched by the analysis
    plain = run_index(defn, data, with_uncertainty=False)
    assert run.scores.equals(plain.scores)
    ri = run.rank_intervals.sort("unit_code")
    ranked = ri.filter(pl.col("nominal_rank").is_not_null())
    assert ranked.height == data.height - 2
    assert ranked["rank_q05"].null_count() == 0 and ranked["rank_q95"].null_count() == 0
    assert ((ranked["rank_q05"] <= ranked["nominal_rank"]) & (ranked["nominal_rank"] <= ranked["rank_q95"])).all()
    # the noise moves ranks: intervals are not all single places
    assert (ranked["rank_q95"] - ranked["rank_q05"]).max() > 0
    # partial periods are scored but, as in the nominal run, never ranked
    partial = ri.filter(pl.col("unit_code").is_in(data["unit_code"][1:3].to_list()))
    assert partial["rank_q05"].null_count() == 2 and (partial["n_ranked"] == 0).all()
    # the unit at full marks scores the maximum in every replication, and ranks first
    first = data["unit_code"][0]
    full = run.replications.filter(pl.col("unit_code") == first)
    assert full["score"].to_numpy() == pytest.approx(np.full(1000, 100.0), abs=1e-9)
    assert (full["rank"] == 1).all()


def test_766_rank_intervals_are_reproducible_from_the_seed() -> None:
    defn = load_definition(DEFINITION_766)
    defn.uncertainty = {**defn.uncertainty, "N": 200}
    data = _data_766()
    first = run_index(defn, data)
    again = run_index(defn, data)
    assert first.rank_intervals.equals(again.rank_intervals)
    assert first.replications.equals(again.replications)
    other = run_index(defn, data, seed=defn.uncertainty["seed"] + 1)
    assert not first.replications.equals(other.replications)


def test_766_replications_evaluated_in_chunks_give_the_same_intervals(monkeypatch) -> None:
    """Memory-bounded chunks of replications (one replication per chunk here) change nothing."""
    from pipelines.index_engine import uncertainty

    defn = load_definition(DEFINITION_766)
    defn.uncertainty = {**defn.uncertainty, "N": 50}
    data = _data_766()
    whole = run_index(defn, data)
    monkeypatch.setattr(uncertainty, "REPLICATION_CHUNK_BYTES", 1)
    chunked = run_index(defn, data)
    assert chunked.replications.equals(whole.replications)
    assert chunked.rank_intervals.equals(whole.rank_intervals)


def test_replication_ranks_are_competition_ranks_with_unranked_units_left_out() -> None:
    from pipelines.index_engine.uncertainty import competition_ranks

    keys = np.array([[80.10, 78.85, 78.85, np.nan, 75.00],
                     [70.00, 90.00, 70.00, 60.00, np.nan]])
    expected = np.array([[1.0, 2.0, 2.0, np.nan, 4.0],
                         [2.0, 1.0, 2.0, 4.0, np.nan]])
    assert np.array_equal(competition_ranks(keys), expected, equal_nan=True)
