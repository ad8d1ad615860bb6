"""Kill trial of the refresh and publication: kill -9 a `chamdiem refresh --approve` at varied moments (and at
each step of the publication switch), then record the state the kill left and the state after the next,
unkilled refresh. Prints a Markdown table; exits non-zero if any state is inconsistent.

    python -m benchmarks.kill_trial [--kills 12] [--scale 0.1]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from pipelines.demo import generate_demo
from pipelines.home import Home
from pipelines.locks import lock_holder
from pipelines.runner import run_refresh

PERIOD = "2026-Q2"
FAULTS = ("after_staging", "after_journal", "between_swaps", "after_swaps")


def _change_input(home: Home) -> None:
    """A re-delivery of the Q2 dossiers in which one more unit has every dossier synchronised (a new version)."""
    target = next((home.landing / "dossiers" / PERIOD).glob("*.csv"))
    frame = pl.read_csv(target, infer_schema=False)
    # a unit with dossiers not yet synchronised, so each re-delivery changes the results
    mixed = frame.group_by("Mã đơn vị").agg(pl.col("Đồng bộ DVCQG").n_unique().alias("values"))
    unit = mixed.filter(pl.col("values") > 1)["Mã đơn vị"].sort()[0]
    frame.with_columns(pl.when(pl.col("Mã đơn vị") == unit).then(pl.lit("x")).otherwise(pl.col("Đồng bộ DVCQG"))
                       .alias("Đồng bộ DVCQG")).write_csv(target)


def _state(home: Home) -> dict[str, object]:
    """Versions of PERIOD in the register, the analysts' file, the restricted file, the exports; leftovers."""
    state: dict[str, object] = {}
    try:
        con = duckdb.connect(str(home.working_db), read_only=True)
        state["register"] = con.execute("select max(version) from meta.publications where period_label = ?"
                                        " and status = 'published'", [PERIOD]).fetchone()[0]
        state["journal_open"] = con.execute("select count(*) from meta.publication_journal"
                                            " where state = 'switching'").fetchone()[0]
        con.close()
    except duckdb.Error as exc:
        state["register"] = f"unreadable: {str(exc).splitlines()[0][:60]}"
    for name, path in (("analyst", home.published_db), ("restricted", home.restricted_db)):
        con = duckdb.connect(str(path), read_only=True)
        state[name] = con.execute("select max(version) from publications where period_label = ?",
                                  [PERIOD]).fetchone()[0]
        con.close()
    exports = sorted(int(p.name[1:]) for p in (home.exports / PERIOD).glob("v*") if p.name[1:].isdigit())
    state["exports"] = exports[-1] if exports else None
    state["leftovers"] = len([*home.warehouse_dir.glob("*.building"), *home.exports.rglob("*.building")])
    state["lock"] = "held" if lock_holder(home) else "free"
    state["dbt_alive"] = len(_dbt_processes(home))
    return state


def _dbt_processes(home: Home) -> list[int]:
    """dbt processes working on this home's warehouse (their environment names it)."""
    marker = f"CHAMDIEM_WAREHOUSE={home.working_db}".encode()
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if marker in (proc / "environ").read_bytes() and b"dbt" in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _consistent(state: dict[str, object], journal_may_be_open: bool) -> bool:
    versions = {state["register"], state["analyst"], state["restricted"], state["exports"]}
    if state["journal_open"] and journal_may_be_open:
        # a journaled switch: the files may be ahead of the register until the next command completes it
        return state["analyst"] == state["restricted"] or state["leftovers"] > 0
    return len(versions) == 1 and state["dbt_alive"] == 0 and state["lock"] == "free"


def _refresh_cmd(home: Home) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "--home", str(home.root), "refresh", "--period", PERIOD,
            "--approve", "--by", "kill trial"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=12)
    parser.add_argument("--scale", type=float, default=0.1)
    args = parser.parse_args()
    home = Home.from_env(Path(tempfile.mkdtemp(prefix="chamdiem-kill-")) / "home").ensure()
    generate_demo(home.landing, quarters=("2026-Q1", PERIOD), scale=args.scale, as_of=date(2026, 9, 30),
                  bad_rows=False)
    for label in ("2026-Q1", PERIOD):
        assert run_refresh(home, label, approved_by="kill trial").success
    started = time.monotonic()
    full = subprocess.run(_refresh_cmd(home), capture_output=True, text=True, check=False)
    duration = time.monotonic() - started
    assert full.returncode == 0, full.stdout
    print(f"home {home.root}; an unchanged refresh takes {duration:.1f} s\n")
    print("| # | kill | after the kill: register / analysts / restricted / exports, journal, leftovers, lock, dbt "
          "| after the next refresh | consistent |")
    print("|---|---|---|---|---|")
    failures = 0
    for step in range(args.kills):
        _change_input(home)
        env = dict(os.environ)
        fault = FAULTS[step % len(FAULTS)] if step % 3 == 2 else None
        if fault:
            env["CHAMDIEM_FAULT_AT"] = fault
            proc = subprocess.Popen(_refresh_cmd(home), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            proc.wait(timeout=600)
            how = f"at {fault} (exit {proc.returncode})"
        else:
            delay = round(duration * (0.08 + 0.9 * ((step * 7) % 11) / 11), 1)
            proc = subprocess.Popen(_refresh_cmd(home), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            how = f"SIGKILL after {delay} s"
        time.sleep(1.0)  # let the kernel reap the dbt child bound to the killed refresh
        after_kill = _state(home)
        after_kill_ok = _consistent(after_kill, journal_may_be_open=True)
        nxt = subprocess.run(_refresh_cmd(home), capture_output=True, text=True, check=False)
        after_next = _state(home)
        next_ok = nxt.returncode == 0 and _consistent(after_next, journal_may_be_open=False)
        failures += not (after_kill_ok and next_ok)

        def fmt(s: dict[str, object]) -> str:
            return (f"{s['register']} / {s['analyst']} / {s['restricted']} / {s['exports']}, journal "
                    f"{s['journal_open']}, leftovers {s['leftovers']}, lock {s['lock']}, dbt {s['dbt_alive']}")

        print(f"| {step + 1} | {how} | {fmt(after_kill)} | {fmt(after_next)} (exit {nxt.returncode}) | "
              f"{'yes' if after_kill_ok and next_ok else 'NO'} |", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
