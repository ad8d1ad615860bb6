"""The numerical methods of the engine, as pure numpy functions (spec index-methods §4, §5, §7, §8).

Arrays hold NaN for a missing value. Functions work on the values present and never divide by zero: a zero
range or zero spread gives NaN and a flag, as the spec requires.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

# ---------------------------------------------------------------------------------------------------------
# §4 outlier treatment
# ---------------------------------------------------------------------------------------------------------


def skew_kurt(x: np.ndarray) -> tuple[float, float]:
    """Bias-corrected skewness G1 and excess kurtosis G2 of the values present (spec §4.1).

    Returns (nan, nan) when n < 4 or the variance is zero (the indicator is then not testable).
    """
    v = x[~np.isnan(x)]
    n = v.size
    if n < 4:
        return float("nan"), float("nan")
    d = v - v.mean()
    m2 = float(np.mean(d**2))
    if m2 <= 0.0:
        return float("nan"), float("nan")
    m3 = float(np.mean(d**3))
    m4 = float(np.mean(d**4))
    g1 = m3 / m2**1.5
    big_g1 = g1 * np.sqrt(n * (n - 1)) / (n - 2)
    r = m4 / m2**2
    big_g2 = ((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3))
    return float(big_g1), float(big_g2)


def needs_treatment(g1: float, g2: float, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
                    boundary: str = "at_threshold_fails") -> bool:
    """|G1| >= skew_thresh and G2 >= kurt_thresh; a value exactly at a threshold fails (spec §4.2)."""
    if np.isnan(g1) or np.isnan(g2):
        return False
    if boundary == "at_threshold_fails":
        return abs(g1) >= skew_thresh and g2 >= kurt_thresh
    return abs(g1) > skew_thresh and g2 > kurt_thresh


@dataclass
class TreatmentResult:
    """Treated values of one indicator and the record of spec §4.5."""

    values: np.ndarray
    n: int
    g1_before: float
    g2_before: float
    needs_treatment: bool
    treatment: str
    n_winsorised: int = 0
    side: str | None = None
    treated_positions: list[int] = field(default_factory=list)
    g1_after: float = float("nan")
    g2_after: float = float("nan")
    passes_after: bool = True
    flag: str | None = None
    trace: list[tuple[int, float, float]] = field(default_factory=list)


def transform_f2(x: np.ndarray, f2: str, g1: float, box_cox_lambda: float = 0.0) -> np.ndarray:
    """The second treatment (spec §4.4), on the values given (originals, or winsorised with combine_treat)."""
    present = ~np.isnan(x)
    lo, hi = np.nanmin(x), np.nanmax(x)
    out = np.full_like(x, np.nan)
    v = x[present]
    if f2 == "log_CT":
        out[present] = np.log(v - lo + 0.01 * (hi - lo))
    elif f2 == "log_CT_plus":
        if g1 > 0:
            out[present] = np.log(v - lo + 0.01 * (hi - lo))
        else:
            out[present] = -np.log(hi + 0.01 * (hi - lo) - v)
    elif f2 == "box_cox":
        s = v - lo + 1.0
        out[present] = np.log(s) if box_cox_lambda == 0 else (s**box_cox_lambda - 1.0) / box_cox_lambda
    elif f2 == "log_GII":
        out[present] = np.log((hi - 1.0) * (v - lo) / (hi - lo) + 1.0)
    elif f2 == "none":
        out = x.copy()
    else:  # pragma: no cover - validated in the definition
        raise ValueError(f"unknown f2 {f2!r}")
    return out


def treat_outliers(x: np.ndarray, *, skew_thresh: float = 2.0, kurt_thresh: float = 3.5,
                   boundary: str = "at_threshold_fails", winmax: int = 5, f2: str = "log_CT",
                   combine_treat: bool = False, box_cox_lambda: float = 0.0) -> TreatmentResult:
    """The JRC rule on one indicator (spec §4.3–4.5): winsorise one extreme at a time, else fall back to f2."""
    x = np.asarray(x, dtype=float)
    n = int((~np.isnan(x)).sum())
    g1, g2 = skew_kurt(x)
    if np.isnan(g1):
        return TreatmentResult(x.copy(), n, g1, g2, False, "not_testable", g1_after=g1, g2_after=g2)
    fails = needs_treatment(g1, g2, skew_thresh, kurt_thresh, boundary)
    if not fails:
        return TreatmentResult(x.copy(), n, g1, g2, False, "none", g1_after=g1, g2_after=g2)

    w = x.copy()
    changed = np.zeros(x.shape, dtype=bool)
    sides: list[str] = []
    trace: list[tuple[int, float, float]] = []
    cur1, cur2 = g1, g2
    degenerate = False
    while needs_treatment(cur1, cur2, skew_thresh, kurt_thresh, boundary) and changed.sum() < winmax:
        present = ~np.isnan(w)
        if cur1 >= 0:  # a zero skew counts as high
            extreme = np.nanmax(w)
            others = w[present & (w < extreme)]
            if others.size == 0:
                degenerate = True
                break
            hit = present & (w == extreme)
            w[hit] = others.max()
            sides.append("high")
        else:
            extreme = np.nanmin(w)
            others = w[present & (w > extreme)]
            if others.size == 0:
                degenerate = True
                break
            hit = present & (w == extreme)
            w[hit] = others.min()
            sides.append("low")
        changed |= hit  # tied extremes move together and all count
        cur1, cur2 = skew_kurt(w)
        trace.append((int(changed.sum()), cur1, cur2))
        if np.isnan(cur1):  # the step left no spread
            degenerate = True
            break
    side = "/".join(dict.fromkeys(sides)) or None
    positions = [int(i) for i in np.flatnonzero(changed)]
    if degenerate:
        return TreatmentResult(w, n, g1, g2, True, "degenerate", int(changed.sum()), side, positions,
                               cur1, cur2, False, flag="degenerate", trace=trace)
    if not needs_treatment(cur1, cur2, skew_thresh, kurt_thresh, boundary):
        return TreatmentResult(w, n, g1, g2, True, "winsorised", int(changed.sum()), side, positions,
                               cur1, cur2, True, trace=trace)
    # Still failing at winmax: undo, and transform the originals (or the winsorised values if combined).
    base = w if combine_treat else x
    t = transform_f2(base, f2, g1, box_cox_lambda)
    a1, a2 = skew_kurt(t)
    passes = not needs_treatment(a1, a2, skew_thresh, kurt_thresh, boundary)
    return TreatmentResult(
        t, n, g1, g2, True, f2 if not combine_treat else f"winsorised+{f2}",
        int(changed.sum()) if combine_treat else 0, side if combine_treat else None,
        positions if combine_treat else [int(i) for i in np.flatnonzero(~np.isnan(x))], a1, a2, passes,
        flag=None if passes else "still_fails_used_anyway", trace=trace,
    )


# ---------------------------------------------------------------------------------------------------------
# §5 normalisation
# ---------------------------------------------------------------------------------------------------------


def rank_min(x: np.ndarray, *, descending: bool = False) -> np.ndarray:
    """Competition rank (ties share the best place, 'min') of the values present; NaN stays NaN."""
    x = np.asarray(x, dtype=float)
    out = np.full(x.shape, np.nan)
    present = ~np.isnan(x)
    v = -x[present] if descending else x[present]
    if v.size:
        s = np.sort(v)
        out[present] = np.searchsorted(s, v, side="left") + 1
    return out


def normalise(x: np.ndarray, method: str, *, direction: int = 1, params: dict[str, Any] | None = None,
              target: float | None = None, goalposts: tuple[float | None, float | None] = (None, None),
              unit_codes: list[str] | None = None, extra: dict[str, np.ndarray] | None = None,
              ) -> tuple[np.ndarray, str | None]:
    """Normalise one indicator (spec §5 table). Returns the values and a flag (e.g. 'zero_range').

    Direction is applied first by negation (COINr); goalposts, targets and references are flipped with it.
    """
    p = params or {}
    x = np.asarray(x, dtype=float) * direction
    present = ~np.isnan(x)
    v = x[present]
    out = np.full(x.shape, np.nan)
    if v.size == 0:
        return out, "no_values"
    lo, hi = float(v.min()), float(v.max())
    low, high = goalposts
    low = p.get("low", low)
    high = p.get("high", high)
    if direction == -1 and low is not None and high is not None:
        low, high = -high, -low
    if target is not None:
        target = target * direction

    if method == "none":
        return x * direction, None  # undo the sign: 'none' means the values as they are
    if method == "rank":
        return rank_min(x), None
    if method in ("prank", "borda"):
        r = rank_min(x)
        if method == "borda":
            return r - 1.0, None
        m = v.size
        if m < 2:
            return out, "too_few_values"
        return (r - 1.0) / (m - 1.0), None
    if method == "zscore":
        if v.size < 2:
            return out, "too_few_values"
        sd = float(np.std(v, ddof=1))
        if sd == 0:
            return out, "zero_sd"
        a, b = float(p.get("a", 1.0)), float(p.get("b", 0.0))
        return (x - v.mean()) / sd * a + b, None
    if method in ("minmax", "dist2max"):
        if hi == lo:
            return out, "zero_range"
        if method == "dist2max":
            return 1.0 - (hi - x) / (hi - lo), None
        lo_t, hi_t = p.get("range", [0, 100])
        return (x - lo) / (hi - lo) * (hi_t - lo_t) + lo_t, None
    if method in ("scaled", "goalposts"):
        if low is None or high is None or high == low:
            return out, "goalposts_missing"
        z = (x - low) / (high - low)
        if method == "scaled":
            return z * 100.0, None
        return np.clip(z, 0.0, 1.0) * float(p.get("scale", 100.0)), None
    if method == "dist2targ":
        t = target if target is not None else p.get("target")
        if t is None:
            return out, "target_missing"
        t = float(t)
        if t == lo:
            return out, "zero_range"
        r = (x - lo) / (t - lo)
        return (np.minimum(r, 1.0) if p.get("cap", True) else r), None
    if method == "dist2ref":
        ref_spec = p.get("reference", "max")
        if ref_spec == "max":
            ref = hi
        elif ref_spec == "mean":
            ref = float(v.mean())
        else:
            if unit_codes is None or ref_spec not in unit_codes:
                return out, "reference_missing"
            ref = float(x[unit_codes.index(ref_spec)])
        variant = p.get("variant", "distance")
        if variant == "ratio":
            r = x / ref
        elif variant == "relative":
            r = (x - ref) / ref
        else:
            if ref == lo:
                return out, "zero_range"
            r = 1.0 - (ref - x) / (ref - lo)
        return (np.minimum(r, 1.0) if p.get("cap", False) else r), None
    if method == "fracmax":
        if hi == 0:
            return out, "zero_max"
        return x / hi, None
    if method == "categorical":
        bands = p.get("bands") or [[0.95, 100], [0.75, 80], [0.5, 60], [0.25, 40], [0.0, 20]]
        m = v.size
        if m < 2:
            return out, "too_few_values"
        pr = (rank_min(x) - 1.0) / (m - 1.0)
        res = np.full(x.shape, np.nan)
        for cut, score in sorted(bands, key=lambda b: -b[0]):
            res = np.where(np.isnan(res) & (pr >= cut), float(score), res)
        return np.where(present, res, np.nan), None
    if method == "above_below_mean":
        mean = float(v.mean())
        if mean == 0:
            return out, "zero_mean"
        pp = float(p.get("p", 0.2))
        r = x / mean
        res = np.where(r > 1 + pp, 1.0, np.where(r < 1 - pp, -1.0, 0.0))
        return np.where(present, res, np.nan), None
    if method == "cyclical":
        mad = float(np.mean(np.abs(v - v.mean())))
        if mad == 0:
            return out, "zero_sd"
        return (x - v.mean()) / mad, None
    if method == "balance_of_opinions":
        neg = (extra or {}).get("negative")
        if neg is None:
            return out, "negative_column_missing"
        return x * direction - neg, None
    if method == "annual_difference":
        prev = (extra or {}).get("previous")
        if prev is None:
            return out, "previous_column_missing"
        raw = x * direction
        with np.errstate(divide="ignore", invalid="ignore"):
            res = np.where(raw == 0, np.nan, (raw - prev) / raw)
        return res * direction, None
    raise ValueError(f"unknown normalisation method {method!r}")


# ---------------------------------------------------------------------------------------------------------
# §7 aggregation (vectorised over any leading axes; the last axis holds the components)
# ---------------------------------------------------------------------------------------------------------


def aggregate(values: np.ndarray, weights: np.ndarray, method: str, *, p: float = 1.0,
              dat_thresh: float | None = None, nominal_weights: np.ndarray | None = None) -> np.ndarray:
    """Weighted mean of the components present, weights re-scaled over them (spec §7.1–7.2).

    ``values`` has shape (..., k); ``weights`` broadcasts against it. ``sum`` adds the points and ignores the
    weights, unless ``nominal_weights`` w is given: ``weights`` are then sampled weights w' and the sum becomes
    Σ P_q (w'_q / w_q) (Σ w_q / Σ w'_q) over the components present, so that w' = w gives the plain Σ P and the
    sum of the nominal weights (the group's maximum when w are the maxima) is kept (Monte Carlo, spec §11.3).
    Non-positive values in a geometric or harmonic mean give NaN; the caller decides whether that is an error.
    """
    v = np.asarray(values, dtype=float)
    w = np.broadcast_to(np.asarray(weights, dtype=float), v.shape)
    present = ~np.isnan(v)
    wp = np.where(present, w, 0.0)
    wsum = wp.sum(axis=-1)
    any_present = present.any(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "sum" and nominal_weights is not None:
            res = _noisy_point_sum(v, w, np.broadcast_to(np.asarray(nominal_weights, dtype=float), v.shape),
                                   present)
            res = np.where(any_present, res, np.nan)
        elif method == "sum":
            res = np.where(any_present, np.where(present, v, 0.0).sum(axis=-1), np.nan)
        elif method == "arithmetic" or (method == "generalised" and p == 1):
            res = np.where(present, v * wp, 0.0).sum(axis=-1) / wsum
        elif method == "geometric" or (method == "generalised" and p == 0):
            bad = (present & (v <= 0)).any(axis=-1)
            logs = np.where(present & (v > 0), np.log(np.where(v > 0, v, 1.0)), 0.0)
            res = np.exp((logs * wp).sum(axis=-1) / wsum)
            res = np.where(bad, np.nan, res)
        elif method == "harmonic":
            bad = (present & (v <= 0)).any(axis=-1)
            inv = np.where(present & (v > 0), wp / np.where(v > 0, v, 1.0), 0.0)
            res = wsum / inv.sum(axis=-1)
            res = np.where(bad, np.nan, res)
        elif method == "generalised":
            # Powers of negative values are not defined for every p; zero is fine only for p > 0.
            bad = (present & ((v < 0) | ((v == 0) & (p < 0)))).any(axis=-1)
            safe = np.where(present & (v > 0), v, 1.0)
            powed = np.where(present & (v > 0), safe**p, 0.0)
            res = ((powed * wp).sum(axis=-1) / wsum) ** (1.0 / p)
            res = np.where(bad, np.nan, res)
        else:
            raise ValueError(f"aggregate(): method {method!r} is not a per-unit mean")
    valid = any_present if method == "sum" else any_present & (wsum > 0)
    res = np.where(valid, res, np.nan)
    if dat_thresh is not None:
        share = present.sum(axis=-1) / v.shape[-1]
        res = np.where(share < dat_thresh, np.nan, res)
    return res


def _noisy_point_sum(v: np.ndarray, w_sampled: np.ndarray, w_nominal: np.ndarray,
                     present: np.ndarray) -> np.ndarray:
    """Σ P_q (w'_q / w_q) (Σ w_q / Σ w'_q) over the components present (errstate set by the caller).

    A component with nominal weight 0 keeps ratio 1 (there is nothing to perturb); a group whose sampled
    weights present sum to 0 keeps factor 1, so neither case turns a score into NaN.
    """
    ratio = np.where(w_nominal > 0, w_sampled / np.where(w_nominal > 0, w_nominal, 1.0), 1.0)
    nominal_sum = np.where(present, w_nominal, 0.0).sum(axis=-1)
    sampled_sum = np.where(present, w_sampled, 0.0).sum(axis=-1)
    factor = np.where(sampled_sum > 0, nominal_sum / np.where(sampled_sum > 0, sampled_sum, 1.0), 1.0)
    return np.where(present, v * ratio, 0.0).sum(axis=-1) * factor


def copeland(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Copeland score of each unit (rows) over the components (columns) present for both units (spec §7.1)."""
    v = np.asarray(values, dtype=float)
    w = np.asarray(weights, dtype=float)
    a = v[:, None, :]
    b = v[None, :, :]
    both = ~np.isnan(a) & ~np.isnan(b)
    wb = np.where(both, w, 0.0)
    e = (wb * ((a > b) + 0.5 * (a == b))).sum(axis=-1)
    wins = (e > e.T).sum(axis=1)
    losses = (e < e.T).sum(axis=1)
    out = (wins - losses).astype(float)
    out[np.isnan(v).all(axis=1)] = np.nan
    return out


# ---------------------------------------------------------------------------------------------------------
# §8 ranking
# ---------------------------------------------------------------------------------------------------------


def round_half_away(x: np.ndarray, precision: int | None) -> np.ndarray:
    """Round half away from zero to the published precision (None: leave the full precision)."""
    x = np.asarray(x, dtype=float)
    if precision is None:
        return x
    f = 10.0**precision
    # The small nudge stops a value such as 71.235 stored as 71.23499999 from rounding down.
    return np.sign(x) * np.floor(np.abs(x) * f + 0.5 + 1e-9) / f


def competition_rank(scores: np.ndarray, precision: int | None = None, partition: np.ndarray | None = None,
                     tie_break: np.ndarray | None = None) -> np.ndarray:
    """Rank descending; ties share the best place ('1224'); NaN is not ranked; ranks within partitions.

    ``tie_break`` (M, k) holds secondary keys (e.g. group scores), rounded like the main key and used only
    between units tied on it; units equal on every key still share the place.
    """
    key = round_half_away(scores, precision)
    keys = key[:, None] if tie_break is None else np.column_stack([key, round_half_away(tie_break, precision)])
    out = np.full(key.shape, np.nan)
    parts = partition if partition is not None else np.zeros(key.shape, dtype=object)
    for part in np.unique(parts):
        idx = np.flatnonzero((parts == part) & ~np.isnan(key))
        k = np.nan_to_num(keys[idx], nan=-np.inf)  # a missing secondary key loses the tie
        # rank = 1 + number of peers whose key tuple is lexicographically greater
        greater = np.zeros((idx.size, idx.size), dtype=bool)
        equal = np.ones((idx.size, idx.size), dtype=bool)
        for col in range(k.shape[1]):
            a, b = k[:, col][:, None], k[:, col][None, :]
            greater |= equal & (b > a)
            equal &= b == a
        out[idx] = greater.sum(axis=1) + 1
    return out
