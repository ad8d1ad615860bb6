"""What every analyst notebook opens first: the published file (read-only), the folder its charts go to, the
documented queries and a matplotlib that also draws without a display.

The notebooks in `notebooks/` call `open_published()` and `headless_pyplot()` in their first cell, so they run
the same under `marimo edit`, `marimo export html` and headless as `python notebooks/<name>.py`.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import duckdb

from pipelines.home import Home
from pipelines.outputs.queries import Query, load_queries
from pipelines.warehouse import open_published as open_boundary


@dataclass(frozen=True)
class PublishedNotebook:
    """A notebook's read-only view of one published file and the folder it saves its charts in."""

    published_db: Path
    out_dir: Path
    con: duckdb.DuckDBPyConnection
    queries: dict[str, Query]


def published_db_path() -> Path:
    """The analysts' file of the home every command uses (`CHAMDIEM_HOME`, else ~/.chamdiem);
    `CHAMDIEM_PUBLISHED_DB` points a notebook at another published file explicitly."""
    explicit = os.environ.get("CHAMDIEM_PUBLISHED_DB")
    return Path(explicit).expanduser() if explicit else Home.from_env().published_db


def open_published() -> PublishedNotebook:
    """Open the published file (see `published_db_path`) behind the analysts' query boundary (read-only, no
    other file reachable from SQL), so a notebook can never change the analysts' file, and create
    `CHAMDIEM_NOTEBOOK_OUT` (default: a new temporary folder) for what the notebook writes from Python."""
    published_db = published_db_path()
    out_dir = Path(os.environ.get("CHAMDIEM_NOTEBOOK_OUT") or tempfile.mkdtemp(prefix="chamdiem-notebook-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    con = open_boundary(published_db)
    return PublishedNotebook(published_db, out_dir, con, load_queries())


def headless_pyplot() -> ModuleType:
    """`matplotlib.pyplot`, on the Agg backend when there is no display and no MPLBACKEND chosen: headless runs
    (tests, CI) still save their charts. The backend must be chosen before pyplot is first imported."""
    import matplotlib

    if not os.environ.get("DISPLAY") and os.environ.get("MPLBACKEND") is None:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
