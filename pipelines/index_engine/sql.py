"""The core steps in DuckDB SQL: denominate, screen, normalise, weighted aggregation, rank.

This is the second, independent implementation of the steps that matter for the published numbers. The test
suite runs both paths on the same input and requires them to agree to 1e-9.
"""

from __future__ import annotations

import duckdb
import polars as pl

from .definition import IndexDefinition
from .engine import aggregate_params, rank_params, resolve_definition
from .tree import Tree

SQL_NORMALISE = ("none", "minmax", "zscore", "goalposts", "rank")
SQL_AGGREGATE = ("arithmetic", "geometric", "sum")


def run_core_sql(defn: IndexDefinition, data: pl.DataFrame, metadata: pl.DataFrame | None = None,
                 con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """Scores and ranks of every aggregate computed in DuckDB SQL.

    Returns ``unit_code, node_code, score, rank``. Steps other than the core ones (imputation, outlier
    treatment, other normalisation or aggregation methods) raise ``NotImplementedError``.
    """
    defn = resolve_definition(defn, metadata)
    _check_supported(defn)
    con = con or duckdb.connect()
    tree = Tree.from_definition(defn)
    methods, default, _, dat_thresh = aggregate_params(defn)
    precision, part_cols = rank_params(defn)
    weights = {n.code: n.weight for n in defn.nodes}
    for s in defn.steps("weight"):
        if s.params.get("scheme", "metadata") == "equal":
            weights = dict.fromkeys(weights, 1.0)
        weights |= {k: float(v) for k, v in (s.params.get("weights") or {}).items()}

    norm = (defn.steps("normalise") or [None])[0]
    nparams = norm.params if norm else {"method": "none"}
    denom_step = (defn.steps("denominate") or [None])[0]
    by = {n.code: n.denominator for n in defn.indicators if n.denominator}
    mult = 1.0
    if denom_step is not None:
        by |= denom_step.params.get("by") or {}
        mult = float(denom_step.params.get("multiplier", 1.0))
    else:
        by = {}

    param_rows = []
    for n in defn.indicators:
        p = {**nparams, **(nparams.get("overrides") or {}).get(n.code, {})}
        low, high = p.get("low", n.goalpost_low), p.get("high", n.goalpost_high)
        if n.direction == -1 and low is not None and high is not None:
            low, high = -high, -low
        rng = p.get("range", [0, 100])
        param_rows.append({
            "indicator_code": n.code, "direction": float(n.direction), "method": p.get("method", "minmax"),
            "range_low": float(rng[0]), "range_high": float(rng[1]), "a": float(p.get("a", 1.0)),
            "b": float(p.get("b", 0.0)), "goal_low": low, "goal_high": high, "scale": float(p.get("scale", 100.0)),
            "denominator": by.get(n.code), "multiplier": mult,
        })
    params = pl.DataFrame(param_rows, schema={
        "indicator_code": pl.Utf8, "direction": pl.Float64, "method": pl.Utf8, "range_low": pl.Float64,
        "range_high": pl.Float64, "a": pl.Float64, "b": pl.Float64, "goal_low": pl.Float64,
        "goal_high": pl.Float64, "scale": pl.Float64, "denominator": pl.Utf8, "multiplier": pl.Float64,
    })
    edges = pl.DataFrame({
        "child_code": [tree.codes[i] for i in range(len(tree.codes)) if tree.parent[i] >= 0],
        "parent_code": [tree.codes[tree.parent[i]] for i in range(len(tree.codes)) if tree.parent[i] >= 0],
        "weight": [weights[tree.codes[i]] for i in range(len(tree.codes)) if tree.parent[i] >= 0],
    })
    unit_cols = [defn.unit_code] + part_cols
    units = data.select([pl.col(c).cast(pl.Utf8) for c in unit_cols]).rename({defn.unit_code: "unit_code"})
    # Long raw table: one row per unit and indicator, with that indicator's denominator value.
    long_parts = []
    for n in defn.indicators:
        den = by.get(n.code)
        long_parts.append(data.select(
            pl.col(defn.unit_code).cast(pl.Utf8).alias("unit_code"), pl.lit(n.code).alias("indicator_code"),
            pl.col(n.code).cast(pl.Float64).fill_nan(None).alias("value"),
            (pl.col(den).cast(pl.Float64).fill_nan(None) if den else pl.lit(None, dtype=pl.Float64))
            .alias("denominator_value"),
        ))
    raw = pl.concat(long_parts)
    con.register("ie_raw", raw.to_arrow())
    con.register("ie_params", params.to_arrow())
    con.register("ie_edges", edges.to_arrow())
    con.register("ie_units", units.to_arrow())
    screen = (defn.steps("screen") or [None])[0]
    min_avail = float(screen.params.get("unit_min_availability", 0.0)) if screen else 0.0
    n_ind = len(defn.indicators)

    con.execute(f"""
        create or replace temp table ie_node_values as
        with raw as (
            select * from ie_raw
        ),

        params as (
            select * from ie_params
        ),

        denominated as (
            select
                raw.unit_code,
                raw.indicator_code,
                case
                    when params.denominator is null then raw.value
                    when raw.denominator_value is null or raw.denominator_value = 0 then null
                    else raw.value / raw.denominator_value * params.multiplier
                end as value
            from raw
            inner join params using (indicator_code)
        ),

        availability as (
            -- availability is compared at the 4 decimals a limit is written with (0.6667 stands for 2/3)
            select unit_code, round(1.0 - count(*) filter (where value is null) / {n_ind}.0, 4) as availability
            from denominated
            group by unit_code
        ),

        screened as (
            select denominated.*
            from denominated
            inner join availability using (unit_code)
            where availability.availability >= {min_avail!r}
        ),

        directed as (
            select screened.unit_code, screened.indicator_code, screened.value * params.direction as x
            from screened
            inner join params using (indicator_code)
        ),

        stats as (
            select
                indicator_code,
                min(x) as x_min,
                max(x) as x_max,
                avg(x) as x_mean,
                stddev_samp(x) as x_sd
            from directed
            group by indicator_code
        ),

        ranked as (
            select
                directed.*,
                case when x is null then null
                     else rank() over (partition by indicator_code, x is null order by x) end as x_rank
            from directed
        ),

        normalised as (
            select
                ranked.unit_code,
                ranked.indicator_code,
                -- greatest()/least() skip NULLs, so a missing value is caught before the formulas
                case when ranked.x is null then null else case params.method
                    when 'none' then ranked.x * params.direction
                    when 'minmax' then case when stats.x_max = stats.x_min then null
                        else (ranked.x - stats.x_min) / (stats.x_max - stats.x_min)
                             * (params.range_high - params.range_low) + params.range_low end
                    when 'zscore' then case when stats.x_sd = 0 then null
                        else (ranked.x - stats.x_mean) / stats.x_sd * params.a + params.b end
                    when 'goalposts' then greatest(0.0, least(1.0,
                        (ranked.x - params.goal_low) / (params.goal_high - params.goal_low))) * params.scale
                    when 'rank' then cast(ranked.x_rank as double)
                end end as value
            from ranked
            inner join stats using (indicator_code)
            inner join params using (indicator_code)
        ),

        final as (
            select unit_code, indicator_code as node_code, value from normalised
        )

        select * from final
    """)
    for a in tree.aggregate_positions():
        method = methods.get(int(tree.levels[a]), default)
        expr = {
            "arithmetic": "sum(e.weight * v.value) / sum(e.weight)",
            "geometric": "exp(sum(e.weight * ln(v.value)) / sum(e.weight))",
            "sum": "sum(v.value)",
        }[method]
        having = ""
        if dat_thresh is not None:
            k = len(tree.children[a])
            having = f"having count(*) / {k}.0 >= {float(dat_thresh)!r}"
        con.execute(f"""
            insert into ie_node_values
            with values_present as (
                select * from ie_node_values where value is not null
            ),

            edges as (
                select * from ie_edges where parent_code = $node
            ),

            final as (
                select v.unit_code, e.parent_code as node_code, {expr} as value
                from values_present as v
                inner join edges as e on v.node_code = e.child_code
                group by v.unit_code, e.parent_code
                {having}
            )

            select * from final
        """, {"node": tree.codes[a]})
    f = 10.0 ** precision if precision is not None else None
    key = ("sign(s.value) * floor(abs(s.value) * {f} + 0.5 + 1e-9) / {f}".format(f=repr(f))
           if f is not None else "s.value")
    partition = ", ".join(["s.node_code"] + [f'u."{c}"' for c in part_cols])
    agg_codes = [tree.codes[a] for a in tree.aggregate_positions()]
    con.register("ie_aggregates", pl.DataFrame({"node_code": agg_codes}).to_arrow())
    out = con.execute(f"""
        with grid as (
            select u.*, a.node_code from ie_units as u cross join ie_aggregates as a
        ),

        scores as (
            select g.unit_code, g.node_code, nv.value
            from grid as g
            left join ie_node_values as nv using (unit_code, node_code)
        ),

        final as (
            select
                s.unit_code,
                s.node_code,
                s.value as score,
                case when s.value is null then null
                     else rank() over (partition by {partition}, s.value is null order by {key} desc) end as rank
            from scores as s
            inner join ie_units as u using (unit_code)
        )

        select * from final order by node_code, unit_code
    """).pl()
    for name in ("ie_raw", "ie_params", "ie_edges", "ie_units", "ie_aggregates"):
        con.unregister(name)
    con.execute("drop table if exists ie_node_values")
    return out


def _check_supported(defn: IndexDefinition) -> None:
    for s in defn.pipeline:
        p = s.params
        if s.kind == "impute" and p.get("method", "none") != "none":
            raise NotImplementedError("the SQL path does not impute")
        if s.kind == "treat_outliers" and p.get("method", "jrc") != "none":
            raise NotImplementedError("the SQL path does not treat outliers")
        if s.kind == "screen" and p.get("indicator_min_coverage") is not None:
            raise NotImplementedError("the SQL path does not screen indicators")
        if s.kind == "normalise":
            for prm in [p, *(p.get("overrides") or {}).values()]:
                if prm.get("method", "minmax") not in SQL_NORMALISE:
                    raise NotImplementedError(f"the SQL path normalises with {SQL_NORMALISE} only")
        if s.kind == "aggregate":
            if p.get("missing") not in (None, "rescale", "skip") or p.get("missing_by_level"):
                raise NotImplementedError("the SQL path handles missing components by re-scaling only")
            for m in [p.get("method", "arithmetic"), *(p.get("by_level") or {}).values()]:
                if m not in SQL_AGGREGATE:
                    raise NotImplementedError(f"the SQL path aggregates with {SQL_AGGREGATE} only")
