"""Back to the data (spec §10): contributions that add up to the score, points lost, strengths, weaknesses."""

from __future__ import annotations

import numpy as np
import polars as pl

from .definition import IndexDefinition
from .tree import Tree, level_method

_CONTRIB_SCHEMA = {
    "unit_code": pl.Utf8, "scope": pl.Utf8, "node_code": pl.Utf8, "component_code": pl.Utf8,
    "component_level": pl.Int64, "space": pl.Utf8, "effective_weight": pl.Float64, "value": pl.Float64,
    "contribution": pl.Float64, "points_lost": pl.Float64, "share": pl.Float64,
}


def contributions(defn: IndexDefinition, tree: Tree, units: list[str], values: np.ndarray,
                  child_w: np.ndarray, ew: np.ndarray, methods: dict[int, str], default: str,
                  upper: float | None) -> pl.DataFrame:
    """Contribution of every indicator to the index, and of every component to its parent.

    Scope ``index`` decomposes the index over indicators when the hierarchy uses one kind of mean throughout:
    arithmetic (contribution = ew x I, lost = ew x (U - I)), geometric (log space: ew x ln I, adding up to
    ln CI) or point sums (contribution = P, lost = Pmax - P). Scope ``level`` decomposes each aggregate over its
    own components, so a mixed hierarchy is explained level by level.
    """
    agg_methods = {level_method(methods, default, int(tree.levels[a])) for a in tree.aggregate_positions()}
    maxima = {n.code: n.max_points for n in defn.nodes}
    root = tree.root
    rows: list[pl.DataFrame] = []
    q = tree.n_indicators
    if len(agg_methods) == 1:
        kind = next(iter(agg_methods))
        ind = values[:, :q]
        ci = values[:, root]
        if kind in ("arithmetic", "geometric", "sum"):
            rows.append(_frame(units, "index", tree.codes[root], tree.codes[:q], tree.levels[:q],
                               ew[:, :q], ind, ci, kind, upper, maxima))
    for a in tree.aggregate_positions():
        ch = tree.children[a]
        kind = level_method(methods, default, int(tree.levels[a]))
        if kind not in ("arithmetic", "geometric", "sum"):
            continue
        rows.append(_frame(units, "level", tree.codes[a], [tree.codes[c] for c in ch], tree.levels[ch],
                           child_w[:, ch], values[:, ch], values[:, a], kind, upper, maxima))
    if not rows:
        return pl.DataFrame(schema=_CONTRIB_SCHEMA)
    return pl.concat(rows)


def _frame(units: list[str], scope: str, node: str, comps: list[str], comp_levels: np.ndarray, w: np.ndarray,
           v: np.ndarray, total: np.ndarray, kind: str, upper: float | None,
           maxima: dict[str, float | None]) -> pl.DataFrame:
    m, k = v.shape
    present = ~np.isnan(v)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "arithmetic":
            space = "linear"
            contrib = np.where(present, w * v, np.nan)
            lost = np.where(present, w * (upper - v), np.nan) if upper is not None else np.full((m, k), np.nan)
            share = contrib / total[:, None]
        elif kind == "geometric":
            space = "log"
            contrib = np.where(present, w * np.log(v), np.nan)
            lost = (np.where(present, w * (np.log(upper) - np.log(v)), np.nan) if upper is not None
                    else np.full((m, k), np.nan))
            share = contrib / np.log(total)[:, None]
        else:
            space = "points"
            contrib = np.where(present, w * v, np.nan)
            pmax = np.array([maxima.get(c) if maxima.get(c) is not None else np.nan for c in comps])
            lost = np.where(present, w * (pmax - v), np.nan)
            share = contrib / total[:, None]
    return pl.DataFrame({
        "unit_code": np.repeat(np.array(units, dtype=object), k).tolist(), "scope": scope, "node_code": node,
        "component_code": comps * m, "component_level": np.tile(comp_levels.astype(int), m),
        "space": space, "effective_weight": w.reshape(-1), "value": v.reshape(-1),
        "contribution": contrib.reshape(-1), "points_lost": lost.reshape(-1), "share": share.reshape(-1),
    }, schema=_CONTRIB_SCHEMA).with_columns(
        [pl.col(c).fill_nan(None) for c in ("effective_weight", "value", "contribution", "points_lost", "share")]
    )


def strengths_weaknesses(defn: IndexDefinition, units: list[str], values: np.ndarray, active: np.ndarray,
                         part: np.ndarray | None, k: int = 3) -> pl.DataFrame:
    """Each unit's top-k and bottom-k indicators by its rank among its peers (spec §10.4)."""
    from .engine import indicator_peer_ranks

    ranks = indicator_peer_ranks(values, active, part)
    keys = part if part is not None else np.zeros(len(units), dtype=object)
    peers = {key: int(((keys == key) & active).sum()) for key in np.unique(keys)}
    codes = defn.indicator_codes
    out: dict[str, list] = {"unit_code": [], "kind": [], "position": [], "indicator_code": [],
                            "peer_rank": [], "n_peers": [], "value": []}
    for i, u in enumerate(units):
        if not active[i]:
            continue
        r = ranks[i]
        have = [j for j in range(len(codes)) if not np.isnan(r[j])]
        # Stable order: rank, then definition order, so ties list the same way on every run.
        best = sorted(have, key=lambda j: (r[j], j))[:k]
        worst = sorted(have, key=lambda j: (-r[j], j))[:k]
        for kind, sel in (("strength", best), ("weakness", worst)):
            for pos, j in enumerate(sel, start=1):
                out["unit_code"].append(u)
                out["kind"].append(kind)
                out["position"].append(pos)
                out["indicator_code"].append(codes[j])
                out["peer_rank"].append(int(r[j]))
                out["n_peers"].append(peers[keys[i]])
                out["value"].append(float(values[i, j]))
    return pl.DataFrame(out, schema={"unit_code": pl.Utf8, "kind": pl.Utf8, "position": pl.Int64,
                                     "indicator_code": pl.Utf8, "peer_rank": pl.Int64, "n_peers": pl.Int64,
                                     "value": pl.Float64})


def coherence(tree: Tree, values: np.ndarray, ew: np.ndarray, active: np.ndarray) -> pl.DataFrame:
    """Reported, not acted on (spec §9.4, §13): each node's mean effective weight beside its Pearson and
    Spearman correlations with its parent and with the index, and Cronbach's alpha of every group."""
    from scipy import stats

    v = values[active]
    root = tree.root

    def corr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        ok = ~np.isnan(a) & ~np.isnan(b)
        if ok.sum() < 3 or np.ptp(a[ok]) == 0 or np.ptp(b[ok]) == 0:
            return float("nan"), float("nan")
        return float(np.corrcoef(a[ok], b[ok])[0, 1]), float(stats.spearmanr(a[ok], b[ok]).statistic)

    rows = []
    for i, code in enumerate(tree.codes):
        alpha = float("nan")
        if i in tree.children and len(tree.children[i]) >= 2:
            sub = v[:, tree.children[i]]
            sub = sub[~np.isnan(sub).any(axis=1)]
            k = sub.shape[1]
            if sub.shape[0] >= 3 and np.var(sub.sum(axis=1), ddof=1) > 0:
                alpha = k / (k - 1) * (1 - np.var(sub, axis=0, ddof=1).sum() / np.var(sub.sum(axis=1), ddof=1))
        parent = int(tree.parent[i])
        pp, sp = corr(v[:, i], v[:, parent]) if parent >= 0 else (float("nan"), float("nan"))
        pi, si = corr(v[:, i], v[:, root]) if i != root else (float("nan"), float("nan"))
        rows.append({
            "node_code": code, "parent_code": tree.codes[parent] if parent >= 0 else None,
            "level": int(tree.levels[i]),
            "mean_effective_weight": float(np.nanmean(ew[active, i])) if active.any() else float("nan"),
            "pearson_parent": pp, "spearman_parent": sp, "pearson_index": pi, "spearman_index": si,
            "cronbach_alpha": alpha,
        })
    out = pl.DataFrame(rows, schema_overrides={"parent_code": pl.Utf8})
    return out.with_columns([pl.col(c).fill_nan(None) for c in out.columns if out[c].dtype == pl.Float64])
