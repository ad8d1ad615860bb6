"""Operational settings: defaults, overridden by `$CHAMDIEM_HOME/settings.yaml` and environment variables.

Rule parameters (points, targets, thresholds, quotas) are not here: they live in the versioned rule seeds of
the dbt project. These settings say how the installation runs.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import yaml

from pipelines.home import Home


@dataclass(frozen=True)
class Settings:
    """How one installation runs; every field can be set in settings.yaml or as CHAMDIEM_<FIELD>."""

    duckdb_memory_limit: str = "6GB"
    duckdb_threads: int = 2
    # Share of rows quarantined, per feed and period, above which the gate blocks publication.
    max_quarantine_share: float = 0.02
    # Feeds that must have an accepted load for a quarter to be scored.
    required_quarter_feeds: tuple[str, ...] = ("units", "procedures", "dossiers")
    # Publication needs a steward's approval unless this is switched on.
    auto_publish: bool = False
    # The quarterly schedule runs the previous quarter this many days after it ends.
    schedule_grace_days: int = 10
    # Seconds between two looks of the landing sensor.
    sensor_interval_seconds: int = 60
    # Rule version of the 766 index that is published.
    service_index_rule_version: str = "766-portal"
    # Rebuild every dbt model on each refresh instead of only those downstream of feeds whose loads changed.
    dbt_rebuild_all: bool = False

    @classmethod
    def load(cls, home: Home) -> Settings:
        """Defaults < `$CHAMDIEM_HOME/settings.yaml` < `CHAMDIEM_<FIELD>` environment variables."""
        values: dict[str, object] = {}
        path = home.root / "settings.yaml"
        if path.exists():
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            unknown = set(loaded) - {f.name for f in fields(cls)}
            if unknown:
                known = [f.name for f in fields(cls)]
                raise ValueError(f"{path}: unknown setting(s) {sorted(unknown)}; known settings: {known}")
            values.update(loaded)
        for f in fields(cls):
            env = os.environ.get(f"CHAMDIEM_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        return cls(**{k: _coerce(cls, k, v) for k, v in values.items()})

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _coerce(cls: type[Settings], name: str, value: object) -> object:
    default = next(f.default for f in fields(cls) if f.name == name)
    if isinstance(default, bool):
        return value if isinstance(value, bool) else str(value).strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(value)  # type: ignore[arg-type]
    if isinstance(default, float):
        return float(value)  # type: ignore[arg-type]
    if isinstance(default, tuple):
        return tuple(value) if isinstance(value, list | tuple) else tuple(str(value).split(","))
    return str(value)


def project_path(*parts: str) -> Path:
    """A path inside the repository (for bundled configuration)."""
    return Path(__file__).resolve().parent.parent.joinpath(*parts)
