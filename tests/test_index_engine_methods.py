"""Numerical methods of the index engine against the worked examples of spec index-methods §4, §5, §7, §8."""

from __future__ import annotations

import numpy as np
import pytest

from pipelines.index_engine.methods import (
    aggregate,
    competition_rank,
    copeland,
    needs_treatment,
    normalise,
    skew_kurt,
    treat_outliers,
)

X = np.array([2.0, 5.0, 9.0, 14.0])


# -- §5 normalisation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "kwargs", "expected"),
    [
        ("minmax", {}, [0, 25, 58.3333, 100]),
        ("minmax", {"params": {"range": [1, 100]}}, [1, 25.75, 58.75, 100]),
        ("zscore", {}, [-1.0585, -0.4811, 0.2887, 1.2509]),
        ("dist2targ", {"target": 10}, [0, 0.375, 0.875, 1]),
        ("goalposts", {"goalposts": (0, 10), "params": {"scale": 1}}, [0.2, 0.5, 0.9, 1]),
        ("fracmax", {}, [0.1429, 0.3571, 0.6429, 1]),
        ("prank", {}, [0, 0.3333, 0.6667, 1]),
    ],
)
def test_normalisation_worked_examples(method: str, kwargs: dict, expected: list[float]) -> None:
    values, flag = normalise(X, method, **kwargs)
    assert flag is None
    np.testing.assert_allclose(values, expected, atol=5e-5)


def test_other_normalisations() -> None:
    np.testing.assert_allclose(normalise(X, "rank")[0], [1, 2, 3, 4])
    np.testing.assert_allclose(normalise(X, "borda")[0], [0, 1, 2, 3])
    np.testing.assert_allclose(normalise(X, "dist2max")[0], [0, 0.25, 0.583333, 1], atol=1e-6)
    np.testing.assert_allclose(normalise(X, "scaled", goalposts=(0, 20))[0], [10, 25, 45, 70])
    # mean 7.5: ratios 0.267, 0.667, 1.2, 1.867 against p = 0.2
    np.testing.assert_allclose(normalise(X, "above_below_mean")[0], [-1, -1, 0, 1])
    # mean absolute deviation = (5.5 + 2.5 + 1.5 + 6.5) / 4 = 4
    np.testing.assert_allclose(normalise(X, "cyclical")[0], [-1.375, -0.625, 0.375, 1.625])
    np.testing.assert_allclose(normalise(X, "dist2ref", params={"reference": "max"})[0],
                               [0, 0.25, 0.583333, 1], atol=1e-6)
    np.testing.assert_allclose(normalise(X, "categorical")[0], [20, 40, 60, 100])


def test_direction_flips_minmax_goalposts_and_target() -> None:
    np.testing.assert_allclose(normalise(X, "minmax", direction=-1)[0], [100, 75, 41.6667, 0], atol=5e-5)
    # goalposts [0, 10] on a lower-is-better indicator: 0 is the best, 10 the worst
    np.testing.assert_allclose(normalise(X, "goalposts", direction=-1, goalposts=(0, 10),
                                         params={"scale": 1})[0], [0.8, 0.5, 0.1, 0])
    # target 5 on a lower-is-better indicator: (max - x) / (max - T), capped at 1
    np.testing.assert_allclose(normalise(X, "dist2targ", direction=-1, target=5)[0], [1, 1, 5 / 9, 0])


def test_zero_range_gives_null_and_flag() -> None:
    values, flag = normalise(np.array([3.0, 3.0, np.nan]), "minmax")
    assert flag == "zero_range"
    assert np.isnan(values).all()
    assert normalise(np.array([3.0, 3.0]), "zscore")[1] == "zero_sd"


# -- §4 outlier treatment --------------------------------------------------------------------------------


def test_outlier_case_1_single_winsorisation() -> None:
    x = np.r_[np.arange(1, 11), 30, 100].astype(float)
    g1, g2 = skew_kurt(x)
    assert (round(g1, 4), round(g2, 4)) == (3.0632, 9.7414)
    res = treat_outliers(x)
    assert res.treatment == "winsorised"
    assert res.n_winsorised == 1
    assert res.side == "high"
    assert res.treated_positions == [11]
    assert res.values[11] == 30.0
    assert (round(res.g1_after, 4), round(res.g2_after, 4)) == (1.7120, 1.8158)
    assert res.passes_after


def test_outlier_case_2_ties_move_together() -> None:
    x = np.r_[np.arange(1, 21), 200, 200, 200].astype(float)
    g1, g2 = skew_kurt(x)
    assert (round(g1, 4), round(g2, 4)) == (2.3173, 3.7606)
    res = treat_outliers(x)
    assert res.treatment == "winsorised"
    assert res.n_winsorised == 3
    assert res.treated_positions == [20, 21, 22]
    np.testing.assert_array_equal(res.values[20:], [20, 20, 20])
    assert (round(res.g1_after, 4), round(res.g2_after, 4)) == (-0.1557, -1.3241)


def test_outlier_case_3_log_ct_fallback() -> None:
    x = np.r_[np.ones(42), 2, 4, 8, 16, 32, 64].astype(float)
    g1, g2 = skew_kurt(x)
    assert (round(g1, 4), round(g2, 4)) == (5.1083, 27.9451)
    res = treat_outliers(x)
    # the five winsorisation steps of the spec, then the fallback on the originals
    assert [(n, round(a, 4), round(b, 4)) for n, a, b in res.trace] == [
        (1, 4.0070, 15.6859), (2, 3.3427, 10.0687), (3, 2.8976, 6.9360), (4, 2.5807, 4.9862),
        (5, 2.3416, 3.6329)]
    assert res.treatment == "log_CT"
    assert res.n_winsorised == 0  # undone
    originals = [1, 2, 4, 8, 16, 32, 64]
    expected = [-0.4620, 0.4886, 1.2892, 2.0321, 2.7492, 3.4541, 4.1531]
    for o, e in zip(originals, expected, strict=True):
        assert round(float(res.values[np.flatnonzero(x == o)[0]]), 4) == e
    assert (round(res.g1_after, 4), round(res.g2_after, 4)) == (3.0681, 8.7056)
    assert not res.passes_after
    assert res.flag == "still_fails_used_anyway"


def test_value_exactly_at_threshold_is_treated() -> None:
    assert needs_treatment(2.0, 3.5)
    assert needs_treatment(-2.0, 3.5)
    assert not needs_treatment(1.9999, 10.0)
    assert not needs_treatment(5.0, 3.4999)
    assert not needs_treatment(2.0, 3.5, boundary="at_threshold_passes")
    # thresholds set to the data's own G1 and G2: both exactly at the threshold, so the indicator is treated
    x = np.r_[np.arange(1, 11), 30, 100].astype(float)
    g1, g2 = skew_kurt(x)
    assert treat_outliers(x, skew_thresh=g1, kurt_thresh=g2).treatment == "winsorised"
    assert treat_outliers(x, skew_thresh=g1, kurt_thresh=g2,
                          boundary="at_threshold_passes").treatment == "none"


def test_not_testable_and_alternative_f2() -> None:
    assert treat_outliers(np.array([1.0, 2.0, 3.0])).treatment == "not_testable"
    x = np.r_[np.ones(42), 2, 4, 8, 16, 32, 64].astype(float)
    gii = treat_outliers(x, f2="log_GII")
    assert gii.treatment == "log_GII"
    # ln[(max - 1)(x - min)/(max - min) + 1]: 64 -> ln 64
    assert gii.values[-1] == pytest.approx(np.log(64.0))
    box = treat_outliers(x, f2="box_cox")
    assert box.values[-1] == pytest.approx(np.log(64.0))  # lambda 0 on x - min + 1
    # with a larger winmax the sixth step leaves every value at 1: no spread left, flagged degenerate
    degenerate = treat_outliers(x, winmax=10)
    assert degenerate.treatment == "degenerate"
    assert degenerate.n_winsorised == 6


# -- §7 aggregation --------------------------------------------------------------------------------------


def test_aggregation_worked_examples() -> None:
    i = np.array([80.0, 50.0, 60.0])
    w = np.ones(3)
    assert aggregate(i, w, "arithmetic") == pytest.approx(63.3333, abs=5e-5)
    assert aggregate(i, w, "geometric") == pytest.approx(62.1447, abs=5e-5)
    assert aggregate(i, w, "harmonic") == pytest.approx(61.0169, abs=5e-5)
    assert aggregate(i, w, "generalised", p=2) == pytest.approx(64.5497, abs=5e-5)
    assert aggregate(i, w, "generalised", p=0) == pytest.approx(62.1447, abs=5e-5)
    assert aggregate(i, w, "sum") == 190.0


def test_missing_component_rescales_weights() -> None:
    i = np.array([80.0, np.nan, 60.0])
    assert aggregate(i, np.array([0.5, 0.25, 0.25]), "arithmetic") == pytest.approx(73.3333, abs=5e-5)
    assert np.isnan(aggregate(i, np.array([0.5, 0.25, 0.25]), "arithmetic", dat_thresh=0.75))
    assert np.isnan(aggregate(np.array([-1.0, 2.0]), np.ones(2), "geometric"))


def test_copeland() -> None:
    # unit 0 beats both others on every indicator; unit 2 loses to both
    v = np.array([[3.0, 3.0], [2.0, 2.0], [1.0, 1.0]])
    np.testing.assert_array_equal(copeland(v, np.ones(2)), [2, 0, -2])


# -- §8 ranking ------------------------------------------------------------------------------------------


def test_ranking_with_published_precision() -> None:
    s = np.array([71.236, 71.231, 69.500])
    np.testing.assert_array_equal(competition_rank(s, 2), [1, 2, 3])
    np.testing.assert_array_equal(competition_rank(s, 1), [1, 1, 3])
    np.testing.assert_array_equal(competition_rank(np.array([5.0, np.nan, 5.0, 4.0])), [1, np.nan, 1, 3])
    part = np.array(["a", "a", "b"], dtype=object)
    np.testing.assert_array_equal(competition_rank(s, 2, part), [1, 2, 1])


def test_tie_break_keys_only_between_tied_units() -> None:
    total = np.array([80.004, 80.001, 80.0, 75.0])
    g2 = np.array([[10.0], [12.0], [12.0], [20.0]])
    # tied on the rounded total: the secondary key orders units 1-2 above 0; 1 and 2 still share the place
    np.testing.assert_array_equal(competition_rank(total, 2, tie_break=g2), [3, 1, 1, 4])
