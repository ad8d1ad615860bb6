"""Timed end-to-end refreshes against the floor (one DuckDB script) and the peer (pandas).

    python -m benchmarks.run --scale smoke|province|national|linear [--root /tmp] [--no-peer] [--no-incremental]

For each scenario: generate the landing files once (kept between runs), refresh the quarter into a fresh
warehouse with `pipelines.runner.run_refresh` (ingest -> dbt build -> gate -> publication), read the wall time
of every stage from the Dagster event log, sample the peak RSS of the process tree, then compute the same
totals and ranks with the floor and the peer and assert that they equal the published `unit_service_index`
(totals to 1e-9, ranks exactly). Then one late file is delivered and the quarter refreshed again.
Results go to `<home>/results.json` and are printed as a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from benchmarks.floor import compare, published_index, run_floor
from benchmarks.generate import QUARTER, SCENARIOS, add_late_file, generate
from pipelines.home import Home

GIB = 1024**3
# The targets.
PROVINCE_SECONDS, NATIONAL_SECONDS, NATIONAL_PEAK_GIB, FLOOR_RATIO, GATE_SHARE = 30, 300, 6.0, 3.0, 0.15
STAGES = ("ingest", "dbt build", "gate", "publish")


class PeakRss:
    """Samples the resident memory of this process and all its children until stopped; keeps the peak."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@contextmanager
def timed(out: dict[str, float], key: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        out[key] = round(time.perf_counter() - start, 2)


def stage_of(step_key: str) -> str:
    """The stage a Dagster step belongs to."""
    if step_key == "raw_feeds":
        return "ingest"
    if step_key == "dbt_models":
        return "dbt build"
    if step_key.endswith("_checks"):
        return "gate"
    return "publish"


def stage_seconds(home: Home, run_id: str) -> dict[str, float]:
    """Wall seconds per stage, from the STEP_START / STEP_SUCCESS|FAILURE events of one run."""
    import dagster as dg  # noqa: PLC0415 - DAGSTER_HOME is set by run_refresh

    starts: dict[str, float] = {}
    out = dict.fromkeys(STAGES, 0.0)
    with dg.DagsterInstance.get() as instance:
        for record in instance.all_logs(run_id):
            event = record.dagster_event
            if event is None or event.step_key is None:
                continue
            if event.event_type == dg.DagsterEventType.STEP_START:
                starts[event.step_key] = record.timestamp
            elif event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
                stage = stage_of(event.step_key)
                out[stage] += record.timestamp - starts.pop(event.step_key, record.timestamp)
    return {k: round(v, 2) for k, v in out.items()}


@dataclass
class Refresh:
    """One timed refresh of the benchmark quarter."""

    wall_seconds: float
    stages: dict[str, float]
    peak_rss_gib: float
    success: bool
    files_loaded: int
    errors: list[str] = field(default_factory=list)


def _loads(home: Home) -> int:
    """Files loaded so far (skipped unchanged files are not loads)."""
    if not home.working_db.exists():
        return 0
    from pipelines.warehouse import connect  # noqa: PLC0415

    con = connect(home, read_only=True)
    try:
        return int(con.execute("select count(*) from meta.loads where status = 'loaded'").fetchone()[0])
    finally:
        con.close()


def refresh(home: Home) -> Refresh:
    """Refresh and publish the benchmark quarter, timing every stage."""
    from pipelines.runner import run_refresh  # noqa: PLC0415

    before = _loads(home)
    with PeakRss() as rss:
        start = time.perf_counter()
        outcome = run_refresh(home, QUARTER, approved_by="benchmark",
                              accept_warnings_reason="benchmark deliveries (no planted errors)")
        wall = time.perf_counter() - start
    run_loads = _loads(home) - before
    return Refresh(round(wall, 2), stage_seconds(home, outcome.run_id), round(rss.peak / GIB, 2), outcome.success,
                   int(run_loads), outcome.errors + outcome.blocking_failures)


def _measure(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    with PeakRss() as rss:
        start = time.perf_counter()
        value = fn()
        wall = time.perf_counter() - start
    return value, round(wall, 2), round(rss.peak / GIB, 2)


def fresh_home(root: Path, scenario: str, timings: dict[str, float]) -> Home:
    """The scenario's home: landing files generated once, warehouse and Dagster state cleared."""
    home = Home(root / f"chamdiem-bench-{scenario}")
    if not (home.landing / "dossiers").is_dir():
        with timed(timings, "generate"):
            rows = generate(home.landing, scenario)
        (home.root / "rows.json").write_text(json.dumps(rows, indent=2))
    for stale in (home.warehouse_dir, home.root / "dagster", home.root / "exports", home.root / "reports"):
        shutil.rmtree(stale, ignore_errors=True)
    for late in home.landing.glob("ratings/*/*_bo_sung.jsonl"):
        late.unlink()
    if SCENARIOS[scenario].mode == "national":
        # Leave room for Python, dbt and Dagster inside the 6 GiB budget of the process tree.
        (home.root / "settings.yaml").write_text('duckdb_memory_limit: "4GB"\n')
    return home


def bench(scenario: str, root: Path, *, peer: bool = True, incremental: bool = True) -> dict[str, Any]:
    """Benchmark one scenario end to end; raises AssertionError when the floor or the peer disagree."""
    timings: dict[str, float] = {}
    home = fresh_home(root, scenario, timings)
    rows = json.loads((home.root / "rows.json").read_text())
    result: dict[str, Any] = {"scenario": scenario, "rows": rows, "generate_seconds": timings.get("generate")}
    first = refresh(home)
    result["refresh"] = first.__dict__
    if not first.success:
        raise RuntimeError(f"{scenario}: refresh failed: {first.errors}")
    published = published_index(home.published_db, QUARTER)
    floor, floor_s, floor_gib = _measure(lambda: run_floor(home.landing, temp_directory=home.root / "floor-spill"))
    result["floor"] = {"wall_seconds": floor_s, "peak_rss_gib": floor_gib,
                       "differences": compare(published, floor, QUARTER)}
    result["units_scored"] = int(len(published))
    if peer:
        from benchmarks.peer_pandas import peer_766  # noqa: PLC0415

        pandas, peer_s, peer_gib = _measure(lambda: peer_766(home.landing))
        result["peer"] = {"wall_seconds": peer_s, "peak_rss_gib": peer_gib,
                          "differences": compare(published, pandas, QUARTER)}
    if incremental:
        late = add_late_file(home.landing)
        second = refresh(home)
        result["incremental"] = {"late_file": str(late.relative_to(home.landing)), **second.__dict__}
        if not second.success:
            raise RuntimeError(f"{scenario}: re-run failed: {second.errors}")
        if scenario != "national" or peer:
            republished = published_index(home.published_db, QUARTER)
            refloor = run_floor(home.landing, temp_directory=home.root / "floor-spill")
            result["incremental"]["floor_differences"] = compare(republished, refloor, QUARTER)
    result["ratios"] = {
        "refresh_over_floor": round(first.wall_seconds / floor_s, 2),
        "pandas_over_refresh": round(result["peer"]["wall_seconds"] / first.wall_seconds, 2) if peer else None,
        "gate_share": round(first.stages["gate"] / first.wall_seconds, 3),
    }
    (home.root / "results.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return result


def machine() -> dict[str, Any]:
    """nproc, memory and CPU model of this machine."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    load = os.getloadavg()
    return {"nproc": os.cpu_count(), "memory_gib": round(psutil.virtual_memory().total / GIB, 1), "cpu": model,
            "python": platform.python_version(), "load_average_at_start": [round(x, 2) for x in load],
            "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                  check=False).stdout.strip()}


def report(results: list[dict[str, Any]]) -> str:
    """A Markdown table of the runs."""
    lines = ["| scenario | dossiers | refresh s | ingest | dbt build | gate | publish | peak GiB | floor s | "
             "pandas s | refresh/floor | pandas/refresh | gate share | re-run s (ingest / dbt) |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        f, st = r["refresh"], r["refresh"]["stages"]
        inc = r.get("incremental")
        rerun = f"{inc['wall_seconds']} ({inc['stages']['ingest']} / {inc['stages']['dbt build']})" if inc else "-"
        peer = r.get("peer", {}).get("wall_seconds", "-")
        lines.append(
            f"| {r['scenario']} | {r['rows'].get('dossiers', 0):,} | {f['wall_seconds']} | {st['ingest']} | "
            f"{st['dbt build']} | {st['gate']} | {st['publish']} | {f['peak_rss_gib']} | "
            f"{r['floor']['wall_seconds']} | "
            f"{peer} | {r['ratios']['refresh_over_floor']} | {r['ratios']['pandas_over_refresh']} | "
            f"{r['ratios']['gate_share']} | {rerun} |")
    return "\n".join(lines)


def linearity(results: list[dict[str, Any]]) -> str:
    """Cost against volume for the linearity points: seconds per stage at 1x, 4x, 16x and the marginal cost
    per million dossiers between consecutive points (linear cost: the marginal costs agree; the intercept is
    the fixed cost of a run whatever its size)."""
    points = sorted((r for r in results if r["scenario"] in ("linear-1", "linear-4", "province")),
                    key=lambda r: r["rows"]["dossiers"])
    if len(points) < 2:
        return ""
    lines = ["| stage | " + " | ".join(f"{p['rows']['dossiers']:,} dossiers s" for p in points)
             + " | marginal s per M dossiers (" + ", ".join(f"{a['scenario']}→{b['scenario']}"
                                                       for a, b in zip(points, points[1:], strict=False)) + ") |",
             "|---|" + "---|" * len(points) + "---|"]
    for stage in ("total", *STAGES):
        def seconds(r: dict[str, Any], stage: str = stage) -> float:
            return r["refresh"]["wall_seconds"] if stage == "total" else r["refresh"]["stages"][stage]
        marginal = [
            (seconds(b) - seconds(a)) / ((b["rows"]["dossiers"] - a["rows"]["dossiers"]) / 1e6)
            for a, b in zip(points, points[1:], strict=False)
        ]
        lines.append(f"| {stage} | " + " | ".join(f"{seconds(p):.1f}" for p in points) + " | "
                     + ", ".join(f"{m:.1f}" for m in marginal) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=["smoke", "province", "national", "linear", "linear-1", "linear-4"],
                        default="province", help="linear: the 1x, 4x and 16x (province) points in one run")
    parser.add_argument("--root", type=Path, default=Path("/tmp"), help="where the benchmark homes go")
    parser.add_argument("--no-peer", action="store_true", help="skip the pandas peer")
    parser.add_argument("--no-incremental", action="store_true", help="skip the late-file re-run")
    parser.add_argument("--floor-only", action="store_true", help="time only the floor script on the landing files")
    args = parser.parse_args(argv)
    # the 16x point is the province quarter itself (same files, same home)
    scenarios = ["linear-1", "linear-4", "province"] if args.scale == "linear" else [args.scale]
    print(json.dumps(machine()), flush=True)
    if args.floor_only:
        for name in scenarios:
            timings: dict[str, float] = {}
            home = fresh_home(args.root, name, timings)
            floor, seconds, gib = _measure(lambda h=home: run_floor(h.landing, temp_directory=h.root / "floor-spill"))
            print(json.dumps({"scenario": name, "generate_seconds": timings.get("generate"), "floor_seconds": seconds,
                              "floor_peak_rss_gib": gib, "units_scored": len(floor)}), flush=True)
        return 0
    results = []
    for name in scenarios:
        # pandas on 36 M dossiers needs far more than the machine's memory: the peer runs up to province scale
        peer = not args.no_peer and SCENARIOS[name].mode != "national"
        results.append(bench(name, args.root, peer=peer, incremental=not args.no_incremental))
        print(json.dumps(results[-1], ensure_ascii=False), flush=True)
    print(report(results))
    if args.scale == "linear":
        print(linearity(results))
    bad = [(r["scenario"], k, r[k]["differences"]) for r in results for k in ("floor", "peer")
           if k in r and r[k]["differences"]]
    for scenario, what, diffs in bad:
        print(f"{scenario}: {what} disagrees with the published index: {diffs}", file=sys.stderr)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    print(f"max RSS of any child process (getrusage): {usage:.2f} GiB")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
