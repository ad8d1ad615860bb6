"""The command line's error boundary: one message for the operator, the traceback in a log file."""

from __future__ import annotations

import os
import re
import sys
import traceback
from datetime import datetime
from pathlib import Path

import click

from pipelines.periods import PeriodError


def _log_dir(home_root: Path | None) -> Path:
    root = home_root or Path(os.environ.get("CHAMDIEM_HOME") or Path.home() / ".chamdiem")
    return Path(root).expanduser() / "logs"


def write_error_log(exc: BaseException, command: str, home_root: Path | None = None) -> Path | None:
    """Keep the full traceback of an unexpected error under `<home>/logs/`; None if it cannot be written."""
    try:
        folder = _log_dir(home_root)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"error-{datetime.now():%Y%m%dT%H%M%S%f}.log"
        path.write_text(f"command: {command}\n\n" + "".join(traceback.format_exception(exc)), encoding="utf-8")
    except OSError:
        return None
    return path


_LOCK = re.compile(r'Could not set lock on file "(?P<file>[^"]+)": Conflicting lock is held in (?P<program>\S+)'
                   r' \(PID (?P<pid>\d+)\)')


def lock_message(text: str) -> str | None:
    """The root cause of DuckDB's lock error in words, with the advice that fits the file, or None."""
    match = _LOCK.search(text)
    if match is None:
        return None
    name, pid = Path(match["file"]).name, match["pid"]
    if name in ("published.duckdb", "restricted.duckdb"):
        advice = ("analysts must open it read-only (duckdb.connect(path, read_only=True), or chamdiem sql); close "
                  "that connection and run the command again: nothing was published")
    else:
        advice = ("another chamdiem command or a tool holds the working warehouse; wait for it to finish "
                  "(chamdiem status) or stop it, then run the command again")
    return f"{name} is open read-write by process {pid} ({Path(match['program']).name}); {advice}"


def operator_message(exc: BaseException) -> str:
    """The first line of an error, as an operator should read it (a held lock: its cause and what to do)."""
    explained = lock_message(str(exc))
    if explained:
        return explained
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class OperatorGroup(click.Group):
    """A click group whose commands never show a traceback: expected errors print their message,
    unexpected ones a short message and the log file that holds the details."""

    def invoke(self, ctx: click.Context):  # noqa: D102 - click's hook
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except PeriodError as exc:
            click.secho(f"error: {operator_message(exc)}", fg="red", err=True)
            ctx.exit(2)
        except KeyboardInterrupt:
            click.secho("interrupted", fg="red", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - the boundary: nothing reaches the operator as a traceback
            command = " ".join(["chamdiem", *sys.argv[1:]])
            home = (ctx.obj or {}).get("home")
            log = write_error_log(exc, command, getattr(home, "root", None))
            where = f"; details in {log}" if log else ""
            click.secho(f"error: {operator_message(exc)}{where}", fg="red", err=True)
            ctx.exit(1)
