"""Index definitions: YAML files validated into typed objects.

A definition names the indicator hierarchy (from an indicator-metadata table or inline), the ordered pipeline
of steps with their parameters, and the uncertainty and sensitivity blocks (spec index-methods §14). Every
validation error names the file, the key path and what was expected.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml

STEP_KINDS = ("denominate", "screen", "impute", "treat_outliers", "normalise", "weight", "aggregate", "rank")
INDICATOR_STEPS = ("denominate", "screen", "impute", "treat_outliers", "normalise", "weight")
IMPUTE_METHODS = ("none", "mean", "median", "group_mean", "group_median")
TREAT_METHODS = ("jrc", "none")
F2_METHODS = ("log_CT", "log_CT_plus", "box_cox", "log_GII", "none")
NORMALISE_METHODS = (
    "none", "rank", "prank", "borda", "zscore", "minmax", "scaled", "goalposts", "dist2max", "dist2ref",
    "dist2targ", "fracmax", "categorical", "above_below_mean", "cyclical", "balance_of_opinions",
    "annual_difference",
)
AGGREGATE_METHODS = ("arithmetic", "geometric", "harmonic", "generalised", "copeland", "sum")
WEIGHT_SCHEMES = ("metadata", "equal")
UNCERTAINTY_FACTORS = ("weights", "impute_method", "winmax", "treatment", "normalise_method",
                       "aggregate_method", "exclude_indicator")
METADATA_COLUMNS = ("code", "name", "level", "parent", "weight", "direction", "denominator", "target",
                    "goalpost_low", "goalpost_high", "max_points")


class DefinitionError(ValueError):
    """A definition that cannot be used, with the file and key path at fault."""

    def __init__(self, file: str | Path | None, key_path: str, message: str) -> None:
        self.file = str(file) if file is not None else "<inline>"
        self.key_path = key_path
        self.message = message
        super().__init__(f"{self.file}: {key_path}: {message}")


@dataclass(frozen=True)
class Node:
    """One node of the hierarchy: an indicator (level 1) or an aggregate (level >= 2)."""

    code: str
    name: str
    level: int
    parent: str | None
    weight: float = 1.0
    direction: int = 1
    denominator: str | None = None
    target: float | None = None
    goalpost_low: float | None = None
    goalpost_high: float | None = None
    max_points: float | None = None

    @property
    def is_indicator(self) -> bool:
        return self.level == 1


@dataclass(frozen=True)
class Step:
    """One pipeline step: its kind and its parameters as written in the definition."""

    kind: str
    params: dict[str, Any]


@dataclass(frozen=True)
class InputSpec:
    """Where a table comes from: a CSV/Parquet file or a DuckDB table or query."""

    file: Path | None = None
    duckdb: Path | None = None
    table: str | None = None
    query: str | None = None


@dataclass
class IndexDefinition:
    """A validated index definition."""

    code: str
    name: str
    rule_version: str
    nodes: list[Node]
    pipeline: list[Step]
    unit_code: str = "unit_code"
    unit_name: str | None = "unit_name"
    unit_groups: list[str] = field(default_factory=list)
    data_input: InputSpec | None = None
    metadata_input: InputSpec | None = None
    uncertainty: dict[str, Any] | None = None
    sensitivity: dict[str, Any] | None = None
    warehouse: dict[str, Any] | None = None
    scale: float | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    source_path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    # -- hierarchy helpers ---------------------------------------------------------------------------------
    @property
    def indicators(self) -> list[Node]:
        return [n for n in self.nodes if n.is_indicator]

    @property
    def indicator_codes(self) -> list[str]:
        return [n.code for n in self.indicators]

    @property
    def aggregates(self) -> list[Node]:
        """Aggregate nodes in computation order (by level, then definition order)."""
        return sorted((n for n in self.nodes if not n.is_indicator), key=lambda n: n.level)

    @property
    def root(self) -> Node:
        return next(n for n in self.nodes if n.parent is None)

    def node(self, code: str) -> Node:
        return next(n for n in self.nodes if n.code == code)

    def children(self, code: str) -> list[Node]:
        return [n for n in self.nodes if n.parent == code]

    def steps(self, kind: str) -> list[Step]:
        return [s for s in self.pipeline if s.kind == kind]

    def config_json(self) -> str:
        """The definition as run, serialised for the run record."""
        return json.dumps(self.raw, sort_keys=True, default=str, ensure_ascii=False)

    def with_nodes(self, nodes: list[Node]) -> IndexDefinition:
        """A copy with another hierarchy (used when the metadata comes with the data)."""
        other = copy.copy(self)
        other.nodes = nodes
        validate_hierarchy(nodes, self.source_path, "hierarchy", scale=self.scale)
        return other


# ---------------------------------------------------------------------------------------------------------
# loading
# ---------------------------------------------------------------------------------------------------------

def load_definition(path: str | Path) -> IndexDefinition:
    """Read and validate a YAML index definition.

    The YAML holds one top-level key ``index_run`` (spec §14). Paths to input files are relative to the YAML.
    Raises :class:`DefinitionError` naming the file, the key path and what was expected.
    """
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DefinitionError(path, "<file>", "file not found") from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(path, "<file>", f"not valid YAML: {exc}") from exc
    return parse_definition(doc, source_path=path)


def parse_definition(doc: Any, *, source_path: Path | None = None) -> IndexDefinition:
    """Validate a definition already parsed from YAML (a dict with the key ``index_run``)."""
    f = source_path
    if not isinstance(doc, dict) or "index_run" not in doc:
        raise DefinitionError(f, "<root>", "expected a mapping with the top-level key 'index_run'")
    d = doc["index_run"]
    _expect(isinstance(d, dict), f, "index_run", "expected a mapping")
    allowed = {"code", "name", "rule_version", "effective_from", "effective_to", "legal_basis", "evidence_tag",
               "description", "inputs", "hierarchy", "pipeline", "uncertainty", "sensitivity", "warehouse",
               "scale"}
    _no_unknown(d, allowed, f, "index_run")
    for key in ("code", "rule_version"):
        _expect(isinstance(d.get(key), str) and d[key], f, f"index_run.{key}", "expected a non-empty string")
    base = source_path.parent if source_path else Path.cwd()

    inputs = d.get("inputs") or {}
    _expect(isinstance(inputs, dict), f, "index_run.inputs", "expected a mapping")
    _no_unknown(inputs, {"data", "metadata", "unit_code", "unit_name", "unit_groups"}, f, "index_run.inputs")
    data_input = _input_spec(inputs.get("data"), base, f, "index_run.inputs.data")
    metadata_input = _input_spec(inputs.get("metadata"), base, f, "index_run.inputs.metadata")
    unit_groups = inputs.get("unit_groups", []) or []
    _expect(isinstance(unit_groups, list) and all(isinstance(g, str) for g in unit_groups), f,
            "index_run.inputs.unit_groups", "expected a list of column names")

    scale = d.get("scale")
    if scale is not None:
        _expect(_is_number(scale), f, "index_run.scale", "expected a number (the maximum of a point sum)")
    nodes: list[Node] = []
    if "hierarchy" in d:
        _expect(isinstance(d["hierarchy"], list), f, "index_run.hierarchy", "expected a list of nodes")
        nodes = [_node_from_mapping(row, f, f"index_run.hierarchy[{i}]") for i, row in enumerate(d["hierarchy"])]
    elif metadata_input is not None and metadata_input.file is not None:
        nodes = nodes_from_metadata(read_table(metadata_input), file=metadata_input.file)
    if nodes:
        validate_hierarchy(nodes, f, "index_run.hierarchy", scale=scale)

    pipeline = _parse_pipeline(d.get("pipeline"), f)
    uncertainty = _parse_uncertainty(d.get("uncertainty"), f)
    sensitivity = _parse_sensitivity(d.get("sensitivity"), f)
    warehouse = d.get("warehouse")
    if warehouse is not None:
        _expect(isinstance(warehouse, dict), f, "index_run.warehouse", "expected a mapping")
        _no_unknown(warehouse, {"indicators_table", "units_table", "value_column", "unit_filter", "columns",
                                "denominators_query", "unit_groups", "unit_columns", "source_rule_version"}, f,
                    "index_run.warehouse")
    defn = IndexDefinition(
        code=d["code"], name=str(d.get("name", d["code"])), rule_version=d["rule_version"], nodes=nodes,
        pipeline=pipeline, unit_code=str(inputs.get("unit_code", "unit_code")),
        unit_name=inputs.get("unit_name", "unit_name"), unit_groups=list(unit_groups), data_input=data_input,
        metadata_input=metadata_input, uncertainty=uncertainty, sensitivity=sensitivity, warehouse=warehouse,
        scale=float(scale) if scale is not None else None,
        provenance={k: d.get(k) for k in ("effective_from", "effective_to", "legal_basis", "evidence_tag")},
        source_path=source_path, raw=doc,
    )
    _check_step_references(defn, f)
    return defn


# ---------------------------------------------------------------------------------------------------------
# tables
# ---------------------------------------------------------------------------------------------------------

def read_table(spec: InputSpec, *, text_columns: list[str] | None = None) -> pl.DataFrame:
    """Read an input table: CSV/Parquet file, or a DuckDB table or query. Text columns stay text."""
    text_columns = text_columns or []
    if spec.file is not None:
        if not spec.file.exists():
            raise DefinitionError(spec.file, "<file>", "input file not found")
        if spec.file.suffix.lower() == ".parquet":
            return pl.read_parquet(spec.file)
        # Codes such as commune codes carry leading zeros: never let them be read as numbers.
        header = pl.read_csv(spec.file, n_rows=0).columns
        overrides = {c: pl.Utf8 for c in header if c in text_columns}
        return pl.read_csv(spec.file, schema_overrides=overrides, infer_schema_length=10000)
    import duckdb

    assert spec.duckdb is not None
    con = duckdb.connect(str(spec.duckdb), read_only=True)
    try:
        sql = spec.query or f"select * from {spec.table}"
        return con.execute(sql).pl()
    finally:
        con.close()


def nodes_from_metadata(meta: pl.DataFrame, *, file: str | Path | None = None) -> list[Node]:
    """Build hierarchy nodes from an indicator-metadata table (one row per indicator and per aggregate)."""
    missing = [c for c in ("code", "level") if c not in meta.columns]
    if missing:
        raise DefinitionError(file, "columns", f"metadata table lacks required column(s) {missing}; expected "
                              f"columns {list(METADATA_COLUMNS)}")
    unknown = [c for c in meta.columns if c not in METADATA_COLUMNS]
    if unknown:
        raise DefinitionError(file, "columns", f"unknown metadata column(s) {unknown}; expected a subset of "
                              f"{list(METADATA_COLUMNS)}")
    nodes = []
    for i, row in enumerate(meta.iter_rows(named=True)):
        nodes.append(_node_from_mapping({k: v for k, v in row.items() if v is not None and v != ""}, file,
                                        f"row {i + 2}"))
    return nodes


def validate_hierarchy(nodes: list[Node], f: Path | str | None, key: str, *, scale: float | None = None) -> None:
    """Check the tree: unique codes, one root, parents exist at a higher level, aggregates have children."""
    codes = [n.code for n in nodes]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    _expect(not dupes, f, key, f"node codes must be unique; repeated: {dupes}")
    roots = [n.code for n in nodes if n.parent is None]
    _expect(len(roots) == 1, f, key, f"expected exactly one root (node without parent), found {roots}")
    by_code = {n.code: n for n in nodes}
    for n in nodes:
        if n.parent is None:
            continue
        _expect(n.parent in by_code, f, f"{key}.{n.code}.parent", f"parent '{n.parent}' is not a node")
        _expect(by_code[n.parent].level > n.level, f, f"{key}.{n.code}.parent",
                f"parent '{n.parent}' must have a higher level than {n.level}")
    for n in nodes:
        if not n.is_indicator:
            _expect(any(c.parent == n.code for c in nodes), f, f"{key}.{n.code}",
                    "an aggregate needs at least one child")
    _expect(any(n.is_indicator for n in nodes), f, key, "expected at least one indicator (level 1)")
    if any(n.max_points is not None for n in nodes):
        _validate_maxima(nodes, f, key, scale)


def _validate_maxima(nodes: list[Node], f: Path | str | None, key: str, scale: float | None) -> None:
    """Point sums: each group's maximum equals the sum of its children's maxima; the root equals the scale."""
    by_code = {n.code: n for n in nodes}
    for n in nodes:
        _expect(n.max_points is not None, f, f"{key}.{n.code}.max_points",
                "every node needs max_points once any node has one")
    for n in nodes:
        if n.is_indicator:
            continue
        total = sum(c.max_points or 0.0 for c in nodes if c.parent == n.code)
        _expect(abs(total - (n.max_points or 0.0)) < 1e-9, f, f"{key}.{n.code}.max_points",
                f"expected the sum of the children's maxima {total:g}, found {n.max_points:g}")
    root = by_code[next(n.code for n in nodes if n.parent is None)]
    if scale is not None:
        _expect(abs((root.max_points or 0.0) - scale) < 1e-9, f, f"{key}.{root.code}.max_points",
                f"expected the scale {scale:g}, found {root.max_points:g}")


# ---------------------------------------------------------------------------------------------------------
# pieces
# ---------------------------------------------------------------------------------------------------------

def _input_spec(value: Any, base: Path, f: Path | None, key: str) -> InputSpec | None:
    if value is None:
        return None
    if isinstance(value, str):
        return InputSpec(file=(base / value).resolve())
    _expect(isinstance(value, dict), f, key, "expected a file path or a mapping {file} / {duckdb, table|query}")
    _no_unknown(value, {"file", "duckdb", "table", "query"}, f, key)
    if "file" in value:
        return InputSpec(file=(base / value["file"]).resolve())
    _expect("duckdb" in value and ("table" in value or "query" in value), f, key,
            "expected 'file', or 'duckdb' with 'table' or 'query'")
    return InputSpec(duckdb=(base / value["duckdb"]).resolve(), table=value.get("table"), query=value.get("query"))


def _node_from_mapping(row: Any, f: Path | str | None, key: str) -> Node:
    _expect(isinstance(row, dict), f, key, "expected a mapping with code, level, parent, ...")
    _no_unknown(row, set(METADATA_COLUMNS) | {"goalposts"}, f, key)
    _expect(isinstance(row.get("code"), (str, int, float)) and str(row.get("code")) != "", f, f"{key}.code",
            "expected a node code")
    code = str(row["code"])
    level = row.get("level")
    _expect(isinstance(level, int) or (isinstance(level, float) and level.is_integer()), f, f"{key}.level",
            f"expected an integer level >= 1 for node '{code}'")
    level = int(level)
    _expect(level >= 1, f, f"{key}.level", f"expected level >= 1 for node '{code}'")
    weight = row.get("weight", 1.0)
    _expect(_is_number(weight) and weight >= 0, f, f"{key}.weight", f"expected a weight >= 0 for '{code}'")
    direction = row.get("direction", 1)
    _expect(direction in (1, -1), f, f"{key}.direction", f"expected 1 or -1 for '{code}', found {direction!r}")
    low, high = row.get("goalpost_low"), row.get("goalpost_high")
    if "goalposts" in row:
        gp = row["goalposts"]
        _expect(isinstance(gp, list) and len(gp) == 2 and all(_is_number(v) for v in gp), f,
                f"{key}.goalposts", "expected [low, high]")
        low, high = gp
    for name, v in (("target", row.get("target")), ("goalpost_low", low), ("goalpost_high", high),
                    ("max_points", row.get("max_points"))):
        _expect(v is None or _is_number(v), f, f"{key}.{name}", f"expected a number for '{code}'")
    parent = row.get("parent")
    return Node(
        code=code, name=str(row.get("name", code)), level=level,
        parent=str(parent) if parent not in (None, "") else None, weight=float(weight),
        direction=int(direction), denominator=row.get("denominator") or None,
        target=_opt_float(row.get("target")), goalpost_low=_opt_float(low), goalpost_high=_opt_float(high),
        max_points=_opt_float(row.get("max_points")),
    )


_STEP_PARAMS: dict[str, set[str]] = {
    "denominate": {"by", "multiplier"},
    "screen": {"unit_min_availability", "indicator_min_coverage"},
    "impute": {"method", "group_column", "overrides"},
    "treat_outliers": {"method", "skew_thresh", "kurt_thresh", "boundary", "winmax", "f2", "combine_treat",
                       "box_cox_lambda", "overrides"},
    "normalise": {"method", "range", "a", "b", "scale", "reference", "cap", "variant", "bands", "p",
                  "negative_column", "previous_column", "norm_reference", "overrides", "low", "high",
                  "upper", "target"},
    "weight": {"scheme", "weights"},
    "aggregate": {"method", "by_level", "p", "dat_thresh", "missing", "missing_by_level"},
    "rank": {"precision", "ties", "partition", "tie_break_keys", "exclude_when"},
}


def _parse_pipeline(value: Any, f: Path | None) -> list[Step]:
    _expect(isinstance(value, list) and value, f, "index_run.pipeline", "expected a non-empty list of steps")
    steps: list[Step] = []
    for i, raw in enumerate(value):
        key = f"index_run.pipeline[{i}]"
        _expect(isinstance(raw, dict) and "step" in raw, f, key, "expected a mapping with a 'step' key")
        kind = raw["step"]
        _expect(kind in STEP_KINDS, f, f"{key}.step", f"expected one of {list(STEP_KINDS)}, found {kind!r}")
        params = {k: v for k, v in raw.items() if k != "step"}
        _no_unknown(params, _STEP_PARAMS[kind], f, key)
        _validate_step(kind, params, f, key)
        steps.append(Step(kind, params))
    kinds = [s.kind for s in steps]
    for kind in STEP_KINDS:
        _expect(kinds.count(kind) <= 1, f, "index_run.pipeline", f"step '{kind}' appears more than once")
    _expect("aggregate" in kinds, f, "index_run.pipeline", "expected an 'aggregate' step")
    agg_at = kinds.index("aggregate")
    for i, k in enumerate(kinds):
        if k in INDICATOR_STEPS:
            _expect(i < agg_at, f, f"index_run.pipeline[{i}]", f"step '{k}' must come before 'aggregate'")
    if "rank" in kinds:
        _expect(kinds.index("rank") > agg_at, f, "index_run.pipeline", "step 'rank' must come after 'aggregate'")
    return steps


def _validate_step(kind: str, p: dict[str, Any], f: Path | None, key: str) -> None:
    if kind == "impute":
        m = p.get("method", "none")
        _expect(m in IMPUTE_METHODS, f, f"{key}.method", f"expected one of {list(IMPUTE_METHODS)}")
        if m.startswith("group_"):
            _expect(isinstance(p.get("group_column"), str), f, f"{key}.group_column",
                    "expected the unit-group column for group imputation")
    elif kind == "treat_outliers":
        _expect(p.get("method", "jrc") in TREAT_METHODS, f, f"{key}.method", f"expected one of {TREAT_METHODS}")
        _expect(p.get("f2", "log_CT") in F2_METHODS, f, f"{key}.f2", f"expected one of {list(F2_METHODS)}")
        _expect(p.get("boundary", "at_threshold_fails") in ("at_threshold_fails", "at_threshold_passes"), f,
                f"{key}.boundary", "expected 'at_threshold_fails' or 'at_threshold_passes'")
        w = p.get("winmax", 5)
        _expect(isinstance(w, int) and w >= 0, f, f"{key}.winmax", "expected an integer >= 0")
    elif kind == "normalise":
        m = p.get("method", "minmax")
        _expect(m in NORMALISE_METHODS, f, f"{key}.method", f"expected one of {list(NORMALISE_METHODS)}")
        if "range" in p:
            r = p["range"]
            _expect(isinstance(r, list) and len(r) == 2 and all(_is_number(v) for v in r) and r[0] < r[1], f,
                    f"{key}.range", "expected [low, high] with low < high")
        nr = p.get("norm_reference", "per_period")
        _expect(nr == "per_period", f, f"{key}.norm_reference",
                "only 'per_period' is computed by the engine; use goalposts for fixed bounds")
        for ind, ov in (p.get("overrides") or {}).items():
            _expect(isinstance(ov, dict), f, f"{key}.overrides.{ind}", "expected a mapping of parameters")
            _validate_step("normalise", ov, f, f"{key}.overrides.{ind}")
    elif kind == "weight":
        _expect(p.get("scheme", "metadata") in WEIGHT_SCHEMES, f, f"{key}.scheme",
                f"expected one of {list(WEIGHT_SCHEMES)}")
    elif kind == "aggregate":
        m = p.get("method", "arithmetic")
        _expect(m in AGGREGATE_METHODS, f, f"{key}.method", f"expected one of {list(AGGREGATE_METHODS)}")
        for lvl, meth in (p.get("by_level") or {}).items():
            _expect(isinstance(lvl, int) and lvl >= 2, f, f"{key}.by_level.{lvl}", "expected a level >= 2")
            _expect(meth in AGGREGATE_METHODS, f, f"{key}.by_level.{lvl}",
                    f"expected one of {list(AGGREGATE_METHODS)}, found {meth!r}")
        policies = ("rescale", "skip", "null")
        if "missing" in p:
            _expect(p["missing"] in policies, f, f"{key}.missing", f"expected one of {list(policies)}")
        for lvl, pol in (p.get("missing_by_level") or {}).items():
            _expect(isinstance(lvl, int) and lvl >= 2 and pol in policies, f, f"{key}.missing_by_level.{lvl}",
                    f"expected level (>= 2) -> one of {list(policies)}")
    elif kind == "rank":
        prec = p.get("precision")
        _expect(prec is None or (isinstance(prec, int) and prec >= 0), f, f"{key}.precision",
                "expected an integer number of decimals or null")
        _expect(p.get("ties", "min") == "min", f, f"{key}.ties", "only 'min' (competition ranking) is supported")
        part = p.get("partition", [])
        _expect(isinstance(part, list), f, f"{key}.partition", "expected a list of unit-group columns")
    elif kind == "screen":
        v = p.get("unit_min_availability", 0.0)
        _expect(_is_number(v) and 0 <= v <= 1, f, f"{key}.unit_min_availability", "expected a share in [0, 1]")


def _parse_uncertainty(value: Any, f: Path | None) -> dict[str, Any] | None:
    if value is None:
        return None
    key = "index_run.uncertainty"
    _expect(isinstance(value, dict), f, key, "expected a mapping")
    _no_unknown(value, {"N", "seed", "weight_noise", "factors", "alternatives"}, f, key)
    n = value.get("N", 1000)
    _expect(isinstance(n, int) and n >= 2, f, f"{key}.N", "expected an integer >= 2")
    noise = value.get("weight_noise", {})
    _expect(isinstance(noise, dict), f, f"{key}.weight_noise", "expected a mapping level -> f")
    for lvl, fr in noise.items():
        _expect(isinstance(lvl, int) and lvl >= 1 and _is_number(fr) and 0 <= fr < 1, f,
                f"{key}.weight_noise.{lvl}", "expected level (integer) -> f in [0, 1)")
    factors = value.get("factors", ["weights"])
    _expect(isinstance(factors, list) and all(x in UNCERTAINTY_FACTORS for x in factors), f, f"{key}.factors",
            f"expected a list drawn from {list(UNCERTAINTY_FACTORS)}")
    alts = value.get("alternatives", {}) or {}
    _expect(isinstance(alts, dict), f, f"{key}.alternatives", "expected a mapping factor -> list of options")
    for fac in factors:
        if fac == "weights":
            continue
        _expect(fac in alts and isinstance(alts[fac], (list, str)), f, f"{key}.alternatives.{fac}",
                f"factor '{fac}' needs a list of alternatives")
        opts = alts[fac]
        if fac == "normalise_method":
            for j, o in enumerate(opts):
                o = {"method": o} if isinstance(o, str) else o
                _expect(isinstance(o, dict), f, f"{key}.alternatives.{fac}[{j}]", "expected a method or mapping")
                _validate_step("normalise", o, f, f"{key}.alternatives.{fac}[{j}]")
        elif fac == "aggregate_method":
            for j, o in enumerate(opts):
                _expect(o in AGGREGATE_METHODS, f, f"{key}.alternatives.{fac}[{j}]",
                        f"expected one of {list(AGGREGATE_METHODS)}")
        elif fac == "impute_method":
            for j, o in enumerate(opts):
                _expect(o in IMPUTE_METHODS, f, f"{key}.alternatives.{fac}[{j}]",
                        f"expected one of {list(IMPUTE_METHODS)}")
        elif fac == "winmax":
            for j, o in enumerate(opts):
                _expect(isinstance(o, int) and o >= 0, f, f"{key}.alternatives.{fac}[{j}]",
                        "expected an integer >= 0")
        elif fac == "treatment":
            for j, o in enumerate(opts):
                _expect(o in ("on", "off", True, False), f, f"{key}.alternatives.{fac}[{j}]",
                        "expected on/off")
        elif fac == "exclude_indicator":
            _expect(opts == "each" or isinstance(opts, list), f, f"{key}.alternatives.{fac}",
                    "expected 'each' or a list of indicator codes (null = keep all)")
    out = dict(value)
    out.setdefault("N", 1000)
    out.setdefault("factors", factors)
    out.setdefault("weight_noise", noise)
    out.setdefault("alternatives", alts)
    return out


def _parse_sensitivity(value: Any, f: Path | None) -> dict[str, Any] | None:
    if value is None:
        return None
    key = "index_run.sensitivity"
    _expect(isinstance(value, dict), f, key, "expected a mapping")
    _no_unknown(value, {"N", "Nboot", "output", "unit", "seed"}, f, key)
    out = {"N": 500, "Nboot": 100, "output": "mean_abs_rank_shift"} | value
    _expect(isinstance(out["N"], int) and out["N"] >= 4, f, f"{key}.N", "expected an integer >= 4")
    _expect(out["output"] in ("mean_abs_rank_shift", "unit_rank", "unit_score"), f, f"{key}.output",
            "expected mean_abs_rank_shift, unit_rank or unit_score")
    if out["output"] != "mean_abs_rank_shift":
        _expect(isinstance(out.get("unit"), str), f, f"{key}.unit", "expected the unit code the output follows")
    return out


def _check_step_references(defn: IndexDefinition, f: Path | None) -> None:
    codes = {n.code for n in defn.nodes}
    if not codes:
        return
    for i, s in enumerate(defn.pipeline):
        for name in ("overrides",):
            for ind in (s.params.get(name) or {}):
                _expect(ind in codes, f, f"index_run.pipeline[{i}].{name}.{ind}", "not an indicator of the hierarchy")
        if s.kind == "weight":
            for node in (s.params.get("weights") or {}):
                _expect(node in codes, f, f"index_run.pipeline[{i}].weights.{node}", "not a node of the hierarchy")
        if s.kind == "denominate":
            for ind in (s.params.get("by") or {}):
                _expect(ind in codes, f, f"index_run.pipeline[{i}].by.{ind}", "not an indicator of the hierarchy")
        if s.kind == "rank":
            for node in s.params.get("tie_break_keys") or []:
                _expect(node in codes, f, f"index_run.pipeline[{i}].tie_break_keys", f"'{node}' is not a node")
            for col in s.params.get("partition", []):
                _expect(col in defn.unit_groups, f, f"index_run.pipeline[{i}].partition",
                        f"'{col}' is not listed in index_run.inputs.unit_groups")


def _expect(cond: bool, f: Path | str | None, key: str, message: str) -> None:
    if not cond:
        raise DefinitionError(f, key, message)


def _no_unknown(d: dict[str, Any], allowed: set[str], f: Path | str | None, key: str) -> None:
    unknown = sorted(str(k) for k in d if k not in allowed)
    _expect(not unknown, f, key, f"unknown key(s) {unknown}; expected a subset of {sorted(allowed)}")


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _opt_float(v: Any) -> float | None:
    return None if v is None or v == "" else float(v)
