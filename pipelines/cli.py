"""`chamdiem`: the command line of the warehouse (demo, refresh, publish, status, ...)."""

from __future__ import annotations

import sys
import time

import click
from rich.console import Console
from rich.table import Table

from pipelines.errors import OperatorGroup
from pipelines.home import Home

console = Console()

TRY_SQL = (
    "select unit_code, unit_name, total_points, rank_in_peer_group, rank_change "
    "from unit_service_index where peer_group = 'communes' and period_label = '{period}' "
    "order by rank_in_peer_group limit 10"
)


def _home(ctx: click.Context) -> Home:
    return ctx.obj["home"]


@click.group(cls=OperatorGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", "home_dir", envvar="CHAMDIEM_HOME", default=None, show_default="~/.chamdiem",
              help="Folder holding all state (landing files, warehouses, reports). Env: CHAMDIEM_HOME.")
@click.pass_context
def main(ctx: click.Context, home_dir: str | None) -> None:
    """Score, classify and rank the province's units and civil servants, quarter by quarter and yearly.

    \b
    Examples:
      chamdiem demo                          # demo data up to today, scored and published
      chamdiem refresh --period 2026-Q1      # ingest, build, check; ready for approval
      chamdiem refresh --period 2026-Q4      # the running quarter as of today (provisional)
      chamdiem year-end --year 2026 --approve --by "Nguyễn Văn A"
      chamdiem publish --period 2026-Q1 --approve --by "Nguyễn Văn A"
      chamdiem status
    """
    ctx.ensure_object(dict)
    ctx.obj["home"] = Home.from_env(home_dir)


def _report_refresh(outcome, home: Home) -> None:
    from pipelines.runner import RefreshOutcome  # noqa: PLC0415

    assert isinstance(outcome, RefreshOutcome)
    for line in outcome.repaired:
        console.print(f"  [yellow]repaired[/] {line}")
    if outcome.blocking_failures or outcome.errors:
        console.print(f"[bold red]{outcome.period_label}: not published.[/]")
        for failure in outcome.blocking_failures:
            console.print(f"  [red]blocking check failed[/] {failure}")
        for error in outcome.errors:
            console.print(f"  [red]step failed[/] {error}")
        report = home.report_dir(outcome.quarter_label or outcome.period_label)
        if any("is open read-write by process" in error for error in outcome.errors):
            console.print("  Next: close that connection, then run the refresh again (the inputs are fine).")
        else:
            console.print(f"  Next: read the quality report under {report}, fix or"
                          " re-deliver the files in the landing folder, then run the refresh again.")
        return
    for warning in outcome.warnings:
        console.print(f"  [yellow]warning[/] {warning}")
    for pub in outcome.publications or [dict(outcome.publication, period_label=outcome.period_label)]:
        _report_publication(pub)


def _report_publication(pub: dict) -> None:
    label = pub.get("period_label")
    provisional = f", [yellow]provisional as of {pub['as_of']:%Y-%m-%d}[/]" if pub.get("as_of") else ""
    if pub.get("unchanged"):
        state = "published" if pub.get("status") == "published" else f"{pub.get('status')}, not yet approved"
        console.print(f"[bold]{label}: unchanged[/]: inputs and results equal version "
                      f"{pub['version']} ({state}{provisional}); no new version was made.")
        return
    if pub.get("status") == "published":
        console.print(f"[bold green]{label}: published as version {pub['version']}[/]"
                      f" (approved by {pub.get('decided_by')}{provisional}).")
    else:
        console.print(f"[bold]{label}: checks passed; version {pub.get('version')} is ready for "
                      f"approval[/]{provisional}. Next: chamdiem publish --period {label} --approve --by NAME")


def _tell_waiting(holder: dict) -> None:
    console.print(f"  [yellow]waiting[/]: {holder.get('what')} (process {holder.get('pid')}, since "
                  f"{holder.get('since', '?')}) holds this home; this run starts when it ends")


def _as_of_option(value: str | None):
    from datetime import date  # noqa: PLC0415

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: expected a date YYYY-MM-DD, e.g. 2026-12-04") from exc


def _approval_options(func):
    """--approve, --by and --accept-warnings, shared by the commands that can publish."""
    for option in reversed((
        click.option("--approve", is_flag=True, help="Publish in the same run if the gate passes (needs --by)."),
        click.option("--by", "approved_by", default=None, help="Name of the approving steward."),
        click.option("--accept-warnings", default=None, help="Written reason to accept warning-level findings."),
    )):
        func = option(func)
    return func


def _refresh_and_report(ctx: click.Context, label: str, as_of, approve: bool, approved_by: str | None,
                        accept_warnings: str | None, doing: str) -> None:
    """Run a refresh of `label` in this process, print its outcome, exit non-zero when it did not publish."""
    from pipelines.runner import run_refresh  # noqa: PLC0415

    if approve and not approved_by:
        raise click.UsageError("--approve needs --by NAME (who approves the publication)")
    home = _home(ctx)
    started = time.perf_counter()
    with console.status(doing):
        outcome = run_refresh(home, label, approved_by=approved_by if approve else None,
                              accept_warnings_reason=accept_warnings, as_of=as_of, on_wait=_tell_waiting)
    _report_refresh(outcome, home)
    console.print(f"  ({time.perf_counter() - started:.1f} s, run {outcome.run_id[:8]}, log {outcome.log_path})")
    if outcome.blocking_failures or outcome.errors:
        sys.exit(1)


@main.command()
@click.option("--period", required=True,
              help="Period to refresh: a quarter (2026-Q4, the running one as of a date), 2026-H2, 2026-9M or 2026.")
@click.option("--as-of", "as_of", default=None, callback=lambda _c, _p, v: _as_of_option(v),
              help="Score a running period to this day (YYYY-MM-DD); default today in Asia/Ho_Chi_Minh.")
@_approval_options
@click.pass_context
def refresh(ctx: click.Context, period: str, as_of, approve: bool, approved_by: str | None,
            accept_warnings: str | None) -> None:
    """Ingest what is in the landing folder for a period, build, check, and publish if approved.

    A closed quarter is scored final. The running quarter is scored with the data delivered so far, to the
    as-of date, and published as provisional (not ranked officially); the first refresh after it closes makes
    it final. A half-year, nine months or year is scored from its quarters and published with its last one.
    Exits non-zero and says why when a blocking check fails; the published file is then left untouched.

    \b
    Examples:
      chamdiem refresh --period 2026-Q3 --approve --by "Trần Thị B"
      chamdiem refresh --period 2026-Q4 --as-of 2026-12-04     # the running quarter, provisional
      chamdiem refresh --period 2026-H2                         # a half-year on request
    """
    _refresh_and_report(ctx, period, as_of, approve, approved_by, accept_warnings,
                        f"Refreshing {period} (ingest, dbt build, quality gate)...")


@main.command()
@click.option("--period", required=True, help="Quarter, e.g. 2026-Q1.")
@click.option("--approve", "action", flag_value="approve", help="Publish the ready candidate.")
@click.option("--reject", "action", flag_value="reject", help="Refuse the ready candidate (needs --reason).")
@click.option("--by", "by", required=True, help="Name of the steward who decides.")
@click.option("--reason", default=None, help="Why (required with --reject).")
@click.option("--accept-warnings", default=None, help="Written reason to accept warning-level findings.")
@click.pass_context
def publish(ctx: click.Context, period: str, action: str | None, by: str, reason: str | None,
            accept_warnings: str | None) -> None:
    """Approve or reject the candidate of a period that passed its blocking checks.

    \b
    Examples:
      chamdiem publish --period 2026-Q1 --approve --by "Nguyễn Văn A"
      chamdiem publish --period 2026-Q1 --reject --by "Nguyễn Văn A" --reason "ratings of X look duplicated"
    """
    from pipelines import publish as pub  # noqa: PLC0415
    from pipelines.warehouse import connect  # noqa: PLC0415

    if action is None:
        raise click.UsageError("say --approve or --reject")
    home = _home(ctx)
    con = connect(home)
    try:
        for line in pub.recover(con, home):
            console.print(f"  [yellow]repaired[/] {line}")
        if action == "approve":
            outcome = pub.approve(con, home, period, by, accept_warnings_reason=accept_warnings)
            console.print(f"[bold green]{period} version {outcome['version']}: {outcome['status']}[/]")
            for change in outcome.get("diff", {}).get("units_changed", [])[:20]:
                console.print(f"  {change}")
        else:
            version = pub.reject(con, period, by, reason or "")
            console.print(f"[bold]{period} version {version} rejected[/] by {by}: {reason}")
    except pub.PublicationError as exc:
        console.print(f"[bold red]{exc}[/]")
        sys.exit(1)
    finally:
        con.close()


@main.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Periods, loads, gate results and published versions, as tables."""
    from pipelines.status import status_tables  # noqa: PLC0415

    home = _home(ctx)
    if not home.working_db.exists():
        console.print(f"No warehouse yet under {home.root}. Next: chamdiem demo, or put files in "
                      f"{home.landing}/<feed>/<period>/ and run chamdiem refresh --period YYYY-Qn")
        return
    for title, columns, rows in status_tables(home):
        table = Table(title=title)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        console.print(table)


@main.command()
@click.pass_context
def docs(ctx: click.Context) -> None:
    """Generate the dbt documentation of every model and column, browsable offline (one static HTML file).

    \b
    Example: chamdiem docs   # then open $CHAMDIEM_HOME/reports/dbt-docs/static_index.html
    """
    import subprocess  # noqa: PLC0415

    from pipelines.dbt import dbt_env, dbt_executable  # noqa: PLC0415
    from pipelines.home import DBT_PROJECT_DIR  # noqa: PLC0415

    home = _home(ctx)
    if not home.working_db.exists():
        console.print(f"[red]No warehouse under {home.root} yet.[/] Next: chamdiem demo (or a refresh), then docs.")
        sys.exit(1)
    out = home.reports / "dbt-docs"
    with console.status("dbt docs generate (models, columns, lineage, catalog)..."):
        result = subprocess.run(
            [str(dbt_executable()), "docs", "generate", "--static", "--target-path", str(out), "--quiet"],
            cwd=DBT_PROJECT_DIR, env=dbt_env(home.working_db), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        console.print(f"[red]dbt docs generate failed[/]\n{result.stdout[-3000:]}{result.stderr[-2000:]}")
        sys.exit(1)
    console.print(f"Documentation: [bold]{out / 'static_index.html'}[/] (open it in a browser; no server needed)")


@main.command()
@click.argument("query")
@click.option("--version", "as_of_version", is_flag=True, help="Also list which publication each row comes from.")
@click.pass_context
def sql(ctx: click.Context, query: str, as_of_version: bool) -> None:
    """Run a read-only SQL query on the analysts' published warehouse and print the result.

    One SELECT at a time, on the analysts' file only: no other file is read or written, nothing is attached,
    copied or exported, no extension is loaded, and the settings that guard this cannot be changed.

    \b
    Examples:
      chamdiem sql "select * from publications"
      chamdiem sql "select unit_name, total_points, rank_in_peer_group from unit_service_index
                    where period_label = '2026-Q3' and peer_group = 'communes' order by 3 limit 10"
    """
    import duckdb  # noqa: PLC0415

    from pipelines.settings import Settings  # noqa: PLC0415
    from pipelines.warehouse import QueryRefused, check_query, open_published  # noqa: PLC0415

    home = _home(ctx)
    if not home.published_db.exists():
        console.print(f"[red]No published warehouse at {home.published_db}.[/] Next: chamdiem demo, or approve a "
                      "period with chamdiem publish --period YYYY-Qn --approve --by NAME")
        sys.exit(1)
    con = open_published(home.published_db, Settings.load(home))
    try:
        check_query(con, query)
        relation = con.sql(query)
        if relation is None:
            return
        if not as_of_version and "publication_version" in relation.columns:
            relation = relation.select(", ".join(
                f'"{c}"' for c in relation.columns if c not in ("publication_version", "period_label_published")))
        columns, rows = relation.columns, relation.fetchall()
    except QueryRefused as exc:
        console.print(f"[red]refused: {exc}[/] (the analysts' file is read-only; nothing outside it can be read or"
                      " written)")
        sys.exit(1)
    except duckdb.Error as exc:
        console.print(f"[red]{str(exc).splitlines()[0]}[/]")
        sys.exit(1)
    finally:
        con.close()
    table = Table()
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v) for v in row))
    console.print(table)


@main.command(name="year-end")
@click.option("--year", required=True, type=int, help="The evaluation year, e.g. 2026.")
@click.option("--as-of", "as_of", default=None, callback=lambda _c, _p, v: _as_of_option(v),
              help="The day the year is evaluated on (YYYY-MM-DD); default today in Asia/Ho_Chi_Minh.")
@_approval_options
@click.pass_context
def year_end(ctx: click.Context, year: int, as_of, approve: bool, approved_by: str | None,
             accept_warnings: str | None) -> None:
    """The yearly results of every rule set, evaluated as of a date, as a versioned yearly publication.

    Scores the year's last started quarter as of the date (provisional while it runs) and the year from all its
    quarters: the Decree 335 yearly ratings of civil servants and agencies (rated in December, before 15
    December, on the quarters closed so far and the fourth quarter to the as-of date) and the 766 yearly index
    (provisional until the year has ended). Publishes the year as its own period; re-run after the year has
    closed, it makes the final version with a restatement diff against the December one.

    \b
    Example: chamdiem year-end --year 2026 --as-of 2026-12-04 --approve --by "Nguyễn Văn A"
    """
    _refresh_and_report(ctx, str(year), as_of, approve, approved_by, accept_warnings,
                        f"Year-end {year} (ingest, dbt build, quality gate, yearly publication)...")


@main.command()
@click.option("--seed", default=20260101, show_default=True, help="Seed of the demo generator.")
@click.option("--scale", default=1.0, show_default=True, help="Volume multiplier of the demo data.")
@click.option("--as-of", "as_of", default=None, callback=lambda _c, _p, v: _as_of_option(v),
              help="The demo province's systems are exported as of this day; default today (Asia/Ho_Chi_Minh).")
@click.option("--quarters", default=None, help="Quarters to run (comma list); default 2025-Q3 to the as-of quarter.")
@click.option("--by", "approved_by", default="demo steward", show_default=True,
              help="Name recorded as the approving steward of the demo publications.")
@click.pass_context
def demo(ctx: click.Context, seed: int, scale: float, as_of, quarters: str | None, approved_by: str) -> None:
    """Generate demo feeds for Phú Thọ up to a date and run them end to end, ending in a published ranking.

    Closed quarters are published final, the running quarter provisional (as of the date), and the year-end
    of the as-of year is run and published.

    \b
    Example: CHAMDIEM_HOME=/tmp/chamdiem-demo chamdiem demo --as-of 2026-12-04
    """
    from pipelines.demo import generate_demo  # noqa: PLC0415
    from pipelines.demo.generate import demo_quarters  # noqa: PLC0415
    from pipelines.ingest.load import local_now  # noqa: PLC0415
    from pipelines.periods import parse_period, today_in_province  # noqa: PLC0415
    from pipelines.runner import run_refresh  # noqa: PLC0415

    home = _home(ctx).ensure()
    as_of = as_of or today_in_province()
    labels = [q.strip() for q in quarters.split(",") if q.strip()] if quarters else list(demo_quarters(as_of))
    started = time.perf_counter()
    with console.status("Generating demo feeds for Phú Thọ (148 communes and wards, departments)..."):
        summary = generate_demo(home.landing, seed=seed, quarters=tuple(labels), scale=scale, as_of=as_of,
                                exported_at=local_now())
    console.print(f"Demo feeds written to {home.landing} as of {as_of:%Y-%m-%d} ({_summary_text(summary)}).")
    failed = False
    # the year-end replaces the last quarter's own run when that quarter is in the as-of year
    year_end = parse_period(labels[-1]).start.year == as_of.year
    runs = [*labels[:-1], str(as_of.year)] if year_end else labels
    for label in runs:
        with console.status(f"Refreshing {label}..."):
            outcome = run_refresh(home, label, approved_by=approved_by, as_of=as_of if label == runs[-1] else None,
                                  today=max(as_of, today_in_province()))
        _report_refresh(outcome, home)
        failed |= bool(outcome.blocking_failures or outcome.errors)
    console.print(f"\nDone in {time.perf_counter() - started:.0f} s.")
    console.print(f"Published warehouse: [bold]{home.published_db}[/]")
    shown = next((q for q in reversed(labels) if parse_period(q).end <= as_of), labels[-1])
    console.print(f'Try:\n  chamdiem sql "{TRY_SQL.format(period=shown)}"')
    if failed:
        sys.exit(1)


def _summary_text(summary: object) -> str:
    """Rows per feed of the generated demo, e.g. 'dossiers: 330,521, ratings: 98,002, ...'."""
    feeds: dict[str, int] = getattr(summary, "feeds", {})
    return ", ".join(f"{feed}: {rows:,}" for feed, rows in feeds.items())


def _register_optional_commands() -> None:
    """Commands of other stages, registered when their modules are present."""
    for module, attr in (("pipelines.index_engine.cli", "index"), ("pipelines.stewardship.cli", "quality"),
                         ("pipelines.outputs.cli", "export"), ("pipelines.outputs.cli", "scorecard")):
        try:
            mod = __import__(module, fromlist=[attr])
        except ImportError:
            continue
        command = getattr(mod, attr, None)
        if command is not None:
            main.add_command(command)


_register_optional_commands()


if __name__ == "__main__":
    main()


