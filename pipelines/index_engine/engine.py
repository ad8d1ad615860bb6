"""Running a definition: the ordered, logged steps and the :class:`IndexRun` that keeps every dataset."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl

from .definition import (
    DefinitionError,
    IndexDefinition,
    Node,
    nodes_from_metadata,
    read_table,
)
from .methods import competition_rank, normalise, rank_min, treat_outliers
from .tree import Tree, aggregate_tree, effective_weights, normalised_child_weights

ENGINE_VERSION = "index-engine-1"


@dataclass
class StepDataset:
    """The dataset one step wrote, with its parameters and any side tables (dropped units, logs)."""

    step_no: int
    step_name: str
    params: dict[str, Any]
    data: pl.DataFrame
    extra: dict[str, pl.DataFrame] = field(default_factory=dict)


@dataclass
class IndexRun:
    """Everything one run produced. Datasets are keyed (step_no, step_name) and never overwritten."""

    run_id: str
    definition: IndexDefinition
    period_label: str | None
    seed: int | None
    created_at: datetime
    units: pl.DataFrame
    steps: dict[tuple[int, str], StepDataset]
    treatment_log: pl.DataFrame
    node_weights: pl.DataFrame
    effective_weights: pl.DataFrame
    scores: pl.DataFrame
    contributions: pl.DataFrame
    strengths: pl.DataFrame
    coherence: pl.DataFrame
    rank_intervals: pl.DataFrame | None = None
    rank_shifts: pl.DataFrame | None = None
    uncertainty_design: pl.DataFrame | None = None
    replications: pl.DataFrame | None = None
    sensitivity: pl.DataFrame | None = None
    timings: dict[str, float] = field(default_factory=dict)
    engine_version: str = ENGINE_VERSION

    def dataset(self, step_name: str) -> pl.DataFrame:
        """The dataset of the (first) step with this name, e.g. 'normalise' or 'aggregate:level_2'."""
        for (_, name), ds in sorted(self.steps.items()):
            if name == step_name:
                return ds.data
        raise KeyError(f"no step named {step_name!r}; steps: {[k for k in sorted(self.steps)]}")

    def wide(self, step_name: str) -> pl.DataFrame:
        """A step's dataset as one row per unit and one column per node."""
        long = self.dataset(step_name)
        return long.pivot(on="node_code", index="unit_code", values="value", maintain_order=True)

    def index_scores(self) -> pl.DataFrame:
        """Index score and rank per unit, ranked units first."""
        root = self.definition.root.code
        return (self.scores.filter(pl.col("node_code") == root)
                .sort(["rank", "unit_code"], nulls_last=True))


# ---------------------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Inputs:
    """Unit-level arrays the steps work on."""

    units: list[str]
    names: list[str]
    groups: dict[str, np.ndarray]
    table: pl.DataFrame
    raw: np.ndarray  # (M, Q) indicator values as delivered


def prepare_inputs(defn: IndexDefinition, data: pl.DataFrame) -> Inputs:
    """Check the wide data table against the definition and extract the arrays."""
    f = defn.source_path
    cols = data.columns
    if defn.unit_code not in cols:
        raise DefinitionError(f, "index_run.inputs.unit_code", f"data table has no column '{defn.unit_code}'")
    missing = [c for c in defn.indicator_codes if c not in cols]
    if missing:
        raise DefinitionError(f, "index_run.inputs.data", f"data table lacks indicator column(s) {missing}")
    for g in defn.unit_groups:
        if g not in cols:
            raise DefinitionError(f, "index_run.inputs.unit_groups", f"data table has no column '{g}'")
    units = [str(u) for u in data[defn.unit_code].to_list()]
    dupes = sorted({u for u in units if units.count(u) > 1})
    if dupes:
        raise DefinitionError(f, "index_run.inputs.data", f"unit codes repeat in the data table: {dupes[:5]}")
    names = ([str(v) if v is not None else "" for v in data[defn.unit_name].to_list()]
             if defn.unit_name and defn.unit_name in cols else units)
    raw = np.column_stack([data[c].cast(pl.Float64).to_numpy() for c in defn.indicator_codes]) \
        if defn.indicator_codes else np.empty((len(units), 0))
    groups = {g: np.array([str(v) if v is not None else "" for v in data[g].to_list()], dtype=object)
              for g in defn.unit_groups}
    return Inputs(units, names, groups, data, raw.astype(float))


def _column(inp: Inputs, name: str, defn: IndexDefinition, key: str) -> np.ndarray:
    if name not in inp.table.columns:
        raise DefinitionError(defn.source_path, key, f"data table has no column '{name}'")
    return inp.table[name].cast(pl.Float64).to_numpy().astype(float)


# ---------------------------------------------------------------------------------------------------------
# indicator-level steps
# ---------------------------------------------------------------------------------------------------------


@dataclass
class IndicatorState:
    """Result of the indicator-level steps."""

    values: np.ndarray  # (M, Q) normalised indicator values (NaN = missing)
    active: np.ndarray  # (M,) units still scored
    node_weights: np.ndarray  # (N,) nominal weight of every node within its parent
    upper: float | None  # normalisation maximum U, for points lost


def compute_indicators(defn: IndexDefinition, inp: Inputs, tree: Tree, *,
                       overrides: dict[str, Any] | None = None,
                       record: list[StepDataset] | None = None,
                       treatment_log: list[dict[str, Any]] | None = None) -> IndicatorState:
    """Run the indicator-level steps in the configured order.

    ``overrides`` replaces parameters for the uncertainty analysis (impute_method, winmax, treatment,
    normalise). When ``record`` is given every step appends its dataset to it.
    """
    ov = overrides or {}
    q = len(defn.indicators)
    x = inp.raw.copy()
    active = np.ones(len(inp.units), dtype=bool)
    imputed = np.zeros_like(x, dtype=bool)
    node_weights = np.array([n.weight for n in defn.indicators + defn.aggregates], dtype=float)
    upper: float | None = None
    for step_no, step in enumerate(defn.pipeline, start=1):
        p = step.params
        flags: dict[tuple[int, int], str] = {}
        extra: dict[str, pl.DataFrame] = {}
        if step.kind == "denominate":
            by = {n.code: n.denominator for n in defn.indicators if n.denominator} | (p.get("by") or {})
            mult = float(p.get("multiplier", 1.0))
            for j, node in enumerate(defn.indicators):
                if node.code in by:
                    d = _column(inp, by[node.code], defn, f"index_run.pipeline[{step_no - 1}].by.{node.code}")
                    with np.errstate(divide="ignore", invalid="ignore"):
                        x[:, j] = np.where((d == 0) | np.isnan(d), np.nan, x[:, j] / d * mult)
        elif step.kind == "screen":
            present = ~np.isnan(x)
            thr = p.get("indicator_min_coverage")
            if thr is not None:
                cover = present[active].mean(axis=0) if active.any() else np.zeros(q)
                for j in np.flatnonzero(cover < thr):
                    x[:, j] = np.nan
                    flags[(-1, int(j))] = f"indicator_dropped: coverage {cover[j]:.3f} < {thr}"
            # Compared at the 4 decimals a limit is written with: 0.6667 stands for 2/3 (spec §14 sketch).
            availability = np.round(1.0 - np.isnan(x).sum(axis=1) / max(q, 1), 4)
            limit = float(p.get("unit_min_availability", 0.0))
            drop = active & (availability < limit)
            if record is not None:
                extra["dropped_units"] = pl.DataFrame({
                    "unit_code": [inp.units[i] for i in np.flatnonzero(drop)],
                    "availability": availability[drop],
                    "reason": [f"data availability {availability[i]:.4f} < {limit}" for i in np.flatnonzero(drop)],
                }, schema={"unit_code": pl.Utf8, "availability": pl.Float64, "reason": pl.Utf8})
                extra["availability"] = pl.DataFrame({"unit_code": inp.units, "availability": availability})
            active &= ~drop
            x[~active] = np.nan
        elif step.kind == "impute":
            method = ov.get("impute_method", p.get("method", "none"))
            per = {} if "impute_method" in ov else (p.get("overrides") or {})
            for j, node in enumerate(defn.indicators):
                m = per.get(node.code, {}).get("method", method)
                if m == "none":
                    continue
                gcol = per.get(node.code, {}).get("group_column", p.get("group_column"))
                fill = _impute(x[:, j], active, m, inp.groups.get(gcol) if gcol else None, defn, gcol)
                hole = np.isnan(x[:, j]) & active & ~np.isnan(fill)
                x[hole, j] = fill[hole]
                imputed[hole, j] = True
        elif step.kind == "treat_outliers":
            method = p.get("method", "jrc")
            if ov.get("treatment") in ("off", False):
                method = "none"
            if method != "none":
                for j, node in enumerate(defn.indicators):
                    prm = {**p, **(p.get("overrides") or {}).get(node.code, {})}
                    if prm.get("method", "jrc") == "none":
                        continue
                    res = treat_outliers(
                        x[active, j], skew_thresh=float(prm.get("skew_thresh", 2.0)),
                        kurt_thresh=float(prm.get("kurt_thresh", 3.5)),
                        boundary=prm.get("boundary", "at_threshold_fails"),
                        winmax=int(ov.get("winmax", prm.get("winmax", 5))), f2=prm.get("f2", "log_CT"),
                        combine_treat=bool(prm.get("combine_treat", False)),
                        box_cox_lambda=float(prm.get("box_cox_lambda", 0.0)),
                    )
                    col = x[:, j].copy()
                    col[active] = res.values
                    x[:, j] = col
                    if treatment_log is not None:
                        act_units = [u for u, a in zip(inp.units, active, strict=True) if a]
                        treatment_log.append({
                            "step_no": step_no, "indicator_code": node.code, "n": res.n,
                            "g1_before": res.g1_before, "g2_before": res.g2_before,
                            "needs_treatment": res.needs_treatment, "treatment": res.treatment,
                            "n_winsorised": res.n_winsorised, "side": res.side,
                            "treated_units": ",".join(act_units[i] for i in res.treated_positions
                                                      if not np.isnan(res.values[i])),
                            "g1_after": res.g1_after, "g2_after": res.g2_after,
                            "passes_after": res.passes_after, "flag": res.flag,
                            "winsorisation_trace": json.dumps([[n, round(a, 6), round(b, 6)]
                                                               for n, a, b in res.trace]),
                        })
        elif step.kind == "normalise":
            glob = dict(ov["normalise"]) if "normalise" in ov else dict(p)
            per = {} if "normalise" in ov else (p.get("overrides") or {})
            for j, node in enumerate(defn.indicators):
                prm = {**glob, **per.get(node.code, {})}
                extra_cols = {}
                if prm.get("negative_column"):
                    extra_cols["negative"] = _column(inp, prm["negative_column"], defn, "normalise.negative_column")
                if prm.get("previous_column"):
                    extra_cols["previous"] = _column(inp, prm["previous_column"], defn, "normalise.previous_column")
                col = np.where(active, x[:, j], np.nan)
                vals, flag = normalise(col, prm.get("method", "minmax"), direction=node.direction, params=prm,
                                       target=node.target, goalposts=(node.goalpost_low, node.goalpost_high),
                                       unit_codes=inp.units, extra=extra_cols)
                x[:, j] = vals
                if flag:
                    flags[(-1, j)] = flag
            upper = _upper(glob)
        elif step.kind == "weight":
            if p.get("scheme", "metadata") == "equal":
                node_weights[:] = 1.0
            for code, w in (p.get("weights") or {}).items():
                node_weights[tree.codes.index(code)] = float(w)
        if record is not None and step.kind not in ("aggregate", "rank"):
            record.append(_indicator_dataset(step_no, step.kind, p, inp, defn, x, imputed, flags, extra, tree,
                                             node_weights))
    if ov.get("exclude_indicator"):
        x[:, defn.indicator_codes.index(ov["exclude_indicator"])] = np.nan
    return IndicatorState(x, active, node_weights, upper)


def _upper(p: dict[str, Any]) -> float | None:
    """The normalised maximum U that points lost are measured against (``upper`` overrides)."""
    if p.get("upper") is not None:
        return float(p["upper"])
    m = p.get("method", "minmax")
    if m == "minmax":
        return float(p.get("range", [0, 100])[1])
    if m == "goalposts":
        return float(p.get("scale", 100.0))
    if m in ("prank", "dist2max", "fracmax") or (m == "dist2targ" and p.get("cap", True)):
        return 1.0
    return None


def _impute(col: np.ndarray, active: np.ndarray, method: str, groups: np.ndarray | None,
            defn: IndexDefinition, gcol: str | None) -> np.ndarray:
    stat = np.nanmean if method.endswith("mean") else np.nanmedian
    fill = np.full(col.shape, np.nan)
    base = np.where(active, col, np.nan)
    if method in ("mean", "median"):
        if (~np.isnan(base)).any():
            fill[:] = stat(base)
        return fill
    if groups is None:
        raise DefinitionError(defn.source_path, "impute.group_column",
                              f"group column '{gcol}' must be listed in index_run.inputs.unit_groups")
    for g in np.unique(groups):
        idx = groups == g
        if (~np.isnan(base[idx])).any():
            fill[idx] = stat(base[idx])
    return fill


def _indicator_dataset(step_no: int, kind: str, params: dict[str, Any], inp: Inputs, defn: IndexDefinition,
                       x: np.ndarray, imputed: np.ndarray, flags: dict[tuple[int, int], str],
                       extra: dict[str, pl.DataFrame], tree: Tree, node_weights: np.ndarray) -> StepDataset:
    if kind == "weight":
        data = pl.DataFrame({
            "unit_code": [None] * len(tree.codes), "node_code": tree.codes,
            "value": node_weights.astype(float), "is_imputed": [False] * len(tree.codes),
            "flag": [None] * len(tree.codes),
        }, schema=_LONG_SCHEMA)
        return StepDataset(step_no, kind, params, data, extra)
    m, q = x.shape
    codes = defn.indicator_codes
    data = pl.DataFrame({
        "unit_code": np.repeat(np.array(inp.units, dtype=object), q).tolist(),
        "node_code": codes * m,
        "value": x.reshape(-1).copy(),  # later steps change x in place
        "is_imputed": imputed.reshape(-1).copy(),
        "flag": [flags.get((-1, j)) for _ in range(m) for j in range(q)],
    }, schema=_LONG_SCHEMA).with_columns(pl.col("value").fill_nan(None))
    return StepDataset(step_no, kind, params, data, extra)


_LONG_SCHEMA = {"unit_code": pl.Utf8, "node_code": pl.Utf8, "value": pl.Float64, "is_imputed": pl.Boolean,
                "flag": pl.Utf8}


# ---------------------------------------------------------------------------------------------------------
# the run
# ---------------------------------------------------------------------------------------------------------


def aggregate_params(defn: IndexDefinition) -> tuple[dict[int, str], str, float, float | None]:
    """Methods per level, the default method, the generalised-mean p and dat_thresh of the aggregate step."""
    p = defn.steps("aggregate")[0].params
    return ({int(k): v for k, v in (p.get("by_level") or {}).items()}, p.get("method", "arithmetic"),
            float(p.get("p", 1.0)), p.get("dat_thresh"))


def missing_params(defn: IndexDefinition) -> dict[int, str]:
    """Missing-component policy per level (``missing`` for all levels, ``missing_by_level`` overrides)."""
    p = defn.steps("aggregate")[0].params
    levels = sorted({n.level for n in defn.aggregates})
    out = {lvl: p["missing"] for lvl in levels} if "missing" in p else {}
    return out | {int(k): v for k, v in (p.get("missing_by_level") or {}).items()}


def rank_params(defn: IndexDefinition) -> tuple[int | None, list[str]]:
    """Published precision and partition columns of the rank step (none: full precision, one partition)."""
    steps = defn.steps("rank")
    if not steps:
        return None, []
    return steps[0].params.get("precision"), list(steps[0].params.get("partition", []))


def rank_exclusions(defn: IndexDefinition, inp: Inputs) -> np.ndarray:
    """Units scored but not ranked: where the rank step's ``exclude_when`` column is true (e.g. partial
    periods, 766 §9.7)."""
    steps = defn.steps("rank")
    col = steps[0].params.get("exclude_when") if steps else None
    if not col:
        return np.zeros(len(inp.units), dtype=bool)
    if col not in inp.table.columns:
        raise DefinitionError(defn.source_path, "index_run.pipeline.rank.exclude_when",
                              f"data table has no column '{col}'")
    values = inp.table[col].to_list()
    return np.array([str(v).strip().lower() in ("true", "1", "yes") for v in values], dtype=bool)


def partition_keys(inp: Inputs, columns: list[str]) -> np.ndarray | None:
    """One key per unit joining its partition columns (None when ranking over all units)."""
    if not columns:
        return None
    return np.array(["|".join(str(inp.groups[c][i]) for c in columns) for i in range(len(inp.units))],
                    dtype=object)


def resolve_definition(defn: IndexDefinition, metadata: pl.DataFrame | None) -> IndexDefinition:
    """Attach the hierarchy from a metadata table when the definition does not inline one."""
    if metadata is not None:
        return defn.with_nodes(nodes_from_metadata(metadata, file=defn.source_path))
    if not defn.nodes and defn.metadata_input is not None:
        return defn.with_nodes(nodes_from_metadata(read_table(defn.metadata_input), file=defn.source_path))
    if not defn.nodes:
        raise DefinitionError(defn.source_path, "index_run.hierarchy",
                              "no hierarchy: give index_run.hierarchy or index_run.inputs.metadata")
    return defn


def load_data(defn: IndexDefinition) -> pl.DataFrame:
    """The wide indicator-data table named by the definition."""
    if defn.data_input is None:
        raise DefinitionError(defn.source_path, "index_run.inputs.data", "no data table given")
    text = [defn.unit_code] + ([defn.unit_name] if defn.unit_name else []) + defn.unit_groups
    return read_table(defn.data_input, text_columns=text)


def run_index(defn: IndexDefinition, data: pl.DataFrame | None = None, metadata: pl.DataFrame | None = None,
              *, seed: int | None = None, with_uncertainty: bool = True, with_sensitivity: bool = False,
              period_label: str | None = None) -> IndexRun:
    """Run a definition on a wide indicator table and return every dataset it produced.

    ``data`` and ``metadata`` default to the tables the definition names. The uncertainty analysis runs when
    the definition has an ``uncertainty`` block and ``with_uncertainty`` is true; the sensitivity analysis when
    it has a ``sensitivity`` block and ``with_sensitivity`` is true. ``seed`` overrides the definition's seed.
    """
    import time

    t0 = time.perf_counter()
    defn = resolve_definition(defn, metadata)
    if data is None:
        data = load_data(defn)
    inp = prepare_inputs(defn, data)
    tree = Tree.from_definition(defn)
    record: list[StepDataset] = []
    tlog: list[dict[str, Any]] = []
    state = compute_indicators(defn, inp, tree, record=record, treatment_log=tlog)
    methods, default, p, dat_thresh = aggregate_params(defn)
    _check_positive(defn, tree, state.values, methods, default)
    missing = missing_params(defn)
    values = aggregate_tree(tree, state.values, state.node_weights, methods, default, p=p, dat_thresh=dat_thresh,
                            missing=missing)
    values[~state.active] = np.nan
    agg_step_no = next(i for i, s in enumerate(defn.pipeline, start=1) if s.kind == "aggregate")
    for lvl in sorted({int(tree.levels[a]) for a in tree.aggregate_positions()}):
        pos = [a for a in tree.aggregate_positions() if tree.levels[a] == lvl]
        record.append(StepDataset(agg_step_no, f"aggregate:level_{lvl}",
                                  {"method": methods.get(lvl, default), "p": p, "dat_thresh": dat_thresh,
                                   "missing": missing.get(lvl)},
                                  _long(inp.units, [tree.codes[a] for a in pos], values[:, pos])))
    precision, part_cols = rank_params(defn)
    part = partition_keys(inp, part_cols)
    scores = _scores(defn, tree, inp, values, precision, part, rank_exclusions(defn, inp))
    if defn.steps("rank"):
        rank_no = next(i for i, s in enumerate(defn.pipeline, start=1) if s.kind == "rank")
        record.append(StepDataset(rank_no, "rank", defn.steps("rank")[0].params, scores))
    child_w = normalised_child_weights(tree, values, state.node_weights, methods, default, missing)
    ew = effective_weights(tree, child_w)
    ew[~state.active] = np.nan
    from .explain import coherence, contributions, strengths_weaknesses

    contrib = contributions(defn, tree, inp.units, values, child_w, ew, methods, default, state.upper)
    strengths = strengths_weaknesses(defn, inp.units, state.values, state.active, part)
    dropped = next((d.extra["dropped_units"] for d in record if "dropped_units" in d.extra), None)
    reason = dict(zip(dropped["unit_code"], dropped["reason"], strict=True)) if dropped is not None else {}
    units = pl.DataFrame({
        "unit_code": inp.units, "unit_name": inp.names,
        **{g: inp.groups[g].tolist() for g in defn.unit_groups},
        "is_scored": state.active.tolist(), "drop_reason": [reason.get(u) for u in inp.units],
    })
    run = IndexRun(
        run_id=_run_id(defn, data, seed, period_label), definition=defn, period_label=period_label,
        seed=seed if seed is not None else (defn.uncertainty or {}).get("seed"),
        created_at=datetime.now().replace(microsecond=0), units=units,
        steps={(d.step_no, d.step_name): d for d in record},
        treatment_log=pl.DataFrame(tlog, schema=_TLOG_SCHEMA),
        node_weights=pl.DataFrame({
            "node_code": tree.codes, "parent_code": [tree.codes[i] if i >= 0 else None for i in tree.parent],
            "level": tree.levels.tolist(), "weight": state.node_weights.tolist(),
            "weight_in_parent": _nominal_in_parent(tree, state.node_weights).tolist(),
        }),
        effective_weights=pl.DataFrame({
            "unit_code": np.repeat(np.array(inp.units, dtype=object), tree.n_indicators).tolist(),
            "indicator_code": defn.indicator_codes * len(inp.units),
            "effective_weight": ew[:, : tree.n_indicators].reshape(-1),
        }).with_columns(pl.col("effective_weight").fill_nan(None)),
        scores=scores, contributions=contrib, strengths=strengths,
        coherence=coherence(tree, values, ew, state.active),
    )
    run.timings["nominal_s"] = time.perf_counter() - t0
    if with_uncertainty and defn.uncertainty:
        from .uncertainty import run_uncertainty

        t1 = time.perf_counter()
        run_uncertainty(run, inp, tree, seed=seed)
        run.timings["uncertainty_s"] = time.perf_counter() - t1
    if with_sensitivity and defn.sensitivity:
        from .uncertainty import run_sensitivity

        t1 = time.perf_counter()
        run_sensitivity(run, inp, tree, seed=seed)
        run.timings["sensitivity_s"] = time.perf_counter() - t1
    return run


_TLOG_SCHEMA = {
    "step_no": pl.Int64, "indicator_code": pl.Utf8, "n": pl.Int64, "g1_before": pl.Float64,
    "g2_before": pl.Float64, "needs_treatment": pl.Boolean, "treatment": pl.Utf8, "n_winsorised": pl.Int64,
    "side": pl.Utf8, "treated_units": pl.Utf8, "g1_after": pl.Float64, "g2_after": pl.Float64,
    "passes_after": pl.Boolean, "flag": pl.Utf8, "winsorisation_trace": pl.Utf8,
}


def _check_positive(defn: IndexDefinition, tree: Tree, values: np.ndarray, methods: dict[int, str],
                    default: str) -> None:
    """Geometric and harmonic means need strictly positive inputs (spec §7.2.3): say which and where."""
    for a in tree.aggregate_positions():
        m = methods.get(int(tree.levels[a]), default)
        if m not in ("geometric", "harmonic"):
            continue
        for c in tree.children[a]:
            if c < tree.n_indicators and np.nanmin(np.r_[values[:, c], np.inf]) <= 0:
                raise DefinitionError(defn.source_path, "index_run.pipeline.aggregate",
                                      f"{m} mean at level {tree.levels[a]} needs values > 0, but indicator "
                                      f"'{tree.codes[c]}' has values <= 0; normalise onto [1, 100]")


def _nominal_in_parent(tree: Tree, w: np.ndarray) -> np.ndarray:
    out = np.ones(len(tree.codes))
    for ch in tree.children.values():
        s = w[ch].sum()
        out[ch] = w[ch] / s if s > 0 else np.nan
    return out


def _long(units: list[str], codes: list[str], vals: np.ndarray) -> pl.DataFrame:
    m, k = vals.shape
    return pl.DataFrame({
        "unit_code": np.repeat(np.array(units, dtype=object), k).tolist(), "node_code": codes * m,
        "value": vals.reshape(-1), "is_imputed": [False] * (m * k), "flag": [None] * (m * k),
    }, schema=_LONG_SCHEMA).with_columns(pl.col("value").fill_nan(None))


def _scores(defn: IndexDefinition, tree: Tree, inp: Inputs, values: np.ndarray, precision: int | None,
            part: np.ndarray | None, unranked: np.ndarray) -> pl.DataFrame:
    """Scores and ranks of every aggregate (group ranks use the same rules as the index rank)."""
    from .methods import round_half_away

    tie_codes = (defn.steps("rank")[0].params.get("tie_break_keys") or []) if defn.steps("rank") else []
    tie = values[:, [tree.codes.index(c) for c in tie_codes]] if tie_codes else None
    frames = []
    for a in tree.aggregate_positions():
        s = values[:, a]
        # secondary keys break ties of the index only (spec §8.5, 766 §9.4)
        r = competition_rank(np.where(unranked, np.nan, s), precision, part, tie if a == tree.root else None)
        frames.append(pl.DataFrame({
            "unit_code": inp.units, "unit_name": inp.names, "node_code": tree.codes[a],
            "level": int(tree.levels[a]), "is_index": a == tree.root, "score": s,
            "score_rounded": round_half_away(s, precision),
            "rank": r, "partition_key": part.tolist() if part is not None else [None] * len(inp.units),
        }, schema_overrides={"partition_key": pl.Utf8}))
    out = pl.concat(frames).with_columns(
        pl.col("score").fill_nan(None), pl.col("score_rounded").fill_nan(None),
        pl.col("rank").fill_nan(None).cast(pl.Int64),
    )
    return out


def _run_id(defn: IndexDefinition, data: pl.DataFrame, seed: int | None, period: str | None) -> str:
    """A run id that is the same for the same definition, data, seed and period (re-runs replace rows)."""
    h = hashlib.sha256()
    h.update(defn.config_json().encode())
    h.update(json.dumps([n.__dict__ for n in defn.nodes], default=str).encode())
    h.update(data.write_csv().encode())
    h.update(f"{seed}|{period}|{ENGINE_VERSION}".encode())
    return f"{defn.code}-{period or 'adhoc'}-{h.hexdigest()[:12]}"


def indicator_peer_ranks(values: np.ndarray, active: np.ndarray, part: np.ndarray | None) -> np.ndarray:
    """Rank of each unit on each indicator among its peers (descending; ties share the best place)."""
    out = np.full(values.shape, np.nan)
    keys = part if part is not None else np.zeros(values.shape[0], dtype=object)
    for k in np.unique(keys):
        idx = (keys == k) & active
        for j in range(values.shape[1]):
            out[idx, j] = rank_min(values[idx, j], descending=True)
    return out


__all__ = ["IndexRun", "StepDataset", "run_index", "Node"]
