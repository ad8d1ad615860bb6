"""Every path under the chamdiem home folder, resolved in one place."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
CONTRACTS_DIR = PROJECT_ROOT / "data_contracts"
INBOUND_CONTRACTS_DIR = CONTRACTS_DIR / "inbound"
PUBLISHED_CONTRACTS_DIR = CONTRACTS_DIR / "published"

DEFAULT_HOME = Path("~/.chamdiem")


@dataclass(frozen=True)
class Home:
    """The folder that holds all state of one chamdiem installation."""

    root: Path

    @classmethod
    def from_env(cls, root: str | os.PathLike[str] | None = None) -> Home:
        """The home given explicitly, else `$CHAMDIEM_HOME`, else `~/.chamdiem`."""
        value = root or os.environ.get("CHAMDIEM_HOME") or DEFAULT_HOME
        return cls(Path(value).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    def landing_dir(self, feed: str, period_label: str) -> Path:
        return self.landing / feed / period_label

    @property
    def warehouse_dir(self) -> Path:
        return self.root / "warehouse"

    @property
    def working_db(self) -> Path:
        return self.warehouse_dir / "working.duckdb"

    @property
    def published_db(self) -> Path:
        return self.warehouse_dir / "published.duckdb"

    @property
    def restricted_db(self) -> Path:
        return self.warehouse_dir / "restricted.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def report_dir(self, period_label: str) -> Path:
        return self.reports / period_label

    @property
    def dbt_target(self) -> Path:
        """dbt's artifacts and parse cache for this home (kept between runs so dbt parses only what changed)."""
        return self.root / "dbt" / "target"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def ensure(self) -> Home:
        """Create the folder skeleton (idempotent) and return self."""
        for path in (self.landing, self.warehouse_dir, self.exports, self.reports, self.dagster_home):
            path.mkdir(parents=True, exist_ok=True)
        dagster_yaml = self.dagster_home / "dagster.yaml"
        original = dagster_yaml.read_text(encoding="utf-8") if dagster_yaml.exists() else None
        text = original if original is not None else "telemetry:\n  enabled: false\n"
        if "event_log_storage" not in text and "\nstorage:" not in f"\n{text}":
            # Dagster's SQLite event log, kept open between events (see pipelines/dagster_storage.py); its
            # folder is relative to DAGSTER_HOME so the home can be copied or moved.
            text += (
                "event_log_storage:\n  module: pipelines.dagster_storage\n  class: LocalSqliteEventLogStorage\n"
                "  config:\n    base_dir: history/runs\n"
            )
        if "run_coordinator" not in text and "pipelines.dagster_storage" in text:
            # Runs launched by the UI, the schedule or the sensor wait in Dagster's queue and run one at a time;
            # the CLI's in-process runs take the same home run lock (pipelines/locks.py) as every run's first step.
            text += (
                "run_coordinator:\n  module: dagster.core.run_coordinator\n  class: QueuedRunCoordinator\n"
                "  config:\n    max_concurrent_runs: 1\n"
            )
        # Homes made before the path was relative (or copied from another place) name an absolute folder.
        text = re.sub(r"(?m)^(    base_dir: )\"?/[^\n]*/history/runs\"?$", r"\1history/runs", text)
        if text != original:
            dagster_yaml.write_text(text, encoding="utf-8")
        return self
