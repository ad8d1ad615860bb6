"""One run at a time per home: an exclusive lock file held by the process that runs a refresh.

Every run takes it before it opens the warehouse: the CLI before it starts its in-process run, and a run
launched by Dagster (UI, schedule, sensor) in its first step (all steps run in the run's process, so the lock
covers the whole run). A second run waits for the first instead of failing on DuckDB's file lock. The lock is
the operating system's (`flock`): it is released when its process ends, however it ends, so a killed run
never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from pipelines.home import Home

_HELD: dict[str, int] = {}  # lock file -> descriptor, for the locks this process holds


class RunLockTimeout(RuntimeError):
    """Another run held the home's run lock for longer than the caller would wait."""


def run_lock_path(home: Home) -> Path:
    return home.root / "locks" / "run.lock"


def lock_holder(home: Home) -> dict[str, object] | None:
    """Who holds the run lock (pid, what, since), or None when it is free."""
    path = run_lock_path(home)
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = path.read_text(encoding="utf-8").strip()
            try:
                return json.loads(text) if text else {"pid": None, "what": "a run"}
            except json.JSONDecodeError:
                return {"pid": None, "what": "a run"}
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def hold_run_lock(home: Home, what: str, *, on_wait: Callable[[dict[str, object]], None] | None = None,
                  timeout_seconds: float | None = None) -> None:
    """Take the home's run lock for this process (a no-op when it already holds it), waiting while another
    run holds it; `on_wait` is told once who that is."""
    path = run_lock_path(home)
    if str(path) in _HELD:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    started, told = time.monotonic(), False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if not told and on_wait is not None:
                on_wait(lock_holder(home) or {"pid": None, "what": "a run"})
                told = True
            if timeout_seconds is not None and time.monotonic() - started > timeout_seconds:
                os.close(fd)
                holder = lock_holder(home) or {}
                raise RunLockTimeout(f"{holder.get('what', 'another run')} (process {holder.get('pid')}) still "
                                     f"holds this home after {timeout_seconds:.0f} s") from None
            time.sleep(0.5)
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": os.getpid(), "what": what, "since": datetime.now().isoformat(timespec="seconds")},
                             ensure_ascii=False).encode(), 0)
    _HELD[str(path)] = fd


def release_run_lock(home: Home) -> None:
    """Give the lock back (a process that ends releases it anyway)."""
    fd = _HELD.pop(str(run_lock_path(home)), None)
    if fd is not None:
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
