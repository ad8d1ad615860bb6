"""A sensor on the landing folder: a new or re-delivered file refreshes the quarter it affects."""


import json
from datetime import date
from pathlib import Path

import dagster as dg

from pipelines.home import Home
from pipelines.jobs import quarterly_refresh
from pipelines.partitions import FIRST_QUARTER
from pipelines.periods import parse_period, quarter_of


def affected_quarters(landing: Path, changed: list[Path]) -> set[str]:
    """Partition keys of the quarters a set of landing files feed (a month feeds its quarter; a year its
    quarters up to today; a reference snapshot the quarter it is labelled with)."""
    keys: set[str] = set()
    first = date.fromisoformat(FIRST_QUARTER)
    for path in changed:
        try:
            label = path.relative_to(landing).parts[1]
            period = parse_period(label)
        except (IndexError, ValueError):
            continue
        if period.kind == "year":
            month = 1
            while month <= 12 and date(period.start.year, month, 1) <= date.today():
                keys.add(quarter_of(date(period.start.year, month, 1)).partition_key)
                month += 3
        else:
            keys.add(quarter_of(period.start).partition_key)
    return {k for k in keys if date.fromisoformat(k) >= first}


def landing_sensor(home_dir: str, interval_seconds: int) -> dg.SensorDefinition:
    """Compare file sizes and modification times with the cursor; request one run per affected quarter."""

    @dg.sensor(name="landing_sensor", job=quarterly_refresh, minimum_interval_seconds=interval_seconds,
               default_status=dg.DefaultSensorStatus.STOPPED,
               description="Refreshes the quarter a new or re-delivered landing file belongs to.")
    def _sensor(context: dg.SensorEvaluationContext):
        landing = Home.from_env(home_dir or None).landing
        seen: dict[str, list[float]] = json.loads(context.cursor) if context.cursor else {}
        current: dict[str, list[float]] = {}
        if landing.exists():
            for path in landing.glob("*/*/*"):
                if path.is_file():
                    st = path.stat()
                    current[str(path)] = [st.st_size, st.st_mtime]
        changed = [Path(p) for p, sig in current.items() if seen.get(p) != sig]
        keys = affected_quarters(landing, changed)
        for key in sorted(keys):
            yield dg.RunRequest(run_key=f"landing-{key}-{hash(tuple(sorted(map(str, changed))))}",
                                partition_key=key, tags={"chamdiem/trigger": "landing_sensor"})
        if not keys:
            yield dg.SkipReason("no new or changed landing files")
        context.update_cursor(json.dumps(current))

    return _sensor
