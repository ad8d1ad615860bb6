"""Uncertainty (Monte Carlo, spec §11) and sensitivity (Sobol indices, spec §12) analyses.

The design is a table of replications x factors with every factor drawn as u ~ U(0, 1). Indicator-level steps
run once per distinct combination of the discrete factors (there are few); the weights and the aggregation are
then vectorised across all replications that share a combination, so 1000 replications cost little more than a
handful of full runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from .methods import round_half_away
from .tree import Tree, aggregate_tree

if TYPE_CHECKING:
    from .engine import IndexRun, Inputs

DEFAULT_SEED = 20260101
# Memory for one chunk of Monte Carlo replications (see Evaluator.scores).
REPLICATION_CHUNK_BYTES = 512 * 1024**2


@dataclass
class Factor:
    """One uncertain input: its name and the options a draw u maps onto (None for continuous weights)."""

    name: str
    options: list[Any]

    def pick(self, u: np.ndarray) -> np.ndarray:
        """Option index 0..k-1 for each u: min(k, floor(k u) + 1), 1-based in the spec (§11.2)."""
        k = len(self.options)
        return np.minimum(k - 1, np.floor(k * u).astype(int))

    def label(self, i: int) -> str:
        o = self.options[i]
        if isinstance(o, dict):
            return o.get("method", "?") + ("" if len(o) == 1 else str({k: v for k, v in o.items() if k != "method"}))
        return "keep_all" if o is None else str(o)


def build_factors(run: IndexRun, tree: Tree, n_weight_sets: int, rng: np.random.Generator
                  ) -> tuple[list[Factor], np.ndarray]:
    """The factors of the definition's uncertainty block and the pool of noisy weight sets (§11.3)."""
    unc = run.definition.uncertainty or {}
    alts = unc.get("alternatives", {})
    nominal = run.node_weights["weight"].to_numpy()
    noise = {int(k): float(v) for k, v in (unc.get("weight_noise") or {}).items()}
    if not noise:
        noise = {int(lvl): 0.25 for lvl in np.unique(tree.levels) if lvl >= 2}
    f = np.array([noise.get(int(lvl), 0.0) for lvl in tree.levels])
    f[tree.root] = 0.0
    u = rng.uniform(-1.0, 1.0, size=(n_weight_sets, len(nominal)))
    pool = nominal * (1.0 + f * u)
    factors: list[Factor] = []
    for name in unc.get("factors", ["weights"]):
        if name == "weights":
            factors.append(Factor("weights", list(range(n_weight_sets))))
        elif name == "exclude_indicator":
            opts = alts[name]
            factors.append(Factor(name, [None, *run.definition.indicator_codes] if opts == "each" else list(opts)))
        elif name == "normalise_method":
            factors.append(Factor(name, [{"method": o} if isinstance(o, str) else dict(o) for o in alts[name]]))
        else:
            factors.append(Factor(name, list(alts[name])))
    return factors, pool


class Evaluator:
    """Scores and ranks of the index for a batch of design rows."""

    def __init__(self, run: IndexRun, inp: Inputs, tree: Tree, factors: list[Factor], pool: np.ndarray):
        from .engine import aggregate_params, missing_params, partition_keys, rank_exclusions, rank_params

        self.run, self.inp, self.tree, self.factors, self.pool = run, inp, tree, factors, pool
        self.methods, self.default, self.p, self.dat_thresh = aggregate_params(run.definition)
        self.missing = missing_params(run.definition)
        self.precision, cols = rank_params(run.definition)
        self.part = partition_keys(inp, cols)
        self.unranked = rank_exclusions(run.definition, inp)
        self.nominal_weights = run.node_weights["weight"].to_numpy()
        self._cache: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def _indicators(self, key: tuple) -> tuple[np.ndarray, np.ndarray]:
        from .engine import compute_indicators

        if key not in self._cache:
            ov: dict[str, Any] = {}
            for name, val in key:
                if name == "impute_method":
                    ov["impute_method"] = val
                elif name == "winmax":
                    ov["winmax"] = int(val)
                elif name == "treatment":
                    ov["treatment"] = "off" if val in ("off", False) else "on"
                elif name == "normalise_method":
                    ov["normalise"] = dict(val)
                elif name == "exclude_indicator" and val is not None:
                    ov["exclude_indicator"] = val
            st = compute_indicators(self.run.definition, self.inp, self.tree, overrides=ov)
            self._cache[key] = (st.values, st.active)
        return self._cache[key]

    def scores(self, design: np.ndarray) -> np.ndarray:
        """Index scores (R, M) for design rows (R, d) of u values."""
        r = design.shape[0]
        picks = {f.name: f.pick(design[:, i]) for i, f in enumerate(self.factors)}
        weights = (self.pool[picks["weights"]] if "weights" in picks
                   else np.broadcast_to(self.nominal_weights, (r, len(self.nominal_weights))))
        # Exclusion and weights act after the indicator steps, so they are vectorised, not re-run.
        ind_names = [f for f in self.factors if f.name not in ("weights", "aggregate_method", "exclude_indicator")]
        agg = next((f for f in self.factors if f.name == "aggregate_method"), None)
        excl = next((f for f in self.factors if f.name == "exclude_indicator"), None)
        keys = np.zeros(r, dtype=np.int64)
        for f in ind_names + ([agg] if agg else []):
            keys = keys * len(f.options) + picks[f.name]
        codes = self.run.definition.indicator_codes
        out = np.full((r, len(self.inp.units)), np.nan)
        for key in np.unique(keys):
            rows = np.flatnonzero(keys == key)
            first = rows[0]
            ikey = tuple((f.name, _hashable(f.options[picks[f.name][first]])) for f in ind_names)
            vals, active = self._indicators(ikey)
            methods, default = self.methods, self.default
            if agg is not None:
                default = agg.options[picks["aggregate_method"][first]]
                methods = {}
            # Replications are independent: evaluate them in chunks so the (replications x units x nodes)
            # arrays stay within REPLICATION_CHUNK_BYTES (3,899 units x 1,000 replications took 11 GiB at once).
            per_row = vals.shape[0] * len(self.tree.codes) * 8 * 4  # batch, node values and temporaries
            size = max(1, REPLICATION_CHUNK_BYTES // max(per_row, 1))
            for chunk in np.array_split(rows, -(-len(rows) // size)):
                batch = np.repeat(vals[None, :, :], len(chunk), axis=0)
                if excl is not None:
                    for row_i, opt in enumerate(picks["exclude_indicator"][chunk]):
                        code = excl.options[opt]
                        if code is not None:
                            batch[row_i, :, codes.index(code)] = np.nan
                # The nominal weights tell point sums how far each sampled weight moved (spec §11.3 for sums).
                node_vals = aggregate_tree(self.tree, batch, weights[chunk], methods, default, p=self.p,
                                           dat_thresh=self.dat_thresh, missing=self.missing,
                                           nominal_weights=self.nominal_weights)
                sc = node_vals[..., self.tree.root]
                sc[:, ~active] = np.nan
                out[chunk] = sc
        return out

    def ranks(self, scores: np.ndarray) -> np.ndarray:
        """Competition ranks per replication (same precision and partitions as the nominal run)."""
        key = round_half_away(np.where(self.unranked[None, :], np.nan, scores), self.precision)
        out = np.full(key.shape, np.nan)
        parts = self.part if self.part is not None else np.zeros(key.shape[1], dtype=object)
        for pk in np.unique(parts):
            idx = np.flatnonzero(parts == pk)
            out[:, idx] = competition_ranks(key[:, idx])
        return out


def competition_ranks(keys: np.ndarray) -> np.ndarray:
    """Per row: 1 + the number of keys strictly higher (ties share the best place); NaN keys are not ranked.

    Sorting each row keeps memory at O(rows x units); comparing every pair of a peer group at once needed
    rows x units^2 (10 GiB for 1,000 replications of the 3,300 wards of a national run)."""
    out = np.full(keys.shape, np.nan)
    for r in range(keys.shape[0]):
        row = keys[r]
        ranked = ~np.isnan(row)
        values = row[ranked]
        out[r, ranked] = len(values) - np.searchsorted(np.sort(values), values, side="right") + 1.0
    return out


def _hashable(v: Any) -> Any:
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    return v


def mean_abs_rank_shift(ranks: np.ndarray, nominal: np.ndarray) -> np.ndarray:
    """R_S per replication: mean over units ranked in both of |nominal rank - rank| (§11.6)."""
    d = np.abs(ranks - nominal[None, :])
    return np.nanmean(np.where(np.isnan(d), np.nan, d), axis=1)


def run_uncertainty(run: IndexRun, inp: Inputs, tree: Tree, *, seed: int | None = None) -> None:
    """Monte Carlo over the definition's factors; fills run.rank_intervals, rank_shifts, uncertainty_design."""
    unc = run.definition.uncertainty or {}
    n = int(unc.get("N", 1000))
    seed = seed if seed is not None else unc.get("seed", DEFAULT_SEED)
    rng = np.random.default_rng(seed)
    factors, pool = build_factors(run, tree, n, rng)
    # The weight pool is drawn first, then the design: both follow from the seed alone.
    design = rng.uniform(size=(n, len(factors)))
    ev = Evaluator(run, inp, tree, factors, pool)
    scores = ev.scores(design)
    ranks = ev.ranks(scores)
    nominal = _nominal_ranks(run)
    shift = mean_abs_rank_shift(ranks, nominal)
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            q05, q50, q95 = np.nanpercentile(ranks, [5, 50, 95], axis=0)
            mean_rank = np.nanmean(ranks, axis=0)
    run.rank_intervals = pl.DataFrame({
        "unit_code": inp.units, "nominal_rank": nominal, "mean_rank": mean_rank, "median_rank": q50,
        "rank_q05": q05, "rank_q95": q95, "n_replications": n,
        "n_ranked": (~np.isnan(ranks)).sum(axis=0),
    }).with_columns([pl.col(c).fill_nan(None) for c in ("nominal_rank", "mean_rank", "median_rank", "rank_q05",
                                                         "rank_q95")])
    run.rank_shifts = pl.DataFrame({"replication": np.arange(1, n + 1), "mean_abs_rank_shift": shift})
    cols: dict[str, Any] = {"replication": np.arange(1, n + 1)}
    for i, f in enumerate(factors):
        cols[f"u_{f.name}"] = design[:, i]
        idx = f.pick(design[:, i])
        cols[f.name] = [f.label(int(j)) for j in idx]
    run.uncertainty_design = pl.DataFrame(cols)
    run.replications = pl.DataFrame({
        "replication": np.repeat(np.arange(1, n + 1), len(inp.units)),
        "unit_code": np.tile(np.array(inp.units, dtype=object), n).tolist(),
        "score": scores.reshape(-1), "rank": ranks.reshape(-1),
    }).with_columns(pl.col("score").fill_nan(None), pl.col("rank").fill_nan(None))


def _nominal_ranks(run: IndexRun) -> np.ndarray:
    idx = run.index_scores()
    by_unit = dict(zip(idx["unit_code"], idx["rank"], strict=True))
    return np.array([by_unit.get(u) if by_unit.get(u) is not None else np.nan
                     for u in run.units["unit_code"]], dtype=float)


# ---------------------------------------------------------------------------------------------------------
# Sobol indices
# ---------------------------------------------------------------------------------------------------------


def saltelli_design(n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """Rows A (N), B (N), then A_B^(i) for i = 1..d (N each): N(d + 2) rows of U(0, 1) (spec §12.3)."""
    a = rng.uniform(size=(n, d))
    b = rng.uniform(size=(n, d))
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


def sobol_indices(y: np.ndarray, n: int, d: int, *, n_boot: int = 100,
                  rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """First-order and total (Jansen) indices from outputs ordered as :func:`saltelli_design` (spec §12.4).

    Returns arrays of length d: ``s1``, ``st`` and their bootstrap 5% / 95% quantiles over the N rows.
    """
    rng = rng or np.random.default_rng(0)
    fa, fb = y[:n], y[n: 2 * n]
    fab = y[2 * n:].reshape(d, n)

    def est(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, ab = fa[idx], fb[idx], fab[:, idx]
        var = np.var(np.concatenate([a, b]), ddof=1)
        if var == 0:
            return np.zeros(d), np.zeros(d)
        s1 = np.mean(b[None, :] * (ab - a[None, :]), axis=1) / var
        st = np.sum((a[None, :] - ab) ** 2, axis=1) / (2 * len(idx) * var)
        return s1, st

    s1, st = est(np.arange(n))
    boots = [est(rng.integers(0, n, n)) for _ in range(n_boot)]
    b1 = np.array([b[0] for b in boots])
    bt = np.array([b[1] for b in boots])
    return {
        "s1": s1, "st": st,
        "s1_q05": np.quantile(b1, 0.05, axis=0), "s1_q95": np.quantile(b1, 0.95, axis=0),
        "st_q05": np.quantile(bt, 0.05, axis=0), "st_q95": np.quantile(bt, 0.95, axis=0),
    }


def run_sensitivity(run: IndexRun, inp: Inputs, tree: Tree, *, seed: int | None = None) -> None:
    """Sobol indices of the uncertainty factors on the chosen output; fills run.sensitivity."""
    sens = run.definition.sensitivity or {}
    n = int(sens.get("N", 500))
    seed = seed if seed is not None else sens.get("seed", (run.definition.uncertainty or {}).get("seed",
                                                                                               DEFAULT_SEED))
    rng = np.random.default_rng(seed)
    factors, pool = build_factors(run, tree, n, rng)
    d = len(factors)
    design = saltelli_design(n, d, rng)
    ev = Evaluator(run, inp, tree, factors, pool)
    scores = ev.scores(design)
    output = sens.get("output", "mean_abs_rank_shift")
    if output == "mean_abs_rank_shift":
        y = mean_abs_rank_shift(ev.ranks(scores), _nominal_ranks(run))
    else:
        j = inp.units.index(sens["unit"])
        y = ev.ranks(scores)[:, j] if output == "unit_rank" else scores[:, j]
    y = np.nan_to_num(y, nan=float(np.nanmean(y)))
    res = sobol_indices(y, n, d, n_boot=int(sens.get("Nboot", 100)), rng=rng)
    run.sensitivity = pl.DataFrame({
        "factor": [f.name for f in factors], "output": output, "n_base": n, "n_runs": n * (d + 2),
        "s1": res["s1"], "s1_display": np.maximum(res["s1"], 0.0), "s1_q05": res["s1_q05"],
        "s1_q95": res["s1_q95"], "st": res["st"], "st_display": np.maximum(res["st"], 0.0),
        "st_q05": res["st_q05"], "st_q95": res["st_q95"],
    })
