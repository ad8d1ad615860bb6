"""The inbound data contracts (ODCS v3) read into typed objects.

The contract files in `data_contracts/inbound/<feed>.odcs.yaml` are the only schema of the feeds: ingestion
derives its parsing and validation rules and the `raw.<feed>` table layout from them, and nothing else
restates a column list. ODCS has native fields for the type, `required`, `unique`, the primary key and
numeric/date minimums (`logicalTypeOptions`); what it has no field for is carried in `customProperties`:

* on the contract: `periodKind` (quarter, month_or_quarter, year, reference) and `apiRowsKey` (the JSON key
  under which an API page holds its rows);
* on a property: `aliases` (headers the source systems print, e.g. `Mã hồ sơ`), `enumValues` (canonical value
  with its Vietnamese labels), `fixedWidth` (a numeric code that lost its leading zeros is padded back),
  `allowedValues`, `deadline` (a date alone means the end of that day), `notInFuture`, `references`
  (`{feed, column, soft, reasonCode}`), `notBefore` (`{column, strict, reasonCode}`), `periodStartOf` and `emptyMeans`
  (what an empty optional boolean means).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from pipelines.home import INBOUND_CONTRACTS_DIR

FEEDS: tuple[str, ...] = (
    "units",
    "procedures",
    "products",
    "staff",
    "dossiers",
    "feedback",
    "ratings",
    "work_items",
    "general_criteria",
    "leader_criteria",
    "discipline",
    "agency_tasks",
    "agency_general_criteria",
)
"""Every inbound feed; reference feeds first, in the order ingestion loads them."""

REFERENCE_FEEDS: tuple[str, ...] = ("units", "procedures", "products", "staff")

PERIOD_KINDS = ("quarter", "month_or_quarter", "year", "reference")

DUCKDB_TYPES = {
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "integer": "BIGINT",
    "numeric": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}

LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_load_id", "VARCHAR"),
    ("_period_label", "VARCHAR"),
    ("_source_file", "VARCHAR"),
    ("_file_hash", "VARCHAR"),
    ("_row_number", "BIGINT"),
    ("_loaded_at", "TIMESTAMP"),
)
"""Lineage columns that follow the canonical columns in every `raw.<feed>` table."""


class ContractError(ValueError):
    """A contract file that cannot be read into the rules ingestion needs."""


def normalise_label(text: str) -> str:
    """The form headers and enum labels are compared in: NFC, lower case, inner spaces collapsed, trimmed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip().lower()


def fold_accents(text: str) -> str:
    """`normalise_label` without Vietnamese diacritics (`Mã hồ sơ` -> `ma ho so`), for headers typed
    without them."""
    decomposed = unicodedata.normalize("NFD", normalise_label(text).replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@dataclass(frozen=True)
class Reference:
    """A column whose values must exist in another feed (`soft`: kept and flagged downstream instead)."""

    feed: str
    column: str
    soft: bool = False
    reason_code: str = "unknown_reference"  # the quarantine code of a value not found


@dataclass(frozen=True)
class NotBefore:
    """This column must not be earlier than `column` (`strict`: must be later)."""

    column: str
    strict: bool
    reason_code: str


@dataclass(frozen=True)
class Column:
    """One canonical column of a feed, with every rule ingestion applies to it."""

    name: str
    type: str  # text, enum, integer, numeric, bool, date, timestamp
    required: bool
    unique: bool
    primary_key_position: int | None
    description: str
    business_name: str | None = None
    aliases: tuple[str, ...] = ()
    enum: dict[str, tuple[str, ...]] = field(default_factory=dict)  # canonical value -> labels
    fixed_width: int | None = None
    minimum: float | None = None
    exclusive_minimum: bool = False
    allowed_values: tuple[float, ...] = ()
    min_date: date | None = None
    deadline: bool = False
    not_in_future: bool = False
    reference: Reference | None = None
    not_before: NotBefore | None = None
    period_start_of: str | None = None
    empty_means: bool | None = None  # for optional booleans: what an empty cell means
    classification: str | None = None

    @property
    def duckdb_type(self) -> str:
        return DUCKDB_TYPES[self.type]

    @property
    def header_names(self) -> tuple[str, ...]:
        """Every header this column is recognised by: its canonical name, business name and aliases."""
        names = [self.name, *([self.business_name] if self.business_name else []), *self.aliases]
        return tuple(dict.fromkeys(names))

    def enum_lookup(self) -> dict[str, str]:
        """Normalised spelling (canonical value or Vietnamese label) -> canonical value."""
        lookup: dict[str, str] = {}
        for value, labels in self.enum.items():
            for spelling in (value, *labels):
                lookup[normalise_label(spelling)] = value
        return lookup


@dataclass(frozen=True)
class FeedContract:
    """The contract of one inbound feed."""

    feed: str
    version: str
    period_kind: str
    api_rows_key: str
    description: str
    columns: tuple[Column, ...]
    path: Path

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        """Key columns in key order; every key column is required and the key is unique within a file."""
        keyed = [c for c in self.columns if c.primary_key_position is not None]
        return tuple(c.name for c in sorted(keyed, key=lambda c: c.primary_key_position or 0))

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    @property
    def is_reference(self) -> bool:
        return self.period_kind == "reference"

    def column(self, name: str) -> Column:
        """The column called `name`; KeyError naming the feed's columns otherwise."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"{self.feed}: no column {name!r}; columns are {list(self.column_names)}")

    def header_lookup(self) -> dict[str, str]:
        """Normalised header -> canonical column name (canonical names, business names and aliases)."""
        return {normalise_label(h): c.name for c in self.columns for h in c.header_names}

    def folded_header_lookup(self) -> dict[str, str]:
        """Like `header_lookup` with diacritics folded away, for headers typed without them."""
        return {fold_accents(h): c.name for c in self.columns for h in c.header_names}

    def raw_ddl(self, schema: str = "raw") -> str:
        """DuckDB `create table if not exists` for `raw.<feed>`: canonical columns then lineage."""
        cols = [f"    {c.name} {c.duckdb_type}" for c in self.columns]
        cols += [f"    {name} {typ}" for name, typ in LINEAGE_COLUMNS]
        return f"create table if not exists {schema}.{self.feed} (\n" + ",\n".join(cols) + "\n)"


def _custom(props: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {p["property"]: p.get("value") for p in props or []}


_TYPE_BY_ODCS = {
    ("string", "VARCHAR"): "text",
    ("integer", "BIGINT"): "integer",
    ("number", "DOUBLE"): "numeric",
    ("boolean", "BOOLEAN"): "bool",
    ("date", "DATE"): "date",
    ("date", "TIMESTAMP"): "timestamp",
}


def _reference(name: str, ref: dict[str, Any]) -> Reference:
    """A `references` block; without `reasonCode` a unit, parent unit or procedure not found gets its own code
    (`unknown_unit`, `unknown_parent`, `unknown_procedure`), anything else `unknown_reference`."""
    default = "unknown_reference"
    if ref["feed"] == "units":
        default = "unknown_parent" if name.startswith("parent") else "unknown_unit"
    elif ref["feed"] == "procedures":
        default = "unknown_procedure"
    return Reference(ref["feed"], ref["column"], bool(ref.get("soft", False)), str(ref.get("reasonCode", default)))


def _column(feed: str, prop: dict[str, Any]) -> Column:
    name = prop["name"]
    custom = _custom(prop.get("customProperties"))
    key = (prop.get("logicalType"), str(prop.get("physicalType", "")).upper())
    if key not in _TYPE_BY_ODCS:
        raise ContractError(f"{feed}.{name}: unsupported logicalType/physicalType {key}")
    typ = _TYPE_BY_ODCS[key]
    enum = {e["value"]: tuple(e.get("labels") or ()) for e in custom.get("enumValues") or []}
    if enum:
        if typ != "text":
            raise ContractError(f"{feed}.{name}: enumValues on a non-string column")
        typ = "enum"
    options = prop.get("logicalTypeOptions") or {}
    minimum = options.get("minimum")
    min_date = None
    if typ in ("date", "timestamp") and minimum is not None:
        min_date, minimum = date.fromisoformat(str(minimum)), None
    ref = custom.get("references")
    nb = custom.get("notBefore")
    return Column(
        name=name,
        type=typ,
        required=bool(prop.get("required", False)),
        unique=bool(prop.get("unique", False)),
        primary_key_position=prop.get("primaryKeyPosition") if prop.get("primaryKey") else None,
        description=prop.get("description", ""),
        business_name=prop.get("businessName"),
        aliases=tuple(custom.get("aliases") or ()),
        enum=enum,
        fixed_width=custom.get("fixedWidth"),
        minimum=None if minimum is None else float(minimum),
        exclusive_minimum=bool(options.get("exclusiveMinimum", False)),
        allowed_values=tuple(float(v) for v in custom.get("allowedValues") or ()),
        min_date=min_date,
        deadline=bool(custom.get("deadline", False)),
        not_in_future=bool(custom.get("notInFuture", False)),
        reference=_reference(name, ref) if ref else None,
        not_before=NotBefore(nb["column"], bool(nb.get("strict", False)), nb["reasonCode"]) if nb else None,
        period_start_of=custom.get("periodStartOf"),
        empty_means=custom["emptyMeans"] if "emptyMeans" in custom else None,
        classification=prop.get("classification"),
    )


def parse_contract(path: Path) -> FeedContract:
    """Read one ODCS contract file into a `FeedContract`, checking the rules ingestion relies on."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    if doc.get("kind") != "DataContract" or not str(doc.get("apiVersion", "")).startswith("v3."):
        raise ContractError(f"{path}: not an ODCS v3 DataContract")
    schemas = doc.get("schema") or []
    if len(schemas) != 1:
        raise ContractError(f"{path}: expected exactly one schema object, found {len(schemas)}")
    feed = doc["name"]
    custom = _custom(doc.get("customProperties"))
    period_kind = custom.get("periodKind")
    if period_kind not in PERIOD_KINDS:
        raise ContractError(f"{path}: periodKind {period_kind!r} is not one of {PERIOD_KINDS}")
    columns = tuple(_column(feed, p) for p in schemas[0].get("properties") or [])
    contract = FeedContract(
        feed=feed,
        version=str(doc.get("version", "")),
        period_kind=period_kind,
        api_rows_key=custom.get("apiRowsKey") or "data",
        description=(doc.get("description") or {}).get("purpose", ""),
        columns=columns,
        path=path,
    )
    _check(contract)
    return contract


def _check(contract: FeedContract) -> None:
    """Fail early on contradictions: two columns claiming one header, rules naming unknown columns."""
    seen: dict[str, str] = {}
    for col in contract.columns:
        for header in {normalise_label(h) for h in col.header_names}:
            if seen.get(header, col.name) != col.name:
                raise ContractError(f"{contract.feed}: header {header!r} names both {seen[header]} and {col.name}")
            seen[header] = col.name
        for other in (col.not_before.column if col.not_before else None, col.period_start_of):
            if other is not None and other not in contract.column_names:
                raise ContractError(f"{contract.feed}.{col.name}: rule names unknown column {other!r}")
        if col.primary_key_position is not None and not col.required:
            raise ContractError(f"{contract.feed}.{col.name}: a key column must be required")
    if not contract.primary_key:
        raise ContractError(f"{contract.feed}: no primary key")


@cache
def load_contract(feed: str, directory: Path = INBOUND_CONTRACTS_DIR) -> FeedContract:
    """The contract of `feed` from `data_contracts/inbound/<feed>.odcs.yaml`."""
    path = directory / f"{feed}.odcs.yaml"
    if not path.exists():
        raise ContractError(f"no contract for feed {feed!r} at {path}; feeds are {list(FEEDS)}")
    return parse_contract(path)


def all_contracts(directory: Path = INBOUND_CONTRACTS_DIR) -> dict[str, FeedContract]:
    """Every inbound contract, keyed by feed, reference feeds first."""
    return {feed: load_contract(feed, directory) for feed in FEEDS}
