"""The documented analyst queries (`queries.sql`), parsed so that code, notebooks and tests can run them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

QUERIES_FILE = Path(__file__).with_name("queries.sql")
_HEADER = re.compile(r"^-- (name|title|params):\s*(.*)$")
#: parameters passed as integers; every other parameter is text (unit codes such as 08773 keep their zeros)
INTEGER_PARAMS = frozenset({"n", "year", "version"})


@dataclass(frozen=True)
class Query:
    """One documented query: its name, title, SQL and example parameter values."""

    name: str
    title: str
    sql: str
    example_params: dict[str, Any] = field(default_factory=dict)

    def run(self, con: duckdb.DuckDBPyConnection, params: dict[str, Any] | None = None) -> duckdb.DuckDBPyRelation:
        """Execute with `params` (default: the example values) and return the result relation."""
        values = dict(self.example_params if params is None else params)
        # Pass only the parameters the statement names: DuckDB refuses unused named parameters.
        used = {k: v for k, v in values.items() if f"${k}" in self.sql}
        return con.execute(self.sql, used) if used else con.execute(self.sql)


def _parse_params(text: str) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, _, value = part.partition("=")
        key, value = key.strip(), value.strip()
        params[key] = int(value) if key in INTEGER_PARAMS else value
    return params


def load_queries(path: Path = QUERIES_FILE) -> dict[str, Query]:
    """Every query of the file, by name, in file order."""
    queries: dict[str, Query] = {}
    current: dict[str, Any] | None = None
    lines: list[str] = []

    def flush() -> None:
        if current is not None:
            sql = "\n".join(lines).strip().rstrip(";").strip()
            queries[current["name"]] = Query(current["name"], current.get("title", ""), sql,
                                             _parse_params(current.get("params", "")))

    for line in path.read_text(encoding="utf-8").splitlines():
        match = _HEADER.match(line)
        if match and match.group(1) == "name":
            flush()
            current, lines = {"name": match.group(2).strip()}, []
        elif match and current is not None and not lines:
            current[match.group(1)] = match.group(2).strip()
        elif current is not None:
            lines.append(line)
    flush()
    return queries
