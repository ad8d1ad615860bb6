"""The hierarchy as index arrays, and aggregation over it vectorised across units and replications."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .definition import IndexDefinition
from .methods import aggregate, copeland


@dataclass(frozen=True)
class Tree:
    """Node positions: indicators first (0..Q-1, definition order), then aggregates in computation order."""

    codes: list[str]
    levels: np.ndarray
    parent: np.ndarray  # position of the parent, -1 for the root
    children: dict[int, np.ndarray]
    n_indicators: int
    maxima: np.ndarray  # max_points of every node (NaN when the hierarchy has none)

    @classmethod
    def from_definition(cls, defn: IndexDefinition) -> Tree:
        nodes = defn.indicators + defn.aggregates
        codes = [n.code for n in nodes]
        pos = {c: i for i, c in enumerate(codes)}
        parent = np.array([pos[n.parent] if n.parent else -1 for n in nodes])
        children = {i: np.flatnonzero(parent == i) for i in range(len(nodes)) if not nodes[i].is_indicator}
        maxima = np.array([n.max_points if n.max_points is not None else np.nan for n in nodes], dtype=float)
        return cls(codes, np.array([n.level for n in nodes]), parent, children, len(defn.indicators), maxima)

    @property
    def root(self) -> int:
        return int(np.flatnonzero(self.parent == -1)[0])

    def aggregate_positions(self) -> list[int]:
        return list(range(self.n_indicators, len(self.codes)))

    def path_to_root(self, i: int) -> list[int]:
        out = [i]
        while self.parent[out[-1]] >= 0:
            out.append(int(self.parent[out[-1]]))
        return out


def level_method(methods: dict[int, str], default: str, level: int) -> str:
    """The aggregation method of a level (``by_level``), else the step's default method."""
    return methods.get(level, default)


def point_sum_weights(tree: Tree, node_weights: np.ndarray) -> np.ndarray:
    """Nominal weight of every node inside a point sum: its maximum points, else its nominal weight.

    A hierarchy with maxima has them on every node (the definition checks it), so a point sum weighs each
    child by its maximum; a sum without maxima falls back to the node weights (1 unless a weight is given).
    """
    w = np.asarray(node_weights, dtype=float)
    return np.where(np.isnan(tree.maxima), w, tree.maxima)


def aggregate_tree(tree: Tree, ind_values: np.ndarray, node_weights: np.ndarray, methods: dict[int, str],
                   default_method: str = "arithmetic", *, p: float = 1.0, dat_thresh: float | None = None,
                   missing: dict[int, str] | None = None, nominal_weights: np.ndarray | None = None,
                   ) -> np.ndarray:
    """Values of every node from the indicator values.

    ``ind_values`` has shape (..., M, Q); ``node_weights`` shape (N,) or (..., N) for per-replication weights.
    Returns shape (..., M, N). Missing components follow ``missing`` per level: ``rescale`` (means: weights
    re-scaled over the components present; point sums: scaled up to the node's maximum over the maxima present),
    ``skip`` (point sums: add what is present), ``null`` (any missing component makes the node missing).

    ``nominal_weights`` (N,) marks ``node_weights`` as sampled weights of a Monte Carlo replication: point sums
    then respond to them through the relative change w'/w of each child, applied to the child's point weight
    (:func:`point_sum_weights`) and re-normalised so the group's maximum is kept. Without it a point sum is the
    plain Σ P, as in the nominal run.
    """
    missing = missing or {}
    lead = ind_values.shape[:-1]
    out = np.full(lead + (len(tree.codes),), np.nan)
    out[..., : tree.n_indicators] = ind_values
    w = np.asarray(node_weights, dtype=float)
    sum_nominal = sum_sampled = None
    if nominal_weights is not None:
        nominal = np.asarray(nominal_weights, dtype=float)
        sum_nominal = point_sum_weights(tree, nominal)
        with np.errstate(invalid="ignore", divide="ignore"):
            relative = np.where(nominal > 0, w / np.where(nominal > 0, nominal, 1.0), 1.0)
        sum_sampled = sum_nominal * relative
    for a in tree.aggregate_positions():
        ch = tree.children[a]
        method = level_method(methods, default_method, int(tree.levels[a]))
        vals = out[..., ch]
        wch = w[..., ch]
        if w.ndim > 1:
            wch = wch[..., None, :]  # broadcast the replication's weights over its units
        if method == "copeland":
            flat = vals.reshape((-1,) + vals.shape[-2:])
            wflat = np.broadcast_to(wch, vals.shape).reshape(flat.shape)
            res = np.stack([copeland(flat[i], wflat[i][0]) for i in range(flat.shape[0])])
            out[..., a] = res.reshape(vals.shape[:-1])
        else:
            if method == "sum" and sum_sampled is not None and sum_nominal is not None:
                sampled = sum_sampled[..., ch]
                if sampled.ndim > 1:
                    sampled = sampled[..., None, :]
                res = aggregate(vals, sampled, method, dat_thresh=dat_thresh, nominal_weights=sum_nominal[ch])
            else:
                res = aggregate(vals, wch, method, p=p, dat_thresh=dat_thresh)
            policy = missing.get(int(tree.levels[a]), "skip" if method == "sum" else "rescale")
            gap = np.isnan(vals).any(axis=-1)
            if method == "sum" and policy == "rescale":
                present_max = np.where(np.isnan(vals), 0.0, tree.maxima[ch]).sum(axis=-1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    scaled = np.where(present_max > 0, tree.maxima[a] * res / present_max, np.nan)
                # with every component present the plain sum is kept, so no rounding is introduced
                res = np.where(gap, scaled, res)
            elif policy == "null":
                res = np.where(gap, np.nan, res)
            out[..., a] = res
    return out


def normalised_child_weights(tree: Tree, node_values: np.ndarray, node_weights: np.ndarray,
                             methods: dict[int, str], default_method: str,
                             missing: dict[int, str] | None = None) -> np.ndarray:
    """Per unit, each node's weight within its parent re-scaled over the components present (M, N).

    A point sum gives each present component weight 1 (points add up); a missing component gets 0.
    """
    m = node_values.shape[0]
    out = np.zeros((m, len(tree.codes)))
    for a in tree.aggregate_positions():
        ch = tree.children[a]
        present = ~np.isnan(node_values[:, ch])
        method = level_method(methods, default_method, int(tree.levels[a]))
        if method == "sum":
            factor = np.ones(m)
            if (missing or {}).get(int(tree.levels[a])) == "rescale":
                present_max = np.where(present, tree.maxima[ch], 0.0).sum(axis=1)
                gap = ~present.all(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    factor = np.where(gap & (present_max > 0), tree.maxima[a] / present_max, 1.0)
            out[:, ch] = present * factor[:, None]
            continue
        wp = np.where(present, node_weights[ch], 0.0)
        s = wp.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[:, ch] = np.where(s > 0, wp / s, 0.0)
    return out


def effective_weights(tree: Tree, child_weights: np.ndarray) -> np.ndarray:
    """Per unit effective weight of every node in the index: the product of weights along its path (§9)."""
    ew = np.ones_like(child_weights)
    for i in range(len(tree.codes)):
        for j in tree.path_to_root(i)[:-1]:
            ew[:, i] *= child_weights[:, j]
    return ew
