"""The dbt project: its location, the dbt executable, and a manifest that is parsed when stale."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines.home import DBT_PROJECT_DIR

DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
MANIFEST_PATH = DBT_TARGET_DIR / "manifest.json"


def dbt_executable() -> Path:
    """The dbt of this environment, passed explicitly so a foreign dbt on PATH is never used."""
    return Path(sys.executable).with_name("dbt")


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
