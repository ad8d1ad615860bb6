"""The dbt models follow the SQL conventions, enforced by sqlfluff with the dbt templater (.sqlfluff)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pipelines.home import PROJECT_ROOT


def test_dbt_models_are_sqlfluff_clean(tmp_path: Path) -> None:
    env = dict(os.environ, CHAMDIEM_WAREHOUSE=str(tmp_path / "lint.duckdb"), DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    result = subprocess.run(
        [str(Path(sys.executable).with_name("sqlfluff")), "lint", "dbt_project/models", "--nocolor"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
