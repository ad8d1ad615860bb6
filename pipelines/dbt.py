"""The dbt project: its location, the dbt executable, and a manifest that is parsed when stale."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from dagster_dbt import DbtProject

from pipelines.home import DBT_PROJECT_DIR
from pipelines.ingest.load import current_load_fingerprints

DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"


def dbt_executable() -> Path:
    """The dbt of this environment, passed explicitly so a foreign dbt on PATH is never used."""
    return Path(sys.executable).with_name("dbt")


_GUARD = """#!{python}
# Written by chamdiem: runs dbt as a child that dies with its parent (PR_SET_PDEATHSIG), so a killed refresh
# never leaves a dbt process holding the warehouse.
import ctypes, os, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
if os.getppid() == 1:  # the parent is already gone
    sys.exit(1)
os.execv({dbt!r}, [{dbt!r}, *sys.argv[1:]])
"""


def guarded_dbt_executable(home_root: Path) -> Path:
    """An executable under `<home>/bin` that runs this environment's dbt as a child bound to its parent's
    life (Linux); elsewhere the plain dbt executable."""
    if not sys.platform.startswith("linux"):
        return dbt_executable()
    return write_guard(home_root / "bin" / "dbt", dbt_executable())


def write_guard(path: Path, target: Path) -> Path:
    """Write (when it differs) the executable at `path` that execs `target` bound to its parent's life."""
    text = _GUARD.format(python=sys.executable, dbt=str(target))
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o755)
        os.replace(tmp, path)
    return path


def dbt_env(warehouse: Path | None = None) -> dict[str, str]:
    """Environment for dbt: no anonymous statistics, no version check, our profile and warehouse."""
    env = dict(os.environ)
    env.update(
        {
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
            "DO_NOT_TRACK": "1",
        }
    )
    if warehouse is not None:
        env["CHAMDIEM_WAREHOUSE"] = str(warehouse)
    return env


def _newest_source_mtime() -> float:
    newest = 0.0
    for folder in ("models", "seeds", "macros", "tests"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*"):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    for name in ("dbt_project.yml", "profiles.yml"):
        newest = max(newest, (DBT_PROJECT_DIR / name).stat().st_mtime)
    return newest


def ensure_manifest(force: bool = False) -> Path:
    """Run `dbt parse` when the manifest is missing or older than any project file; return its path."""
    if force or not MANIFEST_PATH.exists() or MANIFEST_PATH.stat().st_mtime < _newest_source_mtime():
        result = subprocess.run(
            [str(dbt_executable()), "parse", "--quiet"],
            cwd=DBT_PROJECT_DIR,
            env=dbt_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"dbt parse failed in {DBT_PROJECT_DIR}:\n{result.stdout}\n{result.stderr}")
    return MANIFEST_PATH


dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


# --- what a build must redo ------------------------------------------------------------------------------
#
# Every model reads all periods present in the warehouse, and each staging model reads one feed's current
# loads (macro `current_rows`). So a model's inputs are unchanged when no feed upstream of it has a new set
# of current loads and the project (SQL, seeds, macros, packages) is the same as at the last successful
# build: such models are excluded from the next build and keep their tables and test outcomes.

BUILDS_DDL = """
create table if not exists meta.dbt_builds (
    run_id VARCHAR,
    period_label VARCHAR,
    built_at TIMESTAMP,
    project_hash VARCHAR,
    feed_fingerprints JSON,
    scope VARCHAR,
    reason VARCHAR,
    changed_feeds VARCHAR[],
    excluded_nodes VARCHAR[]
);
alter table meta.dbt_builds add column if not exists dbt_vars JSON
"""

# Models the downstream Dagster steps depend on: always part of a build so their steps run.
ALWAYS_BUILT = ("unit_service_index", "service_indicator_points")

_PROJECT_FILES = ("models", "seeds", "macros", "tests")
_PROJECT_DISTRIBUTIONS = ("dbt-core", "dbt-duckdb", "holidays")


def project_fingerprint() -> str:
    """SHA-256 over every project file and the versions of the packages models depend on."""
    from importlib.metadata import version  # noqa: PLC0415

    digest = hashlib.sha256()
    paths = [p for folder in _PROJECT_FILES for p in (DBT_PROJECT_DIR / folder).rglob("*") if p.is_file()]
    paths += [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for path in sorted(paths):
        digest.update(str(path.relative_to(DBT_PROJECT_DIR)).encode())
        digest.update(path.read_bytes())
    for dist in _PROJECT_DISTRIBUTIONS:
        digest.update(f"{dist}=={version(dist)}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class BuildPlan:
    """What one `dbt build` covers: everything, or the nodes downstream of the feeds that changed."""

    full: bool
    reason: str
    project_hash: str
    fingerprints: dict[str, str]
    changed_feeds: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()  # model and seed names left out of the build
    dbt_vars: dict[str, str] = field(default_factory=dict)  # the run's window (as_of, window_end, ...)

    def cli_args(self) -> list[str]:
        args = ["--vars", json.dumps(self.dbt_vars, sort_keys=True)] if self.dbt_vars else []
        return args if self.full or not self.excluded else [*args, "--exclude", " ".join(self.excluded)]

    def describe(self) -> str:
        if self.full:
            return f"full build ({self.reason})"
        feeds = ", ".join(self.changed_feeds) or "none"
        return f"changed feeds: {feeds}; {len(self.excluded)} unchanged models and seeds kept ({self.reason})"


def _descendants(manifest: dict, roots: list[str]) -> set[str]:
    children = manifest["child_map"]
    seen: set[str] = set()
    stack = list(roots)
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return seen


def plan_build(con: duckdb.DuckDBPyConnection, manifest: dict, *, rebuild_all: bool = False,
               dbt_vars: dict[str, str] | None = None) -> BuildPlan:
    """Compare the loads, the project and the run's window (dbt vars) with the last successful build and decide
    what to rebuild: another window (an earlier quarter, another as-of date) rebuilds everything."""
    con.execute(BUILDS_DDL)
    project_hash = project_fingerprint()
    current = current_load_fingerprints(con)
    dbt_vars = dict(dbt_vars or {})

    def full(reason: str) -> BuildPlan:
        return BuildPlan(True, reason, project_hash, current, dbt_vars=dbt_vars)

    if rebuild_all:
        return full("requested")
    last = con.execute(
        "select project_hash, feed_fingerprints, dbt_vars from meta.dbt_builds order by built_at desc limit 1"
    ).fetchone()
    if last is None:
        return full("first build of this warehouse")
    if last[0] != project_hash:
        return full("the dbt project or a package it uses changed")
    if json.loads(last[2] or "{}") != dbt_vars:
        return full("the period window or as-of date differs from the last build")
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] in ("model", "seed")}
    existing = {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_catalog = current_database()"
        ).fetchall()
    }
    missing = sorted(name for name, n in models.items() if n["config"].get("materialized") != "ephemeral"
                     and name not in existing)
    if missing:
        return full(f"tables missing from the warehouse: {', '.join(missing[:5])}")
    previous = json.loads(last[1])
    changed = sorted(f for f in set(previous) | set(current) if previous.get(f) != current.get(f))
    sources = {s["name"]: uid for uid, s in manifest["sources"].items() if s["source_name"] == "raw"}
    affected = _descendants(manifest, [sources[f] for f in changed if f in sources])
    kept = sorted(
        n["name"] for uid, n in manifest["nodes"].items()
        if n["resource_type"] in ("model", "seed") and uid not in affected and n["name"] not in ALWAYS_BUILT
    )
    return BuildPlan(False, "inputs compared with the last successful build", project_hash, current,
                     tuple(changed), tuple(kept), dbt_vars)


def record_build(con: duckdb.DuckDBPyConnection, run_id: str, period_label: str, plan: BuildPlan) -> None:
    """Remember a successful build: the next one compares its loads and project with these."""
    con.execute(BUILDS_DDL)
    con.execute(
        "insert into meta.dbt_builds by name select ? as run_id, ? as period_label,"
        " current_timestamp::timestamp as built_at, ? as project_hash, ? as feed_fingerprints, ? as scope,"
        " ? as reason, ? as changed_feeds, ? as excluded_nodes, ? as dbt_vars",
        [run_id, period_label, plan.project_hash, json.dumps(plan.fingerprints, sort_keys=True),
         "full" if plan.full else "changed", plan.reason, list(plan.changed_feeds), list(plan.excluded),
         json.dumps(plan.dbt_vars, sort_keys=True)],
    )
